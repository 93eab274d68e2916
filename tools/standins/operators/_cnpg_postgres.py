"""Real PostgreSQL behind a Cluster's Services, for the CloudNativePG stand-in started with `--postgres-listen`.

Per Cluster, a primary (instance `<cluster>-1`, bootstrapped with `bootstrap.initdb`'s database and
owner) and a hot standby per further instance (`pg_basebackup -R`, read-only), run by
tools/localrun/postgres_server.py on the listen address and a free port each, their data under
`<postgres-dir>/<namespace>/<cluster>/<instance>`. The Services have no selector: EndpointSlices
point `-rw` at the primary, `-ro` at the standbys and `-r` at every instance.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localrun"))

import postgres_server
from postgres_server import PostgresServer

# The pod network of the test cluster's nodes: clients in pods log in from there.
POD_NETWORK = "10.244.0.0/16"
SERVICE_PORT = 5432
SLICE_MANAGER = "cnpg-operator-standin.testcluster.homelab.mlflow"
SERVICE_ROLES = {"rw": "primary", "ro": "standbys", "r": "all"}

log = logging.getLogger("cnpg-operator-standin.postgres")


@dataclass(frozen=True)
class Owner:
    """The application database and its owner, as bootstrap.initdb asks for them."""

    database: str
    user: str
    password: str = field(repr=False)


@dataclass
class ClusterServers:
    primary: PostgresServer
    standbys: dict[str, PostgresServer] = field(default_factory=dict)
    # A digest of the owner's password as the server has it; None until the owner is known to exist.
    password_digest: str | None = None

    def instances(self, primary_name: str) -> dict[str, PostgresServer]:
        return {primary_name: self.primary, **self.standbys}


def digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def instance_names(name: str, instances: int) -> list[str]:
    """`<cluster>-1` (the primary) .. `<cluster>-N`, as the stand-in names its instances."""
    return [f"{name}-{serial}" for serial in range(1, instances + 1)]


class Servers:
    """The running servers of every Cluster, by (namespace, name)."""

    def __init__(self, listen: str, root: Path):
        self.listen, self.root = listen, root
        self.running: dict[tuple[str, str], ClusterServers] = {}
        # Its parents must let the server's unprivileged user through.
        root.mkdir(mode=0o755, parents=True, exist_ok=True)

    def instance_dir(self, namespace: str, instance: str) -> Path:
        return self.root / namespace / instance.rsplit("-", 1)[0] / instance

    def ensure(self, namespace: str, name: str, instances: int, owner: Owner) -> dict[str, int]:
        """Servers for instances 1..N, the owner's password as given; returns each instance's port."""
        names = instance_names(name, instances)
        servers = self.running.get((namespace, name))
        if servers is None:
            primary = with_socket_dir(
                lambda socket_dir: postgres_server.start(
                    self.instance_dir(namespace, names[0]),
                    host=self.listen,
                    client_networks=[POD_NETWORK],
                    socket_dir=socket_dir,
                )
            )
            servers = self.running[(namespace, name)] = ClusterServers(primary)
            log.info("started %s/%s on %s:%d", namespace, names[0], self.listen, primary.port)
        self.ensure_owner(servers.primary, servers, owner)
        for surplus in servers.standbys.keys() - set(names):
            servers.standbys.pop(surplus).shut_down()
            log.info("stopped standby %s/%s", namespace, surplus)
        for standby in names[1:]:
            if standby not in servers.standbys:
                servers.standbys[standby] = self.start_standby(servers.primary, namespace, standby)
        return {instance: server.port for instance, server in servers.instances(names[0]).items()}

    def start_standby(self, primary: PostgresServer, namespace: str, instance: str) -> PostgresServer:
        # A standby holds nothing of its own: a fresh base backup every time it starts.
        directory = self.instance_dir(namespace, instance)
        shutil.rmtree(directory, ignore_errors=True)
        standby = with_socket_dir(
            lambda socket_dir: postgres_server.start_standby(primary, directory, socket_dir=socket_dir)
        )
        log.info("started standby %s/%s on %s:%d", namespace, instance, self.listen, standby.port)
        return standby

    @staticmethod
    def ensure_owner(primary: PostgresServer, servers: ClusterServers, owner: Owner) -> None:
        """Create the database and its owner once; afterwards, a changed password is set with ALTER ROLE."""
        wanted = digest(owner.password)
        if servers.password_digest == wanted:
            return
        if primary.role_exists(owner.user):
            primary.set_password(owner.user, owner.password)
            log.info("set the password of role %s", owner.user)
        else:
            primary.create_database(owner.user, owner.password, owner.database)
            log.info("created database %s owned by %s", owner.database, owner.user)
        servers.password_digest = wanted

    def stop(self, namespace: str, name: str) -> None:
        """Stop a Cluster's servers cleanly; their data stays (as the operator keeps the PVCs)."""
        servers = self.running.pop((namespace, name), None)
        if servers is None:
            return
        for standby in servers.standbys.values():
            standby.shut_down()
        servers.primary.shut_down()
        log.info("stopped the servers of %s/%s", namespace, name)

    def stop_all(self) -> None:
        """Stop every Cluster's servers, all at once: `testcluster.py down` waits 15 s before it kills."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self.stop_quietly, list(self.running)))
        # A server whose start a SIGTERM interrupted runs, but is not recorded: its data directory says so.
        for pid_file in self.root.glob("*/*/*/data/postmaster.pid"):
            try:
                postgres_server.shut_down_data_dir(pid_file.parent)
            except RuntimeError as err:
                log.error("stopping the server of %s: %s", pid_file.parent, err)

    def stop_quietly(self, key: tuple[str, str]) -> None:
        try:
            self.stop(*key)
        except RuntimeError as err:  # go on with the others: none may be left running
            log.error("stopping %s/%s: %s", *key, err)


def with_socket_dir(start: Callable[[Path], PostgresServer]) -> PostgresServer:
    """Start a server with its socket in a short directory of its own (a Unix socket's path has at most 107
    bytes, less than a deep data directory may need), removed again if the start fails."""
    path = Path(tempfile.mkdtemp(prefix="cnpg-standin-"))
    path.chmod(0o755)
    try:
        return start(path)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


# --- what the Services point at ------------------------------------------------------------


def slice_instances(suffix: str, names: list[str]) -> list[str]:
    """The instances behind a Service: `-rw` the primary, `-ro` the standbys, `-r` all of them."""
    role = SERVICE_ROLES[suffix]
    return names[:1] if role == "primary" else names[1:] if role == "standbys" else names


def endpoint_slices(cluster: dict, meta_of, host: str, ports: dict[str, int]) -> list[dict]:
    """One EndpointSlice per Service and instance (each server has its own port): `<service>-<serial>`.

    `meta_of(name, labels)` gives the object metadata the operator's objects carry (owned by the Cluster)."""
    name, names = cluster["metadata"]["name"], list(ports)
    slices = []
    for suffix in SERVICE_ROLES:
        service = f"{name}-{suffix}"
        for instance in slice_instances(suffix, names):
            labels = {"kubernetes.io/service-name": service, "endpointslice.kubernetes.io/managed-by": SLICE_MANAGER}
            slices.append(
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": meta_of(f"{service}-{instance.rsplit('-', 1)[1]}", labels),
                    "addressType": "IPv4",
                    "endpoints": [
                        {"addresses": [host], "conditions": {"ready": True, "serving": True, "terminating": False}}
                    ],
                    "ports": [{"name": "postgres", "port": ports[instance], "protocol": "TCP"}],
                }
            )
    return slices


def service_spec(suffix: str, ports: dict[str, int]) -> dict:
    """A Service without selector whose port 5432 maps to the port of its first server (none: 5432)."""
    behind = slice_instances(suffix, list(ports))
    target = ports[behind[0]] if behind else SERVICE_PORT
    return {"ports": [{"name": "postgres", "port": SERVICE_PORT, "targetPort": target, "protocol": "TCP"}]}
