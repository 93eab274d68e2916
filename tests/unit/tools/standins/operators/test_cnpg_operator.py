"""Where the CloudNativePG stand-in puts instance pods, and its Services with and without real servers."""

from __future__ import annotations

from cnpg_operator import KWOK_NODE_EXPRESSION, KWOK_TOLERATION, instance_pod, on_kwok_nodes, services

LINUX = {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}
SSD = {"key": "disk", "operator": "In", "values": ["ssd"]}


def cluster(**spec) -> dict:
    return {"metadata": {"name": "pg", "namespace": "db", "uid": "u-1"}, "spec": {"instances": 2, **spec}}


def test_without_node_affinity_the_pods_require_a_kwok_node():
    assert on_kwok_nodes({}) == {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [KWOK_NODE_EXPRESSION]}]
        }
    }


def test_each_required_term_of_the_cluster_also_asks_for_a_kwok_node_and_preferences_stay():
    preferred = [{"weight": 10, "preference": {"matchExpressions": [SSD]}}]
    theirs = {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [LINUX]}, {"matchFields": [{"key": "metadata.name"}]}]
        },
        "preferredDuringSchedulingIgnoredDuringExecution": preferred,
    }

    merged = on_kwok_nodes(theirs)

    terms = merged["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"] == [LINUX, KWOK_NODE_EXPRESSION]
    assert terms[1] == {"matchFields": [{"key": "metadata.name"}], "matchExpressions": [KWOK_NODE_EXPRESSION]}
    assert merged["preferredDuringSchedulingIgnoredDuringExecution"] == preferred
    assert theirs["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"] == [
        LINUX
    ]


def test_an_instance_tolerates_the_kwok_taint_besides_the_clusters_tolerations():
    theirs = {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}

    pod = instance_pod(cluster(affinity={"tolerations": [theirs]}), 1)

    assert pod["spec"]["tolerations"] == [theirs, KWOK_TOLERATION]
    assert KWOK_TOLERATION == {
        "key": "kwok.x-k8s.io/node",
        "operator": "Equal",
        "value": "fake",
        "effect": "NoSchedule",
    }


def test_the_operators_anti_affinity_by_the_configured_key_is_kept_with_the_node_affinity():
    affinity = {"podAntiAffinityType": "required", "topologyKey": "topology.kubernetes.io/zone"}

    pod_affinity = instance_pod(cluster(affinity=affinity), 2)["spec"]["affinity"]

    [term] = pod_affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "topology.kubernetes.io/zone"
    required = pod_affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required["nodeSelectorTerms"] == [{"matchExpressions": [KWOK_NODE_EXPRESSION]}]


def test_services_select_instances_unless_real_servers_stand_behind_them():
    selected = {s["metadata"]["name"]: s["spec"].get("selector") for s in services(cluster())}
    bare = {s["metadata"]["name"]: s["spec"].get("selector") for s in services(cluster(), selector=False)}

    assert selected == {
        "pg-rw": {"cnpg.io/cluster": "pg", "cnpg.io/instanceRole": "primary"},
        "pg-ro": {"cnpg.io/cluster": "pg", "cnpg.io/instanceRole": "replica"},
        "pg-r": {"cnpg.io/cluster": "pg", "cnpg.io/podRole": "instance"},
    }
    assert bare == {"pg-rw": None, "pg-ro": None, "pg-r": None}
