"""np-guard's netpol-analyzer for the connectivity tests (session fixture `netpol_analyzer`)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
BUILD = REPO / "tools" / "netpol-analyzer" / "build.sh"


@pytest.fixture(scope="session")
def netpol_analyzer() -> Path:
    """The `netpolicy` CLI, built from the module pinned in tools/netpol-analyzer on first use, then cached."""
    started = time.monotonic()
    # The build's progress goes to stderr (shown with the test's output); the path is stdout's last line.
    result = subprocess.run(["bash", str(BUILD)], stdout=subprocess.PIPE, text=True, timeout=3600, check=False)
    if result.returncode != 0 or not result.stdout.strip():
        pytest.fail(f"building netpol-analyzer failed ({BUILD}, exit {result.returncode}): see its output above")
    binary = Path(result.stdout.strip().splitlines()[-1])
    if time.monotonic() - started > 30:
        print(f"netpol-analyzer built in {time.monotonic() - started:.0f} s: {binary}")
    return binary
