"""Start and stop the test cluster's processes, tracked by PID files in the state directory."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


class Processes:
    def __init__(self, state_dir: Path):
        self.pid_dir = state_dir / "pids"
        self.log_dir = state_dir / "logs"
        self.children: dict[str, subprocess.Popen] = {}  # started by this process: exit codes known

    def start(self, name: str, argv: list[str], env: dict | None = None) -> int:
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                # Own session: a Ctrl-C in the caller's terminal does not take the cluster down.
                start_new_session=True,
            )
        (self.pid_dir / f"{name}.pid").write_text(f"{proc.pid}\n{argv[0]}\n")
        self.children[name] = proc
        return proc.pid

    def recorded(self) -> dict[str, tuple[int, str]]:
        """name -> (pid, executable) for every PID file."""
        found = {}
        if self.pid_dir.is_dir():
            for pid_file in sorted(self.pid_dir.glob("*.pid")):
                lines = pid_file.read_text().split("\n")
                found[pid_file.stem] = (int(lines[0]), lines[1] if len(lines) > 1 else "")
        return found

    def exit_code(self, name: str) -> int | None:
        child = self.children.get(name)
        return child.poll() if child else None

    def alive(self, name: str) -> bool:
        if name in self.children:
            return self.children[name].poll() is None
        entry = self.recorded().get(name)
        return bool(entry) and _is_ours(*entry)

    def stop(self, name: str, timeout: float = 15.0) -> None:
        """SIGTERM one recorded process, SIGKILL it after `timeout`; forget it."""
        pid, exe = self.recorded()[name]
        _signal(pid, signal.SIGTERM)
        _end(pid, exe, time.monotonic() + timeout)
        (self.pid_dir / f"{name}.pid").unlink(missing_ok=True)
        self.children.pop(name, None)

    def stop_all(self, timeout: float = 15.0, keep: tuple[str, ...] = ()) -> list[str]:
        """SIGTERM everything recorded but `keep` (reverse start order), then SIGKILL what is left."""
        entries = {name: entry for name, entry in self.recorded().items() if name not in keep}
        order = sorted(entries, key=lambda n: (self.pid_dir / f"{n}.pid").stat().st_mtime, reverse=True)
        stopped = []
        for name in order:
            pid, exe = entries[name]
            if _is_ours(pid, exe):
                _signal(pid, signal.SIGTERM)
                stopped.append(name)
        deadline = time.monotonic() + timeout  # one for all: they were all sent SIGTERM together
        for name in order:
            pid, exe = entries[name]
            _end(pid, exe, deadline)
            (self.pid_dir / f"{name}.pid").unlink(missing_ok=True)
        return stopped

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _end(pid: int, executable: str, deadline: float) -> None:
    """Wait until a process sent SIGTERM is gone, SIGKILL it at `deadline`, and wait until it is gone."""
    _wait_gone(pid, executable, deadline)
    if _is_ours(pid, executable):
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, executable, time.monotonic() + 10)  # SIGKILL is delivered, not instant


def _wait_gone(pid: int, executable: str, deadline: float) -> None:
    while _is_ours(pid, executable) and time.monotonic() < deadline:
        time.sleep(0.05)


def _is_ours(pid: int, executable: str) -> bool:
    """True while the PID is alive and still runs the executable we started (PIDs get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    if stat.rsplit(")", 1)[1].split()[0] == "Z":  # a zombie is as good as gone
        return False
    # A process on its way out has an empty command line before it is a zombie: not gone yet.
    return not executable or cmdline in ("", executable)
