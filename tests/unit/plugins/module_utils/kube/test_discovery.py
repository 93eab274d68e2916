"""plugins/module_utils/kube/discovery.py: the cluster's kinds from aggregated or legacy discovery."""

from __future__ import annotations

import importlib

import pytest

PACKAGE = "ansible_collections.homelab.mlflow.plugins.module_utils.kube"
client = importlib.import_module(f"{PACKAGE}.client")
discovery = importlib.import_module(f"{PACKAGE}.discovery")

AGGREGATED_CORE = {
    "kind": "APIGroupDiscoveryList",
    "items": [
        {
            "metadata": {"name": ""},
            "versions": [
                {
                    "version": "v1",
                    "resources": [
                        {"resource": "namespaces", "responseKind": {"kind": "Namespace"}, "scope": "Cluster"},
                        {"resource": "secrets", "responseKind": {"kind": "Secret"}, "scope": "Namespaced"},
                    ],
                }
            ],
        }
    ],
}
AGGREGATED_GROUPS = {
    "kind": "APIGroupDiscoveryList",
    "items": [
        {
            "metadata": {"name": "postgresql.cnpg.io"},
            "versions": [
                {
                    "version": "v1",
                    "resources": [{"resource": "clusters", "responseKind": {"kind": "Cluster"}, "scope": "Namespaced"}],
                }
            ],
        }
    ],
}


class Answers(client.Kube):
    def __init__(self, answers):
        super().__init__(dynamic=None)
        self.answers = answers
        self.paths = []

    def request(self, method, path, body=None, content_type=None, accept=None, **params):
        self.paths.append(path)
        return self.answers[path]


def test_aggregated_discovery_reads_every_kind_in_two_requests():
    kube = Answers({"/api": AGGREGATED_CORE, "/apis": AGGREGATED_GROUPS})
    apis = discovery.discover(kube)
    assert kube.paths == ["/api", "/apis"]
    assert apis["v1"]["Namespace"]["namespaced"] is False
    assert apis["postgresql.cnpg.io/v1"]["Cluster"] == {
        "name": "clusters",
        "namespaced": True,
        "preferred": True,
        "singular_name": "",
        "short_names": [],
        "categories": [],
    }


def test_an_older_server_is_read_group_by_group():
    kube = Answers(
        {
            "/api": {"kind": "APIVersions", "versions": ["v1"]},
            "/api/v1": {
                "resources": [{"name": "pods", "kind": "Pod", "namespaced": True}, {"name": "pods/log", "kind": "Pod"}]
            },
            "/apis": {
                "groups": [{"preferredVersion": {"groupVersion": "apps/v1"}, "versions": [{"groupVersion": "apps/v1"}]}]
            },
            "/apis/apps/v1": {"resources": [{"name": "deployments", "kind": "Deployment", "namespaced": True}]},
        }
    )
    apis = discovery.discover(kube)
    assert apis["v1"]["Pod"]["name"] == "pods"
    assert apis["apps/v1"]["Deployment"]["preferred"] is True


def test_paths_follow_group_scope_and_name():
    resources = discovery.Resources(discovery.discover(Answers({"/api": AGGREGATED_CORE, "/apis": AGGREGATED_GROUPS})))
    assert resources.get("v1", "Secret").path("ns", "db") == "/api/v1/namespaces/ns/secrets/db"
    assert resources.get("v1", "Namespace").path("ignored", "ns") == "/api/v1/namespaces/ns"
    assert (
        resources.get("postgresql.cnpg.io/v1", "Cluster").path("ns")
        == "/apis/postgresql.cnpg.io/v1/namespaces/ns/clusters"
    )
    assert resources.api_version_of("Cluster") == "postgresql.cnpg.io/v1"


def test_a_kind_the_cluster_does_not_serve_says_so():
    resources = discovery.Resources({"v1": {}})
    assert not resources.serves("gateway.networking.k8s.io/v1", "HTTPRoute")
    with pytest.raises(discovery.UnknownKind, match=r"does not serve HTTPRoute of gateway\.networking\.k8s\.io/v1"):
        resources.get("gateway.networking.k8s.io/v1", "HTTPRoute")
    with pytest.raises(discovery.UnknownKind, match="Cannot tell which API serves HTTPRoute"):
        resources.api_version_of("HTTPRoute")
