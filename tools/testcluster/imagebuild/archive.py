"""OCI archives (`oci-archive` tars) of the built images: writing them and reading their index."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from . import steps

# ctr names an imported image after the index's annotations: containerd's own name first, then the
# OCI reference name when that is a full reference (a bare tag would need --base-name).
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


def export(image: str, path: Path, log_file: Path) -> dict:
    """Write `image` from buildah's storage to `path`, named `image` inside the archive."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    # oci-archive:PATH:REFERENCE splits at the first colon: the path must have none.
    if ":" in str(partial):
        raise ValueError(f"an OCI archive's path cannot contain ':' ({partial})")
    step = steps.run(f"export {image}", ["buildah", "push", image, f"oci-archive:{partial}:{image}"], log_file)
    partial.rename(path)
    return step


def index(path: Path) -> dict:
    """The archive's index.json."""
    with tarfile.open(path) as tar:
        try:
            return json.load(tar.extractfile("index.json"))
        except KeyError:
            raise ValueError(f"{path} has no index.json: not an OCI archive") from None


def names(index_json: dict) -> list[str]:
    """The image names the index gives its manifests (what `ctr images import` names them)."""
    found = []
    for manifest in index_json.get("manifests", []):
        annotations = manifest.get("annotations") or {}
        name = annotations.get(CONTAINERD_NAME) or annotations.get(REF_NAME)
        if name:
            found.append(name)
    return found


def check_named(path: Path, image: str) -> None:
    """Fail unless the archive names exactly one image, `image` in full (registry/repository:tag)."""
    found = names(index(path))
    if found != [image]:
        raise ValueError(f"{path} names {found or 'no image'}, expected [{image!r}]")


def config_digest(path: Path) -> str:
    """The digest of the image's config, which is buildah's image ID (without `sha256:`)."""
    with tarfile.open(path) as tar:
        manifest_digest = index(path)["manifests"][0]["digest"]
        manifest = json.load(tar.extractfile("blobs/" + manifest_digest.replace(":", "/")))
    return manifest["config"]["digest"].split(":", 1)[1]
