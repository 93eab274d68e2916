#!/usr/bin/python

# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: authentik_outpost_provider
short_description: Add a proxy provider to an existing Authentik outpost, keeping its other providers
version_added: 0.1.0
author: homelab.mlflow maintainers (!UNKNOWN)
description:
  - Makes an existing outpost (the embedded one, or any outpost that other applications share)
    serve a proxy provider, by adding the provider to the outpost's list of providers.
  - Only adds. The providers the outpost already serves stay; the module never removes one. A
    blueprint entry for the outpost would replace the whole list (Authentik does not merge list
    attributes), which is why a shared outpost is changed through the API instead.
  - Reports a change only when the provider was added.
options:
  outpost:
    description:
      - Name of the outpost, as Authentik shows it (compared case-insensitively), for example
        V(authentik Embedded Outpost).
      - The outpost must exist; the module does not create outposts.
    type: str
    required: true
  provider:
    description:
      - Name of the proxy provider to add.
      - The provider must exist, except in check mode, where a provider that a blueprint applied
        earlier in the same run would have created counts as added.
    type: str
    required: true
  wait_timeout:
    description:
      - Seconds to keep looking for a provider that does not exist yet, for a blueprint that
        Authentik applies in its own time (one a blueprint sidecar picked up from a ConfigMap).
      - V(0) looks once. Check mode always looks once.
    type: int
    default: 0
extends_documentation_fragment:
  - homelab.mlflow.authentik
  - homelab.mlflow.attributes
attributes:
  check_mode:
    details: Reads the outpost and the provider and reports whether the provider would be added; writes nothing.
  diff_mode:
    support: full
    details: Shows the names of the outpost's providers before and after, as YAML.
notes:
  - Needs a token whose user may view outposts and proxy providers and change outposts.
seealso:
  - module: homelab.mlflow.authentik_blueprint
  - module: homelab.mlflow.authentik_application_info
  - name: Authentik outposts
    description: What an outpost is and how Authentik deploys it.
    link: https://docs.goauthentik.io/add-secure-apps/outposts/
"""

EXAMPLES = r"""
- name: Serve MLflow's provider from the embedded outpost too
  homelab.mlflow.authentik_outpost_provider:
    host: https://authentik.example.com
    token: "{{ authentik_token }}"
    outpost: authentik Embedded Outpost
    provider: mlflow

- name: Add the provider to a shared outpost, with the connection of the whole group
  module_defaults:
    group/homelab.mlflow.authentik:
      host: https://authentik.example.com
      token: "{{ lookup('homelab.mlflow.onepassword', 'op://Homelab/Authentik/api-token') }}"
  homelab.mlflow.authentik_outpost_provider:
    outpost: homelab-proxy
    provider: mlflow
"""

RETURN = r"""
outpost:
  description:
    - The outpost after the run; in check mode, as it would be.
  returned: always
  type: dict
  contains:
    pk:
      description: The outpost's UUID.
      type: str
      sample: 0c4d1f5e-8b61-4b4b-9a8e-2f3c8f0d7a11
    name:
      description: The outpost's name.
      type: str
      sample: authentik Embedded Outpost
    type:
      description: The outpost's type.
      type: str
      sample: proxy
    managed:
      description: Set on outposts Authentik manages itself, such as the embedded one.
      type: str
      sample: goauthentik.io/outposts/embedded
    providers:
      description: The primary keys of the providers the outpost serves.
      type: list
      elements: int
      sample: [3, 7]
    provider_names:
      description: The names of the providers the outpost serves.
      type: list
      elements: str
      sample: [grafana, mlflow]
    config:
      description: The outpost's configuration.
      type: dict
      sample: {kubernetes_namespace: authentik}
provider:
  description:
    - The proxy provider; empty in check mode when it does not exist yet.
  returned: always
  type: dict
  contains:
    pk:
      description: The provider's primary key.
      type: int
      sample: 7
    name:
      description: The provider's name.
      type: str
      sample: mlflow
    external_host:
      description: The URL the provider answers on.
      type: str
      sample: https://mlflow.example.com
    mode:
      description: The provider's mode.
      type: str
      sample: proxy
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_yaml import HAS_YAML, YAML_IMPORT_ERROR
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.client import client_from_params
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.options import AUTHENTIK_COMMON_ARGS
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.outposts import ensure_outpost_provider
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.sdk import (
    AUTHENTIK_CLIENT_IMPORT_ERROR,
    HAS_AUTHENTIK_CLIENT,
)


def argument_spec():
    spec = copy.deepcopy(AUTHENTIK_COMMON_ARGS)
    spec.update(
        outpost={"type": "str", "required": True},
        provider={"type": "str", "required": True},
        wait_timeout={"type": "int", "default": 0},
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_AUTHENTIK_CLIENT:
        module.fail_json(msg=missing_required_lib("authentik-client"), exception=AUTHENTIK_CLIENT_IMPORT_ERROR)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)

    params = module.params
    try:
        client = client_from_params(params)
        result = ensure_outpost_provider(
            client,
            params["outpost"],
            params["provider"],
            check_mode=module.check_mode,
            wait_timeout=params["wait_timeout"],
        )
    except AuthentikError as err:
        module.fail_json(msg=err.message)

    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
