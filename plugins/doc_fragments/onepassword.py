# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """How the plugins of homelab.mlflow connect to 1Password.

    DOCUMENTATION documents the options of ONEPASSWORD_ARG_SPEC (plugins/module_utils/onepassword/options.py);
    PLUGIN_SOURCES adds where a lookup takes them from (environment, variables).
    """

    DOCUMENTATION = r"""
options:
  backend:
    description:
      - How to reach 1Password.
      - V(sdk) uses the onepassword-sdk Python package with a service account token
        (O(service_account_token)).
      - V(connect) uses the REST API of a 1Password Connect server (O(connect_host), O(connect_token)).
    type: str
    choices: [sdk, connect]
    default: sdk
  service_account_token:
    description:
      - The service account token for O(backend=sdk).
      - If not set, the E(OP_SERVICE_ACCOUNT_TOKEN) environment variable is used.
    type: str
  connect_host:
    description:
      - The URL of the 1Password Connect server for O(backend=connect), for example
        C(http://onepassword-connect.onepassword.svc:8080).
      - If not set, the E(OP_CONNECT_HOST) environment variable is used.
    type: str
  connect_token:
    description:
      - The 1Password Connect access token for O(backend=connect).
      - If not set, the E(OP_CONNECT_TOKEN) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether to check the TLS certificate of an C(https://) O(connect_host).
      - Only for O(backend=connect).
    type: bool
    default: true
  retries:
    description:
      - How many times a request is repeated after 1Password answered that it is rate limited
        (HTTP 429) or failed in a way that may pass (HTTP 5xx, a timeout, a dropped connection).
      - V(0) gives up at the first such failure.
      - Retrying stops after 5 minutes in all, attempts and waits together, whatever is left of O(retries).
    type: int
    default: 5
  retry_delay:
    description:
      - Seconds to wait before the first retry. Each further retry waits twice as long, at most
        O(retry_max_delay), and a random part of the wait (up to half) is left out so that parallel
        runs do not retry in step.
      - A longer C(Retry-After) from Connect is honoured, up to O(retry_max_delay).
    type: float
    default: 1.0
  retry_max_delay:
    description:
      - The longest wait between two attempts, in seconds.
    type: float
    default: 30.0
  timeout:
    description:
      - Seconds to wait for one answer from 1Password before the attempt counts as failed (and
        is retried, see O(retries)).
    type: float
    default: 30.0
notes:
  - One client is signed in per set of credentials in a process and reused, and each item is
    read once however many of its fields are asked for (one batched C(resolve_all) with the SDK,
    one C(GET /v1/vaults/{vault}/items/{item}) with Connect). Service account tokens are rate limited
    (1,000 reads an hour, 10,000 on 1Password Business).
  - A vault or item name made of exactly 26 lower-case letters and digits is taken as its ID.
  - Error messages name the vault, item, section or field that is missing and list the labels of
    an item's fields, never a value or a token.
"""

    PLUGIN_SOURCES = r"""
options:
  backend:
    vars:
      - name: onepassword_backend
  service_account_token:
    env:
      - name: OP_SERVICE_ACCOUNT_TOKEN
    vars:
      - name: onepassword_service_account_token
  connect_host:
    env:
      - name: OP_CONNECT_HOST
    vars:
      - name: onepassword_connect_host
  connect_token:
    env:
      - name: OP_CONNECT_TOKEN
    vars:
      - name: onepassword_connect_token
"""
