"""Run a container of a pod spec the role rendered as a local process, the way the kubelet would.

The command and arguments are taken as written, `$(VAR)` references expanded from the container's
environment (Kubernetes' rules), the environment resolved from the cluster (Secret keys, the pod
IP) and every volume mount moved to a local directory. Nothing of the role's manifest is
re-typed here, so what runs locally is what the cluster would run.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client

# $(NAME) is replaced when NAME is defined (earlier in `env`), $$ escapes a dollar.
REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return REFERENCE.sub(replace, text)


def resolve_env(api: client.ApiClient, namespace: str, container: dict, pod_ip: str) -> dict[str, str]:
    """The container's environment, with secretKeyRef and the pod IP resolved as the kubelet does."""
    core = client.CoreV1Api(api)
    env: dict[str, str] = {}
    for item in container.get("env", []):
        name = item["name"]
        if "value" in item:
            env[name] = expand(item["value"], env)
            continue
        source = item["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            secret = core.read_namespaced_secret(ref["name"], namespace)
            env[name] = base64.b64decode(secret.data[ref["key"]]).decode()
        elif source.get("fieldRef", {}).get("fieldPath") == "status.podIP":
            env[name] = pod_ip
        else:
            raise ValueError(f"{name}: unsupported valueFrom {source}")
    return env


def move_paths(text: str, mounts: Mapping[str, Path]) -> str:
    """Replace each mount path (as a whole path, or a prefix of one) by its local directory.

    One pass, longest mount path first, so a local directory put in is never moved again.
    """
    if not mounts:
        return text
    paths = "|".join(re.escape(path) for path in sorted(mounts, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./-])({paths})(?=/|$|[^\w.-])")
    return pattern.sub(lambda match: str(mounts[match.group(1)]), text)


@dataclass
class LocalContainer:
    """A container ready to run here: argv and environment with the mounts moved."""

    name: str
    argv: list[str]
    env: dict[str, str]
    workdir: Path
    mounts: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def from_spec(
        cls,
        api: client.ApiClient,
        namespace: str,
        pod_spec: dict,
        container: dict,
        *,
        volumes: Mapping[str, Path],
        workdir: Path,
        pod_ip: str = "127.0.0.1",
    ) -> LocalContainer:
        """`volumes` maps the pod's volume names to local directories."""
        declared = {volume["name"] for volume in pod_spec.get("volumes", [])}
        mounts = {}
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in declared:
                raise ValueError(f"{container['name']} mounts undeclared volume {mount['name']}")
            mounts[mount["mountPath"]] = volumes[mount["name"]]
        env = resolve_env(api, namespace, container, pod_ip)
        argv = [expand(arg, env) for arg in [*container.get("command", []), *container.get("args", [])]]
        return cls(
            name=container["name"],
            argv=[move_paths(arg, mounts) for arg in argv],
            env={name: move_paths(value, mounts) for name, value in env.items()},
            workdir=workdir,
            mounts=mounts,
        )

    def replace_arg(self, old: str, new: str) -> None:
        if old not in self.argv:
            raise ValueError(f"{self.name}: no argument {old!r} in {self.argv}")
        self.argv[self.argv.index(old)] = new

    def process_env(self, path: str) -> dict[str, str]:
        return {"PATH": path, "LANG": "C.UTF-8", **self.env}

    def run(self, path: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.argv,
            env=self.process_env(path),
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, path: str, log: Path) -> subprocess.Popen:
        """Start in a session of its own, so that `stop` reaches every process it forks."""
        with log.open("w") as out:
            return subprocess.Popen(
                self.argv,
                env=self.process_env(path),
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


def stop(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM to the process group (as the kubelet's stop), SIGKILL after the grace period."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # workers left behind by the main process
    except ProcessLookupError:
        pass
    process.wait()
