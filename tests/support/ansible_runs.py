"""What the tests that run the collection's playbooks share: names of their own, inventories of hosts
that run on the controller, ansible-playbook from the checkout, the PLAY RECAP, and waiting for a
condition."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

# The interpreter running pytest is the venv's; its ansible-* programs sit beside it.
VENV_BIN = Path(sys.executable).parent
# Variables that would point the Kubernetes client at a cluster the test did not choose.
KUBERNETES_ENV = ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_HOST", "KUBERNETES_SERVICE_HOST")


def unique(prefix: str) -> str:
    """A name no other test run uses (a namespace, a blueprint)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write_inventory(path: Path, testcluster, hosts: dict[str, dict], **common: Any) -> Path:
    """An inventory whose hosts all run on the controller, with `common` for every host; with a
    `testcluster` (else None), they drive the test cluster."""
    variables = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    if testcluster is not None:
        variables["mlflow_kubeconfig"] = str(testcluster.kubeconfig)
    variables.update(common)
    path.write_text(yaml.safe_dump({"all": {"vars": variables, "hosts": hosts}}))
    return path


def ansible_env(
    repo_root: Path | None, venv_bin: Path = VENV_BIN, drop_prefixes: tuple[str, ...] = (), **extra: str
) -> dict[str, str]:
    """The environment of an ansible program a test runs: the caller's, without its Kubernetes settings
    (nor variables starting with one of `drop_prefixes`, such as 1Password's OP_), without colours, with
    `venv_bin`'s programs first and, given `repo_root`, the checkout's ansible.cfg; then `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (*KUBERNETES_ENV, "ANSIBLE_CONFIG") and not (drop_prefixes and k.startswith(drop_prefixes))
    }
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    if repo_root is not None:
        env["ANSIBLE_CONFIG"] = str(repo_root / "ansible.cfg")
    env.update(extra)
    return env


def ansible_playbook(
    repo_root: Path,
    playbook: Path,
    inventory: Path,
    *args: str,
    timeout: float = 900,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """A playbook run from the checkout with its ansible.cfg and no Kubernetes settings of the caller
    (`env`: the environment, when ansible_env's default will not do)."""
    return subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), str(playbook), "-i", str(inventory), *args],
        cwd=repo_root,
        env=env or ansible_env(repo_root),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP counters, per host."""
    found = re.findall(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", stdout.split("PLAY RECAP")[-1], re.MULTILINE)
    return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)} for host, counters in found}


def fatal_results(stdout: str) -> dict[str, dict]:
    """The result of each host's failed task (the one that ended its play), as the yaml callback prints it."""
    found = {}
    for match in re.finditer(r"^fatal: \[([^\]]+)\].*=> *\n((?:    .*\n?)+)", stdout, re.MULTILINE):
        found[match.group(1)] = yaml.safe_load("\n".join(line[4:] for line in match.group(2).splitlines()))
    return found


def failure_messages(stdout: str) -> dict[str, list[str]]:
    """The `msg` of every failed task (or loop item), per host, as the yaml callback prints them, with
    line breaks folded."""
    messages: dict[str, list[str]] = {}
    for match in re.finditer(r"^(?:fatal|failed): \[([^\]]+)\].*=> *\n((?:    .*\n?)+)", stdout, re.MULTILINE):
        result = yaml.safe_load("\n".join(line[4:] for line in match.group(2).splitlines()))
        messages.setdefault(match.group(1), []).append(" ".join(str(result.get("msg", "")).split()))
    return messages


def eventually(check: Callable[[], Any], timeout: float = 120.0, what: str = "condition", interval: float = 0.25):
    """The first true value check() gives within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")
