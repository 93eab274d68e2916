# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The values homelab.mlflow.authentik checks: the API settings, URLs, slugs, names and Kubernetes names.

The API token is a secret: only whether it is set is looked at.
"""

from __future__ import annotations

import re

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.names import is_dns_label
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.roles.mlflow import external_host_problem
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import (
    Problem,
    as_bool,
    as_int,
    as_json,
    as_text,
)

_URL = re.compile(r"https?://[^/\s?#]+(/\S*)?")
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
# A name without leading or trailing spaces.
_NAME = re.compile(r"\S(.*\S)?")
NAME_LENGTH = 255
# (variable, example, optional unless) of each URL: optional unless the value of that variable is true.
URLS = (
    ("authentik_host", "https://authentik.example.com", "__authentik_api_needed"),
    ("authentik_application_launch_url", "https://mlflow.example.com", None),
    ("authentik_verify_url", "https://mlflow.example.com", "authentik_verify_http"),
)
FLOW_SLUGS = (
    (
        "authentik_authorization_flow_slug",
        "use the slug of an authorization flow (letters, digits, '-' and '_'), e.g. "
        "default-provider-authorization-implicit-consent or default-provider-authorization-explicit-consent",
    ),
    (
        "authentik_invalidation_flow_slug",
        "use the slug of an invalidation flow (letters, digits, '-' and '_'), e.g. default-provider-invalidation-flow",
    ),
    (
        "authentik_authentication_flow_slug",
        "use the slug of an authentication flow (letters, digits, '-' and '_'), e.g. default-authentication-flow",
    ),
)
# (variable, may be empty, what is allowed) of each name.
NAMES = (
    (
        "authentik_provider_name",
        True,
        "name the provider (no leading or trailing spaces), or leave it empty for a name derived from "
        "mlflow_external_host",
    ),
    ("authentik_application_name", False, "name the application (not empty, no leading or trailing spaces)"),
    (
        "authentik_blueprint_name",
        True,
        "name the blueprint (no leading or trailing spaces), or leave it empty for a name derived from "
        "mlflow_external_host",
    ),
    (
        "authentik_outpost",
        False,
        "use dedicated (an outpost of MLflow's own), embedded (Authentik's embedded outpost) or the name of an "
        "existing outpost that other applications share",
    ),
    (
        "authentik_dedicated_outpost_name",
        True,
        "name the dedicated outpost (no leading or trailing spaces), or leave it empty for a name derived from "
        "mlflow_external_host",
    ),
)
# (variable, may be empty) of each Kubernetes name.
KUBERNETES_NAMES = (
    ("authentik_outpost_namespace", False),
    ("authentik_blueprint_configmap_name", True),
    ("authentik_blueprint_configmap_namespace", False),
    ("mlflow_gateway_name", False),
    ("mlflow_gateway_namespace", False),
)


def problems(values) -> list[Problem]:
    return (
        external_host_problem(values, more=" The proxy provider answers on https://<it>.")
        + _api_problems(values)
        + _name_problems(values)
        + _route_problems(values)
    )


def _api_problems(values) -> list[Problem]:
    found = []
    timeout, retries = values["authentik_request_timeout"], values["authentik_retries"]
    if as_int(timeout) < 1 or not 0 <= as_int(retries) <= 10:
        found.append(
            Problem(
                "authentik_request_timeout",
                f"authentik_request_timeout is {as_text(timeout)} and authentik_retries is {as_text(retries)}: use a "
                "timeout of at least 1 second and from 0 to 10 retries.",
            )
        )
    for variable, example, required_when in URLS:
        value = values[variable]
        optional = required_when is None or not as_bool(values[required_when])
        if isinstance(value, str) and ((value == "" and optional) or _URL.fullmatch(value)):
            continue
        found.append(
            Problem(
                variable,
                f"{variable} is {as_json(value)}: give an http:// or https:// URL such as {example}"
                f"{' (or leave it empty)' if optional else ''}.",
            )
        )
    # The token itself is never shown: only whether it is set.
    if as_bool(values["__authentik_api_needed"]) and not _is_set(values["authentik_token"]):
        outpost = values["authentik_outpost"]
        why = (
            "authentik_delivery is api"
            if values["authentik_delivery"] == "api"
            else f"authentik_outpost is {as_json(outpost)}, a shared outpost"
        )
        found.append(
            Problem(
                "authentik_token",
                f"authentik_token is empty, but {why}, which needs Authentik's API: set authentik_token to an API "
                "token (intent API) of a user allowed to manage blueprints, providers, applications and outposts, "
                "for example read from 1Password with the lookup homelab.mlflow.onepassword "
                "(op://Vault/Authentik/api-token).",
            )
        )
    return found


def _is_set(token) -> bool:
    return isinstance(token, str) and len(token) > 0


def _is_name(value, pattern: re.Pattern, optional: bool) -> bool:
    if not isinstance(value, str) or len(value) > NAME_LENGTH:
        return False
    return (value == "" and optional) or pattern.fullmatch(value) is not None


def _name_problems(values) -> list[Problem]:
    checked = [
        (
            "authentik_application_slug",
            _SLUG,
            True,
            "use a slug of letters, digits, '-' and '_' (Authentik's slug pattern), e.g. mlflow, or leave it empty "
            "for a slug derived from mlflow_external_host",
        ),
        *((variable, _SLUG, False, allowed) for variable, allowed in FLOW_SLUGS),
        *((variable, _NAME, optional, allowed) for variable, optional, allowed in NAMES),
    ]
    found = [
        Problem(variable, f"{variable} is {as_json(values[variable])}: {allowed}.")
        for variable, pattern, optional, allowed in checked
        if not _is_name(values[variable], pattern, optional)
    ]
    found += [
        Problem(
            variable,
            f"{variable} is {as_json(values[variable])}: use a Kubernetes name (lower-case letters, digits and '-', "
            "at most 63 characters, starting and ending with a letter or digit).",
        )
        for variable, optional in KUBERNETES_NAMES
        if not (is_dns_label(values[variable]) or (optional and values[variable] == ""))
    ]
    regex = values["authentik_skip_path_regex"]
    if not isinstance(regex, str) or (regex.strip() and any(not line.strip() for line in regex.splitlines())):
        found.append(
            Problem(
                "authentik_skip_path_regex",
                f"authentik_skip_path_regex is {as_json(regex)}: give regular expressions of paths that need no "
                'login, one a line and no empty lines, e.g. "^/health$" (or leave it empty).',
            )
        )
    return found


def _route_problems(values) -> list[Problem]:
    if values["authentik_provider_mode"] != "proxy" or not as_bool(values["mlflow_httproute_enabled"]):
        return []
    return [
        Problem(
            "mlflow_httproute_enabled",
            "mlflow_httproute_enabled is true, so homelab.mlflow.mlflow routes "
            f"{as_text(values['mlflow_external_host'])} straight to MLflow, past Authentik, while "
            "authentik_provider_mode is proxy and the outpost's HTTPRoute claims the same host. Set "
            "mlflow_httproute_enabled to false: the outpost then is the only way in.",
        )
    ]
