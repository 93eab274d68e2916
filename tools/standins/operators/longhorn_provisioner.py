"""Stand-in for Longhorn's provisioner: gives every pending claim of a `driver.longhorn.io` class a bound volume.

Real Longhorn provisions a replicated block device; here each volume is a host directory, as with a
local-path provisioner: `<volumes-dir>/<volume name>` (`--volumes-dir`; by default
`<temporary directory>/homelab-testcluster-volumes`) and a `local` PersistentVolume of that path,
pre-bound to the claim with its capacity (the real PV controller in kube-controller-manager
completes the binding). The volume's node affinity matches every Linux node, since a Longhorn volume
attaches to any node; a kubelet mounts the directory and applies the pod's fsGroup (the local
volume plugin does). Once the claim is gone and the reclaim policy says Delete, the volume and its
directory are deleted; with Retain both stay. A bound claim whose request grew is expanded the way
Longhorn expands online, when its StorageClass allows expansion: the external-resizer's part (the
volume's capacity follows the request) and the kubelet's (the claim's status.capacity follows the
volume); a directory has no size to grow. Where the class does not allow it, the API server itself
refuses the larger request.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import threading
from pathlib import Path

from _base import reconcile_forever, start
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

DRIVER = "driver.longhorn.io"
DEFAULT_VOLUMES_DIR = Path(tempfile.gettempdir()) / "homelab-testcluster-volumes"
# Every node may mount the volume, as every node may attach a Longhorn volume.
ANY_NODE = {"kubernetes.io/os": "linux"}
log = logging.getLogger("longhorn-provisioner-standin")


def volume_body(name: str, claim: dict, storage_class: client.V1StorageClass, path: Path) -> dict:
    """A `local` PersistentVolume at `path`, pre-bound to the claim, with the claim's capacity and modes."""
    meta, spec = claim["metadata"], claim.get("spec", {})
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": DRIVER}},
        "spec": {
            "capacity": {"storage": spec["resources"]["requests"]["storage"]},
            "accessModes": spec.get("accessModes", ["ReadWriteOnce"]),
            "volumeMode": spec.get("volumeMode", "Filesystem"),
            "storageClassName": storage_class.metadata.name,
            "persistentVolumeReclaimPolicy": storage_class.reclaim_policy or "Delete",
            "claimRef": {
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
                "apiVersion": "v1",
            },
            "local": {"path": str(path)},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": key, "operator": "In", "values": [value]} for key, value in ANY_NODE.items()
                            ]
                        }
                    ]
                }
            },
        },
    }


def directory_of(volume: dict, volumes_dir: Path) -> Path | None:
    """The volume's directory when it is one of ours (under volumes_dir), else None."""
    path = ((volume.get("spec") or {}).get("local") or {}).get("path")
    if not path or Path(path).parent != volumes_dir:
        return None
    return Path(path)


class Provisioner:
    def __init__(self, api: client.ApiClient, volumes_dir: Path):
        self.volumes_dir = volumes_dir
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
        path = self.volumes_dir / name
        # Open to all, as local-path provisioners make them: the pod's fsGroup narrows it.
        path.mkdir(mode=0o777, parents=True, exist_ok=True)
        path.chmod(0o777)
        try:
            self.core.create_persistent_volume(volume_body(name, claim, storage_class, path))
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
            directory = directory_of(volume, self.volumes_dir)
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
            self.deleted.add(meta["name"])
            log.info("deleted released volume %s and its directory", meta["name"])


def volumes_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--volumes-dir",
        type=Path,
        default=DEFAULT_VOLUMES_DIR,
        help=f"where the volumes' directories are made (default: {DEFAULT_VOLUMES_DIR})",
    )


def main() -> None:
    api, args = start(__doc__, volumes_argument)
    args.volumes_dir.mkdir(parents=True, exist_ok=True)
    provisioner = Provisioner(api, args.volumes_dir.resolve())

    threading.Thread(
        target=reconcile_forever,
        args=("volumes", provisioner.core.list_persistent_volume, provisioner.on_volume),
        daemon=True,
    ).start()
    reconcile_forever("claims", provisioner.core.list_persistent_volume_claim_for_all_namespaces, provisioner.on_claim)


if __name__ == "__main__":
    main()
