"""The MLflow release the role deploys, installed in a virtualenv of its own.

MLflow cannot live in the collection's venv (their dependencies conflict), so it gets one, built
once from requirements-mlflow.txt into the cache the test cluster's binaries use
($HOMELAB_MLFLOW_CACHE, else $XDG_CACHE_HOME/homelab-mlflow or ~/.cache/homelab-mlflow) and
reused while the pins and the Python version stay the same.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("requirements-mlflow.txt")
INSTALL_TIMEOUT = 1800


def cache_root() -> Path:
    if configured := os.environ.get("HOMELAB_MLFLOW_CACHE"):
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "homelab-mlflow"


@dataclass(frozen=True)
class MlflowRuntime:
    venv: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def path(self) -> str:
        """PATH for a process that should find this MLflow (and its python) first."""
        return os.pathsep.join([str(self.bin), "/usr/local/bin", "/usr/bin", "/bin"])


def ensure_runtime() -> MlflowRuntime:
    """The runtime, installed first when this machine has none for the current pins."""
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:16]
    base = cache_root() / "mlflow-runtime"
    base.mkdir(parents=True, exist_ok=True)
    venv = base / key
    # One builder at a time (parallel test sessions, a demo); the others wait and reuse.
    with (base / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".installed").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            install = subprocess.run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                    str(REQUIREMENTS),
                ],
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
            if install.returncode != 0:
                raise RuntimeError(
                    f"installing {REQUIREMENTS.name} into {venv} failed:\n{install.stdout}\n{install.stderr}"
                )
            (venv / ".installed").touch()
    return MlflowRuntime(venv)
