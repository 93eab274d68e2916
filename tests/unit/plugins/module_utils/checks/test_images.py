"""plugins/module_utils/checks/images.py: repositories, pinned images and digests."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import images

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("value", "expected"), [(DIGEST, True), (DIGEST[:-1], False), (DIGEST.upper(), False), (DIGEST[7:], False)]
)
def test_is_digest(value, expected):
    assert images.is_digest(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("docker.io/burakince/mlflow", True),
        ("registry.example.com:5000/team/mlflow", True),
        ("mlflow", True),
        ("docker.io/burakince/mlflow:3.17.2", False),
        ("mlflow@" + DIGEST, False),
        ("Docker.io/MLflow", False),
    ],
)
def test_is_repository(value, expected):
    assert images.is_repository(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("registry.example.com/drift:0.1.0", True),
        ("registry.example.com:5000/drift@" + DIGEST, True),
        ("registry.example.com/drift:latest", False),
        ("registry.example.com/drift:latest@" + DIGEST, False),
        ("registry.example.com:5000/drift", False),
        ("drift", False),
        ("a b:1", False),
    ],
)
def test_is_pinned(value, expected):
    assert images.is_pinned(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ghcr.io/cloudnative-pg/postgresql:17.6", True),
        ("ghcr.io/cloudnative-pg/postgresql:17.6@" + DIGEST, True),
        ("ghcr.io/cloudnative-pg/postgresql:latest", False),
        ("ghcr.io/cloudnative-pg/postgresql", False),
    ],
)
def test_is_version_tagged(value, expected):
    assert images.is_version_tagged(value) is expected
