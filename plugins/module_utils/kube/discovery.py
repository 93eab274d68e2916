# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which kinds the cluster serves, and where.

Read once per run and target (homelab.mlflow.k8s_cluster_info), in two requests with aggregated
discovery (Kubernetes 1.30 and later), or group by group from an older server. The result has the
shape of kubernetes.core.k8s_cluster_info's `apis` (group version, then kind), so a role checks
`cluster_preflight_cluster_info.apis['gateway.networking.k8s.io/v1'].HTTPRoute is defined`, and the
engine's tasks take it as their map from kind to resource path: no discovery per task.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube, KubeError

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"


class UnknownKind(KubeError):
    """A kind the cluster does not serve (its CRD or API is missing)."""


def _entry(
    name: str,
    namespaced: bool,
    preferred: bool,
    singular: str = "",
    short: list | None = None,
    categories: list | None = None,
) -> dict:
    return {
        "name": name,
        "namespaced": namespaced,
        "preferred": preferred,
        "singular_name": singular,
        "short_names": list(short or []),
        "categories": list(categories or []),
    }


def _from_aggregated(document: dict, apis: dict) -> None:
    for group in document.get("items") or []:
        group_name = (group.get("metadata") or {}).get("name") or ""
        for index, version in enumerate(group.get("versions") or []):
            group_version = f"{group_name}/{version['version']}" if group_name else version["version"]
            kinds = apis.setdefault(group_version, {})
            for resource in version.get("resources") or []:
                kind = (resource.get("responseKind") or {}).get("kind")
                if not kind or kind in kinds:
                    continue
                kinds[kind] = _entry(
                    resource["resource"],
                    resource.get("scope") == "Namespaced",
                    index == 0,
                    resource.get("singularResource", ""),
                    resource.get("shortNames"),
                    resource.get("categories"),
                )


def _from_resource_list(document: dict, group_version: str, preferred: bool, apis: dict) -> None:
    kinds = apis.setdefault(group_version, {})
    for resource in document.get("resources") or []:
        if "/" in resource.get("name", "") or resource.get("kind") in kinds:
            continue  # a subresource (deployments/scale), not a kind of its own
        kinds[resource["kind"]] = _entry(
            resource["name"],
            bool(resource.get("namespaced")),
            preferred,
            resource.get("singularName", ""),
            resource.get("shortNames"),
            resource.get("categories"),
        )


def discover(kube: Kube) -> dict:
    """Every group version the server serves, with its kinds: {group_version: {kind: entry}}."""
    apis: dict = {}
    core = kube.request("GET", "/api", accept=AGGREGATED)
    if core.get("kind") == "APIGroupDiscoveryList":
        _from_aggregated(core, apis)
        _from_aggregated(kube.request("GET", "/apis", accept=AGGREGATED), apis)
        return apis
    # An older server: the legacy documents, one request per group version.
    for version in core.get("versions") or ["v1"]:
        _from_resource_list(kube.request("GET", f"/api/{version}"), version, True, apis)
    for group in kube.request("GET", "/apis").get("groups") or []:
        preferred = (group.get("preferredVersion") or {}).get("groupVersion")
        for version in group.get("versions") or []:
            group_version = version["groupVersion"]
            _from_resource_list(
                kube.request("GET", f"/apis/{group_version}"), group_version, group_version == preferred, apis
            )
    return apis


@dataclass(frozen=True)
class Resource:
    """Where the objects of one kind live."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


class Resources:
    """The kinds of discover()'s result, by apiVersion and kind."""

    def __init__(self, apis: dict):
        self.apis = apis or {}

    def serves(self, api_version: str, kind: str) -> bool:
        return kind in (self.apis.get(api_version) or {})

    def api_version_of(self, kind: str) -> str:
        """The preferred group version serving a kind, when exactly one group serves it."""
        groups = {gv.rsplit("/", 1)[0] if "/" in gv else "" for gv, kinds in self.apis.items() if kind in kinds}
        if len(groups) != 1:
            found = ", ".join(sorted(gv for gv, kinds in self.apis.items() if kind in kinds)) or "none"
            raise UnknownKind(
                f"Cannot tell which API serves {kind} (found: {found}): name its api_version", 404, "NotFound"
            )
        versions = [gv for gv, kinds in self.apis.items() if kind in kinds]
        preferred = [gv for gv in versions if self.apis[gv][kind].get("preferred")]
        return (preferred or versions)[0]

    def get(self, api_version: str, kind: str) -> Resource:
        entry = (self.apis.get(api_version) or {}).get(kind)
        if not entry:
            raise UnknownKind(
                f"The cluster does not serve {kind} of {api_version}: its API (or CustomResourceDefinition) is missing",
                404,
                "NotFound",
            )
        return Resource(api_version, kind, entry["name"], bool(entry["namespaced"]))
