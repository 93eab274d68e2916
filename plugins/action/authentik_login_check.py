# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks the login at MLflow's external URL from the controller: a request without login is sent
to Authentik; with a username and app password, an API client gets in. Reads only.
The checks are in module_utils/authentik_login.py. See plugins/modules/authentik_login_check.py.
"""

from __future__ import annotations

import json
from urllib.error import HTTPError

from ansible.module_utils.urls import open_url

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik_login import (
    API_PROBE,
    Answer,
    base_url,
    basic_auth_problem,
    follows_to_start,
    login_url,
    redirect_problem,
)
from ansible_collections.homelab.mlflow.plugins.plugin_utils.controller_action import ControllerAction

ARGUMENT_SPEC = {
    "url": {"type": "str", "required": True},
    "external_host": {"type": "str", "required": True},
    "authentik_host": {"type": "str", "default": ""},
    "validate_certs": {"type": "bool", "default": True},
    "username": {"type": "str", "default": ""},
    "password": {"type": "str", "default": "", "no_log": True},
}
REQUEST_TIMEOUT = 30


def ask(url: str, validate_certs: bool, username: str = "", password: str = "") -> Answer:
    """One GET that follows no redirect."""
    auth = {"url_username": username, "url_password": password, "force_basic_auth": True} if username else {}
    try:
        with open_url(
            url, validate_certs=validate_certs, timeout=REQUEST_TIMEOUT, follow_redirects="none", **auth
        ) as answer:
            return Answer(answer.status, answer.headers.get("Location") or "", _json(answer.read()))
    except HTTPError as error:
        return Answer(error.code, (error.headers.get("Location") if error.headers else None) or "")
    except Exception as error:  # noqa: BLE001 - connection errors come in several types; the message says which
        return Answer(None, error=f"{type(error).__name__}: {error}")


def _json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None


class ActionModule(ControllerAction):
    _supports_check_mode = False

    def run(self, tmp=None, task_vars=None):
        result, _task_vars, args = self.begin(tmp, task_vars, ARGUMENT_SPEC)
        base = base_url(args["url"])
        anonymous = ask(f"{base}/", args["validate_certs"])
        start = ask(anonymous.location, args["validate_certs"]) if follows_to_start(anonymous) else None
        result.update(changed=False, status=anonymous.status, login_url=login_url(anonymous, start))
        problem = redirect_problem(base, anonymous, start, args["external_host"], args["authentik_host"])
        if problem is None and args["username"] and args["password"]:
            answer = ask(f"{base}{API_PROBE}", args["validate_certs"], args["username"], args["password"])
            result["api_status"] = answer.status
            problem = basic_auth_problem(base, answer, args["username"])
        if problem:
            result.update(failed=True, msg=problem)
        return result
