#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: authentik_sso_names
short_description: Choose the names of a deployment's Authentik objects and refuse other deployments' objects
version_added: 0.1.0
author: homelab.mlflow maintainers (!UNKNOWN)
description:
  - Decides the names of the blueprint, proxy provider, application, dedicated outpost and blueprint
    ConfigMap of one MLflow deployment, and checks that none of them belongs to another deployment.
  - A name given in O(names) is used as it is. A name left empty is derived from O(external_host)
    (C(mlflow-) and the host with its dots as dashes, for example C(mlflow-mlflow-example-com)), so that two
    deployments behind one Authentik never share an object.
  - A deployment made when every name defaulted to C(mlflow) keeps those names. When Authentik has a
    blueprint called C(mlflow) that belongs to this deployment (its owner label is O(owner), or, written
    before that label existed, its provider answers on C(https://) O(external_host)), the names it used
    are kept. Nothing is renamed, duplicated or left behind.
  - Every blueprint instance Authentik has is read. An object that a blueprint of another deployment
    manages (a provider, application or outpost with the same identifier, or a blueprint with the same
    name) is a conflict - the module fails, naming the object, the blueprint and the variable to set,
    unless O(take_over) is true.
  - Reads only. Without O(host) and O(token), names are derived from O(blueprints) alone.
options:
  external_host:
    description: The deployment's public host name (C(mlflow_external_host)).
    type: str
    required: true
  owner:
    description:
      - Who the deployment is, as its blueprint's label C(homelab.mlflow/deployment) says
        (the role passes C(<namespace> at <external host>)).
    type: str
    required: true
  names:
    description:
      - The names as configured; an empty or missing one is chosen by the module.
    type: dict
    default: {}
    suboptions:
      blueprint:
        description: The blueprint instance's name (C(authentik_blueprint_name)).
        type: str
      provider:
        description: The proxy provider's name (C(authentik_provider_name)).
        type: str
      application_slug:
        description: The application's slug (C(authentik_application_slug)).
        type: str
      outpost:
        description: The dedicated outpost's name (C(authentik_dedicated_outpost_name)).
        type: str
      configmap:
        description: The blueprint ConfigMap's name (C(authentik_blueprint_configmap_name)).
        type: str
  dedicated_outpost:
    description: Whether the deployment has an outpost of its own (a shared outpost is no conflict).
    type: bool
    default: true
  blueprints:
    description:
      - Further blueprints to take into account, each with C(name) and C(content), for example those
        found in blueprint ConfigMaps when Authentik's API is not used. C(key) and C(value) (a ConfigMap's data
        as P(ansible.builtin.dict2items#filter) gives it) stand for C(name) and C(content); a name ending in
        C(.yaml), as ConfigMap keys do, counts without it.
    type: list
    elements: dict
    default: []
  take_over:
    description:
      - Take over objects that another deployment's blueprint manages - the conflicts become warnings.
    type: bool
    default: false
  host:
    description:
      - Base URL of Authentik, for example V(https://authentik.example.com); the API path C(/api/v3)
        is added when the URL does not end with it.
      - If not set, the environment variable E(AUTHENTIK_HOST) is used; with neither, Authentik is not read.
    type: str
    required: false
  token:
    description:
      - An Authentik API token of a user allowed to view blueprint instances.
      - If not set, the environment variable E(AUTHENTIK_TOKEN) is used; with neither, Authentik is not read.
      - Never logged or returned.
    type: str
    required: false
extends_documentation_fragment:
  - homelab.mlflow.authentik
  - homelab.mlflow.attributes
attributes:
  check_mode:
    details: The module only reads.
notes:
  - Needs a token whose user may view blueprint instances.
seealso:
  - module: homelab.mlflow.authentik_blueprint
"""

EXAMPLES = r"""
- name: Choose the SSO names of this deployment
  homelab.mlflow.authentik_sso_names:
    host: https://authentik.example.com
    token: "{{ authentik_token }}"
    external_host: mlflow.example.com
    owner: mlflow at mlflow.example.com
    names:
      blueprint: "{{ authentik_blueprint_name }}"
  register: sso_names
"""

RETURN = r"""
names:
  description: The names to use, with the keys of O(names).
  returned: success
  type: dict
  sample:
    blueprint: mlflow-mlflow-example-com
    provider: mlflow-mlflow-example-com
    application_slug: mlflow-mlflow-example-com
    outpost: mlflow-mlflow-example-com
    configmap: mlflow-mlflow-example-com-blueprint
adopted:
  description: Whether the names are the ones this deployment's blueprint has had since before names were derived.
  returned: success
  type: bool
conflicts:
  description: One message per object another deployment's blueprint manages (empty unless O(take_over)).
  returned: success
  type: list
  elements: str
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
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik_names import LEGACY_NAMES, resolve_names


def argument_spec():
    spec = copy.deepcopy(AUTHENTIK_COMMON_ARGS)
    for name in ("host", "token"):
        spec[name]["required"] = False
    spec.update(
        external_host={"type": "str", "required": True},
        owner={"type": "str", "required": True},
        names={
            "type": "dict",
            "default": {},
            "options": {key: {"type": "str"} for key in LEGACY_NAMES},
        },
        dedicated_outpost={"type": "bool", "default": True},
        blueprints={"type": "list", "elements": "dict", "default": []},
        take_over={"type": "bool", "default": False},
    )
    return spec


def _blueprint_name(name):
    return name[: -len(".yaml")] if isinstance(name, str) and name.endswith(".yaml") else name


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    # A ConfigMap key names its blueprint with `.yaml` added.
    blueprints = [
        {"name": _blueprint_name(b.get("name", b.get("key"))), "content": b.get("content", b.get("value"))}
        for b in params["blueprints"]
    ]
    if params["host"] and params["token"]:
        if not HAS_AUTHENTIK_CLIENT:
            module.fail_json(msg=missing_required_lib("authentik-client"), exception=AUTHENTIK_CLIENT_IMPORT_ERROR)
        try:
            client = client_from_params(params)
            blueprints += [{"name": b.name, "content": b.content} for b in client.blueprints()]
        except AuthentikError as err:
            module.fail_json(msg=err.message)

    names, adopted, conflicts = resolve_names(
        {key: (params["names"] or {}).get(key) or "" for key in LEGACY_NAMES},
        params["external_host"],
        params["owner"],
        blueprints,
        dedicated_outpost=params["dedicated_outpost"],
    )
    if conflicts and not params["take_over"]:
        module.fail_json(
            msg="Authentik objects of another deployment would be taken over: "
            + "; ".join(conflicts)
            + ". Nothing was written. To take them over on purpose, set authentik_take_over: true.",
            names=names,
            conflicts=conflicts,
        )
    for conflict in conflicts:
        module.warn(f"taking over (authentik_take_over): {conflict}")
    module.exit_json(changed=False, names=names, adopted=adopted, conflicts=conflicts)


if __name__ == "__main__":
    main()
