"""OCI image archives written without a container tool: what `ctr images import` reads (the test
cluster's sandbox image is one)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path


def _tar_member(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    tar.addfile(info, io.BytesIO(data))


def _blob(tar: tarfile.TarFile, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    _tar_member(tar, f"blobs/sha256/{digest}", data)
    return f"sha256:{digest}", len(data)


def write(archive: Path, reference: str, files: dict[str, tuple[bytes, int]], config: dict) -> None:
    """A one-layer OCI image layout in a tar (what `ctr images import` reads), named `reference`.

    files: path in the image -> (content, mode); config: the image config's `config` part.
    """
    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w", format=tarfile.PAX_FORMAT) as layer:
        for path, (data, mode) in sorted(files.items()):
            _tar_member(layer, path, data, mode)
    layer_tar = layer_buffer.getvalue()
    layer_gz = gzip.compress(layer_tar, mtime=0)
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer_tar).hexdigest()}"]},
    }
    with tarfile.open(archive, mode="w") as tar:
        layer_digest, layer_size = _blob(tar, layer_gz)
        config_digest, config_size = _blob(tar, json.dumps(image_config, sort_keys=True).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config_size,
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size}
            ],
        }
        manifest_digest, manifest_size = _blob(tar, json.dumps(manifest, sort_keys=True).encode())
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": manifest_digest,
                    "size": manifest_size,
                    "platform": {"architecture": "amd64", "os": "linux"},
                    "annotations": {
                        "io.containerd.image.name": reference,
                        "org.opencontainers.image.ref.name": reference,
                    },
                }
            ],
        }
        _tar_member(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        _tar_member(tar, "index.json", json.dumps(index, sort_keys=True).encode())
