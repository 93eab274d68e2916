"""The collection as a whole: metadata in step with the pinned ansible package, docs, packaging."""

from __future__ import annotations

import json
from pathlib import Path

import ansible_collections
import yaml
from ansible.release import __version__ as ansible_core_version
from packaging.specifiers import SpecifierSet

# Where the pinned `ansible` package put the collections it ships.
SHIPPED_COLLECTIONS = Path(next(iter(ansible_collections.__path__)))


def shipped_version(fqcn: str) -> str:
    namespace, name = fqcn.split(".")
    manifest = json.loads((SHIPPED_COLLECTIONS / namespace / name / "MANIFEST.json").read_text())
    return manifest["collection_info"]["version"]


def test_dependency_ranges_hold_the_versions_the_pinned_ansible_ships(repo_root):
    dependencies = yaml.safe_load((repo_root / "galaxy.yml").read_text())["dependencies"]

    assert set(dependencies) == {"kubernetes.core", "community.general"}
    for fqcn, specifier in dependencies.items():
        assert shipped_version(fqcn) in SpecifierSet(specifier), f"{fqcn} {shipped_version(fqcn)} vs {specifier}"


def test_requires_ansible_holds_the_pinned_ansible_core(repo_root):
    runtime = yaml.safe_load((repo_root / "meta" / "runtime.yml").read_text())

    assert ansible_core_version in SpecifierSet(runtime["requires_ansible"])


def test_ansible_doc_lists_the_collections_plugins_and_roles(run_ansible):
    plugins = run_ansible("ansible-doc", "-l", "homelab.mlflow")
    roles = run_ansible("ansible-doc", "-t", "role", "-l", "homelab.mlflow")

    assert plugins.returncode == 0, plugins.stderr
    assert "ERROR" not in plugins.stderr
    assert roles.returncode == 0, roles.stdout
    assert "homelab.mlflow.cluster_preflight" in roles.stdout


def test_built_collection_installs(run_ansible, tmp_path):
    dist = tmp_path / "dist"
    build = run_ansible("ansible-galaxy", "collection", "build", "--output-path", str(dist))
    assert build.returncode == 0, build.stdout
    (tarball,) = dist.glob("homelab-mlflow-*.tar.gz")

    # Without the checkout's ansible.cfg, whose collections_path already holds homelab.mlflow.
    install = run_ansible(
        "ansible-galaxy",
        "collection",
        "install",
        "-p",
        str(tmp_path / "installed"),
        str(tarball),
        cwd=tmp_path,
        checkout_config=False,
    )

    assert install.returncode == 0, install.stdout
    installed = tmp_path / "installed" / "ansible_collections" / "homelab" / "mlflow"
    assert (installed / "roles" / "cluster_preflight" / "tasks" / "main.yml").is_file()
    assert not (installed / ".venv").exists()
    assert not (installed / "tools").exists()


def test_every_molecule_scenario_has_its_test_module(repo_root):
    scenarios = {path.parent.name for path in (repo_root / "molecule").glob("*/molecule.yml")}
    modules = {path.stem.removeprefix("test_") for path in (repo_root / "tests/integration/molecule").glob("test_*.py")}

    assert scenarios == modules
