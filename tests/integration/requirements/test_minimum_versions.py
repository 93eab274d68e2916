"""The collection at the low end of what requirements.txt and galaxy.yml declare it supports.

requirements/minimum.txt locks requirements.txt resolved to the oldest version each range allows
(the oldest ansible-core and Kubernetes client among them) with the oldest ansible package of the
series, which brings the oldest kubernetes.core and community.general galaxy.yml allows. site.yml
runs with that set against the test cluster into a fresh namespace, as a user of those versions
would: it converges, and a second run changes nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from ansible_runs import ansible_env
from kube_namespaces import delete_namespaces
from locked_venv import ensure_venv
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[3]


def declared_minimums() -> dict[str, str]:
    """name -> the lowest version requirements.txt allows (its `>=` bound)."""
    minimums = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            requirement = Requirement(line)
            (lowest,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
            minimums[requirement.name] = lowest
    return minimums


def locked_versions(lock: str) -> dict[str, str]:
    text = (REPO / "requirements" / f"{lock}.txt").read_text()
    return dict(re.findall(r"^([\w.-]+)==(\S+)", text, re.MULTILINE))


def installed_collection(venv: Path, fqcn: str) -> str:
    namespace, name = fqcn.split(".")
    (manifest,) = venv.glob(f"lib/python*/site-packages/ansible_collections/{namespace}/{name}/MANIFEST.json")
    return json.loads(manifest.read_text())["collection_info"]["version"]


@pytest.fixture(scope="module")
def minimum_venv() -> Path:
    try:
        return ensure_venv("minimum", "minimum-venv")
    except RuntimeError as err:
        pytest.fail(str(err))


def test_the_minimum_lock_holds_the_low_end_of_every_declared_range():
    locked = locked_versions("minimum")

    assert {name: locked[name] for name in declared_minimums()} == declared_minimums()


def test_the_minimum_set_brings_the_oldest_collections_galaxy_yml_allows(minimum_venv):
    dependencies = yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"]

    for fqcn, specifier in dependencies.items():
        lowest = re.search(r">=\s*([\d.]+)", specifier).group(1)
        assert installed_collection(minimum_venv, fqcn) == lowest, f"{fqcn}: galaxy.yml declares {specifier}"


@pytest.fixture(scope="module")
def converged(minimum_venv, testcluster, k8s):
    namespace = f"minimum-{uuid.uuid4().hex[:8]}"
    env = ansible_env(REPO, venv_bin=minimum_venv / "bin")
    variables = {"mlflow_namespace": namespace, "mlflow_kubeconfig": str(testcluster.kubeconfig)}
    command = [str(minimum_venv / "bin" / "ansible-playbook"), "site.yml", "-i", "inventories/local"]
    command += ["-e", json.dumps(variables)]

    def site() -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)

    try:
        yield site(), site()
    finally:
        delete_namespaces(k8s, [namespace])


def changed(output: str) -> int:
    return sum(int(count) for count in re.findall(r"^local\s+:.*\bchanged=(\d+)", output, re.MULTILINE))


def test_site_converges_and_then_changes_nothing_with_the_oldest_versions(minimum_venv, converged):
    first, second = converged
    version = subprocess.run(
        [str(minimum_venv / "bin" / "ansible-playbook"), "--version"], capture_output=True, text=True, check=True
    )

    assert f"[core {declared_minimums()['ansible-core']}]" in version.stdout.splitlines()[0]
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]
    assert changed(first.stdout) > 0
    assert second.returncode == 0, second.stdout[-6000:] + second.stderr[-3000:]
    assert changed(second.stdout) == 0, second.stdout[-6000:]
