#!/usr/bin/python

# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: authentik_application_info
short_description: Read an Authentik application, its proxy provider and the outposts that serve it
version_added: 0.1.0
author: homelab.mlflow maintainers (!UNKNOWN)
description:
  - Reads the application with a given slug, the proxy provider it uses and every outpost that
    serves that provider; optionally also a named outpost and a blueprint instance.
  - Reads only; what it returns shows whether the three are linked (the application's provider
    is the provider, the outposts list it).
  - A missing application is no error; RV(exists) says whether there is one.
options:
  slug:
    description:
      - The application's slug.
    type: str
    required: true
  outpost:
    description:
      - Name of an outpost to return as well, as RV(outpost), whether it serves the provider or not.
    type: str
  blueprint:
    description:
      - Name of a blueprint instance to return as well, as RV(blueprint), for example to check that
        its last apply was successful.
    type: str
extends_documentation_fragment:
  - homelab.mlflow.authentik
  - homelab.mlflow.attributes
attributes:
  check_mode:
    details: The module only reads.
notes:
  - Needs a token whose user may view applications, proxy providers and outposts (and blueprint
    instances with O(blueprint)). Applications are listed in full, not only those the user may open.
seealso:
  - module: homelab.mlflow.authentik_blueprint
  - module: homelab.mlflow.authentik_outpost_provider
"""

EXAMPLES = r"""
- name: Read MLflow's application in Authentik
  homelab.mlflow.authentik_application_info:
    host: https://authentik.example.com
    token: "{{ authentik_token }}"
    slug: mlflow
    blueprint: homelab.mlflow-mlflow
  register: mlflow_sso

- name: Check that application, provider and outpost are linked
  ansible.builtin.assert:
    that:
      - mlflow_sso.exists
      - mlflow_sso.application.provider == mlflow_sso.provider.pk
      - mlflow_sso.outposts | length > 0
      - mlflow_sso.blueprint.status == 'successful'
"""

RETURN = r"""
exists:
  description: Whether Authentik has an application with the slug.
  returned: always
  type: bool
  sample: true
application:
  description: The application; empty when there is none.
  returned: always
  type: dict
  contains:
    pk:
      description: The application's UUID.
      type: str
    slug:
      description: The application's slug.
      type: str
      sample: mlflow
    name:
      description: The application's name.
      type: str
      sample: MLflow
    group:
      description: The application's group.
      type: str
    meta_launch_url:
      description: The launch URL set on the application.
      type: str
      sample: https://mlflow.example.com
    launch_url:
      description: The URL the application is launched with (the provider's when none is set).
      type: str
    provider:
      description: Primary key of the application's provider; null when it has none.
      type: int
      sample: 7
provider:
  description: The application's proxy provider; empty when it has none.
  returned: always
  type: dict
  contains:
    pk:
      description: The provider's primary key.
      type: int
    name:
      description: The provider's name.
      type: str
    mode:
      description: C(proxy), C(forward_single) or C(forward_domain).
      type: str
    external_host:
      description: The URL the provider answers on.
      type: str
    internal_host:
      description: The URL the provider forwards to (proxy mode).
      type: str
    intercept_header_auth:
      description: Whether the provider authenticates requests by their Authorization header.
      type: bool
    skip_path_regex:
      description: Regular expressions (one a line) of paths that need no authentication.
      type: str
    authorization_flow:
      description: UUID of the authorization flow.
      type: str
    invalidation_flow:
      description: UUID of the invalidation flow.
      type: str
    authentication_flow:
      description: UUID of the authentication flow; null when Authentik's default is used.
      type: str
    assigned_application_slug:
      description: Slug of the application that uses the provider.
      type: str
outposts:
  description: The outposts that serve the provider, each with C(pk), C(name), C(type), C(managed),
    C(providers), C(provider_names) and C(config).
  returned: always
  type: list
  elements: dict
outpost:
  description: The outpost named by O(outpost), with the same fields; empty when not asked for or not found.
  returned: always
  type: dict
blueprint:
  description:
    - The blueprint instance named by O(blueprint) (C(pk), C(name), C(status), C(enabled), C(last_applied),
      C(last_applied_hash)); empty when not asked for or not found.
  returned: always
  type: dict
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.applications import application_info
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.client import client_from_params
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.options import AUTHENTIK_COMMON_ARGS
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.sdk import (
    AUTHENTIK_CLIENT_IMPORT_ERROR,
    HAS_AUTHENTIK_CLIENT,
)


def argument_spec():
    spec = copy.deepcopy(AUTHENTIK_COMMON_ARGS)
    spec.update(
        slug={"type": "str", "required": True},
        outpost={"type": "str"},
        blueprint={"type": "str"},
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_AUTHENTIK_CLIENT:
        module.fail_json(msg=missing_required_lib("authentik-client"), exception=AUTHENTIK_CLIENT_IMPORT_ERROR)

    params = module.params
    try:
        client = client_from_params(params)
        result = application_info(client, params["slug"], outpost=params["outpost"], blueprint=params["blueprint"])
    except AuthentikError as err:
        module.fail_json(msg=err.message)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
