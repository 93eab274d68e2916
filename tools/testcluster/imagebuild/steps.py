"""Running the build's commands as logged, timed steps, and installing the tools they need."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

LOG = logging.getLogger("images")

# Command -> the Debian package that brings it.
TOOL_PACKAGES = {"mmdebstrap": "mmdebstrap", "buildah": "buildah", "skopeo": "skopeo"}


class StepFailed(RuntimeError):
    pass


def run(step: str, argv: list[str], log_file: Path, env: dict | None = None) -> dict:
    """Run one step, its output appended to `log_file`; log and return its wall time and peak RSS.

    The peak RSS is the largest of the step's process and the descendants it waited for
    (os.wait4), so a step's memory is measured alone, not as the maximum of the whole build.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    LOG.info("%s: %s", step, " ".join(argv))
    started = time.monotonic()
    with log_file.open("ab") as log:
        log.write(f"\n### {step}: {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        status, usage = os.wait4(proc.pid, 0)[1:]
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = round(time.monotonic() - started, 1)
    peak_rss_mib = round(usage.ru_maxrss / 1024, 1)
    if proc.returncode != 0:
        raise StepFailed(f"{step} failed (exit {proc.returncode}); its output: {log_file}\n{_tail(log_file)}")
    LOG.info("%s: done in %.1f s, peak RSS %.1f MiB", step, seconds, peak_rss_mib)
    return {"step": step, "seconds": seconds, "peak_rss_mib": peak_rss_mib}


def output(argv: list[str]) -> str:
    """A quick command's standard output (versions, image IDs); failures raise."""
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def require_tools(*commands: str) -> None:
    """Install the Debian packages of the commands that are missing (the build runs as root)."""
    missing = sorted({TOOL_PACKAGES[command] for command in commands if shutil.which(command) is None})
    if not missing:
        return
    LOG.info("installing missing build tools: %s (apt-get)", " ".join(missing))
    install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, env=env, check=False).returncode != 0:
        LOG.info("apt-get install failed; updating the package lists and trying again")
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(install, env=env, check=True)


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
