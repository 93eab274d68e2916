"""The test cluster's real node (HOMELAB_TESTCLUSTER_REAL_NODE=1) runs pods for real: containerd and
runc under the kubelet, the CNI bridge, kube-proxy's Services and CoreDNS.

Runs a private cluster with the real node (own state directory, ports at the session's port base +
REAL_NODE_PORT_OFFSET, or HOMELAB_TESTCLUSTER_REAL_NODE_PORT_BASE) for the module, and stops it at
the end. The pods run the test cluster's docker.io/library/python:3.11-slim, built here from Debian
packages (images.py; no registry is reachable) and imported into the node's containerd.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import nodehost
import pytest
import realnode
from ansible_runs import eventually, unique
from kube_namespaces import RESTRICTED as RESTRICTED_NAMESPACE
from kube_namespaces import restricted_namespace
from kubernetes import client
from kubernetes.stream import stream
from real_node_clusters import real_node_cluster
from testcluster import HERE

import images

IMAGE = images.image_name("base")
TESTCLUSTER = HERE / "testcluster.py"
RESTRICTED = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _machine() -> dict[str, set]:
    """What the node leaves in the machine: processes (pid, argv0), mounts, network devices."""
    processes = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                processes.add((int(proc.name), (proc / "cmdline").read_bytes().split(b"\0")[0].decode()))
            except (OSError, UnicodeDecodeError):
                continue
    mounts = {line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()}
    return {"processes": processes, "mounts": mounts, "devices": {p.name for p in Path("/sys/class/net").iterdir()}}


@pytest.fixture(scope="module")
def machine_before():
    return _machine()


@pytest.fixture(scope="module")
def node_cluster(machine_before):
    with real_node_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def k8s(node_cluster):
    return node_cluster.api_client()


@pytest.fixture
def namespace(k8s):
    with restricted_namespace(k8s, "real-node") as name:
        yield name


def _pod(name: str, command: str, labels: dict | None = None, **container) -> dict:
    return {
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", command],
                    "securityContext": RESTRICTED,
                    **container,
                }
            ],
        },
    }


def _running(k8s, namespace: str, name: str):
    def ready():
        pod = client.CoreV1Api(k8s).read_namespaced_pod(name, namespace)
        return pod if pod.status.phase == "Running" else None

    return eventually(ready, timeout=90, what=f"pod {name} running")


def _exec(k8s, namespace: str, name: str, *argv: str) -> str:
    return stream(
        client.CoreV1Api(k8s).connect_get_namespaced_pod_exec,
        name,
        namespace,
        command=list(argv),
        stderr=True,
        stdout=True,
        stdin=False,
        tty=False,
    )


def _web_server(k8s, namespace: str, name: str, labels: dict | None = None, **container) -> None:
    """A pod serving its own name over HTTP on port 8080 (Python's http.server, from an emptyDir)."""
    pod = _pod(
        name,
        f"echo {name} > /www/index.html && exec python -m http.server 8080 --directory /www",
        labels,
        **container,
    )
    pod["spec"]["containers"][0]["volumeMounts"] = [{"name": "www", "mountPath": "/www"}]
    pod["spec"]["volumes"] = [{"name": "www", "emptyDir": {}}]
    client.CoreV1Api(k8s).create_namespaced_pod(namespace, pod)


def _service(k8s, namespace: str, name: str):
    return client.CoreV1Api(k8s).create_namespaced_service(
        namespace,
        {"metadata": {"name": name}, "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}},
    )


def test_the_node_registers_with_its_address_labels_and_the_kwok_nodes_are_tainted(k8s, node_cluster):
    core = client.CoreV1Api(k8s)
    node = core.read_node(realnode.NODE_NAME)
    addresses = {a.type: a.address for a in node.status.addresses}
    assert addresses["InternalIP"] == realnode.node_ip()
    assert not addresses["InternalIP"].startswith("127.")
    assert node.metadata.labels["kubernetes.io/hostname"] == realnode.NODE_NAME
    assert node.metadata.labels["kubernetes.io/os"] == "linux"
    assert node.metadata.labels["topology.kubernetes.io/zone"] == realnode.ZONE
    assert not node.spec.taints
    for kwok_node in core.list_node(label_selector="type=kwok").items:
        assert {(t.key, t.value, t.effect) for t in kwok_node.spec.taints or []} >= {
            ("kwok.x-k8s.io/node", "fake", "NoSchedule")
        }


def test_a_second_real_node_on_the_machine_is_refused_naming_the_first(node_cluster):
    state = node_cluster.state.parent / "second"  # beside the first: a folder others may enter
    second = {
        **os.environ,
        "HOMELAB_TESTCLUSTER_DIR": str(state),
        "HOMELAB_TESTCLUSTER_PORT_BASE": str(node_cluster.layout.port_base + 100),
        "HOMELAB_TESTCLUSTER_REAL_NODE": "1",
    }
    result = subprocess.run(
        [sys.executable, str(TESTCLUSTER), "up"],
        env=second,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert f"another test cluster's real node runs on this machine (state {node_cluster.state})" in result.stderr
    assert not state.exists()
    assert node_cluster.is_running()


def test_restricted_pod_runs_as_its_user_with_a_read_only_root(k8s, namespace):
    core = client.CoreV1Api(k8s)
    core.create_namespaced_pod(
        namespace,
        _pod(
            "restricted",
            "id -u; if touch /written; then echo root-writable; else echo root-read-only; fi; exec sleep 3600",
        ),
    )
    pod = _running(k8s, namespace, "restricted")
    assert pod.spec.node_name == realnode.NODE_NAME

    def whole_output():  # up to its last line: the error of touch may come before it
        output = core.read_namespaced_pod_log("restricted", namespace)
        return output if "root-" in output else None

    logs = eventually(whole_output, timeout=30, what="the pod's output")
    # stdout and stderr are logged from two pipes: their lines may interleave either way
    assert "10001" in logs.splitlines()
    assert "Read-only file system" in logs
    assert "root-read-only" in logs.splitlines()
    assert _exec(k8s, namespace, "restricted", "id").startswith("uid=10001 gid=10001")
    assert "Read-only file system" in _exec(k8s, namespace, "restricted", "sh", "-c", "echo x > /x")


def test_service_cluster_ip_reaches_its_pod_from_the_host_and_from_a_pod(k8s, namespace):
    _web_server(k8s, namespace, "web")
    service = _service(k8s, namespace, "web")
    _running(k8s, namespace, "web")
    client.CoreV1Api(k8s).create_namespaced_pod(namespace, _pod("client", "exec sleep 3600"))
    _running(k8s, namespace, "client")

    url = f"http://{service.spec.cluster_ip}:80/"

    def from_host():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode().strip()
        except OSError:
            return None

    assert eventually(from_host, timeout=60, what=f"{url} from the host") == "web"
    fetch = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=5).read().decode())"
    assert _exec(k8s, namespace, "client", "python", "-c", fetch).strip() == "web"


def test_pod_resolves_a_service_name_through_cluster_dns(k8s, namespace):
    service = _service(k8s, namespace, "named")
    client.CoreV1Api(k8s).create_namespaced_pod(namespace, _pod("resolver", "exec sleep 3600"))
    _running(k8s, namespace, "resolver")

    def resolve(name: str) -> str:
        return _exec(
            k8s, namespace, "resolver", "python", "-c", f"import socket; print(socket.gethostbyname({name!r}))"
        )

    assert resolve(f"named.{namespace}.svc.cluster.local").strip() == service.spec.cluster_ip
    # The pod's search path (resolv.conf from the kubelet) finds it by its short name too.
    assert resolve("named").strip() == service.spec.cluster_ip


def test_failing_readiness_probe_keeps_the_pod_out_of_the_endpoint_slice(k8s, namespace):
    probe = {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1}
    _web_server(k8s, namespace, "ready", {"tier": "web"}, readinessProbe=probe)
    missing = {**probe, "httpGet": {"path": "/missing", "port": 8080}}
    _web_server(k8s, namespace, "unready", {"tier": "web"}, readinessProbe=missing)
    core = client.CoreV1Api(k8s)
    core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "both"},
            "spec": {"selector": {"tier": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    for name in ("ready", "unready"):
        _running(k8s, namespace, name)

    def endpoints():
        slices = client.DiscoveryV1Api(k8s).list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=both"
        )
        found = {e.target_ref.name: e.conditions.ready for s in slices.items for e in s.endpoints or []}
        return found if len(found) == 2 else None

    eventually(lambda: endpoints() == {"ready": True, "unready": False}, timeout=60, what="the slice by readiness")
    assert not core.read_namespaced_pod("unready", namespace).status.container_statuses[0].ready


def test_deleting_a_pod_stops_its_container_process(k8s, namespace):
    marker = f"sleep-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(k8s)
    # argv[0] names the process, so it can be found among the machine's processes.
    rename = f"import os; os.execvp('sleep', [{marker!r}, '3600'])"
    core.create_namespaced_pod(namespace, _pod("doomed", f'exec python -c "{rename}"'))
    _running(k8s, namespace, "doomed")

    def processes():
        return {pid for pid, argv0 in _machine()["processes"] if argv0 == marker}

    pids = eventually(processes, timeout=30, what="the container's process")
    assert all(Path(f"/proc/{pid}/status").read_text().count("10001") >= 2 for pid in pids)  # its uid and gid
    core.delete_namespaced_pod("doomed", namespace)
    eventually(lambda: not processes(), timeout=60, what="the container's process gone")


def _node_processes(node: realnode.NodeLayout) -> set[tuple[int, str]]:
    """The node's own processes (started from its binaries, or its shims) and every process of its pods."""
    in_pods = set()
    for cgroup in nodehost.kubepods_cgroups():
        in_pods.update(int(p) for p in (cgroup / "cgroup.procs").read_text().split())
    return {
        (pid, argv0)
        for pid, argv0 in _machine()["processes"]
        if pid in in_pods or argv0.startswith(str(node.bin_dir)) or argv0.endswith("containerd-shim-runc-v2")
    }


def test_down_leaves_no_process_mount_or_device(k8s, node_cluster, machine_before):
    """Last in the module: stops the cluster and compares the machine with before it started."""
    namespace = unique("real-node")
    client.CoreV1Api(k8s).create_namespace({"metadata": {"name": namespace, "labels": RESTRICTED_NAMESPACE}})
    eventually(lambda: client.CoreV1Api(k8s).list_namespaced_service_account(namespace).items, what="ServiceAccount")
    # A pod left running: down stops it with the rest.
    client.CoreV1Api(k8s).create_namespaced_pod(namespace, _pod("left-running", "exec sleep 3600"))
    _running(k8s, namespace, "left-running")
    node = node_cluster.layout.node()
    during = _machine()
    processes = _node_processes(node)
    assert {"containerd", "kubelet", "kube-proxy", "coredns"} <= {Path(argv0).name for _pid, argv0 in processes}
    assert any(argv0 == "sleep" for _pid, argv0 in processes)  # the pod's
    assert realnode.BRIDGE in during["devices"]
    assert nodehost.mounts_under(node.root)

    node_cluster.down()

    after = _machine()
    assert processes & after["processes"] == set()
    assert {m for m in after["mounts"] - machine_before["mounts"] if m.startswith(str(node.cluster_state))} == set()
    assert after["devices"] - machine_before["devices"] == set()
    assert nodehost.kubepods_cgroups() == []
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    assert "KUBE-SERVICES" not in rules
    assert not realnode.LOCK.exists()
