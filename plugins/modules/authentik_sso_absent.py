#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: authentik_sso_absent
short_description: Remove one MLflow deployment's proxy provider, application and outpost from Authentik
version_added: 0.1.0
author: homelab.mlflow maintainers (!UNKNOWN)
description:
  - Deleting a blueprint instance leaves the objects it created in Authentik. This module removes
    them for one deployment, before the blueprint itself goes (M(homelab.mlflow.authentik_blueprint)
    with O(homelab.mlflow.authentik_blueprint#module:state=absent)).
  - The proxy provider, the application and, with a dedicated outpost, the outpost of O(names) are
    deleted when they are this deployment's, that is when its blueprint (the one named O(names.blueprint),
    with the owner label O(owner)) declares them, or, with that blueprint gone, the provider answers on
    C(https://) O(external_host), the application uses that provider and the outpost serves nothing else.
  - An object that a blueprint of another deployment declares is never deleted, nor an outpost
    Authentik manages itself (the embedded one).
  - With a shared outpost (O(dedicated_outpost=false)), the outpost stays; only the provider is taken
    off the providers it serves.
extends_documentation_fragment:
  - homelab.mlflow.authentik
  - homelab.mlflow.attributes
attributes:
  check_mode:
    details: Reports what would be removed and removes nothing.
  diff_mode:
    support: full
options:
  names:
    description: The names as M(homelab.mlflow.authentik_sso_names) chose them.
    type: dict
    required: true
    suboptions:
      blueprint:
        description: The blueprint instance's name.
        type: str
        required: true
      provider:
        description: The proxy provider's name.
        type: str
        required: true
      application_slug:
        description: The application's slug.
        type: str
        required: true
      outpost:
        description: The outpost's name (the dedicated outpost, or the shared one to take the provider off).
        type: str
        required: true
  external_host:
    description: The deployment's public host name (C(mlflow_external_host)).
    type: str
    required: true
  owner:
    description: The deployment's identity, its blueprint's label C(homelab.mlflow/deployment).
    type: str
    required: true
  dedicated_outpost:
    description: Whether the outpost is the deployment's own (deleted) or shared (kept).
    type: bool
    default: true
seealso:
  - module: homelab.mlflow.authentik_blueprint
  - module: homelab.mlflow.authentik_sso_names
"""

EXAMPLES = r"""
- name: Remove this deployment's objects from Authentik
  homelab.mlflow.authentik_sso_absent:
    host: https://authentik.example.com
    token: "{{ authentik_token }}"
    names: "{{ sso_names.names }}"
    external_host: mlflow.example.com
    owner: mlflow at mlflow.example.com
"""

RETURN = r"""
actions:
  description: What was (in check mode, would be) removed, in order.
  returned: success
  type: list
  elements: dict
  sample:
    - {action: delete, object: application, name: mlflow-mlflow-example-com, pk: mlflow-mlflow-example-com}
skipped:
  description: Objects of the names that were kept, and why.
  returned: success
  type: list
  elements: str
route:
  description: The name of the HTTPRoute Authentik's outpost controller writes for the dedicated outpost.
  returned: success
  type: str
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.client import client_from_params
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.options import AUTHENTIK_COMMON_ARGS
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.sdk import (
    AUTHENTIK_CLIENT_IMPORT_ERROR,
    HAS_AUTHENTIK_CLIENT,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.teardown import remove_sso

NAME_KEYS = ("blueprint", "provider", "application_slug", "outpost")


def argument_spec():
    spec = copy.deepcopy(AUTHENTIK_COMMON_ARGS)
    spec.update(
        names={
            "type": "dict",
            "required": True,
            "options": {key: {"type": "str", "required": True} for key in NAME_KEYS},
        },
        external_host={"type": "str", "required": True},
        owner={"type": "str", "required": True},
        dedicated_outpost={"type": "bool", "default": True},
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_AUTHENTIK_CLIENT:
        module.fail_json(msg=missing_required_lib("authentik-client"), exception=AUTHENTIK_CLIENT_IMPORT_ERROR)
    params = module.params
    try:
        client = client_from_params(params)
        result = remove_sso(
            client,
            params["names"],
            params["external_host"],
            params["owner"],
            dedicated=params["dedicated_outpost"],
            check_mode=module.check_mode,
        )
    except AuthentikError as err:
        module.fail_json(msg=err.message)
    diff = result.pop("diff")
    if module._diff and result["changed"]:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
