# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One connection to the Kubernetes API server.

The Kubernetes client's DynamicClient sends the requests (authentication, TLS, retries of the
client library), without its discovery: the engine knows the cluster's kinds from one aggregated
discovery per run (discovery.py), so a task costs only the requests about its own objects.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

try:
    from kubernetes import config as kube_config
    from kubernetes.client import ApiClient, Configuration
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import DynamicApiError

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as error:  # pragma: no cover - reported by the caller
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = error

    class DynamicApiError(Exception):
        """Stands in for the client's error type, which cannot be raised without the client."""


# Bounds one request, so that an API server that stops answering fails the task instead of
# hanging the run: (connect, read) seconds.
REQUEST_TIMEOUT = (10, 60)
# The User-Agent of every request, followed by the task's action: the API server's audit log then
# says which task of a run sent each request.
USER_AGENT = "homelab.mlflow"


class KubeError(Exception):
    """A request the API server refused or could not answer, in one line."""

    def __init__(self, message: str, status: int = 0, reason: str = "", details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.details = details or {}


class _NoDiscovery:
    """DynamicClient's discoverer slot, left empty: paths come from discovery.Resources."""

    def __init__(self, client, cache_file=None):
        self.version = {}


def _status_of(error: Any) -> tuple[int, str, str, dict]:
    """Status code, reason, message and details of a refused request."""
    status = int(getattr(error, "status", 0) or 0)
    body = getattr(error, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {"message": str(body)}
    if not isinstance(parsed, dict):
        parsed = {}
    message = parsed.get("message") or getattr(error, "reason", "") or str(error)
    return status, str(parsed.get("reason") or ""), str(message), parsed.get("details") or {}


def load_configuration(kubeconfig: str | None = None, context: str | None = None) -> Configuration:
    """The client configuration for a kubeconfig file and context, or the in-cluster one.

    Without a kubeconfig: K8S_AUTH_KUBECONFIG, then KUBECONFIG, then the pod's service account
    when running in a cluster, then ~/.kube/config (the Kubernetes client's own order).
    """
    context = context or os.environ.get("K8S_AUTH_CONTEXT") or None
    path = kubeconfig or os.environ.get("K8S_AUTH_KUBECONFIG") or os.environ.get("KUBECONFIG")
    configuration = Configuration()
    if path:
        kube_config.load_kube_config(
            config_file=os.path.expanduser(path), context=context, client_configuration=configuration
        )
    elif os.environ.get("KUBERNETES_SERVICE_HOST"):
        kube_config.load_incluster_config(client_configuration=configuration)
    else:
        kube_config.load_kube_config(context=context, client_configuration=configuration)
    return configuration


@dataclass
class Kube:
    """Requests to one API server; `requests` counts what a task sent (for its result)."""

    dynamic: Any
    requests: dict = field(default_factory=dict)

    @classmethod
    def connect(cls, kubeconfig: str | None = None, context: str | None = None, agent: str | None = None) -> Kube:
        if not HAS_KUBERNETES:
            raise KubeError(f"The kubernetes Python package is needed on the controller: {KUBERNETES_IMPORT_ERROR}")
        try:
            configuration = load_configuration(kubeconfig, context)
        except Exception as error:  # the config loader raises several types, all about the file
            raise KubeError(f"Cannot load the Kubernetes client configuration: {error}") from error
        api = ApiClient(configuration)
        api.user_agent = f"{USER_AGENT} ({agent})" if agent else USER_AGENT
        return cls(DynamicClient(api, discoverer=_NoDiscovery))

    @property
    def host(self) -> str:
        return str(self.dynamic.configuration.host)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str | None = None,
        accept: str | None = None,
        **params: Any,
    ) -> Any:
        """Send one request; the parsed JSON answer. Refusals raise KubeError."""
        self.requests[method] = self.requests.get(method, 0) + 1
        headers = {"Accept": accept} if accept else {}
        try:
            response = self.dynamic.request(
                method,
                path,
                body=body,
                content_type=content_type,
                header_params=headers,
                serialize=False,
                _request_timeout=REQUEST_TIMEOUT,
                **params,
            )
        except DynamicApiError as error:
            status, reason, message, details = _status_of(error)
            raise KubeError(message, status, reason, details) from None
        except Exception as error:  # noqa: BLE001 - connection errors come in urllib3's and the client's types
            raise KubeError(f"{type(error).__name__}: {error}") from None
        data = response.data
        return json.loads(data) if data else {}

    def get(self, path: str) -> dict | None:
        """The object at path, or None when it does not exist."""
        try:
            return self.request("GET", path)
        except KubeError as error:
            if error.status == 404:
                return None
            raise

    def list(self, path: str, **params: Any) -> list[dict]:
        """Every object of a collection path, all pages."""
        items: list[dict] = []
        token = None
        while True:
            answer = (
                self.request("GET", path, _continue=token, **params) if token else self.request("GET", path, **params)
            )
            items.extend(answer.get("items") or [])
            token = (answer.get("metadata") or {}).get("continue")
            if not token:
                return items

    def apply(self, path: str, obj: dict, field_manager: str, force: bool = True, dry_run: bool = False) -> dict:
        """Server-side apply of one object (a JSON body is YAML too)."""
        params: dict[str, Any] = {"field_manager": field_manager, "force_conflicts": "true" if force else None}
        if dry_run:
            params["dry_run"] = "All"
        return self.request("PATCH", path, body=json.dumps(obj), content_type="application/apply-patch+yaml", **params)

    def delete(self, path: str, dry_run: bool = False, propagation: str = "Background") -> dict | None:
        """Delete one object; None when it was already gone."""
        params: dict[str, Any] = {"propagation_policy": propagation}
        if dry_run:
            params["dry_run"] = "All"
        try:
            return self.request("DELETE", path, **params)
        except KubeError as error:
            if error.status == 404:
                return None
            raise
