"""execution-environment.yml: ansible-builder makes a complete build context of it, with the collection as
built and the ranges of requirements.txt, which the drift image's lock is made from too."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
DEFINITION = yaml.safe_load((REPO / "execution-environment.yml").read_text())
VERSION = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
TARBALL = f"homelab-mlflow-{VERSION}.tar.gz"


def requirements(path: Path) -> dict[str, str]:
    """Name to specifier of each requirement line of a pip requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            found[requirement.name] = str(requirement.specifier)
    return found


def test_ansible_core_and_the_python_packages_are_requirements_txt_ranges():
    dependencies = DEFINITION["dependencies"]
    core = Requirement(dependencies["ansible_core"]["package_pip"])

    assert dependencies["python"] == "requirements.txt"
    assert str(core.specifier) == requirements(REPO / "requirements.txt")["ansible-core"]
    # The drift image installs requirements/runtime.txt, the lock of runtime.in: the same ranges.
    assert "-r ../requirements.txt" in (REPO / "requirements" / "runtime.in").read_text().splitlines()


def test_the_collection_file_is_the_one_galaxy_yml_builds():
    assert DEFINITION["dependencies"]["galaxy"]["collections"] == [{"name": f"collections/{TARBALL}", "type": "file"}]
    assert DEFINITION["additional_build_files"] == [{"src": f"dist/{TARBALL}", "dest": "collections"}]


def test_ansible_builder_writes_a_complete_build_context(tmp_path):
    bin_dir = Path(sys.executable).parent
    for name in ("execution-environment.yml", "requirements.txt"):
        shutil.copy(REPO / name, tmp_path / name)
    subprocess.run(
        [str(bin_dir / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path / "dist"), str(REPO)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    create = subprocess.run(
        [str(bin_dir / "ansible-builder"), "create", "--file", "execution-environment.yml", "--context", "context"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )

    assert create.returncode == 0, create.stdout + create.stderr
    build = tmp_path / "context" / "_build"
    containerfile = next((tmp_path / "context").glob("*file")).read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert f'ARG ANSIBLE_INSTALL_REFS="{DEFINITION["dependencies"]["ansible_core"]["package_pip"]}' in containerfile
    assert requirements(build / "requirements.txt") == requirements(REPO / "requirements.txt")
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": f"collections/{TARBALL}", "type": "file"}]
    with tarfile.open(build / "collections" / TARBALL) as collection:
        manifest = json.load(collection.extractfile("MANIFEST.json"))["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == ("homelab", "mlflow", VERSION)
    assert manifest["dependencies"] == yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"]
