# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which API server a kubeconfig and context lead to, and whether it accepts connections.

Every failure names the variable that fixes it (mlflow_kubeconfig, mlflow_kube_context).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

try:
    import yaml
except ImportError:  # pragma: no cover - the Kubernetes client needs PyYAML too
    yaml = None

LOCAL_HINT = (
    "If this is the local test cluster of a checkout (inventories/local), `make cluster-up` starts it and writes "
    "that file. For another cluster, set mlflow_kubeconfig (and mlflow_kube_context) in the inventory: see "
    "inventories/example."
)


class TargetError(Exception):
    """The kubeconfig does not lead to an API server; the message says which variable to fix."""


@dataclass(frozen=True)
class Target:
    server: str
    context: str
    proxy: bool

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.server)
        return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _names(entries: list) -> list[str]:
    return [str(entry.get("name")) for entry in entries if isinstance(entry, dict)]


def find_target(path: str, context: str | None, host: str) -> Target:
    """The server and context that the kubeconfig file at path selects."""
    path = os.path.expanduser(path)
    if not os.path.exists(path):
        raise TargetError(
            f"mlflow_kubeconfig is {path}, which does not exist on the controller (host {host}). {LOCAL_HINT}"
        )
    if not (os.path.isfile(path) and os.access(path, os.R_OK)):
        raise TargetError(
            f"mlflow_kubeconfig is {path}, which is not a readable file (host {host}): point mlflow_kubeconfig at a "
            "kubeconfig file the controller's user can read."
        )
    with open(path, encoding="utf-8") as stream:
        try:
            config = yaml.safe_load(stream) or {}
        except yaml.YAMLError as error:
            raise TargetError(f"mlflow_kubeconfig is {path}, which is not YAML (host {host}): {error}") from None
    if not isinstance(config, dict):
        raise TargetError(f"mlflow_kubeconfig is {path}, which is not a kubeconfig (host {host}).")
    contexts = config.get("contexts") or []
    names = _names(contexts)
    choices = ", ".join(names) or "its contexts (it has none)"
    selected = context or config.get("current-context") or ""
    if not selected:
        raise TargetError(
            f"{path} (mlflow_kubeconfig) has no current-context and mlflow_kube_context is not set (host {host}): "
            f"set mlflow_kube_context to one of {choices}."
        )
    if selected not in names:
        who = "mlflow_kube_context" if context else "The current-context"
        raise TargetError(
            f'{who} is "{selected}", but {path} (mlflow_kubeconfig) has no such context (host {host}): '
            f"set mlflow_kube_context to one of {choices}."
        )
    cluster_name = next(c.get("context", {}).get("cluster") for c in contexts if c.get("name") == selected)
    cluster = next((c.get("cluster") or {} for c in config.get("clusters") or [] if c.get("name") == cluster_name), {})
    if not cluster.get("server"):
        raise TargetError(
            f'Context "{selected}" in {path} (mlflow_kubeconfig) refers to a cluster without a server address '
            f"(host {host}): fix the kubeconfig or choose another context with mlflow_kube_context."
        )
    return Target(str(cluster["server"]), selected, "proxy-url" in cluster)


def accepts_connections(host: str, port: int, timeout: float) -> bool:
    """Whether host:port accepts a TCP connection within timeout: the client has no connect timeout."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
