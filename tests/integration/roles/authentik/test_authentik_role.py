"""The authentik role on the test cluster, against the fake Authentik API (tests/fakes/authentik/).

The fake holds every request and response to Authentik's OpenAPI document, applies the role's
blueprint to its own store (default flows seeded, !Find and !KeyOf resolved) and, standing in for
Authentik's outpost controller, writes each outpost's HTTPRoute to the test cluster. Each test has
namespaces and names of its own: the outposts' namespace, the ConfigMap's, and the external host.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

REPO = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO / "tests" / "fakes" / "authentik"))

from authentik_openapi import Contract, SchemasMissing  # noqa: E402
from fake_authentik import EMBEDDED_OUTPOST, TEST_TOKEN, FakeAuthentik  # noqa: E402

PLAYBOOK = Path(__file__).parent / "playbooks" / "authentik.yml"
ROUTES = ("gateway.networking.k8s.io", "v1", "httproutes")
# A token the fake refuses; made up.
WRONG_TOKEN = "not-the-fake-token-0123"  # noqa: S105


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def authentik_contract() -> Contract:
    try:
        return Contract()
    except SchemasMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture
def namespace(k8s):
    """A namespace of the test's own, for the outpost's HTTPRoute and the blueprint ConfigMap."""
    name = unique("ak")
    core = client.CoreV1Api(k8s)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        core.delete_namespace(name)
    except ApiException as err:
        if err.status != 404:
            raise


@pytest.fixture
def fake_authentik(testcluster, authentik_contract):
    """A fresh fake Authentik per test that writes its outposts' HTTPRoutes to the test cluster."""
    fake = FakeAuthentik(
        token=TEST_TOKEN, contract=authentik_contract, apply_delay=0.05, kubeconfig=str(testcluster.kubeconfig)
    ).start()
    yield fake
    fake.remove_routes()
    fake.stop()
    report = fake.violation_report()
    if report:
        pytest.fail(report, pytrace=False)
    assert fake.routes.errors == []


@pytest.fixture
def deployment(testcluster, namespace, tmp_path):
    """Writes the inventory of one deployment; returns a function that runs the role's playbook."""

    def settings(**host_vars) -> dict:
        return {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "mlflow_kubeconfig": str(testcluster.kubeconfig),
            "mlflow_namespace": unique("mlflow"),
            "mlflow_external_host": f"{namespace}.mlflow.localtest.me",
            "mlflow_httproute_enabled": False,
            "authentik_outpost_namespace": namespace,
            "authentik_blueprint_configmap_namespace": namespace,
            "authentik_dedicated_outpost_name": f"mlflow-{namespace}",
            "authentik_verify_http": False,
            **host_vars,
        }

    return settings


def run_role(run_ansible, tmp_path: Path, hosts: dict[str, dict], *args: str):
    inventory = tmp_path / f"hosts-{uuid.uuid4().hex[:6]}.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return run_ansible("ansible-playbook", str(PLAYBOOK), "-i", str(inventory), *args, timeout=600)


def api(fake) -> dict:
    return {"authentik_host": fake.url, "authentik_token": TEST_TOKEN}


def routes(k8s, namespace: str) -> dict[str, dict]:
    group, version, plural = ROUTES
    listed = client.CustomObjectsApi(k8s).list_namespaced_custom_object(group, version, namespace, plural)
    return {item["metadata"]["name"]: item for item in listed["items"]}


def test_check_converge_rerun_and_verify_against_fake_authentik(
    fake_authentik, deployment, namespace, k8s, run_ansible, play_recap, tmp_path
):
    host = deployment(**api(fake_authentik), authentik_skip_path_regex="^/health$")
    hosts = {"local": host}

    preview = run_role(run_ansible, tmp_path, hosts, "--check", "--diff")
    assert preview.returncode == 0, preview.stdout[-6000:]
    assert fake_authentik.writes() == []
    assert play_recap(preview.stdout)["changed"] == 1
    # The blueprint, line by line, in the diff.
    assert "+      skip_path_regex: ^/health$" in preview.stdout

    first = run_role(run_ansible, tmp_path, hosts)
    assert first.returncode == 0, first.stdout[-6000:]
    assert play_recap(first.stdout)["changed"] == 1
    writes = len(fake_authentik.writes())

    second = run_role(run_ansible, tmp_path, hosts)
    check = run_role(run_ansible, tmp_path, hosts, "--check", "--diff", "-vvv")
    verify = run_role(run_ansible, tmp_path, hosts, "--tags", "verify")

    for run in (second, check, verify):
        assert run.returncode == 0, run.stdout[-6000:]
        assert play_recap(run.stdout)["changed"] == 0, run.stdout[-6000:]
    # Idempotent for real: the later runs only read.
    assert fake_authentik.writes()[writes:] == []
    # Authentik's objects, linked.
    provider = fake_authentik.provider("mlflow")
    application = fake_authentik.application("mlflow")
    outpost = fake_authentik.outpost(f"mlflow-{namespace}")
    assert application["provider"] == provider["pk"]
    assert outpost["providers"] == [provider["pk"]]
    assert provider["external_host"] == f"https://{host['mlflow_external_host']}"
    assert provider["internal_host"] == f"http://mlflow.{host['mlflow_namespace']}.svc.cluster.local"
    assert (
        provider["authorization_flow"] == fake_authentik.flow("default-provider-authorization-implicit-consent")["pk"]
    )
    assert provider["skip_path_regex"] == "^/health$"
    assert fake_authentik.blueprint("mlflow")["status"] == "successful"
    # The outpost's route, as Authentik's controller writes it, and verify found it.
    route = routes(k8s, namespace)[f"ak-outpost-mlflow-{namespace}"]
    assert route["spec"]["hostnames"] == [host["mlflow_external_host"]]
    assert route["spec"]["parentRefs"][0]["name"] == "main-gateway"
    assert "Check that an HTTPRoute of the outpost answers on the external host" in verify.stdout
    assert TEST_TOKEN not in "".join(run.output for run in (preview, first, second, check, verify))


def test_the_embedded_outpost_keeps_another_applications_provider_against_fake_authentik(
    fake_authentik, deployment, namespace, k8s, run_ansible, play_recap, tmp_path
):
    grafana = fake_authentik.add_provider("grafana", external_host=f"https://grafana.{namespace}.localtest.me")
    fake_authentik.add_application("grafana", "Grafana", provider=grafana)
    embedded = fake_authentik.outpost(EMBEDDED_OUTPOST)
    fake_authentik.outposts[embedded["pk"]]["providers"] = [grafana]
    fake_authentik.outposts[embedded["pk"]]["config"].update(
        kubernetes_namespace=namespace,
        kubernetes_httproute_parent_refs=[{"name": "main-gateway", "namespace": "cilium-system"}],
    )
    hosts = {"local": deployment(**api(fake_authentik), authentik_outpost="embedded")}

    first = run_role(run_ansible, tmp_path, hosts, "--diff")
    writes = len(fake_authentik.writes())
    second = run_role(run_ansible, tmp_path, hosts)

    assert first.returncode == 0, first.stdout[-6000:]
    assert play_recap(first.stdout)["changed"] == 2
    assert second.returncode == 0, second.stdout[-6000:]
    assert play_recap(second.stdout)["changed"] == 0
    assert fake_authentik.writes()[writes:] == []
    mlflow = fake_authentik.provider("mlflow")["pk"]
    assert fake_authentik.outpost(EMBEDDED_OUTPOST)["providers"] == [grafana, mlflow]
    assert fake_authentik.application("grafana")["provider"] == grafana
    # No outpost of its own: the blueprint left the outposts alone.
    assert sorted(o["name"] for o in fake_authentik.outposts.values()) == [EMBEDDED_OUTPOST]
    blueprint = fake_authentik.blueprint("mlflow")["content"]
    assert "authentik_outposts.outpost" not in blueprint
    # The outpost's providers, before and after, in the diff.
    assert "- grafana\n" in first.stdout
    assert "- mlflow" in first.stdout
    route = routes(k8s, namespace)["ak-outpost-authentik-embedded-outpost"]
    assert sorted(route["spec"]["hostnames"]) == sorted(
        [f"grafana.{namespace}.localtest.me", hosts["local"]["mlflow_external_host"]]
    )


def test_configmap_delivery_writes_the_labelled_configmap_without_authentik(
    deployment, namespace, k8s, run_ansible, play_recap, tmp_path
):
    hosts = {"local": deployment(authentik_delivery="configmap", authentik_verify_httproute=False)}

    first = run_role(run_ansible, tmp_path, hosts)
    second = run_role(run_ansible, tmp_path, hosts)

    assert first.returncode == 0, first.stdout[-6000:]
    assert play_recap(first.stdout)["changed"] == 1
    assert second.returncode == 0, second.stdout[-6000:]
    assert play_recap(second.stdout)["changed"] == 0
    configmap = client.CoreV1Api(k8s).read_namespaced_config_map("mlflow-authentik-blueprint", namespace)
    assert configmap.metadata.labels["authentik_blueprint"] == "true"
    assert configmap.metadata.labels["app.kubernetes.io/managed-by"] == "homelab.mlflow"
    blueprint = yaml.load(configmap.data["mlflow.yaml"], Loader=_TaggedLoader)  # noqa: S506 - a SafeLoader subclass
    assert [entry["model"] for entry in blueprint["entries"]] == [
        "authentik_providers_proxy.proxyprovider",
        "authentik_core.application",
        "authentik_outposts.outpost",
    ]
    managers = {entry.manager for entry in configmap.metadata.managed_fields}
    assert "homelab.mlflow" in managers


class _TaggedLoader(yaml.SafeLoader):
    """Reads Authentik's tags as plain values."""


_TaggedLoader.add_multi_constructor("!", lambda loader, _suffix, node: json.dumps(str(node.value)))


def test_bad_input_fails_before_any_write_against_fake_authentik(
    fake_authentik, deployment, namespace, k8s, run_ansible, tmp_path
):
    hosts = {
        "wrong_token": deployment(authentik_host=fake_authentik.url, authentik_token=WRONG_TOKEN),
        "missing_outpost": deployment(**api(fake_authentik), authentik_outpost="no-such-outpost"),
        "bad_slug": deployment(**api(fake_authentik), authentik_application_slug="ML flow"),
        "configmap_bad_namespace": deployment(
            authentik_delivery="configmap", authentik_blueprint_configmap_namespace="no-such-namespace"
        ),
    }

    run = run_role(run_ansible, tmp_path, hosts)

    assert run.returncode != 0
    assert fake_authentik.writes() == []
    assert client.CoreV1Api(k8s).list_namespaced_config_map(namespace, label_selector="authentik_blueprint").items == []
    assert "refused the API token" in run.stdout
    assert "(authentik_host, authentik_token)" in run.stdout
    assert 'authentik_outpost is "no-such-outpost"' in run.stdout
    assert 'authentik_application_slug is "ML flow"' in run.stdout
    assert "authentik_blueprint_configmap_namespace is no-such-namespace, which does not exist" in run.stdout
    assert WRONG_TOKEN not in run.output
    assert TEST_TOKEN not in run.output


def test_faults_are_retried_then_fail_clearly_with_nothing_half_applied_against_fake_authentik(
    testcluster, authentik_contract, deployment, run_ansible, play_recap, tmp_path
):
    """Each host talks to a fake Authentik of its own that misbehaves in one way; two retries each."""
    faults = {
        "always_500": lambda fake: fake.inject(status=500, count=1000),
        "always_429": lambda fake: fake.inject(status=429, count=1000, retry_after=0.2),
        "always_hangs": lambda fake: fake.hang(count=1000, seconds=4),
        "apply_500": lambda fake: fake.inject(status=500, count=1000, path="/apply/"),
        "each_once": lambda fake: (
            fake.inject(status=500),
            fake.inject(status=429, retry_after=0.2),
            fake.hang(seconds=4),
        ),
    }
    fakes = {
        host: FakeAuthentik(
            token=TEST_TOKEN, contract=authentik_contract, apply_delay=0.05, kubeconfig=str(testcluster.kubeconfig)
        ).start()
        for host in faults
    }
    try:
        for host, inject in faults.items():
            inject(fakes[host])
        hosts = {
            host: deployment(
                **api(fake),
                authentik_request_timeout=2,
                authentik_retries=3 if host == "each_once" else 2,
            )
            for host, fake in fakes.items()
        }

        run = run_role(run_ansible, tmp_path, hosts)
        (tmp_path / "output.txt").write_text(run.stdout)
        recap = {host: play_recap(run.stdout, host) for host in hosts}
        # Without the fault, the host whose applies failed converges on a re-run.
        fakes["apply_500"]._faults.clear()  # pylint: disable=protected-access
        rerun = run_role(run_ansible, tmp_path, {"apply_500": hosts["apply_500"]})
    finally:
        for fake in fakes.values():
            fake.remove_routes()
            fake.stop()

    # A few faults: retried, and the run goes on.
    assert recap["each_once"]["failed"] == 0, run.stdout[-6000:]
    assert fakes["each_once"].blueprint("mlflow")["status"] == "successful"
    # Faults that never end: a clear failure after the retries, and nothing written to Authentik.
    messages = " ".join(run.stdout.split())
    for host, status in (("always_500", 500), ("always_429", 429)):
        assert recap[host]["failed"] == 1
        address = fakes[host].url.removeprefix("http://")
        assert (
            f"(authentik_host, authentik_token) cannot be read: Authentik at {address} kept failing the request "
            f"to find application 'mlflow' (3 tries, last answer HTTP {status}"
        ) in messages
    assert recap["always_hangs"]["failed"] == 1
    address = fakes["always_hangs"].url.removeprefix("http://")
    assert f"cannot reach Authentik at {address} to find application 'mlflow' (3 tries): Read timed out" in messages
    for host in ("always_500", "always_429", "always_hangs"):
        assert [w for w in fakes[host].writes() if not w.get("injected")] == [], host
        assert fakes[host].blueprint("mlflow") is None
    # Applies that keep failing: the blueprint is stored but never took effect, so Authentik has no
    # provider, application or outpost of it; the re-run applies it.
    assert recap["apply_500"]["failed"] == 1
    address = fakes["apply_500"].url.removeprefix("http://")
    assert f"Authentik at {address} kept failing the request to apply blueprint 'mlflow' (3 tries" in messages
    assert rerun.returncode == 0, rerun.stdout[-6000:]
    assert play_recap(rerun.stdout, "apply_500")["changed"] == 1
    assert fakes["apply_500"].blueprint("mlflow")["status"] == "successful"
    assert fakes["apply_500"].application("mlflow") is not None
    for fake in fakes.values():
        assert fake.violation_report() is None
    assert TEST_TOKEN not in run.output + rerun.output
