#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: authentik_verify
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Prove the authentik role's objects are in place and linked
description:
  - Reads only. With O(configmap), the blueprint ConfigMap must exist with the label
    C(authentik_blueprint=true) and hold the blueprint the role renders.
  - With O(host) and O(token), through Authentik's API - the blueprint O(blueprint) applied
    successfully, the application O(slug) uses the proxy provider O(provider_name), which answers on
    O(external_url) (and forwards to O(internal_host) in mode V(proxy)), and the outpost O(outpost)
    serves it.
  - With O(wait_timeout), Authentik is asked again until the application and the outpost are there
    (a blueprint sidecar applies a ConfigMap's blueprint in its own time).
options:
  configmap:
    description: The blueprint ConfigMap to check, and the blueprint it must hold under its key.
    type: dict
    suboptions:
      namespace: {description: Its namespace., type: str, required: true}
      name: {description: Its name., type: str, required: true}
      key: {description: The data key of the blueprint., type: str, required: true}
      blueprint: {description: The blueprint it must hold., type: str, required: true}
  slug: {description: The application's slug., type: str, required: true}
  outpost: {description: The outpost that serves the provider., type: str, required: true}
  blueprint: {description: The blueprint instance whose status must be successful., type: str}
  provider_name: {description: The proxy provider's name., type: str, required: true}
  mode: {description: The provider's mode., type: str, default: proxy}
  external_url: {description: The URL the provider answers on., type: str, required: true}
  internal_host: {description: Where a provider in mode V(proxy) forwards to., type: str, default: ""}
  intercept_header_auth: {description: Whether API clients get in with HTTP Basic., type: bool, default: true}
  wait_timeout: {description: Seconds to wait for the application and the outpost to appear., type: int, default: 0}
extends_documentation_fragment:
  - homelab.mlflow.authentik.if_given
  - homelab.mlflow.authentik
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  check_mode:
    details: Reads only, as in a real run; the authentik role skips it in check mode.
"""

EXAMPLES = r"""
- name: Check the blueprint and Authentik's objects
  homelab.mlflow.authentik_verify:
    host: https://authentik.example.com
    token: "{{ authentik_token }}"
    slug: mlflow
    outpost: mlflow
    blueprint: mlflow
    provider_name: mlflow
    external_url: https://mlflow.example.com
    internal_host: http://mlflow.mlflow.svc.cluster.local
"""

RETURN = r"""
checked:
  description: What was checked - V(configmap), V(api).
  returned: always
  type: list
  elements: str
application:
  description: The application as Authentik has it.
  returned: when the API was read
  type: dict
"""
