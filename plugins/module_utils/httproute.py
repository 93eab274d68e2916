# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a namespace holds a Gateway API HTTPRoute for a host, and one wait for it.

Another controller may write the route (Authentik's outpost controller does, a moment after the
outpost changed), so the wait reads the namespace's routes until one names the host.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.discovery import Resources

API_VERSION = "gateway.networking.k8s.io/v1"
KIND = "HTTPRoute"


def routes_for_host(routes: list[dict], host: str) -> list[str]:
    """The names of the routes that have `host` among their hostnames."""
    return [
        (route.get("metadata") or {}).get("name", "")
        for route in routes
        if host in ((route.get("spec") or {}).get("hostnames") or [])
    ]


def wait_for_route(
    kube: Kube,
    resources: Resources,
    namespace: str,
    host: str,
    timeout: float,
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """The routes of `namespace` that answer on `host`: the first non-empty read, or [] at the timeout."""
    path = resources.get(API_VERSION, KIND).path(namespace)
    deadline = clock() + timeout
    while True:
        found = routes_for_host(kube.list(path), host)
        if found or clock() >= deadline:
            return found
        sleep(min(interval, max(0.0, deadline - clock())))
