"""The CloudNativePG stand-in with real PostgreSQL servers (`--postgres-listen`), on a private test cluster.

The private cluster is started with HOMELAB_TESTCLUSTER_POSTGRES_LISTEN set to an address of this
host (the API server refuses loopback addresses in EndpointSlices), so its stand-in runs Debian's
PostgreSQL for every Cluster. A client logs in as the Cluster's owner with the secret's password
at the address and port the `-rw` EndpointSlice names; a rotated password reaches the server; a
second instance is a hot standby behind `-ro` that refuses writes; deleting the Cluster stops its
servers and keeps their data; stopping the stand-in (SIGTERM) leaves no server running.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from ansible_runs import eventually
from cnpg_clusters import GROUP, PLURAL, VERSION, create_cluster, patch_cluster, wait_healthy
from handle import TestCluster
from kube_namespaces import restricted_namespace
from kubernetes import client
from postgres_server import postgres_bin
from standin_args import POSTGRES_LISTEN_ENV

STANDINS_USER = "system:testcluster-standins"
# Apart from the session's cluster and from the lifecycle test's private one.
PORT_OFFSET = 1200


def host_address() -> str | None:
    """An IPv4 address of this host that is not loopback, or None."""
    shown = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True, check=False
    )
    addresses = [line.split()[3].split("/")[0] for line in shown.stdout.splitlines() if len(line.split()) > 3]
    return addresses[0] if addresses else None


@pytest.fixture(scope="module")
def postgres_cluster(testcluster):
    address = host_address()
    if address is None:
        pytest.skip("this host has no IPv4 address other than loopback for the servers to listen on")
    # Not under pytest's tmp_path (mode 0700): the servers' unprivileged user must reach the data.
    root = Path(tempfile.mkdtemp(prefix="homelab-cnpg-postgres-"))
    root.chmod(0o755)
    private = TestCluster(
        env={
            "HOMELAB_TESTCLUSTER_DIR": str(root / "cluster"),
            "HOMELAB_TESTCLUSTER_PORT_BASE": str(testcluster.layout.port_base + PORT_OFFSET),
            POSTGRES_LISTEN_ENV: address,
        }
    )
    private.up()
    try:
        yield private
    finally:
        private.down()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def api(postgres_cluster):
    return postgres_cluster.api_client()


@pytest.fixture
def custom(api):
    return client.CustomObjectsApi(api)


@pytest.fixture
def namespace(api):
    with restricted_namespace(api, "cnpg-postgres") as name:
        yield name


def endpoints(api, namespace: str, service: str) -> list[tuple[str, int]]:
    """(address, port) of every endpoint of the Service, from its EndpointSlices."""
    slices = client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}"
    )
    return sorted(
        (address, port.port)
        for found in slices.items
        for endpoint in found.endpoints or []
        for address in endpoint.addresses
        for port in found.ports
    )


def app_password(api, namespace: str) -> str:
    secret = client.CoreV1Api(api).read_namespaced_secret("pg-app", namespace)
    return base64.b64decode(secret.data["password"]).decode()


def psql(address: tuple[str, int], password: str, sql: str) -> subprocess.CompletedProcess:
    """Run SQL as the owner over TCP, the way a client in a pod would log in."""
    host, port = address
    return subprocess.run(
        [str(postgres_bin() / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env={
            **os.environ,
            "PGHOST": host,
            "PGPORT": str(port),
            "PGUSER": "mlflow",
            "PGDATABASE": "mlflow",
            "PGPASSWORD": password,
            "PGCONNECT_TIMEOUT": "5",
        },
        capture_output=True,
        text=True,
        check=False,
    )


def postgres_processes(under: Path) -> list[int]:
    """PIDs of live (not zombie) postgres servers whose data directory is under `under`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state != "Z" and args[0].endswith(b"/postgres") and any(str(under).encode() in a for a in args):
            found.append(int(proc.name))
    return found


def test_a_cluster_is_served_by_real_postgresql_behind_its_services(api, custom, namespace, postgres_cluster):
    create_cluster(custom, namespace)
    wait_healthy(custom, namespace, 1)

    [primary] = endpoints(api, namespace, "pg-rw")
    assert primary[0] == postgres_cluster.env[POSTGRES_LISTEN_ENV]
    service = client.CoreV1Api(api).read_namespaced_service("pg-rw", namespace)
    assert service.spec.selector is None
    assert [(p.port, p.target_port) for p in service.spec.ports] == [(5432, primary[1])]
    assert endpoints(api, namespace, "pg-ro") == []
    password = app_password(api, namespace)
    created = psql(primary, password, "CREATE TABLE runs (id int); INSERT INTO runs VALUES (1);")
    assert created.returncode == 0, created.stderr

    # Looked at again with nothing changed, the stand-in writes nothing: no slice, Service or status.
    mark = postgres_cluster.audit.mark()
    patch_cluster(custom, namespace, {"metadata": {"annotations": {"example.com/touched": "yes"}}})

    def synced():
        requests = postgres_cluster.audit.requests(mark, STANDINS_USER, namespace)
        got = [i for i, r in enumerate(requests) if r.verb == "get" and r.resource.endswith("/clusters")]
        # A sync reads the Cluster first and the `-r` Service last.
        return got and any(r.verb == "get" and r.name == "pg-r" for r in requests[got[0] :])

    eventually(synced, what="the stand-in to sync the touched Cluster")
    time.sleep(1)  # room for any write that would follow the last read
    assert postgres_cluster.audit.writes(mark, STANDINS_USER, namespace) == []

    # A rotated password reaches the server: the new one logs in, the old one no longer does.
    new_password = "rotated-" + password[:16]
    client.CoreV1Api(api).patch_namespaced_secret("pg-app", namespace, {"stringData": {"password": new_password}})
    eventually(lambda: psql(primary, new_password, "SELECT 1;").returncode == 0, what="the new password works")
    assert psql(primary, password, "SELECT 1;").returncode != 0

    # A second instance: a hot standby behind -ro, holding the primary's data and refusing writes.
    patch_cluster(custom, namespace, {"spec": {"instances": 2}})
    wait_healthy(custom, namespace, 2)
    [standby] = endpoints(api, namespace, "pg-ro")
    assert standby != primary
    assert endpoints(api, namespace, "pg-r") == sorted([primary, standby])
    read = psql(standby, new_password, "SELECT id FROM runs;")
    assert (read.returncode, read.stdout.strip()) == (0, "1"), read.stderr
    refused = psql(standby, new_password, "CREATE TABLE other (id int);")
    assert refused.returncode != 0
    assert "read-only transaction" in refused.stderr

    # Deleting the Cluster stops its servers; their data stays, as the operator keeps the claims.
    data = postgres_cluster.state / "postgres" / namespace / "pg"
    assert len(postgres_processes(data)) == 2
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "pg")
    eventually(lambda: postgres_processes(data) == [], what="the Cluster's servers stopped")
    assert (data / "pg-1" / "data" / "PG_VERSION").is_file()


def test_stopping_the_standin_stops_every_server(custom, namespace, postgres_cluster):
    create_cluster(custom, namespace, instances=2)
    wait_healthy(custom, namespace, 2)
    state = postgres_cluster.state
    assert len(postgres_processes(state / "postgres" / namespace)) == 2
    standin = postgres_cluster.pids()["standin-cnpg_operator"]

    os.kill(standin, signal.SIGTERM)  # as `testcluster.py down` stops it

    eventually(lambda: not Path(f"/proc/{standin}").exists() or postgres_processes(state) == [], what="stand-in gone")
    eventually(lambda: postgres_processes(state) == [], timeout=30, what="no server left")
