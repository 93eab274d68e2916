#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: onepassword_item_info
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Read fields of 1Password items
description:
  - Reads fields of 1Password items through the onepassword-sdk (service account) or a
    1Password Connect server, named by O(vault), O(item) and O(fields) or by C(op://) O(references).
  - Changes nothing, so it runs the same in check mode.
  - Its result is always hidden from the output as with C(no_log), at every verbosity; the values
    are in the registered variable only. Failures stay visible, as they hold no secret.
  - The module runs where the task runs; delegate it to the controller (or use
    C(ansible_connection=local)) when 1Password is reached from there.
requirements:
  - onepassword-sdk (for O(backend=sdk))
options:
  vault:
    description:
      - The name or ID of the vault holding O(item).
      - Required with O(item) and O(fields); cannot be used with O(references).
    type: str
  item:
    description:
      - The title or ID of the item to read.
    type: str
  fields:
    description:
      - The fields of O(item) to read, each a label or ID, or C(section/field) for a field in a
        section.
      - With O(backend=connect), a field outside every section is preferred over fields in sections
        with the same label; with O(backend=sdk), 1Password resolves the name.
    type: list
    elements: str
  references:
    description:
      - Secret references C(op://<vault>/<item>/<field>) or C(op://<vault>/<item>/<section>/<field>)
        to read instead of O(vault), O(item) and O(fields). They may name fields of several items.
    type: list
    elements: str
extends_documentation_fragment:
  - homelab.mlflow.onepassword
  - homelab.mlflow.attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  platform:
    platforms: posix
  action:
    support: full
    details: The action hides the result from the output.
  async:
    support: none
  bypass_host_loop:
    support: none
seealso:
  - plugin: homelab.mlflow.onepassword
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Read the database credentials with a service account (OP_SERVICE_ACCOUNT_TOKEN is set)
  homelab.mlflow.onepassword_item_info:
    vault: Homelab
    item: mlflow-postgres
    fields:
      - username
      - password
      - connection/host
  register: postgres_credentials

- name: Use them (the values are in the registered variable)
  ansible.builtin.set_fact:
    postgres_host: "{{ postgres_credentials.fields['connection/host'] }}"

- name: Read fields of several items from a Connect server
  homelab.mlflow.onepassword_item_info:
    backend: connect
    connect_host: http://onepassword-connect.onepassword.svc:8080
    connect_token: "{{ vault_onepassword_connect_token }}"
    references:
      - op://Homelab/mlflow-postgres/password
      - op://Homelab/mlflow-s3/secret access key
  register: mlflow_secrets
"""

RETURN = r"""
fields:
  description:
    - The values read, by field as asked for - the entries of O(fields), or the O(references)
      themselves.
    - Hidden from the output; read it from the registered variable.
  returned: success
  type: dict
  sample:
    username: mlflow
    password: VALUE_HIDDEN
    connection/host: mlflow-postgres-rw.mlflow.svc
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.clients import client_from_params
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import OnePasswordError
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.options import ONEPASSWORD_ARG_SPEC
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.sdk_backend import (
    HAS_ONEPASSWORD_SDK,
    ONEPASSWORD_SDK_IMPORT_ERROR,
)


def main():
    argument_spec = dict(
        ONEPASSWORD_ARG_SPEC,
        vault=dict(type="str"),
        item=dict(type="str"),
        fields=dict(type="list", elements="str"),
        references=dict(type="list", elements="str"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("references", "vault"), ("references", "item"), ("references", "fields")],
        required_together=[("vault", "item", "fields")],
        required_one_of=[("references", "vault")],
        supports_check_mode=True,
    )
    params = module.params
    if params["backend"] == "sdk" and not HAS_ONEPASSWORD_SDK:
        module.fail_json(msg=missing_required_lib("onepassword-sdk"), exception=ONEPASSWORD_SDK_IMPORT_ERROR)
    if params["references"] == [] or params["fields"] == []:
        module.fail_json(msg="name at least one field to read (fields or references)")
    try:
        client = client_from_params(params)
        if params["references"] is not None:
            values = client.read(params["references"])
            fields = dict(zip(params["references"], values, strict=True))
        else:
            fields = client.read_item(params["vault"], params["item"], params["fields"])
    except OnePasswordError as err:
        # The message names what is missing and holds no value or token; the exception's
        # traceback is left out as the SDK's own errors could be in its chain.
        module.fail_json(msg=str(err))
    module.exit_json(changed=False, fields=fields)


if __name__ == "__main__":
    main()
