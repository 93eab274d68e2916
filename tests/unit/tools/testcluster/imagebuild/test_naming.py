"""The images are named as the roles deploy them by default, read from the roles' defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from imagebuild import naming

REPO = Path(__file__).resolve().parents[5]


@pytest.fixture
def repo(tmp_path) -> Path:
    for role in ("mlflow", "drift_cronjob"):
        (tmp_path / "roles" / role / "defaults").mkdir(parents=True)
    (tmp_path / "galaxy.yml").write_text("namespace: homelab\nname: mlflow\nversion: 1.4.0\n")
    return tmp_path


def _write_defaults(repo: Path, role: str, values: dict) -> None:
    (repo / "roles" / role / "defaults" / "main.yml").write_text(yaml.safe_dump(values))


def test_mlflow_is_named_image_colon_version(repo):
    _write_defaults(repo, "mlflow", {"mlflow_image": "registry.example.com/team/mlflow", "mlflow_version": "3.20.0"})
    assert naming.mlflow_image(repo) == ("registry.example.com/team/mlflow:3.20.0", "3.20.0")


def test_drift_takes_the_roles_default_image_when_it_names_one(repo):
    _write_defaults(repo, "drift_cronjob", {"drift_cronjob_image": "registry.example.com/drift:2.0.0"})
    assert naming.drift_image(repo) == "registry.example.com/drift:2.0.0"


def test_drift_without_a_default_image_is_the_local_build_of_the_collection_release(repo):
    _write_defaults(repo, "drift_cronjob", {"drift_cronjob_image": ""})
    assert naming.drift_image(repo) == "localhost/homelab-mlflow-drift:1.4.0"


def test_the_names_follow_this_checkouts_defaults():
    defaults = yaml.safe_load((REPO / "roles" / "mlflow" / "defaults" / "main.yml").read_text())
    assert naming.mlflow_image(REPO)[0] == f"{defaults['mlflow_image']}:{defaults['mlflow_version']}"
