# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the preflight checks read from the cluster: the kinds it serves (the run's discovery, no request),
and objects by name, or a whole kind where every object of it counts.

The connection is made on the first read: a role whose checks need none (its settings ask for nothing the
cluster has to show) never contacts the cluster. Each object is read once per task.
"""

from __future__ import annotations

from collections.abc import Callable

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.discovery import Resources


class Cluster:
    """Reads of one target's API server, for the checks of one role."""

    def __init__(self, apis: dict | None, connect: Callable[[], Kube], context: str | None = None):
        # The kubeconfig context the run's discovery was made with, for messages.
        self.context = context
        # None: homelab.mlflow.cluster_preflight has not run, so nothing is known of the cluster's kinds.
        self.resources = Resources(apis) if apis is not None else None
        self._connect = connect
        self._kube: Kube | None = None
        self._read: dict = {}

    @property
    def known(self) -> bool:
        """Whether the run's discovery is there to say which kinds the cluster serves."""
        return self.resources is not None

    @property
    def requests(self) -> dict:
        return self._kube.requests if self._kube is not None else {}

    def serves(self, api_version: str, kind: str) -> bool:
        return self.resources is not None and self.resources.serves(api_version, kind)

    def _client(self) -> Kube:
        if self._kube is None:
            self._kube = self._connect()
        return self._kube

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        """The object, or None when it does not exist (a namespace that does not exist holds none)."""
        path = self.resources.get(api_version, kind).path(namespace, name)
        if path not in self._read:
            self._read[path] = self._client().get(path)
        return self._read[path]

    def namespace(self, name: str) -> dict | None:
        """The Namespace, or None: the core API serves it on every cluster, discovery or not."""
        path = f"/api/v1/namespaces/{name}"
        if path not in self._read:
            self._read[path] = self._client().get(path)
        return self._read[path]

    def objects(self) -> list[dict]:
        """The objects read by name that exist, as read."""
        return [obj for key, obj in self._read.items() if isinstance(key, str) and isinstance(obj, dict)]

    def list(self, api_version: str, kind: str, namespace: str | None = None, labels: str | None = None) -> list:
        """Every object of a kind (in a namespace, with labels when given)."""
        path = self.resources.get(api_version, kind).path(namespace)
        key = (path, labels)
        if key not in self._read:
            params = {"label_selector": labels} if labels else {}
            self._read[key] = self._client().list(path, **params)
        return self._read[key]
