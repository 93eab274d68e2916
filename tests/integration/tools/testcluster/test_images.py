"""The test cluster's images, built here from Debian packages and the collection's Containerfiles:
each archive names its image in full, carries the user, entry point and command its Containerfile
says, and runs what the pods run. The first run on a machine builds them (minutes); later runs
find them in the cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from imagebuild import archive, probe, steps

import images

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="session")
def archives() -> dict[str, Path]:
    steps.require_tools("skopeo")  # the checks below read the archives with it
    return images.ensure()


def _containerfile_config(name: str) -> dict:
    """USER, ENTRYPOINT and CMD as the Containerfile's last such instructions say (JSON forms)."""
    config = {}
    lines = (REPO / "images" / name / "Containerfile").read_text().splitlines()
    for keyword, value in (line.split(" ", 1) for line in lines if " " in line):
        if keyword == "USER":
            config["User"] = value.strip()
        elif keyword in ("ENTRYPOINT", "CMD"):
            config[keyword.title()] = json.loads(value)
    return config


def _skopeo_config(path: Path) -> dict:
    result = subprocess.run(
        ["skopeo", "inspect", "--config", f"oci-archive:{path}"], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout)["config"]


def _run(path: Path, *argv: str) -> subprocess.CompletedProcess:
    with probe.container(f"oci-archive:{path}") as container:
        return probe.run(container, list(argv))


@pytest.mark.parametrize("name", images.NAMES)
def test_each_archive_names_its_image_in_full(archives, name):
    archive.check_named(archives[name], images.image_name(name))
    result = subprocess.run(
        ["skopeo", "inspect", f"oci-archive:{archives[name]}"], check=True, capture_output=True, text=True
    )
    assert json.loads(result.stdout)["Os"] == "linux"


def _mlflow_defaults() -> dict:
    return yaml.safe_load((REPO / "roles" / "mlflow" / "defaults" / "main.yml").read_text())


def test_the_mlflow_image_is_named_after_the_roles_defaults(archives):
    defaults = _mlflow_defaults()
    assert archive.names(archive.index(archives["mlflow"])) == [
        f"{defaults['mlflow_image']}:{defaults['mlflow_version']}"
    ]


@pytest.mark.parametrize("name", ["mlflow", "drift"])
def test_user_entrypoint_and_command_are_the_containerfiles(archives, name):
    config = _skopeo_config(archives[name])
    expected = _containerfile_config(name)
    assert config.get("User") == expected["User"] == "10001:10001"
    assert config.get("Entrypoint") == expected.get("Entrypoint")
    assert config.get("Cmd") == expected["Cmd"]


def test_the_mlflow_image_runs_mlflow_with_the_postgresql_driver_as_10001(archives):
    version = str(_mlflow_defaults()["mlflow_version"])
    result = _run(archives["mlflow"], "mlflow", "--version")
    assert result.returncode == 0, result.stderr
    assert version in result.stdout
    result = _run(
        archives["mlflow"],
        "sh",
        "-c",
        "python -c 'import psycopg2' && id -u && stat -c %u:%g /mlflow/artifacts",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["10001", "10001:10001"]


def test_the_drift_image_runs_its_entry_point(archives):
    result = _run(archives["drift"], "homelab-mlflow-drift", "--help")
    assert result.returncode == 0, result.stderr
    assert "detect" in result.stdout


def test_the_base_offers_what_the_containerfiles_use_from_the_official_image(archives):
    script = (
        "import os, shutil, sysconfig, venv, http.server;"
        "print(os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')));"
        "print(*(bool(shutil.which(c)) for c in ('python', 'pip', 'groupadd', 'useradd', 'sh')))"
    )
    result = _run(archives["base"], "python", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "True"]
    assert _skopeo_config(archives["base"])["Cmd"] == ["python3"]


def test_a_second_ensure_builds_nothing(archives):
    before = {name: path.stat().st_mtime_ns for name, path in archives.items()}
    again = images.ensure()
    assert again == archives
    assert {name: path.stat().st_mtime_ns for name, path in again.items()} == before


def _node_binaries() -> tuple[Path, Path] | None:
    """containerd and ctr: on PATH, or as the test cluster's node build caches them."""
    found = [shutil.which("containerd"), shutil.which("ctr")]
    if all(found):
        return Path(found[0]), Path(found[1])
    cache = images.cachekey.cache_root().parent / "testcluster"
    for bin_dir in sorted(cache.glob("node-*/bin"), reverse=True):
        if (bin_dir / "containerd").is_file() and (bin_dir / "ctr").is_file():
            return bin_dir / "containerd", bin_dir / "ctr"
    return None


@pytest.fixture
def containerd(tmp_path):
    """A throw-away containerd (own root, state and socket), stopped after the test."""
    binaries = _node_binaries()
    if binaries is None:
        pytest.skip("no containerd and ctr here (the test cluster's node build brings them)")
    daemon, ctr = binaries
    socket = tmp_path / "containerd.sock"
    config = tmp_path / "config.toml"
    config.write_text(
        f'version = 3\nroot = "{tmp_path / "root"}"\nstate = "{tmp_path / "state"}"\n[grpc]\n  address = "{socket}"\n'
    )
    with (tmp_path / "containerd.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(daemon), "--config", str(config), "--address", str(socket)], stdout=log, stderr=log, env=os.environ
        )
    try:
        deadline = time.monotonic() + 30
        while not socket.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert socket.exists(), (tmp_path / "containerd.log").read_text()
        yield ctr, socket
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_import_names_the_images_as_the_roles_deploy_them(archives, containerd):
    ctr, socket = containerd
    images.import_into(ctr, socket)
    listed = subprocess.run(
        [str(ctr), "--address", str(socket), "--namespace", "k8s.io", "images", "list", "--quiet"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert {images.image_name(name) for name in images.NAMES} <= set(listed)
