"""Reading an OCI archive's index: the name ctr imports the image under, and its config digest."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from imagebuild import archive

CONFIG = "sha256:" + "c" * 64
MANIFEST = {"schemaVersion": 2, "config": {"digest": CONFIG, "size": 2}, "layers": []}


def _write_archive(path, annotations):
    manifest = json.dumps(MANIFEST).encode()
    manifest_digest = "sha256:" + "m" * 64
    index = {"schemaVersion": 2, "manifests": [{"digest": manifest_digest, "size": len(manifest)}]}
    if annotations is not None:
        index["manifests"][0]["annotations"] = annotations
    with tarfile.open(path, "w") as tar:
        for name, data in (("index.json", json.dumps(index).encode()), ("blobs/sha256/" + "m" * 64, manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_the_reference_name_annotation_names_the_image(tmp_path):
    path = _write_archive(tmp_path / "a.tar", {archive.REF_NAME: "docker.io/library/python:3.11-slim"})
    assert archive.names(archive.index(path)) == ["docker.io/library/python:3.11-slim"]
    archive.check_named(path, "docker.io/library/python:3.11-slim")


def test_containerds_own_annotation_comes_first(tmp_path):
    annotations = {archive.REF_NAME: "3.11-slim", archive.CONTAINERD_NAME: "docker.io/library/python:3.11-slim"}
    path = _write_archive(tmp_path / "a.tar", annotations)
    archive.check_named(path, "docker.io/library/python:3.11-slim")


@pytest.mark.parametrize(
    "annotations",
    [None, {}, {archive.REF_NAME: "3.11-slim"}, {archive.REF_NAME: "docker.io/library/python:3.12-slim"}],
)
def test_an_archive_without_the_full_name_fails_the_check(tmp_path, annotations):
    path = _write_archive(tmp_path / "a.tar", annotations)
    with pytest.raises(ValueError, match="expected"):
        archive.check_named(path, "docker.io/library/python:3.11-slim")


def test_a_tar_without_index_is_no_oci_archive(tmp_path):
    with tarfile.open(tmp_path / "a.tar", "w"):
        pass
    with pytest.raises(ValueError, match="not an OCI archive"):
        archive.index(tmp_path / "a.tar")


def test_config_digest_is_the_image_id(tmp_path):
    path = _write_archive(tmp_path / "a.tar", {archive.REF_NAME: "x/y:z"})
    assert archive.config_digest(path) == "c" * 64
