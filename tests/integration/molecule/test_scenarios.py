"""Every molecule scenario passes its full test sequence against the local test cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCENARIOS = sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, testcluster):
    venv_bin = Path(sys.executable).parent  # molecule runs ansible-config and friends from PATH
    result = subprocess.run(
        [str(venv_bin / "molecule"), "test", "--scenario-name", scenario],
        cwd=REPO,
        env={
            **os.environ,
            "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
            "ANSIBLE_FORCE_COLOR": "0",
            "PY_COLORS": "0",
        },
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
