# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options of every plugin that reads 1Password, declared once.

The doc fragment homelab.mlflow.onepassword documents exactly these.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

BACKENDS = ("sdk", "connect")

ONEPASSWORD_ARG_SPEC = dict(
    backend=dict(type="str", default="sdk", choices=list(BACKENDS)),
    service_account_token=dict(type="str", no_log=True, fallback=(env_fallback, ["OP_SERVICE_ACCOUNT_TOKEN"])),
    connect_host=dict(type="str", fallback=(env_fallback, ["OP_CONNECT_HOST"])),
    connect_token=dict(type="str", no_log=True, fallback=(env_fallback, ["OP_CONNECT_TOKEN"])),
    validate_certs=dict(type="bool", default=True),
    retries=dict(type="int", default=5),
    retry_delay=dict(type="float", default=1.0),
    retry_max_delay=dict(type="float", default=30.0),
    timeout=dict(type="float", default=30.0),
)
