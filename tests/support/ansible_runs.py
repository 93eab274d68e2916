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
# An ad-hoc command on the controller that prints what follows it (`msg=...`, `var=...`).
DEBUG_ON_CONTROLLER = ("ansible", "localhost", "-m", "ansible.builtin.debug", "-a")
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


def role_tasks_play(name: str, imports: dict[str, tuple[str, str]]) -> str:
    """A play `name` on every host, without facts, whose tasks (task name: (role, tasks_from)) each
    import a task file of a role."""
    tasks = [
        {"name": task, "ansible.builtin.import_role": {"name": role, "tasks_from": tasks_from}}
        for task, (role, tasks_from) in imports.items()
    ]
    return yaml.safe_dump([{"name": name, "hosts": "all", "gather_facts": False, "tasks": tasks}], sort_keys=False)


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
    command = [str(VENV_BIN / "ansible-playbook"), str(playbook), "-i", str(inventory), *args]
    return run_captured(command, repo_root, env or ansible_env(repo_root), timeout)


def run_on_controller(
    repo_root: Path,
    work: Path,
    playbook: str,
    hosts: dict[str, dict],
    *args: str,
    drop_prefixes: tuple[str, ...] = ("ANSIBLE_",),
    timeout: float = 300,
    **common: Any,
) -> subprocess.CompletedProcess:
    """The play text `playbook`, written to `work`, run from the checkout over `hosts` (on the
    controller, no cluster; `common` for every host), with none of the caller's variables starting
    with one of `drop_prefixes`."""
    (work / "play.yml").write_text(playbook)
    inventory = write_inventory(work / "hosts.yml", None, hosts, **common)
    env = ansible_env(repo_root, drop_prefixes=drop_prefixes)
    return ansible_playbook(repo_root, work / "play.yml", inventory, *args, timeout=timeout, env=env)


def run_captured(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """`command` run to its end in `cwd` with `env`, its output captured as text; whether it failed is
    the caller's to judge."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP counters, per host."""
    found = re.findall(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", stdout.split("PLAY RECAP")[-1], re.MULTILINE)
    return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)} for host, counters in found}


def site_settings(testcluster) -> dict[str, Any]:
    """What every host of a site.yml run on the test cluster needs beyond its own namespace: an
    external host, the test cluster's fake Authentik, and no HTTP check from outside the cluster."""
    return {
        "mlflow_external_host": "mlflow.localtest.me",
        **testcluster.authentik_settings(),
        "mlflow_verify_http": False,
    }


def missing_from(text: str, parts: list[str]) -> list[str]:
    """The `parts` that `text` does not hold; [] when it holds them all."""
    return [part for part in parts if part not in text]


def failed_results(stdout: str) -> dict[str, list[Any]]:
    """The result of every failed task (or loop item), per host, as the yaml callback prints them."""
    results: dict[str, list[Any]] = {}
    for match in re.finditer(r"^(?:fatal|failed): \[([^\]]+)\].*=> *\n((?:    .*\n?)+)", stdout, re.MULTILINE):
        result = yaml.safe_load("\n".join(line[4:] for line in match.group(2).splitlines()))
        results.setdefault(match.group(1), []).append(result)
    return results


def last_failed_results(stdout: str) -> dict[str, Any]:
    """The result of each host's last failed task (the one its play stopped at)."""
    return {host: results[-1] for host, results in failed_results(stdout).items()}


def failure_messages(stdout: str) -> dict[str, list[str]]:
    """The `msg` of every failed task (or loop item), per host, as the yaml callback prints them, with
    line breaks folded (a result that is not a mapping stands as its text)."""
    return {
        host: [
            " ".join(str(result.get("msg", "") if isinstance(result, dict) else result).split()) for result in results
        ]
        for host, results in failed_results(stdout).items()
    }


def unexpected_failures(stdout: str, expected: dict[str, list[str]]) -> dict[str, list[str] | None]:
    """The hosts of `expected` (with their failure messages) that did not fail exactly once with a
    message holding every one of their expected pieces; {} when each did."""
    counters, messages = recap(stdout), failure_messages(stdout)
    return {
        host: messages.get(host)
        for host, pieces in expected.items()
        if counters[host]["failed"] != 1 or not any(all(p in m for p in pieces) for m in messages.get(host, []))
    }


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
