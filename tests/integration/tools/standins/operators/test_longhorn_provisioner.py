"""The Longhorn stand-in (tools/standins/operators/longhorn_provisioner.py) on the test cluster.

A pending `longhorn` claim gets a `local` PersistentVolume whose directory exists under the test
cluster's `volumes` directory, pre-bound to it with the claim's capacity and a node affinity every
node matches; a larger request expands it; deleting the claim (reclaim policy Delete) deletes the
volume and its directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_runs import eventually
from kube_namespaces import exists, restricted_namespace


@pytest.fixture
def namespace(k8s):
    with restricted_namespace(k8s, "longhorn-standin") as name:
        yield name


def create_claim(core, namespace: str, size: str = "1Gi") -> None:
    body = {
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "longhorn",
            "resources": {"requests": {"storage": size}},
        },
    }
    core.create_namespaced_persistent_volume_claim(namespace, body)


def bound_volume(core, namespace: str):
    def bound():
        claim = core.read_namespaced_persistent_volume_claim("data", namespace)
        return claim if claim.status.phase == "Bound" else None

    return core.read_persistent_volume(eventually(bound, what="claim data bound").spec.volume_name)


def test_a_claim_gets_a_local_volume_in_a_directory_of_its_own(core, namespace, testcluster):
    create_claim(core, namespace)
    volume = bound_volume(core, namespace)

    directory = Path(volume.spec.local.path)
    assert directory.parent == (testcluster.state / "volumes").resolve()
    assert directory.is_dir()
    assert volume.spec.capacity == {"storage": "1Gi"}
    assert volume.spec.persistent_volume_reclaim_policy == "Delete"
    assert (volume.spec.claim_ref.namespace, volume.spec.claim_ref.name) == (namespace, "data")
    [term] = volume.spec.node_affinity.required.node_selector_terms
    assert [(e.key, e.operator, e.values) for e in term.match_expressions] == [("kubernetes.io/os", "In", ["linux"])]
    # Every node may mount it, as every node may attach a Longhorn volume.
    assert all(node.metadata.labels["kubernetes.io/os"] == "linux" for node in core.list_node().items)


def test_a_larger_request_expands_the_volume_and_the_claim(core, namespace):
    create_claim(core, namespace)
    volume = bound_volume(core, namespace)

    core.patch_namespaced_persistent_volume_claim(
        "data", namespace, {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}
    )

    def expanded():
        claim = core.read_namespaced_persistent_volume_claim("data", namespace)
        return claim.status.capacity == {"storage": "2Gi"}

    eventually(expanded, what="claim data at 2Gi")
    assert core.read_persistent_volume(volume.metadata.name).spec.capacity == {"storage": "2Gi"}


def test_deleting_the_claim_deletes_the_volume_and_its_directory(core, namespace):
    create_claim(core, namespace)
    volume = bound_volume(core, namespace)
    directory = Path(volume.spec.local.path)
    assert directory.is_dir()

    core.delete_namespaced_persistent_volume_claim("data", namespace)

    eventually(lambda: not exists(core.read_persistent_volume, volume.metadata.name), what="volume deleted")
    eventually(lambda: not directory.exists(), what="its directory removed")
