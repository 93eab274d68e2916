"""A virtualenv installed from one of the project's locks (requirements/*.txt), hash-checked.

Built once into the cache the test cluster's binaries use ($HOMELAB_MLFLOW_CACHE, else
$XDG_CACHE_HOME/homelab-mlflow or ~/.cache/homelab-mlflow), keyed by the lock's content and the
Python version, and reused while both stay the same.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCKS = REPO / "requirements"
# The filter of the one upstream warning every ansible program prints (see the file).
WARNING_FILTERS = REPO / "tools" / "python" / "homelab_mlflow_warnings.pth"
INSTALL_TIMEOUT = 1800


def cache_root() -> Path:
    if configured := os.environ.get("HOMELAB_MLFLOW_CACHE"):
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "homelab-mlflow"


def ensure_venv(lock: str, purpose: str) -> Path:
    """The venv of requirements/<lock>.txt, installed first when this machine has none for it."""
    requirements = LOCKS / f"{lock}.txt"
    key = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()[:16]
    base = cache_root() / purpose
    base.mkdir(parents=True, exist_ok=True)
    venv = base / key
    # One builder at a time (parallel test sessions, a demo); the others wait and reuse.
    with (base / f"{key}.lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not (venv / ".installed").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            python = venv / "bin" / "python"
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            install = subprocess.run(
                [*pip, "--require-hashes", "-r", str(requirements)],
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
            if install.returncode != 0:
                raise RuntimeError(f"installing {requirements} into {venv} failed:\n{install.stdout}\n{install.stderr}")
            purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
            shutil.copy(WARNING_FILTERS, purelib)
            (venv / ".installed").touch()
    return venv
