"""Runs a molecule scenario's full test sequence (`molecule test`) against the local test cluster.

One test module per scenario, so that pytest-xdist's workers (a test file each at a time) can run
two scenarios at once; each scenario has its own namespace and molecule state. A scenario's module
runs it on the simulated node (the shared test cluster) and then on the real node: `molecule_test_on_real_node`
starts a private cluster with the real node for the module (tests/support/real_node_clusters.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from real_node_clusters import real_node_cluster, real_node_env

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def molecule_test(testcluster) -> Callable[[str], None]:
    def run(scenario: str, env: dict[str, str] | None = None) -> None:
        """`molecule test` of `scenario`; `env` adds to the environment (another cluster, for one)."""
        venv_bin = Path(sys.executable).parent  # molecule runs ansible-config and friends from PATH
        result = subprocess.run(
            [str(venv_bin / "molecule"), "test", "--scenario-name", scenario],
            cwd=REPO,
            env={
                **os.environ,
                "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
                "ANSIBLE_FORCE_COLOR": "0",
                "PY_COLORS": "0",
                **(env or {}),
            },
            # Its own: ansible refuses a non-blocking stdin, which a program sharing ours may have made it.
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]

    return run


@pytest.fixture(scope="module")
def real_node():
    """A private cluster with the real node, for the module's scenario."""
    with real_node_cluster() as cluster:
        yield cluster


@pytest.fixture
def molecule_test_on_real_node(molecule_test, real_node, tmp_path) -> Callable[[str], None]:
    def run(scenario: str) -> None:
        # Molecule state of its own: the module's run on the simulated node may have left its own.
        molecule_test(scenario, env={**real_node_env(real_node.state), "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path)})

    return run
