"""Stand-in for Longhorn's CSI provisioner: gives every pending `longhorn` PVC a bound volume.

Real Longhorn provisions a replicated block device; here only the API side is done, as the CSI
external-provisioner would: a PersistentVolume of driver.longhorn.io pre-bound to the claim
(the real PV controller in kube-controller-manager completes the binding), the volume deleted
once its claim is gone and the reclaim policy says Delete, and a bound claim whose request grew
expanded the way Longhorn expands online, when its StorageClass allows expansion: the CSI
external-resizer's part (the volume's capacity follows the request) and the kubelet's (the
claim's status.capacity follows the volume). Where the class does not allow it, the API server
itself refuses the larger request.
"""

from __future__ import annotations

import logging
import threading

from _base import connect, reconcile_forever
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

DRIVER = "driver.longhorn.io"
log = logging.getLogger("longhorn-provisioner-standin")


class Provisioner:
    def __init__(self, api: client.ApiClient):
        self.core = client.CoreV1Api(api)
        self.storage = client.StorageV1Api(api)
        # A claim sees several events before it is bound, a volume several before it is gone:
        # remember what was done so each write is sent once.
        self.provisioned: set[str] = set()
        self.deleted: set[str] = set()

    def _class(self, name: str | None):
        if not name:
            return None
        try:
            storage_class = self.storage.read_storage_class(name)
        except ApiException as err:
            if err.status == 404:
                return None
            raise
        return storage_class if storage_class.provisioner == DRIVER else None

    def on_claim(self, event: str, claim: dict) -> None:
        meta, spec = claim["metadata"], claim.get("spec", {})
        phase = claim.get("status", {}).get("phase")
        if event != "DELETED" and phase == "Bound":
            self.expand(claim)
        if event == "DELETED" or phase != "Pending" or spec.get("volumeName"):
            return
        name = f"pvc-{meta['uid']}"
        if name in self.provisioned:
            return
        storage_class = self._class(spec.get("storageClassName"))
        if storage_class is None:
            return
        volume = client.V1PersistentVolume(
            metadata=client.V1ObjectMeta(name=name, annotations={"pv.kubernetes.io/provisioned-by": DRIVER}),
            spec=client.V1PersistentVolumeSpec(
                capacity={"storage": spec["resources"]["requests"]["storage"]},
                access_modes=spec.get("accessModes", ["ReadWriteOnce"]),
                volume_mode=spec.get("volumeMode", "Filesystem"),
                storage_class_name=storage_class.metadata.name,
                persistent_volume_reclaim_policy=storage_class.reclaim_policy or "Delete",
                claim_ref=client.V1ObjectReference(
                    kind="PersistentVolumeClaim",
                    namespace=meta["namespace"],
                    name=meta["name"],
                    uid=meta["uid"],
                    api_version="v1",
                ),
                csi=client.V1CSIPersistentVolumeSource(
                    driver=DRIVER, volume_handle=name, fs_type=(storage_class.parameters or {}).get("fsType")
                ),
            ),
        )
        try:
            self.core.create_persistent_volume(volume)
            log.info("provisioned %s for %s/%s", name, meta["namespace"], meta["name"])
        except ApiException as err:
            if err.status != 409:  # already provisioned: nothing to do
                raise
        self.provisioned.add(name)

    def expand(self, claim: dict) -> None:
        """Grow the volume and the claim's capacity to a larger request, as Longhorn does online."""
        meta, spec, status = claim["metadata"], claim.get("spec", {}), claim.get("status", {})
        requested = spec.get("resources", {}).get("requests", {}).get("storage")
        capacity = status.get("capacity", {}).get("storage")
        if not requested or not capacity or parse_quantity(requested) <= parse_quantity(capacity):
            return
        storage_class = self._class(spec.get("storageClassName"))
        if storage_class is None or not storage_class.allow_volume_expansion:
            return
        volume = spec.get("volumeName")
        if volume:
            self.core.patch_persistent_volume(volume, {"spec": {"capacity": {"storage": requested}}})
        self.core.patch_namespaced_persistent_volume_claim_status(
            meta["name"], meta["namespace"], {"status": {"capacity": {"storage": requested}}}
        )
        log.info("expanded %s/%s from %s to %s", meta["namespace"], meta["name"], capacity, requested)

    def on_volume(self, event: str, volume: dict) -> None:
        meta, spec = volume["metadata"], volume.get("spec", {})
        released = volume.get("status", {}).get("phase") == "Released"
        ours = meta.get("annotations", {}).get("pv.kubernetes.io/provisioned-by") == DRIVER
        reclaim = spec.get("persistentVolumeReclaimPolicy") == "Delete"
        if event != "DELETED" and released and ours and reclaim and meta["name"] not in self.deleted:
            self.core.delete_persistent_volume(meta["name"])
            self.deleted.add(meta["name"])
            log.info("deleted released volume %s", meta["name"])


def main() -> None:
    provisioner = Provisioner(connect(__doc__))

    threading.Thread(
        target=reconcile_forever,
        args=("volumes", provisioner.core.list_persistent_volume, provisioner.on_volume),
        daemon=True,
    ).start()
    reconcile_forever("claims", provisioner.core.list_persistent_volume_claim_for_all_namespaces, provisioner.on_claim)


if __name__ == "__main__":
    main()
