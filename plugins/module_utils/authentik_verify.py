# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The authentik role's read-only checks after apply, as functions of what was read.

Each returns one message that says what is wrong and what to do, or None. The action
authentik_verify reads the blueprint ConfigMap and Authentik's objects and calls them.
"""

from __future__ import annotations

import json

SUCCESSFUL = "successful"


def configmap_problem(configmap: dict | None, namespace: str, name: str, key: str, blueprint: str) -> str | None:
    """The ConfigMap must carry the sidecar's label and hold the blueprint the role renders."""
    metadata = (configmap or {}).get("metadata") or {}
    if (
        configmap is not None
        and (metadata.get("labels") or {}).get("authentik_blueprint") == "true"
        and ((configmap.get("data") or {}).get(key) or "") == blueprint
    ):
        return None
    return (
        f'The ConfigMap {namespace}/{name} is missing, lacks the label authentik_blueprint: "true", or its {key} '
        "is not the blueprint this role renders: run the role's apply."
    )


def found_everything(info: dict) -> bool:
    """Whether Authentik has the application and the outpost (the sidecar may not have applied yet)."""
    return bool(info.get("exists")) and bool(info.get("outpost"))


def blueprint_problem(info: dict, name: str) -> str | None:
    status = (info.get("blueprint") or {}).get("status") or "missing"
    if status == SUCCESSFUL:
        return None
    return (
        f"The blueprint {name} (authentik_blueprint_name) is {status} in Authentik, not successful: "
        "run the role's apply, which shows Authentik's log of a failed apply."
    )


def _url(value) -> str:
    return str(value or "").rstrip("/")


def link_problem(info: dict, expected: dict) -> str | None:
    """The application uses the provider, the provider answers as declared, the outpost serves it.

    expected: slug, outpost, provider_name, mode, external_url, internal_host, intercept_header_auth.
    """
    application, provider, outpost = (
        info.get("application") or {},
        info.get("provider") or {},
        info.get("outpost") or {},
    )
    proxy = expected["mode"] == "proxy"
    linked = (
        info.get("exists")
        and provider
        and application.get("provider") == provider.get("pk")
        and provider.get("name") == expected["provider_name"]
        and provider.get("mode") == expected["mode"]
        and _url(provider.get("external_host")) == expected["external_url"]
        and (not proxy or _url(provider.get("internal_host")) == expected["internal_host"])
        and provider.get("intercept_header_auth") == expected["intercept_header_auth"]
        and outpost
        and provider.get("pk") in (outpost.get("providers") or [])
    )
    if linked:
        return None
    forward = f" and forward to {expected['internal_host']}" if proxy else ""
    return (
        f"Authentik's objects for MLflow are not as the blueprint says: application {expected['slug']} "
        f"{json.dumps(application)}, provider {json.dumps(provider)}, outpost {json.dumps(expected['outpost'])} "
        f"{json.dumps(outpost)}. The application must use the provider, the provider answer on "
        f"{expected['external_url']}{forward}, and the outpost serve it: run the role's apply."
    )
