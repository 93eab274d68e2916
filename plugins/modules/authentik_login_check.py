#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: authentik_login_check
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Check that MLflow's external URL sends a browser to Authentik and lets an API client in
description:
  - Asks O(url) without a login and follows the outpost's redirect to its own start path; the next
    redirect must lead to Authentik (the host of O(authentik_host) when given), not to O(external_host).
  - With O(username) and O(password), asks MLflow's API with HTTP Basic, which must answer 200 with MLflow's JSON.
  - Sends GET requests only and follows no other redirect.
options:
  url: {description: MLflow's external URL., type: str, required: true}
  external_host: {description: "MLflow's public host name, not to stay on.", type: str, required: true}
  authentik_host: {description: "Authentik's base URL, whose host the login must reach.", type: str, default: ""}
  validate_certs: {description: Whether TLS certificates are verified., type: bool, default: true}
  username: {description: "A user the application allows, for the API check.", type: str, default: ""}
  password:
    description: The user's app password (or API token); never logged or returned.
    type: str
    default: ""
extends_documentation_fragment:
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  check_mode:
    support: none
    details: The authentik role skips it in check mode.
"""

EXAMPLES = r"""
- name: Check the login at the external URL
  homelab.mlflow.authentik_login_check:
    url: https://mlflow.example.com
    external_host: mlflow.example.com
    authentik_host: https://authentik.example.com
"""

RETURN = r"""
login_url:
  description: Where a request without login was sent.
  returned: always
  type: str
  sample: https://authentik.example.com/application/o/authorize/?client_id=mlflow
"""
