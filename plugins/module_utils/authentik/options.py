# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options of every module and plugin that talks to Authentik, declared once.

The doc fragment homelab.mlflow.authentik (plugins/doc_fragments/authentik.py) documents exactly
these; `module_defaults` for `group/homelab.mlflow.authentik` sets them for every such module.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

AUTHENTIK_COMMON_ARGS = {
    "host": {"type": "str", "required": True, "fallback": (env_fallback, ["AUTHENTIK_HOST"])},
    "token": {"type": "str", "required": True, "no_log": True, "fallback": (env_fallback, ["AUTHENTIK_TOKEN"])},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "request_timeout": {"type": "float", "default": 30.0},
    "retries": {"type": "int", "default": 5},
    "retry_delay": {"type": "float", "default": 1.0},
}
