"""The MLflow release the role deploys, and an earlier one for the upgrade tests, each in a virtualenv of its own.

MLflow cannot live in the collection's venv (their dependencies conflict), so it gets one from its
lock, requirements/mlflow.txt (locked_venv.py: hash-checked, cached, reused while the lock and the
Python version stay the same).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from locked_venv import LOCKS, ensure_venv


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
    """The runtime, installed first when this machine has none for the current lock."""
    return MlflowRuntime(ensure_venv("mlflow", "mlflow-runtime"))


def ensure_previous_runtime() -> MlflowRuntime:
    """An earlier release with an older schema (requirements/mlflow-previous.txt), for the upgrade tests."""
    return MlflowRuntime(ensure_venv("mlflow-previous", "mlflow-previous-runtime"))


def runtime_for(version: str) -> MlflowRuntime:
    """The runtime whose lock pins this MLflow release: the role's, or the earlier one."""
    for lock, install in (("mlflow", ensure_runtime), ("mlflow-previous", ensure_previous_runtime)):
        if f"\nmlflow=={version} " in (LOCKS / f"{lock}.txt").read_text():
            return install()
    raise RuntimeError(f"no lock in {LOCKS} pins MLflow {version}: only its own release runs a release's containers")
