# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: onepassword
author: homelab.mlflow maintainers (!UNKNOWN)
version_added: 0.1.0
short_description: Read fields of 1Password items
description:
  - Returns the values of fields of 1Password items, in the order asked for, read through the
    onepassword-sdk (service account) or a 1Password Connect server.
  - The terms are secret references C(op://<vault>/<item>/<field>) or
    C(op://<vault>/<item>/<section>/<field>); or, with O(vault) and O(item), field names.
  - Runs on the controller. Values are secrets - set C(no_log) on tasks that use them.
requirements:
  - onepassword-sdk (for O(backend=sdk))
options:
  _terms:
    description:
      - Secret references C(op://...) to read.
      - With O(vault) and O(item), field names of that item instead (a label or ID, or
        C(section/field)); or leave the terms out and use O(fields).
    type: list
    elements: str
    required: false
  vault:
    description:
      - The name or ID of the vault holding O(item).
    type: str
  item:
    description:
      - The title or ID of the item whose fields to read.
    type: str
  fields:
    description:
      - The fields of O(item) to read, each a label or ID, or C(section/field).
      - Cannot be used together with terms.
    type: list
    elements: str
    aliases: [field]
extends_documentation_fragment:
  - homelab.mlflow.onepassword
  - homelab.mlflow.onepassword.plugin_sources
seealso:
  - module: homelab.mlflow.onepassword_item_info
"""

EXAMPLES = r"""
- name: Read one field with a service account (OP_SERVICE_ACCOUNT_TOKEN is set)
  ansible.builtin.set_fact:
    postgres_password: "{{ lookup('homelab.mlflow.onepassword', 'op://Homelab/mlflow-postgres/password') }}"
  no_log: true

- name: Read a field in a section, and fields of another item; one read per item
  ansible.builtin.set_fact:
    mlflow_secrets: >-
      {{ query('homelab.mlflow.onepassword',
               'op://Homelab/mlflow-postgres/connection/host',
               'op://Homelab/mlflow-s3/secret access key') }}
  no_log: true

- name: Name the item once and list its fields
  ansible.builtin.set_fact:
    postgres_login: >-
      {{ query('homelab.mlflow.onepassword', vault='Homelab', item='mlflow-postgres',
               fields=['username', 'password']) }}
  no_log: true

- name: Read from a 1Password Connect server
  ansible.builtin.set_fact:
    postgres_password: >-
      {{ lookup('homelab.mlflow.onepassword', 'op://Homelab/mlflow-postgres/password',
                backend='connect', connect_host='http://onepassword-connect.onepassword.svc:8080') }}
  no_log: true
  environment:
    OP_CONNECT_TOKEN: "{{ vault_onepassword_connect_token }}"
"""

RETURN = r"""
_raw:
  description:
    - The values of the fields, in the order of the terms (or of O(fields)).
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.clients import client_from_params
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import OnePasswordError
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.options import ONEPASSWORD_ARG_SPEC
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.references import (
    REFERENCE_PREFIX,
    SecretReference,
)


def lookup_references(terms, vault=None, item=None, fields=None):
    """The references the lookup reads: its terms, or the fields of `vault`/`item`."""
    terms = list(terms or [])
    if fields and terms:
        raise AnsibleLookupError("give the fields to read either as terms or as fields=, not both")
    if vault or item:
        if not (vault and item):
            raise AnsibleLookupError("vault and item go together: give both, or op:// references as terms")
        names = list(fields or terms)
        if not names:
            raise AnsibleLookupError(f"name the fields of item {item!r} to read, as terms or as fields=")
        references = [name for name in names if name.startswith(REFERENCE_PREFIX)]
        if references:
            raise AnsibleLookupError(
                f"with vault and item, the terms are field names, not references such as {references[0]}"
            )
        return [SecretReference.for_field(vault, item, name) for name in names]
    if fields:
        raise AnsibleLookupError("fields= needs vault= and item=")
    if not terms:
        raise AnsibleLookupError("nothing to read: give op:// references as terms, or vault, item and fields")
    return [SecretReference.parse(term) for term in terms]


def lookup_values(terms, options, where=""):
    """The values for `terms` with the lookup's `options` (a dict); raises AnsibleLookupError.

    Its messages name the references read (never a value) and `where` the lookup was written.
    """
    references = []
    try:
        references = lookup_references(terms, options.get("vault"), options.get("item"), options.get("fields"))
        return client_from_params(options).read(references)
    except OnePasswordError as err:
        reading = f"reading {', '.join(str(r) for r in references)}" if references else "the 1Password lookup"
        # The message is safe to show; the chain is not kept, as it may hold the SDK's own errors.
        raise AnsibleLookupError(f"{where}{reading}: {err}") from None


VARIABLE_LINE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*:")


def template_origin():
    """`variable (file:line): ` for the inventory or vars file that holds the template being rendered,
    or "" when Ansible does not say (its template context is internal, so this only ever adds detail)."""
    try:
        from ansible._internal._datatag._tags import Origin  # pylint: disable=import-outside-toplevel
        from ansible._internal._templating._utils import TemplateContext  # pylint: disable=import-outside-toplevel
    except ImportError:
        return ""
    context = TemplateContext.current(optional=True)
    while context is not None:
        origin = Origin.get_tag(context.template_value)
        if origin is not None and origin.path and origin.line_num:
            return f"{_variable_at(origin.path, origin.line_num)}({origin.path}:{origin.line_num}): "
        context = context._parent_ctx  # pylint: disable=protected-access
    return ""


def _variable_at(path, line_num):
    """The YAML key on the given line of a file (the variable the template sets), with a space; or ""."""
    try:
        with open(path, encoding="utf-8") as source:
            for number, line in enumerate(source, start=1):
                if number == line_num:
                    match = VARIABLE_LINE.match(line)
                    return f"{match.group(1)} " if match else ""
    except OSError:
        pass
    return ""


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        names = (*ONEPASSWORD_ARG_SPEC, "vault", "item", "fields")
        options = {name: self.get_option(name) for name in names}
        return lookup_values(terms, options, template_origin())
