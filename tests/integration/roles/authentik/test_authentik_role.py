"""The authentik role on the test cluster, against the fake Authentik API (tools/standins/authentik/).

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
from ansible_runs import missing_from, unique
from fake_authentik import EMBEDDED_OUTPOST, TEST_TOKEN
from kube_namespaces import delete_namespaces
from kubernetes import client

PLAYBOOK = Path(__file__).parent / "playbooks" / "authentik.yml"
ROUTES = ("gateway.networking.k8s.io", "v1", "httproutes")
# A token the fake refuses; made up.
WRONG_TOKEN = "not-the-fake-token-0123"  # noqa: S105


@pytest.fixture
def namespace(k8s):
    """A namespace of the test's own, for the outpost's HTTPRoute and the blueprint ConfigMap."""
    name = unique("ak")
    core = client.CoreV1Api(k8s)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    delete_namespaces(k8s, [name])


@pytest.fixture
def fake_authentik(testcluster, start_fake_authentik):
    """A fresh fake Authentik per test that writes its outposts' HTTPRoutes to the test cluster."""
    fake = start_fake_authentik(kubeconfig=str(testcluster.kubeconfig))
    yield fake
    fake.remove_routes()
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


def derived(external_host: str) -> str:
    """The name of each SSO object of a deployment whose names are not set: from its external host."""
    return "mlflow-" + external_host.replace(".", "-")


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
    name = derived(host["mlflow_external_host"])
    provider = fake_authentik.provider(name)
    application = fake_authentik.application(name)
    outpost = fake_authentik.outpost(f"mlflow-{namespace}")
    assert application["provider"] == provider["pk"]
    assert outpost["providers"] == [provider["pk"]]
    assert provider["external_host"] == f"https://{host['mlflow_external_host']}"
    assert provider["internal_host"] == f"http://mlflow.{host['mlflow_namespace']}.svc.cluster.local"
    assert (
        provider["authorization_flow"] == fake_authentik.flow("default-provider-authorization-implicit-consent")["pk"]
    )
    assert provider["skip_path_regex"] == "^/health$"
    assert fake_authentik.blueprint(name)["status"] == "successful"
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
    name = derived(hosts["local"]["mlflow_external_host"])
    mlflow = fake_authentik.provider(name)["pk"]
    assert fake_authentik.outpost(EMBEDDED_OUTPOST)["providers"] == [grafana, mlflow]
    assert fake_authentik.application("grafana")["provider"] == grafana
    # No outpost of its own: the blueprint left the outposts alone.
    assert sorted(o["name"] for o in fake_authentik.outposts.values()) == [EMBEDDED_OUTPOST]
    blueprint = fake_authentik.blueprint(name)["content"]
    assert "authentik_outposts.outpost" not in blueprint
    # The outpost's providers, before and after, in the diff.
    assert "- grafana\n" in first.stdout
    assert f"- {name}" in first.stdout
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
    name = derived(hosts["local"]["mlflow_external_host"])
    configmap = client.CoreV1Api(k8s).read_namespaced_config_map(f"{name}-blueprint", namespace)
    assert configmap.metadata.labels["authentik_blueprint"] == "true"
    assert configmap.metadata.labels["app.kubernetes.io/managed-by"] == "homelab.mlflow"
    blueprint = yaml.load(configmap.data[f"{name}.yaml"], Loader=_TaggedLoader)  # noqa: S506 - a SafeLoader subclass
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
    expected = [
        "refused the API token",
        "(authentik_host, authentik_token)",
        'authentik_outpost is "no-such-outpost"',
        'authentik_application_slug is "ML flow"',
        "authentik_blueprint_configmap_namespace is no-such-namespace, which does not exist",
    ]
    assert missing_from(run.stdout, expected) == []
    assert WRONG_TOKEN not in run.output
    assert TEST_TOKEN not in run.output


def test_faults_are_retried_then_fail_clearly_with_nothing_half_applied_against_fake_authentik(
    testcluster, start_fake_authentik, deployment, run_ansible, play_recap, tmp_path
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
    # Stopped and held to Authentik's OpenAPI document by start_fake_authentik at the test's end.
    fakes = {host: start_fake_authentik(kubeconfig=str(testcluster.kubeconfig)) for host in faults}
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

    name = derived(hosts["each_once"]["mlflow_external_host"])
    # A few faults: retried, and the run goes on.
    assert recap["each_once"]["failed"] == 0, run.stdout[-6000:]
    assert fakes["each_once"].blueprint(name)["status"] == "successful"
    # Faults that never end: a clear failure after the retries, and nothing written to Authentik.
    messages = " ".join(run.stdout.split())
    for host, status in (("always_500", 500), ("always_429", 429)):
        assert recap[host]["failed"] == 1
        address = fakes[host].url.removeprefix("http://")
        assert (
            f"(authentik_host, authentik_token) cannot be read: Authentik at {address} kept failing the request "
            f"to list blueprint instances (3 tries, last answer HTTP {status}"
        ) in messages
    assert recap["always_hangs"]["failed"] == 1
    address = fakes["always_hangs"].url.removeprefix("http://")
    assert f"cannot reach Authentik at {address} to list blueprint instances (3 tries): Read timed out" in messages
    for host in ("always_500", "always_429", "always_hangs"):
        assert [w for w in fakes[host].writes() if not w.get("injected")] == [], host
        assert fakes[host].blueprint(name) is None
    # Applies that keep failing: the blueprint is stored but never took effect, so Authentik has no
    # provider, application or outpost of it; the re-run applies it.
    assert recap["apply_500"]["failed"] == 1
    address = fakes["apply_500"].url.removeprefix("http://")
    assert f"Authentik at {address} kept failing the request to apply blueprint '{name}' (3 tries" in messages
    assert rerun.returncode == 0, rerun.stdout[-6000:]
    assert play_recap(rerun.stdout, "apply_500")["changed"] == 1
    assert fakes["apply_500"].blueprint(name)["status"] == "successful"
    assert fakes["apply_500"].application(name) is not None
    assert TEST_TOKEN not in run.output + rerun.output


# --- two deployments behind one Authentik ----------------------------------------------------------


def test_two_deployments_behind_one_authentik_keep_their_own_sso_against_fake_authentik(
    fake_authentik, deployment, namespace, run_ansible, play_recap, tmp_path
):
    production = deployment(**api(fake_authentik), mlflow_external_host=f"mlflow.{namespace}.localtest.me")
    # Their outposts' names too are derived, as in the example inventory.
    staging = deployment(
        **api(fake_authentik),
        mlflow_external_host=f"mlflow-staging.{namespace}.localtest.me",
        authentik_dedicated_outpost_name="",
    )
    hosts = {"production": production, "staging": staging}

    first = run_role(run_ansible, tmp_path, hosts)
    again = run_role(run_ansible, tmp_path, {"production": production})
    staging_again = run_role(run_ansible, tmp_path, {"staging": staging})

    assert first.returncode == 0, first.stdout[-6000:]
    for run, host in ((again, "production"), (staging_again, "staging")):
        assert run.returncode == 0, run.stdout[-6000:]
        assert play_recap(run.stdout, host)["changed"] == 0, run.stdout[-6000:]
    for host in (production, staging):
        name = derived(host["mlflow_external_host"])
        provider = fake_authentik.provider(name)
        assert provider["external_host"] == f"https://{host['mlflow_external_host']}"
        assert fake_authentik.application(name)["provider"] == provider["pk"]
        assert fake_authentik.blueprint(name)["status"] == "successful"
    staging_name = derived(staging["mlflow_external_host"])
    assert fake_authentik.outpost(staging_name)["providers"] == [fake_authentik.provider(staging_name)["pk"]]


def test_an_object_of_another_deployment_is_refused_before_any_write_against_fake_authentik(
    fake_authentik, deployment, namespace, run_ansible, tmp_path
):
    production = deployment(**api(fake_authentik), mlflow_external_host=f"mlflow.{namespace}.localtest.me")
    assert run_role(run_ansible, tmp_path, {"production": production}).returncode == 0
    taken = derived(production["mlflow_external_host"])
    writes = len(fake_authentik.writes())
    # A second deployment told to use production's provider and application.
    staging = deployment(
        **api(fake_authentik),
        mlflow_external_host=f"mlflow-staging.{namespace}.localtest.me",
        authentik_provider_name=taken,
        authentik_application_slug=taken,
    )

    refused = run_role(run_ansible, tmp_path, {"staging": staging})
    written_when_refused = fake_authentik.writes()[writes:]
    host_when_refused = fake_authentik.provider(taken)["external_host"]
    taken_over = run_role(run_ansible, tmp_path, {"staging": {**staging, "authentik_take_over": True}})

    assert refused.returncode != 0
    message = " ".join(refused.stdout.split())
    owner = f"blueprint '{taken}' of {production['mlflow_namespace']} at {production['mlflow_external_host']}"
    assert f"the proxy provider '{taken}' is managed by the {owner}: set authentik_provider_name" in message
    assert f"the application '{taken}' is managed by the {owner}: set authentik_application_slug" in message
    assert "authentik_take_over: true" in message
    assert written_when_refused == []
    assert host_when_refused == f"https://{production['mlflow_external_host']}"
    # Taken over on purpose: a warning names it, and the provider answers on staging's host.
    assert taken_over.returncode == 0, taken_over.stdout[-6000:]
    assert f"taking over (authentik_take_over): the proxy provider '{taken}'" in " ".join(taken_over.stderr.split())
    assert fake_authentik.provider(taken)["external_host"] == f"https://{staging['mlflow_external_host']}"


def test_a_deployment_made_with_the_former_default_names_keeps_them_against_fake_authentik(
    fake_authentik, deployment, run_ansible, play_recap, tmp_path
):
    """Before names were derived, all four defaulted to `mlflow` and the blueprint had no owner label."""
    former = {
        "authentik_blueprint_name": "mlflow",
        "authentik_provider_name": "mlflow",
        "authentik_application_slug": "mlflow",
        "authentik_dedicated_outpost_name": "mlflow",
    }
    host = deployment(**api(fake_authentik), authentik_dedicated_outpost_name="")
    assert run_role(run_ansible, tmp_path, {"local": {**host, **former}}).returncode == 0
    # The blueprint as the former template wrote it: no owner label.
    with fake_authentik.lock:
        stored = next(b for b in fake_authentik.blueprints.values() if b["name"] == "mlflow")
        stored["content"] = "\n".join(
            line for line in stored["content"].splitlines() if "homelab.mlflow/deployment" not in line
        )
    providers, outposts = len(fake_authentik.providers), len(fake_authentik.outposts)

    upgraded = run_role(run_ansible, tmp_path, {"local": host}, "--diff")
    again = run_role(run_ansible, tmp_path, {"local": host})

    assert upgraded.returncode == 0, upgraded.stdout[-6000:]
    assert again.returncode == 0, again.stdout[-6000:]
    assert play_recap(again.stdout)["changed"] == 0
    # The same objects, nothing added: no second provider, no orphaned outpost.
    assert (len(fake_authentik.providers), len(fake_authentik.outposts)) == (providers, outposts)
    assert fake_authentik.provider("mlflow")["external_host"] == f"https://{host['mlflow_external_host']}"
    assert fake_authentik.outpost("mlflow")["providers"] == [fake_authentik.provider("mlflow")["pk"]]
    assert fake_authentik.blueprint(derived(host["mlflow_external_host"])) is None
    # The blueprint now says whose it is.
    assert f"homelab.mlflow/deployment: {host['mlflow_namespace']} at" in fake_authentik.blueprint("mlflow")["content"]


def test_configmap_delivery_made_with_the_former_default_names_keeps_its_configmap(
    deployment, namespace, k8s, run_ansible, play_recap, tmp_path
):
    host = deployment(
        authentik_delivery="configmap", authentik_verify_httproute=False, authentik_dedicated_outpost_name=""
    )
    former = {
        "authentik_blueprint_name": "mlflow",
        "authentik_provider_name": "mlflow",
        "authentik_application_slug": "mlflow",
        "authentik_dedicated_outpost_name": "mlflow",
        "authentik_blueprint_configmap_name": "mlflow-authentik-blueprint",
    }
    assert run_role(run_ansible, tmp_path, {"local": {**host, **former}}).returncode == 0
    core = client.CoreV1Api(k8s)
    # As the former template wrote it: no owner label.
    stored = core.read_namespaced_config_map("mlflow-authentik-blueprint", namespace)
    unlabelled = "\n".join(line for line in stored.data["mlflow.yaml"].splitlines() if "homelab.mlflow/" not in line)
    core.patch_namespaced_config_map("mlflow-authentik-blueprint", namespace, {"data": {"mlflow.yaml": unlabelled}})

    upgraded = run_role(run_ansible, tmp_path, {"local": host})
    again = run_role(run_ansible, tmp_path, {"local": host})

    assert upgraded.returncode == 0, upgraded.stdout[-6000:]
    assert again.returncode == 0, again.stdout[-6000:]
    assert play_recap(again.stdout)["changed"] == 0
    configmaps = core.list_namespaced_config_map(namespace, label_selector="authentik_blueprint").items
    assert [item.metadata.name for item in configmaps] == ["mlflow-authentik-blueprint"]
    assert list(configmaps[0].data) == ["mlflow.yaml"]
    assert "homelab.mlflow/deployment" in configmaps[0].data["mlflow.yaml"]
