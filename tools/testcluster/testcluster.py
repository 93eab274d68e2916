#!/usr/bin/env python
"""The local test cluster: a real Kubernetes control plane built from upstream, on 127.0.0.1.

    testcluster.py up       build if needed, start etcd, kube-apiserver, kube-controller-manager,
                            kube-scheduler, kwok, the fake 1Password Connect server and the
                            stand-in controllers; safe to call twice (on a running cluster it
                            starts what of the last two does not run)
    testcluster.py down     stop every process it started (by PID) and remove the state
    testcluster.py status   what runs, and whether the API server is ready

With HOMELAB_TESTCLUSTER_REAL_NODE=1, `up` adds a real node beside the kwok ones (realnode.py):
containerd, the kubelet, kube-proxy and CoreDNS run pods for real on this machine.

State (certificates, kubeconfig, logs, audit log, etcd data) lives in `.testcluster/` of the
checkout, or in $HOMELAB_TESTCLUSTER_DIR; ports start at $HOMELAB_TESTCLUSTER_PORT_BASE (16443),
so a second cluster can run beside the first.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import nodehost  # noqa: E402
import pki  # noqa: E402
import realnode  # noqa: E402
from procs import Processes  # noqa: E402
from standin_args import standin_args  # noqa: E402

import images  # noqa: E402

STANDINS_DIR = REPO / "tools" / "standins" / "operators"
# The fake 1Password Connect server the 1Password operator stand-in reads its items from.
FAKE_CONNECT_SERVER = REPO / "tools" / "standins" / "onepassword_connect" / "server.py"
FAKE_CONNECT_DATA = HERE / "onepassword-connect.yaml"
# The fake Authentik API the local inventory's authentik role talks to; it also stands in for
# Authentik's outpost controller (writes the outposts' HTTPRoutes into the cluster).
FAKE_AUTHENTIK_SERVER = REPO / "tools" / "standins" / "authentik" / "fake_authentik.py"
# Made up, accepted by this fake only; inventories/local passes the same.
FAKE_AUTHENTIK_TOKEN = "testcluster-authentik-token"  # noqa: S105
SERVICE_CIDR = "10.96.0.0/16"
# The annotation of the nodes kwok simulates (manifests/node.yaml).
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node=fake"
REAL_NODE_PROCESSES = ["containerd", "coredns", "kube-proxy", "kubelet"]
POD_CIDR = "10.244.0.0/16"


class ClusterError(RuntimeError):
    pass


@dataclass(frozen=True)
class Layout:
    """Where one cluster keeps its state, and which ports it uses."""

    state: Path
    port_base: int
    real_node: bool = False  # HOMELAB_TESTCLUSTER_REAL_NODE: a real node beside the kwok ones

    @classmethod
    def from_env(cls, env: dict | None = None) -> Layout:
        env = os.environ if env is None else env
        state = Path(env.get("HOMELAB_TESTCLUSTER_DIR", REPO / ".testcluster")).resolve()
        return cls(state, int(env.get("HOMELAB_TESTCLUSTER_PORT_BASE", "16443")), realnode.enabled(env))

    apiserver_port = property(lambda self: self.port_base)
    etcd_client_port = property(lambda self: self.port_base + 1)
    etcd_peer_port = property(lambda self: self.port_base + 2)
    controller_manager_port = property(lambda self: self.port_base + 3)
    scheduler_port = property(lambda self: self.port_base + 4)
    onepassword_connect_port = property(lambda self: self.port_base + 5)
    onepassword_connect_url = property(lambda self: f"http://127.0.0.1:{self.onepassword_connect_port}")
    authentik_port = property(lambda self: self.port_base + 6)
    authentik_url = property(lambda self: f"http://127.0.0.1:{self.authentik_port}")
    server = property(lambda self: f"https://127.0.0.1:{self.apiserver_port}")
    kubeconfig = property(lambda self: self.state / "kubeconfig")
    # The address at which the cluster's pods and this machine both reach the fake servers (inventories/local).
    address_file = property(lambda self: self.state / "address")
    audit_log = property(lambda self: self.state / "audit.log")
    pki_dir = property(lambda self: self.state / "pki")
    kubeconfigs = property(lambda self: self.state / "kubeconfigs")

    def component_kubeconfig(self, name: str) -> Path:
        return self.kubeconfig if name == "admin" else self.kubeconfigs / f"{name}.kubeconfig"

    def node(self, bin_dir: Path | None = None) -> realnode.NodeLayout:
        """The real node's layout; its binaries are where `up` linked them (state/node-bin) unless given."""
        return realnode.NodeLayout(self.state, self.port_base, realnode.node_ip(), bin_dir or self.state / "node-bin")

    def has_real_node(self) -> bool:
        """Whether the cluster in the state directory was started with a real node."""
        return (self.state / "node-bin").exists()


def log(message: str) -> None:
    print(f"[testcluster] {message}", file=sys.stderr, flush=True)


def build(*what: str) -> Path:
    """Build (or find cached) binaries; returns their directory. what: () the control plane, ("node",) the real node."""
    result = subprocess.run(
        ["bash", str(HERE / "build.sh"), *what],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        env={**os.environ, "PYTHON": sys.executable},
    )
    if result.returncode != 0:
        raise ClusterError(f"building the test cluster binaries {' '.join(what)} failed (see the output above)")
    return Path(result.stdout.strip().splitlines()[-1])


# --- readiness -----------------------------------------------------------------------------


def _ssl_context(layout: Layout) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(layout.pki_dir / "ca.crt"))
    context.load_cert_chain(str(layout.pki_dir / "admin.crt"), str(layout.pki_dir / "admin.key"))
    return context


def api_ready(layout: Layout) -> bool:
    try:
        with urllib.request.urlopen(  # noqa: S310 - fixed https URL on loopback
            f"{layout.server}/readyz", context=_ssl_context(layout), timeout=3
        ) as response:
            return response.read().strip() == b"ok"
    except (OSError, urllib.error.URLError, ssl.SSLError):
        return False


def wait_for(what: str, check, timeout: float, procs: Processes | None = None, name: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if procs and name and not procs.alive(name):
            raise ClusterError(
                f"{name} exited with code {procs.exit_code(name)} while waiting for {what}:\n{procs.log_tail(name)}"
            )
        time.sleep(0.25)
    tail = procs.log_tail(name) if procs and name else ""
    raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")


def etcd_healthy(layout: Layout) -> bool:
    try:
        url = f"http://127.0.0.1:{layout.etcd_client_port}/health"
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response).get("health") == "true"
    except (OSError, ValueError):
        return False


# --- kubectl -------------------------------------------------------------------------------


def kubectl(bin_dir: Path, layout: Layout, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(bin_dir / "kubectl"), f"--kubeconfig={layout.kubeconfig}", *args],
        **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ClusterError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def apply(bin_dir: Path, layout: Layout, documents: str) -> None:
    kubectl(bin_dir, layout, "apply", "--server-side", "--field-manager=testcluster", "-f", "-", stdin=documents)


# --- CRDs ----------------------------------------------------------------------------------


def shared_schemas_dir() -> Path:
    return Path(os.environ.get("HOMELAB_SHARED_SCHEMAS", REPO.parent / "shared" / "schemas"))


def pinned_module_dir(name: str) -> Path:
    """Where the Go module pinned by modules/<name>/go.mod (its one `require`, checked against its go.sum) is,
    fetched with `go mod download` into the Go module cache (the build's cache of kwok's module, too)."""
    module = HERE / "modules" / name
    required = re.search(r"^require\s+(\S+)\s+(\S+)\s*$", (module / "go.mod").read_text(), re.M)
    if required is None:
        raise ClusterError(f"{module / 'go.mod'} requires no module")
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}
    try:
        result = subprocess.run(
            ["go", "mod", "download", "-json", required.group(1)],
            cwd=module,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as err:
        raise ClusterError(f"the Go toolchain is needed to fetch {required.group(1)} ({err})") from err
    answer = json.loads(result.stdout or "{}") if result.stdout.strip().startswith("{") else {}
    if result.returncode != 0 or not answer.get("Dir"):
        raise ClusterError(
            f"go mod download {required.group(1)} (pinned in {module}) failed: "
            f"{answer.get('Error') or result.stderr.strip()}"
        )
    return Path(answer["Dir"])


def _source_text(source: dict, schemas: Path) -> str:
    """One CRD file: from its pinned Go module, or from the shared schemas (fetched when that folder is absent)."""
    if source.get("go_module"):
        local = pinned_module_dir(source["go_module"]) / source["path"]
        if not local.is_file():
            raise ClusterError(f"{local} is missing from the module pinned in modules/{source['go_module']}")
        return local.read_text()
    local = schemas / source["path"]
    if local.is_file():
        return local.read_text()
    if not schemas.is_dir():
        return _fetch(source)
    raise ClusterError(f"{local} is missing from {schemas} ({source['name']} CRD)")


def crd_documents() -> str:
    """The upstream CRDs from ../shared/schemas (or from their pinned upstream URLs without it), and from
    the pinned Go modules under modules/."""
    sources = yaml.safe_load((HERE / "crds.yaml").read_text())
    schemas = shared_schemas_dir()
    texts = []
    for source in sources:
        text = _source_text(source, schemas)
        if source.get("only_crds"):
            docs = [d for d in yaml.safe_load_all(text) if d and d.get("kind") == "CustomResourceDefinition"]
            text = yaml.safe_dump_all(docs)
        texts.append(text)
    return "\n---\n".join(texts)


def _fetch(source: dict) -> str:
    log(f"{shared_schemas_dir()} is absent: fetching the {source['name']} CRD from {source['url']}")
    try:
        with urllib.request.urlopen(source["url"], timeout=30) as response:  # noqa: S310 - pinned https
            return response.read().decode()
    except OSError as err:
        raise ClusterError(
            f"cannot load the {source['name']} CRD: {shared_schemas_dir()} does not exist and "
            f"{source['url']} cannot be fetched ({err}). Provide the schemas folder "
            "(set HOMELAB_SHARED_SCHEMAS) or network access to that URL."
        ) from err


# --- the cluster ---------------------------------------------------------------------------


def write_pki(layout: Layout) -> pki.Authority:
    ca = pki.Authority(layout.pki_dir)
    # With a real node, pods reach the API server at the node's address and the `kubernetes` Service.
    ips = [realnode.node_ip(), realnode.KUBERNETES_SERVICE_IP] if layout.real_node else []
    ca.issue("apiserver", "kube-apiserver", server=True, ips=ips)
    if layout.real_node:  # exec, logs and port-forward go through the kubelet
        ca.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ["system:masters"])
    pki.write_service_account_keys(layout.pki_dir)
    layout.kubeconfigs.mkdir(parents=True, exist_ok=True)
    for name, (user, groups) in pki.CLIENTS.items():
        pair = ca.issue(name, user, groups)
        pki.write_kubeconfig(layout.component_kubeconfig(name), layout.server, ca.pair.cert, pair, user)
    return ca


def start_control_plane(bin_dir: Path, layout: Layout, procs: Processes) -> None:
    shutil.copy(HERE / "manifests" / "audit-policy.yaml", layout.state / "audit-policy.yaml")
    procs.start(
        "etcd",
        [
            str(bin_dir / "etcd"),
            "--name=testcluster",
            f"--data-dir={layout.state / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{layout.etcd_client_port}",
            f"--advertise-client-urls=http://127.0.0.1:{layout.etcd_client_port}",
            f"--listen-peer-urls=http://127.0.0.1:{layout.etcd_peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{layout.etcd_peer_port}",
            f"--initial-cluster=testcluster=http://127.0.0.1:{layout.etcd_peer_port}",
            "--listen-metrics-urls=",
            "--log-level=warn",
            # A throw-away cluster: durability is not worth the fsync latency.
            "--unsafe-no-fsync",
        ],
    )
    wait_for("etcd", lambda: etcd_healthy(layout), 30, procs, "etcd")
    start_apiserver(bin_dir, layout, procs)


def apiserver_network_args(layout: Layout) -> list[str]:
    if not layout.real_node:
        return [
            "--bind-address=127.0.0.1",
            # Loopback is never a valid endpoint of the `kubernetes` Service, so nothing reconciles it.
            "--advertise-address=127.0.0.1",
            "--endpoint-reconciler-type=none",
        ]
    p = layout.pki_dir
    # Pods reach it at the node's address (the `kubernetes` Service's endpoint); loopback keeps working.
    return [
        "--bind-address=0.0.0.0",
        f"--advertise-address={realnode.node_ip()}",
        f"--kubelet-client-certificate={p / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={p / 'apiserver-kubelet-client.key'}",
        f"--kubelet-certificate-authority={p / 'ca.crt'}",
        "--kubelet-preferred-address-types=InternalIP",
    ]


def start_apiserver(bin_dir: Path, layout: Layout, procs: Processes) -> None:
    p = layout.pki_dir
    procs.start(
        "kube-apiserver",
        [
            str(bin_dir / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{layout.etcd_client_port}",
            f"--secure-port={layout.apiserver_port}",
            *apiserver_network_args(layout),
            f"--cert-dir={layout.state / 'apiserver-certs'}",
            f"--tls-cert-file={p / 'apiserver.crt'}",
            f"--tls-private-key-file={p / 'apiserver.key'}",
            f"--client-ca-file={p / 'ca.crt'}",
            "--authorization-mode=Node,RBAC",
            # Upstream's default admission chain (it includes PodSecurity and ServiceAccount).
            "--enable-admission-plugins=NodeRestriction",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={p / 'sa.pub'}",
            f"--service-account-signing-key-file={p / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allow-privileged=true",
            f"--audit-policy-file={layout.state / 'audit-policy.yaml'}",
            f"--audit-log-path={layout.audit_log}",
            "--audit-log-format=json",
            "--audit-log-mode=blocking",
            "--profiling=false",
        ],
    )
    wait_for("kube-apiserver /readyz", lambda: api_ready(layout), 90, procs, "kube-apiserver")


def restart_apiserver(layout: Layout) -> float:
    """Stop the API server and start it again on the same state (a fault for tests); seconds it was away."""
    procs = Processes(layout.state)
    if not running(layout):
        raise ClusterError(f"no running cluster in {layout.state}")
    layout = dataclasses.replace(layout, real_node=layout.has_real_node())
    started = time.monotonic()
    procs.stop("kube-apiserver")
    start_apiserver(layout.state / "bin", layout, procs)
    away = time.monotonic() - started
    log(f"kube-apiserver restarted; unavailable for {away:.1f}s")
    return away


def start_controllers(bin_dir: Path, layout: Layout, procs: Processes) -> None:
    p = layout.pki_dir
    common = [
        "--bind-address=127.0.0.1",
        "--leader-elect=false",
        "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
    ]
    procs.start(
        "kube-controller-manager",
        [
            str(bin_dir / "kube-controller-manager"),
            f"--kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
            f"--authentication-kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
            f"--authorization-kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
            f"--secure-port={layout.controller_manager_port}",
            f"--cert-dir={layout.state / 'controller-manager-certs'}",
            f"--root-ca-file={p / 'ca.crt'}",
            f"--service-account-private-key-file={p / 'sa.key'}",
            # Each controller acts as its own ServiceAccount, as in a production control plane.
            "--use-service-account-credentials=true",
            f"--cluster-cidr={POD_CIDR}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--node-monitor-period=5s",
            "--node-monitor-grace-period=40s",
            *common,
        ],
    )
    procs.start(
        "kube-scheduler",
        [
            str(bin_dir / "kube-scheduler"),
            f"--kubeconfig={layout.component_kubeconfig('kube-scheduler')}",
            f"--authentication-kubeconfig={layout.component_kubeconfig('kube-scheduler')}",
            f"--authorization-kubeconfig={layout.component_kubeconfig('kube-scheduler')}",
            f"--secure-port={layout.scheduler_port}",
            *common,
        ],
    )
    stages = "\n---\n".join(f.read_text() for f in sorted((bin_dir / "kwok-stages").glob("*.yaml")))
    (layout.state / "kwok.yaml").write_text(stages)
    procs.start(
        "kwok",
        [
            str(bin_dir / "kwok"),
            f"--kubeconfig={layout.component_kubeconfig('kwok')}",
            f"--config={layout.state / 'kwok.yaml'}",
            # Only its own nodes: a real node beside them has its kubelet.
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}",
            "--node-lease-duration-seconds=40",
            f"--cidr={POD_CIDR}",
        ],
    )


def standin_scripts() -> list[Path]:
    """Stand-ins for operators that cannot run here: every tools/standins/operators/*.py not starting with _."""
    if not STANDINS_DIR.is_dir():
        return []
    return sorted(p for p in STANDINS_DIR.glob("*.py") if not p.name.startswith("_"))


def fake_connect_token() -> str:
    """The token the fake Connect server accepts for every vault: the first of its data file."""
    return yaml.safe_load(FAKE_CONNECT_DATA.read_text())["tokens"][0]["token"]


def fake_connect_ready(layout: Layout) -> bool:
    try:
        with urllib.request.urlopen(f"{layout.onepassword_connect_url}/heartbeat", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def start_fake_connect(layout: Layout, procs: Processes) -> None:
    """The fake 1Password Connect server, serving FAKE_CONNECT_DATA on layout.onepassword_connect_url.

    It validates its traffic against Connect's OpenAPI document from the shared schemas; without
    them it cannot start, and the cluster comes up without it (the 1Password operator stand-in then
    reports every OnePasswordItem as not ready).
    """
    name = "fake-onepassword-connect"
    procs.start(
        name,
        [
            sys.executable,
            str(FAKE_CONNECT_SERVER),
            f"--data={FAKE_CONNECT_DATA}",
            f"--port={layout.onepassword_connect_port}",
        ],
        env={"PYTHONUNBUFFERED": "1", "HOMELAB_SHARED_SCHEMAS": str(shared_schemas_dir())},
    )
    try:
        wait_for("the fake 1Password Connect server", lambda: fake_connect_ready(layout), 30, procs, name)
    except ClusterError as err:
        log(f"warning, going on without it: {err}")
        # Not recorded as one of the cluster's processes, so that `status` still reports a working cluster.
        (procs.pid_dir / f"{name}.pid").unlink(missing_ok=True)


def fake_authentik_ready(layout: Layout) -> bool:
    # A connection is enough: any request the fake does not serve would count as a violation.
    try:
        with socket.create_connection(("127.0.0.1", layout.authentik_port), timeout=2):
            return True
    except OSError:
        return False


def start_fake_authentik(layout: Layout, procs: Processes) -> None:
    """The fake Authentik API on layout.authentik_url, accepting FAKE_AUTHENTIK_TOKEN.

    Like the fake Connect server it needs the shared schemas (Authentik's OpenAPI document and
    blueprint schema); without them the cluster comes up without it.
    """
    name = "fake-authentik"
    procs.start(
        name,
        [
            sys.executable,
            str(FAKE_AUTHENTIK_SERVER),
            f"--port={layout.authentik_port}",
            # With the real node, pods (an in-cluster drift run) reach it at the node's address too.
            f"--host={'0.0.0.0' if layout.real_node or layout.has_real_node() else '127.0.0.1'}",  # noqa: S104
            f"--token={FAKE_AUTHENTIK_TOKEN}",
            f"--kubeconfig={layout.component_kubeconfig('standins')}",
        ],
        env={"PYTHONUNBUFFERED": "1", "HOMELAB_SHARED_SCHEMAS": str(shared_schemas_dir())},
    )
    try:
        wait_for("the fake Authentik API", lambda: fake_authentik_ready(layout), 30, procs, name)
    except ClusterError as err:
        log(f"warning, going on without it: {err}")
        (procs.pid_dir / f"{name}.pid").unlink(missing_ok=True)


def standin_env(layout: Layout, script: Path) -> dict:
    env = {"PYTHONUNBUFFERED": "1"}
    if script.stem == "onepassword_operator":
        # As the operator's Deployment sets them: where Connect is, and its token.
        env.update(OP_CONNECT_HOST=layout.onepassword_connect_url, OP_CONNECT_TOKEN=fake_connect_token())
    return env


def start_standins(layout: Layout, procs: Processes, only_missing: bool = False) -> None:
    # With the real node, pods reach the CloudNativePG stand-in's real PostgreSQL servers on the node's address.
    node_ip = realnode.node_ip() if layout.real_node or layout.has_real_node() else None
    for script in standin_scripts():
        name = f"standin-{script.stem}"
        if only_missing and procs.alive(name):
            continue
        procs.start(
            name,
            [
                sys.executable,
                str(script),
                f"--kubeconfig={layout.component_kubeconfig('standins')}",
                *standin_args(layout, script.stem, node_ip=node_ip),
            ],
            env=standin_env(layout, script),
        )


def write_address(layout: Layout, real_node: bool) -> None:
    """Where this machine and the pods reach the fake servers: the real node's address, or loopback."""
    layout.address_file.write_text(f"{realnode.node_ip() if real_node else '127.0.0.1'}\n")


def start_missing(layout: Layout) -> list[str]:
    """On a running cluster: start the fake Connect server and the stand-ins that do not run (new or exited)."""
    procs = Processes(layout.state)
    if not layout.address_file.exists():  # a cluster started before the file was written
        write_address(layout, layout.has_real_node())
    before = set(procs.recorded())
    alive = {name for name in before if procs.alive(name)}
    if "fake-onepassword-connect" not in alive:
        start_fake_connect(layout, procs)
    if "fake-authentik" not in alive:
        start_fake_authentik(layout, procs)
    start_standins(layout, procs, only_missing=True)
    return sorted(name for name in procs.recorded() if name not in alive and procs.alive(name))


def node_ready(bin_dir: Path, layout: Layout) -> bool:
    """Every node of manifests/node.yaml (the kwok nodes) exists and is Ready."""
    wanted = {
        node["metadata"]["name"] for node in yaml.safe_load((HERE / "manifests" / "node.yaml").read_text())["items"]
    }
    try:
        nodes = json.loads(kubectl(bin_dir, layout, "get", "nodes", "-l", "type=kwok", "-o", "json"))["items"]
    except ClusterError:
        return False
    ready = {
        node["metadata"]["name"]
        for node in nodes
        if any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))
    }
    return wanted <= ready


def default_service_account_exists(bin_dir: Path, layout: Layout) -> bool:
    try:
        kubectl(bin_dir, layout, "get", "serviceaccount", "default", "-n", "default")
        return True
    except ClusterError:
        return False


def unreachable_by_others(state: Path) -> Path | None:
    """The first existing folder above `state` that other users may not enter, if any."""
    for folder in reversed(state.parents):
        if folder.exists() and not folder.stat().st_mode & 0o001:
            return folder
    return None


def real_node_ready(bin_dir: Path, layout: Layout) -> bool:
    try:
        node = json.loads(kubectl(bin_dir, layout, "get", "node", realnode.NODE_NAME, "-o", "json"))
    except ClusterError:
        return False
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))


def real_node_runs(state: Path) -> bool:
    """Whether the real node of the cluster in `state` runs (for the one-per-machine lock)."""
    procs = Processes(state)
    return any(procs.alive(name) for name in REAL_NODE_PROCESSES)


def start_real_node(bin_dir: Path, layout: Layout, procs: Processes, ca: pki.Authority, phase) -> None:
    """The real node's processes, CoreDNS as the kube-dns Service's endpoint, and the kwok nodes tainted
    so that ordinary pods land on the real node."""
    node = layout.node()
    realnode.start(node, ca, layout.server, POD_CIDR, procs, wait_for, phase)
    apply(bin_dir, layout, yaml.safe_dump(realnode.dns_endpoint_slice(node)))
    kubectl(bin_dir, layout, "taint", "nodes", "--selector=type=kwok", realnode.KWOK_TAINT, "--overwrite")
    try:
        images.import_into(node.ctr, node.socket)
    except RuntimeError as err:
        raise ClusterError(str(err)) from err
    phase("the stack's images imported into containerd")
    wait_for(f"node {realnode.NODE_NAME} Ready", lambda: real_node_ready(bin_dir, layout), 90, procs, "kubelet")
    phase(f"real node {realnode.NODE_NAME} Ready ({node.ip})")


def running(layout: Layout) -> bool:
    procs = Processes(layout.state)
    core = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]
    if layout.has_real_node():
        core += REAL_NODE_PROCESSES
    return all(procs.alive(name) for name in core) and api_ready(layout)


def up(layout: Layout) -> bool:
    """Start the cluster; returns False when it was already running (then only what start_missing starts)."""
    if running(layout):
        started = start_missing(layout)
        log(f"already running{'; started ' + ', '.join(started) if started else ''}; kubeconfig: {layout.kubeconfig}")
        return False
    if Processes(layout.state).recorded():
        log("a previous cluster is half up: stopping it first")
        down(layout)
    started = time.monotonic()
    bin_dir = build()
    node_bin = build("node") if layout.real_node else None
    if layout.real_node:
        # The images the stack's pods run (no registry is reachable): built now when not cached, so
        # that a build failure stops `up` before anything starts.
        try:
            images.ensure()
        except (RuntimeError, OSError, subprocess.SubprocessError) as err:
            raise ClusterError(f"building the test cluster's images failed: {err}") from err
    if layout.real_node:
        closed = unreachable_by_others(layout.state)
        if closed:
            raise ClusterError(
                f"{closed} is closed to other users, so the PostgreSQL servers the real node's pods use (run as an "
                f"unprivileged user, data in {layout.state / 'postgres'}) cannot reach their data: set "
                "HOMELAB_TESTCLUSTER_DIR to a directory under one that others may enter (e.g. /var/tmp/testcluster)."
            )
        try:
            realnode.acquire_lock(layout.state, real_node_runs)
        except realnode.NodeError as err:
            raise ClusterError(str(err)) from err
    if layout.state.exists():
        shutil.rmtree(layout.state)
    layout.state.mkdir(parents=True)
    (layout.state / "bin").symlink_to(bin_dir)
    if node_bin:
        (layout.state / "node-bin").symlink_to(node_bin)
    write_address(layout, layout.real_node)
    procs = Processes(layout.state)

    def phase(name: str) -> None:
        log(f"{name} after {time.monotonic() - started:.1f}s")

    try:
        ca = write_pki(layout)
        start_control_plane(bin_dir, layout, procs)
        phase("API server ready")
        # Controllers and the node come up while the CRDs are applied; stand-ins watch CRDs, so after.
        start_controllers(bin_dir, layout, procs)
        apply(bin_dir, layout, (HERE / "manifests" / "node.yaml").read_text())
        apply(bin_dir, layout, crd_documents())
        kubectl(bin_dir, layout, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        apply(bin_dir, layout, (HERE / "manifests" / "platform.yaml").read_text())
        phase("CRDs established and platform objects applied")
        if layout.real_node:
            start_real_node(bin_dir, layout, procs, ca, phase)
        start_fake_connect(layout, procs)
        start_fake_authentik(layout, procs)
        start_standins(layout, procs)
        wait_for("the kwok nodes Ready", lambda: node_ready(bin_dir, layout), 60, procs, "kwok")
        wait_for(
            "the default ServiceAccount",
            lambda: default_service_account_exists(bin_dir, layout),
            60,
            procs,
            "kube-controller-manager",
        )
    except BaseException:
        log(f"start failed; stopping what was started (logs kept in {layout.state / 'logs'})")
        if layout.real_node:
            realnode.stop(layout.node(), procs)
        procs.stop_all()
        raise
    log(f"up in {time.monotonic() - started:.1f}s; kubeconfig: {layout.kubeconfig}")
    log(f"kubectl: {bin_dir / 'kubectl'} --kubeconfig {layout.kubeconfig}")
    return True


def down(layout: Layout) -> None:
    procs = Processes(layout.state)
    stopped = []
    if layout.has_real_node():
        stopped = realnode.stop(layout.node(), procs)
        # The API server, on its way out, removes its lease on the `kubernetes` Service's endpoints
        # and waits for its clients: its clients first, then it, then etcd.
        stopped += procs.stop_all(keep=("kube-apiserver", "etcd"))
    stopped += procs.stop_all(keep=("etcd",)) + procs.stop_all()
    if layout.state.exists():
        shutil.rmtree(layout.state)
    log(f"stopped {', '.join(stopped) or 'nothing'}; removed {layout.state}")


def status(layout: Layout) -> bool:
    procs = Processes(layout.state)
    recorded = procs.recorded()
    if not recorded:
        print(f"not running (no state in {layout.state})")
        return False
    for name, (pid, _executable) in recorded.items():
        print(f"{name:28} pid {pid:<8} {'running' if procs.alive(name) else 'NOT RUNNING'}")
    ready = api_ready(layout)
    print(f"{'kube-apiserver /readyz':28} {layout.server:<17} {'ok' if ready else 'NOT READY'}")
    print(f"{'kubeconfig':28} {layout.kubeconfig}")
    print(f"{'audit log':28} {layout.audit_log}")
    print(f"{'fake 1Password Connect':28} {layout.onepassword_connect_url}")
    print(f"{'fake Authentik API':28} {layout.authentik_url}/api/v3/")
    if layout.has_real_node():
        node = layout.node()
        print(f"{'real node':28} {realnode.NODE_NAME} at {node.ip}")
        print(f"{'containerd':28} {' '.join(node.ctr_argv())}")
    return ready and all(procs.alive(n) for n in recorded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "build", "restart-apiserver"])
    args = parser.parse_args(argv)
    # images.py reports its builds and imports through logging.
    logging.basicConfig(level=logging.INFO, format="[testcluster %(name)s] %(message)s", stream=sys.stderr)
    layout = Layout.from_env()
    try:
        if args.command == "up":
            up(layout)
        elif args.command == "down":
            down(layout)
        elif args.command == "restart-apiserver":
            restart_apiserver(layout)
        elif args.command == "build":
            print(build())
        else:
            return 0 if status(layout) else 1
    except (ClusterError, realnode.NodeError, nodehost.HostError) as err:
        log(f"error: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
