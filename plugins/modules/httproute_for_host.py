#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: httproute_for_host
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Wait until an HTTPRoute of a namespace answers on a host
description:
  - Reads the Gateway API HTTPRoutes of O(namespace) until one has O(host) among its hostnames, for
    at most O(timeout) seconds, and fails otherwise with O(msg) added. For routes another controller
    writes, such as Authentik's outpost controller.
  - Reads only; in check mode it reads once.
options:
  namespace: {description: The namespace of the routes., type: str, required: true}
  host: {description: The host name a route must answer on., type: str, required: true}
  timeout: {description: Seconds to wait., type: int, default: 60}
  msg: {description: "What to do, added to the failure message.", type: str, default: ""}
extends_documentation_fragment:
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  check_mode:
    details: Reads once, without waiting.
"""

EXAMPLES = r"""
- name: Check that an HTTPRoute of the outpost answers on the external host
  homelab.mlflow.httproute_for_host:
    namespace: authentik
    host: mlflow.example.com
"""

RETURN = r"""
routes:
  description: The names of the routes that answer on the host.
  returned: always
  type: list
  elements: str
"""
