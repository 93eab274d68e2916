#!/usr/bin/python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the action plugin of the same name does the work, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: postgres_credentials
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.2.0
short_description: Read the database owner's credentials from 1Password and check them
description:
  - Reads two fields of a 1Password item with M(homelab.mlflow.onepassword_item_info) (a service account
    through the 1Password SDK, or a 1Password Connect server), once, and checks that the password field
    holds a password and the user name field the database owner's name.
  - A result that holds the values is hidden, as C(no_log) would hide it, at every verbosity. A failure
    holds no value and names the variables of homelab.mlflow.postgres to fix
    (C(postgres_onepassword_item), C(postgres_onepassword_vault), the field variables, C(postgres_owner)).
  - Used by homelab.mlflow.postgres for the credentials sources C(onepassword_sdk) and C(onepassword_connect).
options:
  source:
    description: The credentials source, as C(postgres_credentials_source).
    type: str
    required: true
    choices: [onepassword_connect, onepassword_sdk]
  vault:
    description: The vault of the item.
    type: str
    required: true
  item:
    description: The item's title or ID.
    type: str
    required: true
  username_field:
    description: The field holding the user name.
    type: str
    default: username
  password_field:
    description: The field holding the password.
    type: str
    default: password
  owner:
    description: The database owner's user name, which the user name field must hold.
    type: str
    required: true
  service_account_token:
    description: As in M(homelab.mlflow.onepassword_item_info); else C(OP_SERVICE_ACCOUNT_TOKEN).
    type: str
  connect_host:
    description: As in M(homelab.mlflow.onepassword_item_info); else C(OP_CONNECT_HOST).
    type: str
  connect_token:
    description: As in M(homelab.mlflow.onepassword_item_info); else C(OP_CONNECT_TOKEN).
    type: str
  timeout:
    description: As in M(homelab.mlflow.onepassword_item_info) (seconds one answer may take).
    type: float
  retries:
    description: As in M(homelab.mlflow.onepassword_item_info) (repeats after a failure that may pass).
    type: int
extends_documentation_fragment:
  - homelab.mlflow.attributes
attributes:
  platform:
    platforms: posix
seealso:
  - module: homelab.mlflow.onepassword_item_info
"""

EXAMPLES = r"""
- name: Read the database owner's credentials from 1Password
  homelab.mlflow.postgres_credentials:
    source: onepassword_connect
    vault: Homelab
    item: mlflow-postgres
    owner: mlflow
  register: credentials
"""

RETURN = r"""
fields:
  description: The two fields' values by field name (the result is hidden from every output).
  returned: success
  type: dict
"""
