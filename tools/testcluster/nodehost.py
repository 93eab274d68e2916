"""What the test cluster's real node puts into the machine, found and taken away again: sysctls,
mounts, the pods' cgroups and processes, containerd's shims, iptables chains and network devices."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
KUBEPODS = "kubepods"  # the kubelet's cgroup (cgroupfs driver) in each hierarchy


class HostError(RuntimeError):
    pass


def set_sysctls(values: dict[str, str], record: Path) -> None:
    """Set the sysctls (key: path under /proc/sys), remembering the values before (restore_sysctls puts them back)."""
    before = {}
    for key, value in values.items():
        path = Path("/proc/sys") / key
        if not path.exists():
            raise HostError(f"{path} is missing: the kernel lacks what the real node needs (bridge netfilter)")
        before[key] = path.read_text().strip()
        path.write_text(value)
    if not record.exists():
        record.write_text(json.dumps(before))


def restore_sysctls(record: Path) -> None:
    if record.exists():
        for key, value in json.loads(record.read_text()).items():
            with contextlib.suppress(OSError):
                (Path("/proc/sys") / key).write_text(value)


def mounts_under(*roots: Path) -> list[str]:
    """Mount points at or under the roots, deepest first (the order to unmount them in)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if any(point == str(r) or point.startswith(f"{r}/") for r in roots):
            found.append(point)
    return sorted(set(found), key=lambda p: p.count("/"), reverse=True)


def unmount_all(*roots: Path) -> None:
    for _attempt in range(5):
        points = mounts_under(*roots)
        if not points:
            return
        for point in points:
            subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)
    left = mounts_under(*roots)
    if left:
        raise HostError(f"cannot unmount {', '.join(left)}")


def kubepods_cgroups() -> list[Path]:
    """Every cgroup directory the kubelet made (cgroupfs driver: /kubepods in each hierarchy), deepest first."""
    found = []
    for hierarchy in CGROUP_ROOT.iterdir() if CGROUP_ROOT.is_dir() else []:
        # os.walk skips what vanishes under it: the kubelet and runc remove cgroups meanwhile.
        for directory, _subdirs, _files in os.walk(hierarchy / KUBEPODS):
            found.append(Path(directory))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def kill_cgroup_processes(cgroups: list[Path]) -> int:
    """SIGKILL every process in the cgroups (the pods' containers); how many there were."""
    pids = set()
    for cgroup in cgroups:
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in (cgroup / "cgroup.procs").read_text().split())
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


def remove_cgroups(deadline_seconds: float = 10) -> None:
    deadline = time.monotonic() + deadline_seconds
    while True:
        cgroups = kubepods_cgroups()
        kill_cgroup_processes(cgroups)
        for cgroup in cgroups:
            with contextlib.suppress(OSError):
                cgroup.rmdir()
        left = kubepods_cgroups()
        if not left:
            return
        if time.monotonic() > deadline:
            raise HostError(f"cannot remove the pods' cgroups: {', '.join(map(str, left[:5]))}")
        time.sleep(0.2)


def shim_pids(socket: Path) -> list[int]:
    """The shims of the containerd listening on `socket` (they outlive containerd by design)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and str(socket).encode() in argv:
            found.append(int(proc.name))
    return found


def kill_and_wait(pids: list[int], timeout: float = 10) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in pids):
        time.sleep(0.05)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def remove_kube_chains() -> None:
    """The iptables chains kube-proxy --cleanup leaves: the kubelet's (KUBE-FIREWALL, KUBE-KUBELET-CANARY,
    KUBE-IPTABLES-HINT) and whatever else is named KUBE-*, with the rules that jump to them."""
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            saved = subprocess.run([f"{tool}-save", "-t", table], capture_output=True, text=True, check=False)
            if saved.returncode != 0:
                continue
            chains = [line[1:].split()[0] for line in saved.stdout.splitlines() if line.startswith(":KUBE-")]
            for line in saved.stdout.splitlines():
                words = shlex.split(line)
                if words[:1] == ["-A"] and words[1] not in chains and any(f"-j {c}" in line for c in chains):
                    subprocess.run([tool, "-t", table, "-D", *words[1:]], capture_output=True, check=False)
            for chain in chains:
                subprocess.run([tool, "-t", table, "-F", chain], capture_output=True, check=False)
            for chain in chains:
                subprocess.run([tool, "-t", table, "-X", chain], capture_output=True, check=False)


def delete_link(name: str) -> None:
    if Path(f"/sys/class/net/{name}").exists():
        subprocess.run(["ip", "link", "delete", name], capture_output=True, check=False)


def bridge_ports(bridge: str) -> list[str]:
    """The devices on a bridge (for the CNI bridge: the host ends of the pods' veth pairs)."""
    ports = Path(f"/sys/class/net/{bridge}/brif")
    return sorted(p.name for p in ports.iterdir()) if ports.is_dir() else []
