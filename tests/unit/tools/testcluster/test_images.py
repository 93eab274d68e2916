"""images.py: the names the images get, and what their cache keys cover (no build runs here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from imagebuild import base, cachekey, steps

import images

REPO = Path(__file__).resolve().parents[4]
BASE_META = {"key": "k" * 64, "packages": "python3\t3.11.2-1+b1\n"}


@pytest.fixture(autouse=True)
def _fixed_tool_versions(monkeypatch):
    monkeypatch.setattr(steps, "output", lambda argv: f"{argv[0]} version 1.0")


def test_each_image_has_its_full_name():
    mlflow_defaults = yaml.safe_load((REPO / "roles" / "mlflow" / "defaults" / "main.yml").read_text())
    assert images.image_name("base") == "docker.io/library/python:3.11-slim" == base.NAME
    assert images.image_name("mlflow") == f"{mlflow_defaults['mlflow_image']}:{mlflow_defaults['mlflow_version']}"
    assert images.image_name("drift").split("/")[-1].startswith("homelab-mlflow-drift:")


def test_an_unknown_image_fails_before_anything_is_built(monkeypatch, tmp_path):
    monkeypatch.setenv("HOMELAB_MLFLOW_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match="unknown image 'mlfow'; known: base, mlflow, drift"):
        images.ensure(["base", "mlfow"])
    assert not (tmp_path / "images").exists()


def test_the_cli_names_an_unknown_image(capsys):
    with pytest.raises(SystemExit):
        images.main(["build", "mlfow"])
    assert "unknown image mlfow; known: base, mlflow, drift" in capsys.readouterr().err


def test_the_mlflow_image_is_built_with_the_roles_mlflow_version_on_python_3_11():
    inputs, files = images.containerfile_inputs("mlflow", BASE_META)
    version = yaml.safe_load((REPO / "roles" / "mlflow" / "defaults" / "main.yml").read_text())["mlflow_version"]
    assert inputs["build_args"] == {"PYTHON_VERSION": "3.11", "MLFLOW_VERSION": str(version)}
    assert inputs["context"] == "images/mlflow"
    assert files == []


def test_the_drift_image_is_built_from_the_repository_with_the_locked_requirements():
    inputs, files = images.containerfile_inputs("drift", BASE_META)
    assert inputs["context"] == "."
    relative = {path.relative_to(REPO).as_posix() for path in files}
    assert {"requirements/runtime.txt", "galaxy.yml", "plugins/action/k8s_apply.py"} <= relative


@pytest.mark.parametrize("name", ["mlflow", "drift"])
def test_a_new_base_package_set_changes_the_key(name):
    def key(base_meta):
        inputs, files = images.containerfile_inputs(name, base_meta)
        return cachekey.key(inputs, files, REPO / inputs["context"])

    updated = {**BASE_META, "packages": "python3\t3.11.2-1+b2\n"}
    assert key(BASE_META) == key(dict(BASE_META))
    assert key(BASE_META) != key(updated)
