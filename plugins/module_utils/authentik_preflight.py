# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The authentik role's read-only checks before the first write, as functions of what was read.

Each returns one message naming the variable to fix, or None. The action authentik_preflight
reads the cluster and Authentik and calls them in order; the first problem fails the host.
"""

from __future__ import annotations

import json

HTTPROUTE_API = "gateway.networking.k8s.io/v1"
CLUSTER_INFO = "cluster_preflight_cluster_info"


def cluster_info_problem(cluster_info) -> str | None:
    """The role reads the cluster's API list from the cluster_preflight role of the same play."""
    if isinstance(cluster_info, dict):
        return None
    return (
        "homelab.mlflow.authentik reads the cluster's API list from homelab.mlflow.cluster_preflight: "
        "run that role first in the same play (playbooks/site.yml does)."
    )


def httproute_problem(apis: dict, verify_httproute: bool, gateway: str) -> str | None:
    """The outpost's route is checked only where the cluster serves Gateway API HTTPRoutes."""
    if not verify_httproute or "HTTPRoute" in ((apis or {}).get(HTTPROUTE_API) or {}):
        return None
    return (
        "authentik_verify_httproute is true, but the cluster has no Gateway API HTTPRoute "
        f"({HTTPROUTE_API}) for the outpost's route: install the Gateway API CRDs and a gateway "
        f"({gateway}), or set authentik_verify_httproute to false."
    )


def configmap_namespace_problem(namespace: str, found: dict | None) -> str | None:
    """Authentik's blueprint sidecar only sees ConfigMaps of the namespace Authentik runs in."""
    if found is not None:
        return None
    return (
        f"authentik_blueprint_configmap_namespace is {namespace}, which does not exist: use the namespace "
        'Authentik runs in, whose blueprint sidecar picks up ConfigMaps labelled authentik_blueprint: "true".'
    )


def configmap_blueprints(configmap: dict | None) -> list[dict]:
    """The blueprints a ConfigMap holds, as authentik_names reads them: one per key, `.yaml` cut off."""
    data = (configmap or {}).get("data") or {}
    return [{"name": key.removesuffix(".yaml"), "content": value} for key, value in data.items()]


def unreadable(host: str, reason: str | None) -> str:
    return f"Authentik's API at {host} (authentik_host, authentik_token) cannot be read: {reason or 'no answer'}"


def shared_outpost_problem(outpost: dict, setting: str, name: str, host: str) -> str | None:
    """A shared outpost (the embedded one, or one that others use) must exist and be a proxy outpost."""
    if outpost and outpost.get("type") == "proxy":
        return None
    return (
        f"authentik_outpost is {json.dumps(setting)}, but Authentik at {host} has no proxy outpost named "
        f"{json.dumps(name)}: name an existing proxy outpost, use embedded (Authentik's embedded outpost), "
        "or dedicated (the blueprint creates an outpost for MLflow)."
    )
