"""The test cluster's real node (HOMELAB_TESTCLUSTER_REAL_NODE=1): pods run for real on this machine.

Beside the kwok nodes, one node runs containerd (with runc and the CNI bridge), the kubelet,
kube-proxy and CoreDNS as host processes, from binaries built by `build.sh node`. Its state (the
containerd root and state, the kubelet's root, CNI configuration and IP leases) lives in
<state>/node; its ports follow the cluster's port base. The CNI bridge, the iptables rules of
kube-proxy and the pods' cgroups are host-wide, so one real node runs per machine (LOCK).

    realnode.py pause-image <pause binary> <tag> <archive>   write the sandbox image (build.sh)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nodehost
import ociarchive

NODE_NAME = "real-node-0"
ZONE = "zone-a"
# Where the one real node of this machine says whose it is.
LOCK = Path("/run/homelab-mlflow-testcluster-real-node.lock")
BRIDGE = "hlmlcni0"
CLUSTER_DNS_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
KUBERNETES_SERVICE_IP = "10.96.0.1"
PAUSE_REPOSITORY = "registry.k8s.io/pause"
KWOK_TAINT = "kwok.x-k8s.io/node=fake:NoSchedule"
# Host-wide settings pods need: routing between the bridge and the host, and bridged traffic
# through iptables (a pod reaching a Service whose endpoint is a pod on the same bridge).
SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
}
CAP_SYS_RESOURCE = 24


class NodeError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[testcluster real node] {message}", file=sys.stderr, flush=True)


def enabled(env: dict | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("HOMELAB_TESTCLUSTER_REAL_NODE", "") not in ("", "0", "false", "no")


def node_ip() -> str:
    """The address of the interface the default route leaves through (never loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        # A UDP connect sends nothing; it only picks the route and with it the source address.
        probe.connect(("203.0.113.1", 9))
        address = probe.getsockname()[0]
    if address.startswith("127."):
        raise NodeError("no default route: the real node needs an address pods can reach besides loopback")
    return address


@dataclass(frozen=True)
class NodeLayout:
    """Where the real node of one cluster keeps its state, and which ports it uses."""

    cluster_state: Path
    port_base: int
    ip: str
    bin_dir: Path

    root = property(lambda self: self.cluster_state / "node")
    containerd_root = property(lambda self: self.root / "containerd")
    containerd_state = property(lambda self: self.root / "containerd-state")
    socket = property(lambda self: self.root / "containerd.sock")
    kubelet_root = property(lambda self: self.root / "kubelet")
    cni_conf_dir = property(lambda self: self.root / "cni" / "net.d")
    cni_ipam_dir = property(lambda self: self.root / "cni" / "ipam")
    kubelet_port = property(lambda self: self.port_base + 7)
    kubelet_healthz_port = property(lambda self: self.port_base + 8)
    proxy_metrics_port = property(lambda self: self.port_base + 9)
    proxy_healthz_port = property(lambda self: self.port_base + 10)
    dns_port = property(lambda self: self.port_base + 11)
    dns_ready_port = property(lambda self: self.port_base + 12)
    stream_port = property(lambda self: self.port_base + 13)
    ctr = property(lambda self: self.bin_dir / "ctr")

    def ctr_argv(self, *args: str) -> list[str]:
        return [str(self.ctr), "--address", str(self.socket), "--namespace", "k8s.io", *args]


def pod_subnet(pod_cidr: str) -> str:
    """The real node's /24: the last of the cluster's pod range (kwok hands out fake pod IPs from its start)."""
    import ipaddress

    return str(list(ipaddress.ip_network(pod_cidr).subnets(new_prefix=24))[-1])


# --- the lock: one real node per machine -------------------------------------------------------


def acquire_lock(state: Path, is_running) -> None:
    """Claim the machine's real node for the cluster in `state`; fails when another cluster's real node runs."""
    holder = LOCK.read_text().strip() if LOCK.exists() else ""
    if holder and holder != str(state) and is_running(Path(holder)):
        raise NodeError(
            f"another test cluster's real node runs on this machine (state {holder}); only one can run per "
            "machine (the CNI bridge, kube-proxy's iptables rules and the pods' cgroups are host-wide). "
            f"Stop it first: HOMELAB_TESTCLUSTER_DIR={holder} make cluster-down"
        )
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    LOCK.write_text(f"{state}\n")


def release_lock(state: Path) -> None:
    if LOCK.exists() and LOCK.read_text().strip() == str(state):
        LOCK.unlink()


# --- the pause (sandbox) image ---------------------------------------------------------------


def pause_reference(bin_dir: Path) -> str:
    return f"{PAUSE_REPOSITORY}:{(bin_dir / 'pause-image.tag').read_text().strip()}"


def write_pause_image(pause_binary: Path, tag: str, archive: Path) -> None:
    reference = f"{PAUSE_REPOSITORY}:{tag}"
    ociarchive.write(
        archive,
        reference,
        {"pause": (pause_binary.read_bytes(), 0o755)},
        {"Entrypoint": ["/pause"], "User": "65535:65535"},
    )
    (archive.parent / "pause-image.tag").write_text(f"{tag}\n")


# --- configuration files ---------------------------------------------------------------------


def may_lower_oom_score() -> bool:
    """Whether this process has CAP_SYS_RESOURCE (some machines withhold it even from root)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) & (1 << CAP_SYS_RESOURCE))
    return False


def containerd_config(node: NodeLayout, sandbox_image: str) -> str:
    runtime = "plugins.'io.containerd.cri.v1.runtime'"
    return f"""version = 3
root = "{node.containerd_root}"
state = "{node.containerd_state}"
# Host-wide or unneeded here: NRI's socket is machine-wide, the other snapshotters need tools.
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.erofs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{node.socket}"

[ttrpc]
  address = "{node.socket}.ttrpc"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "{sandbox_image}"

[{runtime}]
  # Network namespaces under the node's state, not in the host's /run/netns.
  netns_mounts_under_state_dir = true
  # Without CAP_SYS_RESOURCE no process may lower its OOM score below containerd's (the sandboxes ask for -998).
  restrict_oom_score_adj = {str(not may_lower_oom_score()).lower()}
  [{runtime}.containerd]
    default_runtime_name = "runc"
    [{runtime}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [{runtime}.containerd.runtimes.runc.options]
        BinaryName = "{node.bin_dir / "runc"}"
        # The kubelet manages cgroups with the cgroupfs driver (no systemd here).
        SystemdCgroup = false
  [{runtime}.cni]
    bin_dirs = ["{node.bin_dir / "cni"}"]
    conf_dir = "{node.cni_conf_dir}"

[plugins.'io.containerd.grpc.v1.cri']
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "{node.stream_port}"
"""


def cni_config(node: NodeLayout, subnet: str) -> dict:
    return {
        "cniVersion": "1.0.0",
        "name": "testcluster",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                # No masquerading: pods only talk to the host and each other (no per-pod iptables rules).
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": subnet}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(node.cni_ipam_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(node: NodeLayout, pki_dir: Path) -> dict:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": node.ip,
        "port": node.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": node.kubelet_healthz_port,
        "tlsCertFile": str(pki_dir / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki_dir / "kubelet-serving.key"),
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki_dir / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{node.socket}",
        "cgroupDriver": "cgroupfs",
        # This machine has cgroup v1 hierarchies; the kubelet refuses them unless told otherwise.
        "failCgroupV1": False,
        "failSwapOn": False,
        "clusterDNS": [CLUSTER_DNS_IP],
        "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": "/etc/resolv.conf",
        # The disk is shared with builds and caches: neither collect images nor evict pods because of it.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "imageMinimumGCAge": "8760h",
        "evictionHard": {
            "memory.available": "50Mi",
            "nodefs.available": "1%",
            "nodefs.inodesFree": "1%",
            "imagefs.available": "1%",
        },
        "serializeImagePulls": False,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "nodeStatusUpdateFrequency": "5s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "1h",
        "registerNode": True,
        "registerWithTaints": [],
        "localStorageCapacityIsolation": True,
        "logging": {"format": "text"},
    }


def kube_proxy_config(node: NodeLayout, kubeconfig: Path, pod_cidr: str) -> dict:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": NODE_NAME,
        "mode": "iptables",
        "clusterCIDR": pod_cidr,
        "detectLocalMode": "ClusterCIDR",
        "bindAddress": node.ip,
        "metricsBindAddress": f"127.0.0.1:{node.proxy_metrics_port}",
        "healthzBindAddress": f"127.0.0.1:{node.proxy_healthz_port}",
        # Leave the host's conntrack table size and route_localnet as they are.
        "conntrack": {"maxPerCore": 0, "min": 0},
        "iptables": {"localhostNodePorts": False},
        "nodePortAddresses": ["primary"],
    }


def corefile(node: NodeLayout, kubeconfig: Path) -> str:
    return f""".:{node.dns_port} {{
    bind {node.ip}
    errors
    ready 127.0.0.1:{node.dns_ready_port}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig} testcluster
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }}
    forward . /etc/resolv.conf
    cache 5
    loop
}}
"""


def dns_endpoint_slice(node: NodeLayout) -> dict:
    """The kube-dns Service's endpoints (it has no selector): CoreDNS on the node's address."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kube-dns-real-node",
            "namespace": "kube-system",
            "labels": {
                "kubernetes.io/service-name": "kube-dns",
                "endpointslice.kubernetes.io/managed-by": "testcluster",
            },
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [node.ip], "conditions": {"ready": True}, "nodeName": NODE_NAME}],
        "ports": [
            {"name": "dns", "port": node.dns_port, "protocol": "UDP"},
            {"name": "dns-tcp", "port": node.dns_port, "protocol": "TCP"},
        ],
    }


# --- start and stop ----------------------------------------------------------------------------


def write_pki(ca, node: NodeLayout, server: str, kubeconfigs: Path) -> dict[str, Path]:
    """The node's identities: the kubelet as system:node:<name> (Node authorizer, NodeRestriction),
    kube-proxy as system:kube-proxy (bootstrap RBAC's node-proxier), CoreDNS; the kubelet's serving
    certificate (the API server's client certificate for the kubelet is testcluster.py's)."""
    import pki

    ca.issue("kubelet-serving", NODE_NAME, server=True, dns_names=[NODE_NAME, socket.gethostname()], ips=[node.ip])
    identities = {
        "kubelet": (f"system:node:{NODE_NAME}", ["system:nodes"]),
        "kube-proxy": ("system:kube-proxy", []),
        "coredns": ("system:testcluster-coredns", ["system:masters"]),
    }
    kubeconfigs.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, (user, groups) in identities.items():
        pair = ca.issue(name, user, groups)
        written[name] = kubeconfigs / f"{name}.kubeconfig"
        pki.write_kubeconfig(written[name], server, ca.pair.cert, pair, user)
    return written


def containerd_ready(node: NodeLayout) -> bool:
    if not node.socket.exists():
        return False
    return (
        subprocess.run(node.ctr_argv("version"), stdin=subprocess.DEVNULL, capture_output=True, check=False).returncode
        == 0
    )


def coredns_ready(node: NodeLayout) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.dns_ready_port}/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start(node: NodeLayout, ca, server: str, pod_cidr: str, procs, wait_for, phase) -> None:
    """Start containerd (with the sandbox image), CoreDNS, kube-proxy and the kubelet of the real node."""
    import yaml

    for directory in (node.root, node.cni_conf_dir, node.cni_ipam_dir, node.kubelet_root):
        directory.mkdir(parents=True, exist_ok=True)
    nodehost.set_sysctls(SYSCTLS, node.root / "sysctls-before.json")
    kubeconfigs = write_pki(ca, node, server, node.root / "kubeconfigs")
    pki_dir = ca.directory
    sandbox_image = pause_reference(node.bin_dir)
    (node.root / "containerd.toml").write_text(containerd_config(node, sandbox_image))
    (node.cni_conf_dir / "10-testcluster.conflist").write_text(
        json.dumps(cni_config(node, pod_subnet(pod_cidr)), indent=2)
    )
    (node.root / "kubelet.yaml").write_text(yaml.safe_dump(kubelet_config(node, pki_dir)))
    (node.root / "kube-proxy.yaml").write_text(
        yaml.safe_dump(kube_proxy_config(node, kubeconfigs["kube-proxy"], pod_cidr))
    )
    (node.root / "Corefile").write_text(corefile(node, kubeconfigs["coredns"]))
    # containerd finds its shim on PATH, the shim finds runc by the configured BinaryName.
    path_env = {"PATH": f"{node.bin_dir}:{os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}"}

    procs.start(
        "containerd", [str(node.bin_dir / "containerd"), f"--config={node.root / 'containerd.toml'}"], env=path_env
    )
    wait_for("containerd", lambda: containerd_ready(node), 30, procs, "containerd")
    imported = subprocess.run(
        node.ctr_argv("images", "import", "--local", str(node.bin_dir / "pause-image.tar")),
        stdin=subprocess.DEVNULL,  # never our own: Go may leave it non-blocking, which ansible refuses
        capture_output=True,
        text=True,
        check=False,
    )
    if imported.returncode != 0:
        raise NodeError(f"importing the sandbox image into containerd failed: {imported.stderr.strip()}")
    phase("containerd ready, sandbox image imported")
    procs.start("coredns", [str(node.bin_dir / "coredns"), "-conf", str(node.root / "Corefile")])
    procs.start(
        "kube-proxy", [str(node.bin_dir / "kube-proxy"), f"--config={node.root / 'kube-proxy.yaml'}"], env=path_env
    )
    procs.start(
        "kubelet",
        [
            str(node.bin_dir / "kubelet"),
            f"--config={node.root / 'kubelet.yaml'}",
            f"--kubeconfig={kubeconfigs['kubelet']}",
            f"--root-dir={node.kubelet_root}",
            f"--hostname-override={NODE_NAME}",
            f"--node-ip={node.ip}",
            f"--node-labels=topology.kubernetes.io/zone={ZONE}",
            "--v=1",
        ],
        env=path_env,
    )
    wait_for("CoreDNS", lambda: coredns_ready(node), 30, procs, "coredns")


def stop(node: NodeLayout, procs) -> list[str]:
    """Stop the node and take back what it put into the machine: containers, shims, mounts, the bridge,
    kube-proxy's iptables rules, the pods' cgroups, the sysctls; releases the lock. Returns what it stopped."""
    started = time.monotonic()
    recorded = procs.recorded()
    stopped = []

    def stop_recorded(*names: str) -> None:
        for name in names:
            if name in recorded:
                procs.stop(name, timeout=5)
                stopped.append(name)
        log(f"stopped {', '.join(names)} after {time.monotonic() - started:.1f}s")

    stop_recorded("kubelet")  # first, so that it starts no container again
    nodehost.remove_cgroups()  # every container process, the pause processes included
    stop_recorded("containerd")
    nodehost.kill_and_wait(nodehost.shim_pids(node.socket))
    stop_recorded("kube-proxy", "coredns")
    if (node.bin_dir / "kube-proxy").exists():
        subprocess.run(
            [str(node.bin_dir / "kube-proxy"), "--cleanup"], stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
    nodehost.remove_kube_chains()
    nodehost.unmount_all(node.root)
    for veth in nodehost.bridge_ports(BRIDGE):
        nodehost.delete_link(veth)
    nodehost.delete_link(BRIDGE)
    nodehost.remove_cgroups()
    nodehost.restore_sysctls(node.root / "sysctls-before.json")
    release_lock(node.cluster_state)
    elapsed = time.monotonic() - started
    log(f"removed its containers, mounts, network devices, iptables chains and cgroups after {elapsed:.1f}s")
    return stopped


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "pause-image":
        write_pause_image(Path(argv[1]), argv[2], Path(argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
