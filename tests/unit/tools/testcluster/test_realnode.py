"""The real node's decisions that need no machine: its pod subnet, configuration files, the OCI archive
of its sandbox image and the one-per-machine lock."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import tomllib
from pathlib import Path

import ociarchive
import pytest
import realnode


def _node(tmp_path: Path, port_base: int = 20000) -> realnode.NodeLayout:
    return realnode.NodeLayout(tmp_path / "cluster", port_base, "198.51.100.7", tmp_path / "bin")


def test_pod_subnet_is_the_last_24_of_the_pod_range():
    assert realnode.pod_subnet("10.244.0.0/16") == "10.244.255.0/24"
    assert realnode.pod_subnet("172.20.0.0/22") == "172.20.3.0/24"


def test_ports_follow_the_port_base_and_do_not_collide(tmp_path):
    ports = [
        _node(tmp_path).kubelet_port,
        _node(tmp_path).kubelet_healthz_port,
        _node(tmp_path).proxy_metrics_port,
        _node(tmp_path).proxy_healthz_port,
        _node(tmp_path).dns_port,
        _node(tmp_path).dns_ready_port,
        _node(tmp_path).stream_port,
    ]
    assert len(set(ports)) == len(ports)
    assert all(20007 <= p <= 20017 for p in ports)
    assert _node(tmp_path, 21000).kubelet_port == 21007


@pytest.mark.parametrize("may_lower", [True, False])
def test_containerd_config_is_private_and_restricts_oom_scores_only_when_it_must(tmp_path, monkeypatch, may_lower):
    monkeypatch.setattr(realnode, "may_lower_oom_score", lambda: may_lower)
    node = _node(tmp_path)
    config = tomllib.loads(realnode.containerd_config(node, "registry.k8s.io/pause:3.10.2"))

    assert config["version"] == 3
    assert config["root"].startswith(str(node.root))
    assert config["state"].startswith(str(node.root))
    assert config["grpc"]["address"] == str(node.socket)
    runtime = config["plugins"]["io.containerd.cri.v1.runtime"]
    assert runtime["restrict_oom_score_adj"] is (not may_lower)
    assert runtime["netns_mounts_under_state_dir"] is True
    assert runtime["containerd"]["runtimes"]["runc"]["options"] == {
        "BinaryName": str(node.bin_dir / "runc"),
        "SystemdCgroup": False,
    }
    assert runtime["cni"] == {"bin_dirs": [str(node.bin_dir / "cni")], "conf_dir": str(node.cni_conf_dir)}
    assert (
        config["plugins"]["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == "registry.k8s.io/pause:3.10.2"
    )
    assert "io.containerd.nri.v1.nri" in config["disabled_plugins"]


def test_kubelet_config_uses_the_private_socket_and_the_cluster_dns(tmp_path):
    node = _node(tmp_path)
    config = realnode.kubelet_config(node, tmp_path / "pki")
    assert config["containerRuntimeEndpoint"] == f"unix://{node.socket}"
    assert config["clusterDNS"] == [realnode.CLUSTER_DNS_IP]
    assert config["clusterDomain"] == "cluster.local"
    assert config["port"] == node.kubelet_port
    assert config["address"] == node.ip
    assert config["cgroupDriver"] == "cgroupfs"
    assert config["failSwapOn"] is False
    assert config["authentication"]["anonymous"]["enabled"] is False


def test_cni_config_leases_from_the_node_subnet_under_the_node_state(tmp_path):
    node = _node(tmp_path)
    bridge, portmap = realnode.cni_config(node, "10.244.255.0/24")["plugins"]
    assert bridge["bridge"] == realnode.BRIDGE
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.255.0/24"}]]
    assert bridge["ipam"]["dataDir"] == str(node.cni_ipam_dir)
    assert portmap["type"] == "portmap"


def test_dns_endpoint_slice_points_the_kube_dns_service_at_coredns_on_the_node(tmp_path):
    node = _node(tmp_path)
    endpoint_slice = realnode.dns_endpoint_slice(node)
    assert endpoint_slice["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns"
    assert endpoint_slice["endpoints"][0]["addresses"] == [node.ip]
    assert {(p["name"], p["port"], p["protocol"]) for p in endpoint_slice["ports"]} == {
        ("dns", node.dns_port, "UDP"),
        ("dns-tcp", node.dns_port, "TCP"),
    }


def test_oci_archive_names_the_image_and_its_blobs_match_their_digests(tmp_path):
    archive = tmp_path / "image.tar"
    ociarchive.write(
        archive, "registry.k8s.io/pause:9.9", {"pause": (b"\x7fELF...", 0o755)}, {"Entrypoint": ["/pause"]}
    )

    with tarfile.open(archive) as tar:
        blobs = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.name.startswith("blobs/")}
        index = json.load(tar.extractfile("index.json"))
    for name, data in blobs.items():
        assert name == f"blobs/sha256/{hashlib.sha256(data).hexdigest()}"
    [entry] = index["manifests"]
    assert entry["annotations"]["io.containerd.image.name"] == "registry.k8s.io/pause:9.9"
    manifest = json.loads(blobs[f"blobs/{entry['digest'].replace(':', '/')}"])
    config = json.loads(blobs[f"blobs/{manifest['config']['digest'].replace(':', '/')}"])
    assert config["config"]["Entrypoint"] == ["/pause"]
    layer = gzip.decompress(blobs[f"blobs/{manifest['layers'][0]['digest'].replace(':', '/')}"])
    assert config["rootfs"]["diff_ids"] == [f"sha256:{hashlib.sha256(layer).hexdigest()}"]
    with tarfile.open(fileobj=io.BytesIO(layer)) as files:
        [pause] = files.getmembers()
        assert (pause.name, pause.mode, files.extractfile(pause).read()) == ("pause", 0o755, b"\x7fELF...")


def test_lock_refuses_while_another_clusters_real_node_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(realnode, "LOCK", tmp_path / "real-node.lock")
    other, mine = tmp_path / "other", tmp_path / "mine"
    realnode.acquire_lock(other, lambda state: True)

    with pytest.raises(realnode.NodeError, match=f"state {other}"):
        realnode.acquire_lock(mine, lambda state: state == other)
    assert realnode.LOCK.read_text().strip() == str(other)

    realnode.release_lock(mine)  # not its lock: left alone
    assert realnode.LOCK.exists()


def test_lock_of_a_node_that_no_longer_runs_is_taken_over_and_released(tmp_path, monkeypatch):
    monkeypatch.setattr(realnode, "LOCK", tmp_path / "real-node.lock")
    other, mine = tmp_path / "other", tmp_path / "mine"
    realnode.acquire_lock(other, lambda state: False)
    realnode.acquire_lock(mine, lambda state: False)
    assert realnode.LOCK.read_text().strip() == str(mine)
    realnode.release_lock(mine)
    assert not realnode.LOCK.exists()


def test_enabled_only_by_a_true_value():
    assert realnode.enabled({"HOMELAB_TESTCLUSTER_REAL_NODE": "1"})
    for value in ("", "0", "false", "no"):
        assert not realnode.enabled({"HOMELAB_TESTCLUSTER_REAL_NODE": value})
    assert not realnode.enabled({})
