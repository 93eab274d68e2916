"""Faults the collection must survive or report clearly, against the local test cluster.

- The API server restarts in the middle of a converge (on a private cluster of its own, so the
  session's cluster is not disturbed): a re-run converges and verifies, and the database cluster and
  its volumes are the same objects as before.
- The database cluster never becomes healthy: its StorageClass provisions nothing, so the instance's
  claim stays Pending and its pod unscheduled. Verify fails within postgres_verify_timeout with a
  message that says where to look (the Cluster, its pods, its claims' events, the operator's log).
- 1Password Connect answers 500, 429, drops the connection or does not answer in time: a few
  times, and the run retries and goes on; every time, and the run fails with a message that says
  so, before anything is written.

Each fault is a deployment target (an inventory host with its own namespace and its own fake
Connect server) of one site.yml run; the transient faults run `--tags preflight`, which reads the
item and writes nothing.
"""

from __future__ import annotations

import copy
import subprocess
import time
import uuid
from pathlib import Path

import ansible_runs
import pytest
from ansible_runs import VENV_BIN, ansible_env, failure_messages, recap, run_captured, site_settings
from kube_namespaces import delete_namespaces
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from onepassword_connect.server import FakeConnectServer, load_data
from testcluster import FAKE_CONNECT_DATA

REPO = Path(__file__).resolve().parents[3]


ADMIN = "testcluster-admin"
RUN = uuid.uuid4().hex[:6]
DATA = load_data(FAKE_CONNECT_DATA)
TOKEN = DATA["tokens"][0]["token"]
STORAGE_CLASS = f"provisions-nothing-{RUN}"
# A fault on every request: more than the module's retries (5) can outlast.
ALWAYS = 1000
# host: (the fault, what the message says, the host's own settings, the attempts the role makes)
CONNECT_FAULTS = {
    "connect_500": (lambda server: server.fail_next(ALWAYS, status=500), "failed after 6 attempts", {}, 6),
    "connect_429": (
        lambda server: server.rate_limit_next(ALWAYS, retry_after=0.2),
        "still rate limiting after 6 attempts",
        {},
        6,
    ),
    "connect_dropped": (lambda server: server.drop_next(ALWAYS), "failed after 6 attempts", {}, 6),
    "connect_hangs": (
        lambda server: server.hang_next(ALWAYS, seconds=3),
        "failed after 3 attempts",
        {"postgres_onepassword_timeout": 1, "postgres_onepassword_retries": 2},
        3,
    ),
}


def playbook_env() -> dict[str, str]:
    return ansible_env(REPO, drop_prefixes=("OP_",), OP_CONNECT_TOKEN=TOKEN)


def site_command(inventory: Path, *args: str) -> list[str]:
    return [str(VENV_BIN / "ansible-playbook"), "playbooks/site.yml", "-i", str(inventory), "--forks", "6", *args]


def run_playbook(inventory: Path, *args: str) -> subprocess.CompletedProcess:
    return run_captured(site_command(inventory, *args), REPO, playbook_env(), timeout=1800)


def write_inventory(path: Path, testcluster, hosts: dict) -> Path:
    return ansible_runs.write_inventory(
        path, testcluster, hosts, **site_settings(testcluster), postgres_password=f"faults-{RUN}-password"
    )


def connect_servers(names) -> dict[str, FakeConnectServer]:
    return {name: FakeConnectServer(copy.deepcopy(DATA)).__enter__() for name in names}


@pytest.fixture(scope="module")
def persistent_faults(testcluster, k8s, tmp_path_factory):
    """One site.yml run: the unhealthy database and the three Connect faults that never stop."""
    work = tmp_path_factory.mktemp("faults")
    storage = client.StorageV1Api(k8s)
    storage.create_storage_class(
        client.V1StorageClass(
            metadata=client.V1ObjectMeta(name=STORAGE_CLASS),
            provisioner="example.com/provisions-nothing",
            volume_binding_mode="Immediate",
        )
    )
    servers = connect_servers(CONNECT_FAULTS)
    hosts = {
        "database_unhealthy": {
            "mlflow_namespace": f"fault-{RUN}-db",
            "postgres_storage_class": STORAGE_CLASS,
            "postgres_verify_timeout": 20,
        },
        **{
            name: {
                "mlflow_namespace": f"fault-{RUN}-{name.replace('_', '-')}",
                "postgres_credentials_source": "onepassword_connect",
                "onepassword_connect_host": servers[name].url,
                **settings,
            }
            for name, (_inject, _message, settings, _attempts) in CONNECT_FAULTS.items()
        },
    }
    for name, (inject, _message, _settings, _attempts) in CONNECT_FAULTS.items():
        inject(servers[name])
    try:
        mark = testcluster.audit.mark()
        result = run_playbook(write_inventory(work / "inventory.yml", testcluster, hosts))
        (work / "output.txt").write_text(result.stdout + result.stderr)
        yield {
            "stdout": result.stdout,
            "hosts": hosts,
            "servers": servers,
            "writes": testcluster.audit.writes(mark, user=ADMIN),
        }
    finally:
        for server in servers.values():
            server.__exit__(None, None, None)
        delete_namespaces(k8s, (host["mlflow_namespace"] for host in hosts.values()))
        storage.delete_storage_class(STORAGE_CLASS)


def test_an_unhealthy_database_fails_verify_and_says_where_to_look(persistent_faults):
    namespace = persistent_faults["hosts"]["database_unhealthy"]["mlflow_namespace"]
    messages = failure_messages(persistent_faults["stdout"]).get("database_unhealthy", [])

    assert recap(persistent_faults["stdout"])["database_unhealthy"]["failed"] == 1
    # The wait's own failure comes first; the message to read is the one that follows it.
    message = messages[-1]
    assert "did not report 'Cluster in healthy state'" in message
    assert "within 20 s (postgres_verify_timeout)" in message
    assert f"kubectl -n {namespace} describe clusters.postgresql.cnpg.io mlflow-postgres" in message
    assert f"kubectl -n {namespace} describe pvc -l cnpg.io/cluster=mlflow-postgres" in message
    assert f"StorageClass {STORAGE_CLASS} (postgres_storage_class)" in message
    assert "logs deployment/cnpg-controller-manager" in message


@pytest.mark.parametrize("host", list(CONNECT_FAULTS))
def test_a_connect_fault_that_never_stops_fails_clearly_before_any_write(persistent_faults, host):
    namespace = persistent_faults["hosts"][host]["mlflow_namespace"]
    messages = failure_messages(persistent_faults["stdout"]).get(host, [])
    server = persistent_faults["servers"][host]

    assert recap(persistent_faults["stdout"])[host]["failed"] == 1
    (message,) = messages
    assert "through 1Password Connect (postgres_credentials_source onepassword_connect) failed" in message
    _inject, expected, _settings, attempts = CONNECT_FAULTS[host]
    assert expected in message
    # The module retried (5 retries by default: 6 attempts at the item's vault lookup at least).
    assert len(server.requests) >= attempts
    writes = [w for w in persistent_faults["writes"] if w.concerns(namespace) or namespace in w.name]
    assert writes == []


def test_transient_connect_faults_are_retried_and_the_run_goes_on(testcluster, k8s, tmp_path):
    servers = connect_servers(["transient"])
    server = servers["transient"]
    server.fail_next(2, status=500)
    server.rate_limit_next(1, retry_after=0.2)
    server.drop_next(1)
    server.hang_next(1, seconds=3)
    hosts = {
        "connect_transient": {
            "mlflow_namespace": f"fault-{RUN}-transient",
            "postgres_credentials_source": "onepassword_connect",
            "onepassword_connect_host": server.url,
            "postgres_onepassword_timeout": 1,  # the hang outlasts it
        }
    }
    try:
        mark = testcluster.audit.mark()
        result = run_playbook(write_inventory(tmp_path / "inventory.yml", testcluster, hosts), "--tags", "preflight")
        writes = testcluster.audit.writes(mark, user=ADMIN, namespace=hosts["connect_transient"]["mlflow_namespace"])
    finally:
        server.__exit__(None, None, None)

    assert result.returncode == 0, result.stdout[-4000:]
    assert len(server.requests) >= 6  # five met a fault, then the reads that worked
    assert server.item_reads()
    assert writes == []


def _cnpg_cluster(custom: client.CustomObjectsApi, namespace: str) -> dict | None:
    try:
        return custom.get_namespaced_custom_object("postgresql.cnpg.io", "v1", namespace, "clusters", "mlflow-postgres")
    except (ApiException, OSError):  # OSError: the API server is the one restarting
        return None


def _claim_uids(core: client.CoreV1Api, namespace: str) -> dict[str, str]:
    return {c.metadata.name: c.metadata.uid for c in core.list_namespaced_persistent_volume_claim(namespace).items}


@pytest.fixture
def private_cluster(testcluster, tmp_path):
    """A cluster of this test's own (state and ports apart), so restarting its API server disturbs nothing else."""
    cluster = testcluster.private(tmp_path / "cluster", port_offset=2000)
    cluster.up()
    try:
        yield cluster
    finally:
        cluster.down()


def test_api_server_restarted_mid_converge_then_a_rerun_converges_with_nothing_lost(private_cluster, tmp_path):
    namespace = f"fault-{RUN}-restart"
    hosts = {"restarted": {"mlflow_namespace": namespace}}
    inventory = write_inventory(tmp_path / "inventory.yml", private_cluster, hosts)
    api = private_cluster.api_client()
    custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)

    with (tmp_path / "first.txt").open("w+") as first_output:
        first = subprocess.Popen(
            site_command(inventory), cwd=REPO, env=playbook_env(), stdout=first_output, stderr=subprocess.STDOUT
        )
        try:
            # Mid-converge: the postgres role has applied the database cluster; later roles have not run.
            deadline = time.monotonic() + 600
            while (cluster := _cnpg_cluster(custom, namespace)) is None and first.poll() is None:
                assert time.monotonic() < deadline, "the converge never applied the database cluster"
                time.sleep(0.5)
            assert first.poll() is None, "the converge ended before the restart:\n" + first_output.read()[-3000:]
            private_cluster.restart_apiserver()
            first.wait(timeout=900)
        finally:
            if first.poll() is None:
                first.kill()
    uid_before = cluster["metadata"]["uid"]
    claims_before = _claim_uids(core, namespace)

    rerun = run_captured(site_command(inventory), REPO, playbook_env(), timeout=900)

    assert rerun.returncode == 0, rerun.stdout[-6000:]  # its verify tasks prove the stack works
    assert _cnpg_cluster(custom, namespace)["metadata"]["uid"] == uid_before
    claims_after = _claim_uids(core, namespace)
    assert {name: claims_after.get(name) for name in claims_before} == claims_before
    assert "mlflow-artifacts" in claims_after
