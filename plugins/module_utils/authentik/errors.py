# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Errors of the Authentik client, and what an answer of Authentik's says went wrong.

The messages are meant for the person running the play: a token that Authentik rejects, a token
without permission, an unreachable host (named), a request Authentik refuses (its validation
errors, one a line).
"""

from __future__ import annotations

import json

from ansible_collections.homelab.mlflow.plugins.module_utils.retry import tries

# Statuses worth another try: the server or a proxy in front of it is overloaded or restarting.
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))

# Details of the 403 answers Authentik (Django REST framework) gives when the token itself is
# refused, as opposed to a valid token whose user lacks a permission.
TOKEN_REFUSED_DETAILS = (
    "token invalid",
    "authentication credentials were not provided",
    "unsupported authentication type",
    "malformed header",
)


class AuthentikError(Exception):
    """A failed Authentik operation, with a message meant for the person running the play.

    `log` holds Authentik's own log lines when it gave any (a refused or failed blueprint),
    `status` the HTTP status when there was one, `blueprint` the instance when known.
    """

    def __init__(self, message, log=None, status=None, blueprint=None):
        super().__init__(message)
        self.message = message
        self.log = list(log or [])
        self.status = status
        self.blueprint = blueprint


def api_error(host, what, exc, attempts):
    """The AuthentikError for an error answer (authentik-client's ApiException) to the request to `what`."""
    status = exc.status
    detail = _error_detail(exc)
    if status == 0 and (exc.reason or "").startswith("SSLError"):
        # authentik-client turns TLS failures into status 0, the error's name first.
        return AuthentikError(
            f"TLS connection to Authentik at {host} failed while trying to {what}: "
            f"{(exc.reason or '').strip()}. Set ca_path to the CA that signed Authentik's certificate "
            "(or validate_certs: false, for testing only).",
            status=status,
        )
    if status == 401 or (status == 403 and _token_refused(detail)):
        return AuthentikError(
            f"Authentik at {host} refused the API token (HTTP {status}: {detail or exc.reason}). "
            "The token is invalid, expired or not an API token: set token (or AUTHENTIK_TOKEN) to an API "
            "token (intent API) of a user with the permissions this needs.",
            status=status,
        )
    if status == 403:
        return AuthentikError(
            f"the token's user may not {what} in Authentik at {host} (HTTP 403: {detail or exc.reason}). "
            "Grant it the permission (for example a role with the blueprint and outpost permissions).",
            status=status,
        )
    if status == 400:
        lines = _validation_lines(exc)
        return AuthentikError(
            f"Authentik at {host} refused the request to {what} (HTTP 400):\n" + "\n".join(lines),
            log=lines,
            status=status,
        )
    if status in RETRY_STATUSES:
        return AuthentikError(
            f"Authentik at {host} kept failing the request to {what} ({tries(attempts)}, "
            f"last answer HTTP {status} {exc.reason}){': ' + detail if detail else ''}",
            status=status,
        )
    return AuthentikError(
        f"Authentik at {host} answered the request to {what} with HTTP {status} {exc.reason}"
        f"{': ' + detail if detail else ''}",
        status=status,
    )


def unreachable_error(host, what, exc, attempts):
    """The AuthentikError for a connection that failed on every try (urllib3's HTTPError)."""
    return AuthentikError(
        f"cannot reach Authentik at {host} to {what} ({tries(attempts)}): {_connection_reason(exc)}. "
        "Check host, and that Authentik runs and this machine can reach it."
    )


def unreadable_error(host, what, exc):
    """The AuthentikError for a request or answer authentik-client cannot handle (pydantic's ValidationError)."""
    return AuthentikError(
        f"authentik-client could not handle the request to {what} at {host} or its answer "
        f"(an Authentik version the client does not match?): {exc}"
    )


def _connection_reason(exc):
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    # urllib3 prefixes the connection object's repr: keep the part after it.
    if "): " in text:
        text = text.split("): ", 1)[1]
    return text


def _json_body(exc):
    try:
        return json.loads(exc.body) if exc.body else None
    except (TypeError, ValueError):
        return None


def _error_detail(exc):
    body = _json_body(exc)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"]
    return ""


def _token_refused(detail):
    return any(marker in detail.lower() for marker in TOKEN_REFUSED_DETAILS)


def _validation_lines(exc):
    """Authentik's validation errors ({field: [messages]}) as lines: `field: message`."""
    body = _json_body(exc)
    if not isinstance(body, dict):
        return [(exc.body or exc.reason or "").strip()]
    lines = []
    for field, messages in body.items():
        if field == "code":
            continue
        for message in messages if isinstance(messages, list) else [messages]:
            prefix = "" if field in ("non_field_errors", "detail") else f"{field}: "
            lines.append(f"{prefix}{message}")
    return lines
