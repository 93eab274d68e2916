"""The local volume the Longhorn stand-in makes for a claim, and which directories it may remove."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client
from longhorn_provisioner import directory_of, volume_body

CLAIM = {
    "metadata": {"name": "data", "namespace": "ml", "uid": "c-1"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
}


def storage_class(reclaim: str | None) -> client.V1StorageClass:
    return client.V1StorageClass(
        metadata=client.V1ObjectMeta(name="longhorn"), provisioner="driver.longhorn.io", reclaim_policy=reclaim
    )


def test_a_local_volume_at_the_directory_pre_bound_to_the_claim_with_its_capacity():
    volume = volume_body("pvc-c-1", CLAIM, storage_class("Retain"), Path("/state/volumes/pvc-c-1"))
    spec = volume["spec"]

    assert spec["local"] == {"path": "/state/volumes/pvc-c-1"}
    assert spec["capacity"] == {"storage": "5Gi"}
    assert spec["accessModes"] == ["ReadWriteOnce"]
    assert spec["volumeMode"] == "Filesystem"
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert (spec["claimRef"]["namespace"], spec["claimRef"]["name"], spec["claimRef"]["uid"]) == ("ml", "data", "c-1")
    assert volume["metadata"]["annotations"] == {"pv.kubernetes.io/provisioned-by": "driver.longhorn.io"}


def test_every_linux_node_may_mount_the_volume():
    spec = volume_body("pvc-c-1", CLAIM, storage_class(None), Path("/v/pvc-c-1"))["spec"]

    assert spec["nodeAffinity"] == {
        "required": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}
            ]
        }
    }
    assert spec["persistentVolumeReclaimPolicy"] == "Delete"  # the class's default


def test_only_directories_directly_under_the_volumes_directory_are_ours():
    volumes = Path("/state/volumes")

    assert directory_of({"spec": {"local": {"path": "/state/volumes/pvc-1"}}}, volumes) == volumes / "pvc-1"
    assert directory_of({"spec": {"local": {"path": "/etc"}}}, volumes) is None
    assert directory_of({"spec": {"local": {"path": "/state/volumes/a/b"}}}, volumes) is None
    assert directory_of({"spec": {"csi": {"driver": "driver.longhorn.io"}}}, volumes) is None
