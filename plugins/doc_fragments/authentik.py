# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The connection options of every homelab.mlflow module and plugin that talks to Authentik,
# declared once in plugins/module_utils/authentik/options.py (AUTHENTIK_COMMON_ARGS).

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  host:
    description:
      - Base URL of Authentik, for example V(https://authentik.example.com).
      - The API path C(/api/v3) is added when the URL does not end with it.
      - If not set, the environment variable E(AUTHENTIK_HOST) is used.
    type: str
    required: true
  token:
    description:
      - An Authentik API token (intent API) of a user allowed to do what the module does.
      - If not set, the environment variable E(AUTHENTIK_TOKEN) is used; export it before running
        C(ansible-playbook). Do not set it with the task keyword C(environment), whose values Ansible
        shows at C(-vvv).
      - Never logged or returned.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify Authentik's TLS certificate.
      - Turn off for testing only; set O(ca_path) for a certificate from a private CA instead.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file with the CA certificate(s) to verify Authentik's certificate with, instead of
        the system's trusted CAs.
    type: path
  request_timeout:
    description:
      - Seconds to wait for Authentik to answer one request before the try counts as failed.
    type: float
    default: 30
  retries:
    description:
      - How many more times a request is tried after a timeout, a connection error, HTTP 429 or
        a 5xx answer. V(0) tries once.
      - Other answers (a refused token, a missing permission, invalid data) are never retried.
      - Retrying stops after 5 minutes in all, tries and waits together, whatever is left of O(retries).
    type: int
    default: 5
  retry_delay:
    description:
      - Seconds to wait before the first retry; each further retry waits twice as long as the one
        before, at most 30 seconds, and a random part of the wait (up to half) is left out so that
        parallel runs do not retry in step. A longer C(Retry-After) from Authentik is respected, up
        to that limit.
    type: float
    default: 1
requirements:
  - authentik-client (the Python client of Authentik's API, same release line as the server)
notes:
  - The options O(host), O(token), O(validate_certs), O(ca_path), O(request_timeout), O(retries)
    and O(retry_delay) can be set for all Authentik modules of this collection at once with
    C(module_defaults) for the action group C(group/homelab.mlflow.authentik).
"""

    # Listed before homelab.mlflow.authentik by the actions that ask Authentik only when O(host) and
    # O(token) are both given (the authentik role's preflight and verify): the first fragment's keys win.
    IF_GIVEN = r"""
options:
  host:
    description:
      - Base URL of Authentik. With O(token) empty or unset, Authentik is not asked.
    type: str
    required: false
    default: ""
  token:
    description:
      - An Authentik API token; never logged or returned.
    type: str
    required: false
    default: ""
"""
