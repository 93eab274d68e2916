"""The part of Authentik's outpost controller the fake stands in for: each outpost's HTTPRoute.

Authentik deploys an outpost that has a Kubernetes service connection into the cluster
(`kubernetes_namespace` of its config) and, when the config names Gateway API parents
(`kubernetes_httproute_parent_refs`), routes the external hosts of the outpost's providers to it
with an HTTPRoute `ak-outpost-<outpost name>`. Here only that HTTPRoute is written (no
Deployment, no Service), to a real API server given by a kubeconfig: it follows the outposts as
they change and goes when its outpost stops needing it.
"""

from __future__ import annotations

import re
import sys
from urllib.parse import urlsplit

GROUP, VERSION, PLURAL = "gateway.networking.k8s.io", "v1", "httproutes"
# Authentik's outpost controller listens on 9000 (HTTP) in every outpost pod.
OUTPOST_HTTP_PORT = 9000


def route_name(outpost_name: str) -> str:
    """Authentik names an outpost's Kubernetes objects `ak-outpost-<name as a DNS label>`."""
    return ("ak-outpost-" + re.sub(r"[^a-z0-9]+", "-", outpost_name.lower()).strip("-"))[:63].rstrip("-")


def desired_routes(outposts: dict, providers: dict) -> dict[tuple[str, str], dict]:
    """(namespace, name) -> HTTPRoute, for every outpost that has a service connection and parents."""
    routes = {}
    for outpost in outposts.values():
        config = outpost.get("config") or {}
        parents = config.get("kubernetes_httproute_parent_refs") or []
        if not outpost.get("service_connection") or not parents or outpost.get("type") != "proxy":
            continue
        hosts = []
        for pk in outpost["providers"]:
            host = urlsplit(providers.get(pk, {}).get("external_host") or "").hostname
            if host and host not in hosts:
                hosts.append(host)
        if not hosts:
            continue
        namespace = config.get("kubernetes_namespace") or "authentik"
        name = route_name(outpost["name"])
        routes[(namespace, name)] = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "HTTPRoute",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    "app.kubernetes.io/name": f"authentik-{outpost['type']}",
                    "app.kubernetes.io/instance": name[len("ak-outpost-") :] or "outpost",
                    "app.kubernetes.io/managed-by": "goauthentik.io",
                    "goauthentik.io/outpost-uuid": outpost["pk"].replace("-", ""),
                    "goauthentik.io/outpost-type": outpost["type"],
                },
            },
            "spec": {
                "parentRefs": [dict(parent) for parent in parents],
                "hostnames": hosts,
                "rules": [
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                        "backendRefs": [{"name": name, "port": OUTPOST_HTTP_PORT}],
                    }
                ],
            },
        }
    return routes


class RouteController:
    """Writes the outposts' HTTPRoutes to the cluster of a kubeconfig."""

    def __init__(self, kubeconfig: str):
        # Imported here: the fake runs without the kubernetes client when no cluster is given.
        from kubernetes import client, config

        self._client = client
        self.api = client.CustomObjectsApi(config.new_client_from_config(config_file=kubeconfig))
        self.written: dict[tuple[str, str], dict] = {}
        self.errors: list[str] = []

    def sync(self, outposts: dict, providers: dict) -> None:
        desired = desired_routes(outposts, providers)
        for key, route in desired.items():
            if self.written.get(key) != route:
                self._write(key, route)
        for key in [key for key in self.written if key not in desired]:
            self._delete(key)

    def remove_all(self) -> None:
        """Delete every HTTPRoute this controller wrote (tests clean up with it)."""
        for key in list(self.written):
            self._delete(key)

    def _write(self, key, route) -> None:
        namespace, name = key
        try:
            try:
                current = self.api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
            except self._client.exceptions.ApiException as exc:
                if exc.status != 404:
                    raise
                self.api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, route)
            else:
                body = {
                    **route,
                    "metadata": {**route["metadata"], "resourceVersion": current["metadata"]["resourceVersion"]},
                }
                self.api.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, body)
            self.written[key] = route
        except Exception as exc:  # noqa: BLE001 - reported, the API keeps answering
            self._error(f"cannot write HTTPRoute {namespace}/{name}: {exc}")

    def _delete(self, key) -> None:
        namespace, name = key
        try:
            self.api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        except self._client.exceptions.ApiException as exc:
            if exc.status != 404:
                self._error(f"cannot delete HTTPRoute {namespace}/{name}: {exc}")
                return
        self.written.pop(key, None)

    def _error(self, message: str) -> None:
        self.errors.append(message)
        print(f"fake Authentik outpost controller: {message}", file=sys.stderr)
