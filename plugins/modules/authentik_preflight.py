#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: authentik_preflight
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Check what the authentik role needs before it writes, and choose the names of its objects
description:
  - Reads only. Fails with one message naming the variable to fix when the cluster preflight did not
    run, when O(verify_httproute) is true but the cluster serves no Gateway API HTTPRoute, when the
    namespace of the blueprint ConfigMap does not exist (O(delivery=configmap)), when Authentik's API
    cannot be read, when an object of another deployment would be taken over, or when the shared
    outpost O(shared_outpost) is no proxy outpost of Authentik.
  - Chooses the names of the deployment's objects in Authentik - the given ones, the former defaults
    of a deployment made before names were derived, or names derived from O(external_host) - and
    returns them in RV(names).
options:
  external_host:
    description: MLflow's public host name.
    type: str
    required: true
  owner:
    description: This deployment's identity, written to its blueprint's label C(homelab.mlflow/deployment).
    type: str
    required: true
  names:
    description:
      - The names given (empty to choose).
      - Keys V(blueprint), V(provider), V(application_slug), V(outpost), V(configmap).
    type: dict
    default: {}
  take_over:
    description: Take over objects another deployment's blueprint manages, with a warning each.
    type: bool
    default: false
  delivery:
    description: How the blueprint reaches Authentik.
    type: str
    choices: [api, configmap]
    default: api
  configmap_namespace:
    description: The namespace of the blueprint ConfigMap (O(delivery=configmap)).
    type: str
    default: authentik
  shared_outpost:
    description: The name of the shared outpost that serves the provider; unset for a dedicated outpost.
    type: str
  outpost_setting:
    description: The value of C(authentik_outpost), for the message about a missing shared outpost.
    type: str
    default: dedicated
  verify_httproute:
    description: Whether verify checks the outpost's HTTPRoute, which needs the Gateway API.
    type: bool
    default: true
  gateway:
    description: The gateway (namespace/name) the message about a missing Gateway API names.
    type: str
    default: ""
extends_documentation_fragment:
  - homelab.mlflow.authentik.if_given
  - homelab.mlflow.authentik
  - homelab.mlflow.kubernetes
  - homelab.mlflow.attributes
  - homelab.mlflow.attributes.controller
attributes:
  check_mode:
    details: Reads only, as in a real run.
"""

EXAMPLES = r"""
- name: Check the cluster and Authentik, and choose the names of the SSO objects
  homelab.mlflow.authentik_preflight:
    host: https://authentik.example.com
    token: "{{ authentik_token }}"
    external_host: mlflow.example.com
    owner: mlflow at mlflow.example.com
  register: sso
"""

RETURN = r"""
names:
  description: The names to use, by key (blueprint, provider, application_slug, outpost, configmap).
  returned: success
  type: dict
  sample: {blueprint: mlflow-mlflow-example-com, provider: mlflow-mlflow-example-com}
conflicts:
  description: The objects of another deployment taken over (with O(take_over)).
  returned: success
  type: list
  elements: str
"""
