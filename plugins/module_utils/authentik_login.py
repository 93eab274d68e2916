# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a browser and an API client meet at MLflow's external URL behind Authentik's outpost.

A request without a session is redirected to the outpost's own start path, which redirects to
Authentik's authorization endpoint; a request with HTTP Basic and an app password reaches MLflow's
API. The functions judge answers (`Answer`); the action authentik_login_check sends the requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# The outpost's own paths: its start path sends a browser on to Authentik.
OUTPOST_PATH = "/outpost.goauthentik.io/"
API_PROBE = "/api/2.0/mlflow/experiments/search?max_results=1"
HINT = (
    "Is the outpost running and its HTTPRoute attached to the gateway? Set authentik_verify_http to false "
    "where this machine cannot reach the external URL."
)


@dataclass(frozen=True)
class Answer:
    """One answer: status None when nothing answered (error says why), location of a redirect."""

    status: int | None
    location: str = ""
    json: object = None
    error: str = ""


def base_url(url: str) -> str:
    return url.rstrip("/")


def follows_to_start(answer: Answer) -> bool:
    """The outpost's first redirect goes to its own start path, which is asked next."""
    return OUTPOST_PATH in answer.location


def login_url(anonymous: Answer, start: Answer | None) -> str:
    return (start.location if start is not None else anonymous.location) or ""


def _hostname(url: str) -> str:
    return urlsplit(url).hostname or ""


def redirect_problem(
    base: str, anonymous: Answer, start: Answer | None, external_host: str, authentik_host: str
) -> str | None:
    """A request without login must end at Authentik (its host, when known), not at MLflow."""
    target = login_url(anonymous, start)
    if (
        re.match(r"^https?://", target)
        and _hostname(target) != external_host
        and (not authentik_host or _hostname(target) == _hostname(authentik_host))
    ):
        return None
    answered = "nothing" if anonymous.status is None else str(anonymous.status)
    if anonymous.status is None and anonymous.error:
        answered += f" {anonymous.error}"
    sending = f", sending to {target}" if target else ""
    which = f" ({authentik_host})" if authentik_host else ""
    return (
        f"{base}/ (authentik_verify_url) answered {answered}{sending}: a request without login must be "
        f"redirected to Authentik{which}. {HINT}"
    )


def basic_auth_problem(base: str, answer: Answer, username: str) -> str | None:
    """An API client with an app password gets MLflow's own JSON answer."""
    if answer.status == 200 and isinstance(answer.json, dict):
        return None
    answered = "nothing" if answer.status is None else str(answer.status)
    return (
        f"MLflow's API at {base} (authentik_verify_url) answered {answered} to HTTP Basic with "
        f"authentik_verify_username {username} and its app password (authentik_verify_password), not 200 with "
        "MLflow's answer. API clients log in this way only with authentik_intercept_header_auth true and an app "
        "password (or API token) of a user the application allows."
    )
