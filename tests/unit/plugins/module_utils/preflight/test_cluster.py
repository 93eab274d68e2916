"""plugins/module_utils/preflight/cluster.py: kinds from the run's discovery, objects read once, connected lazily."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster


def test_kinds_come_from_the_discovery_without_a_connection():
    connected = []
    cluster = Cluster({"v1": {"Secret": {"name": "secrets", "namespaced": True}}}, lambda: connected.append(1))

    assert cluster.known
    assert cluster.serves("v1", "Secret")
    assert not cluster.serves("cilium.io/v2", "CiliumNetworkPolicy")
    assert connected == []
    assert cluster.requests == {}


def test_without_the_discovery_nothing_is_served():
    cluster = Cluster(None, lambda: None)

    assert not cluster.known
    assert not cluster.serves("v1", "Secret")


def test_an_object_is_read_once(kube, cluster_of):
    cluster = cluster_of()

    assert cluster.get("storage.k8s.io/v1", "StorageClass", "longhorn")["provisioner"] == "driver.longhorn.io"
    assert cluster.get("storage.k8s.io/v1", "StorageClass", "longhorn") is not None
    assert cluster.get("v1", "Secret", "missing", "ns") is None
    assert kube.sent == [
        ("GET", "/apis/storage.k8s.io/v1/storageclasses/longhorn"),
        ("GET", "/api/v1/namespaces/ns/secrets/missing"),
    ]
    assert cluster.requests == {"GET": 2}
    # What exists, as read, for the role's apply: not what was missing.
    assert [obj["provisioner"] for obj in cluster.objects()] == ["driver.longhorn.io"]


def test_the_namespace_is_read_by_its_core_path_even_without_the_discovery(kube):
    kube.add("/api/v1/namespaces/ns", {"metadata": {"name": "ns"}, "status": {"phase": "Active"}})

    assert Cluster(None, lambda: kube).namespace("ns")["status"]["phase"] == "Active"


def test_a_list_passes_its_label_selector(kube, cluster_of):
    seen = []
    original = kube.list

    def list_(path, **params):
        seen.append((path, params))
        return original(path, **params)

    kube.list = list_
    cluster_of().list("discovery.k8s.io/v1", "EndpointSlice", "default", labels="a=b")

    assert seen == [("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {"label_selector": "a=b"})]
