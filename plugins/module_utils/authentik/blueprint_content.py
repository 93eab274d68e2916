# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A blueprint's content: parsed, written one way for the same blueprint, and hashed as Authentik hashes it."""

from __future__ import annotations

import hashlib

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_yaml import (
    HAS_YAML,
    YAMLError,
    dump_blueprint_yaml,
    load_tagged,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError


def _builtin_type(value):
    """The name of the built-in type a value is (list, not Ansible's _AnsibleTaggedList), for messages."""
    return next(kind.__name__ for kind in type(value).__mro__ if kind.__module__ == "builtins")


def load_blueprint_content(content):
    """Parse blueprint content (YAML text, Authentik's tags allowed, or an already parsed dict)."""
    if not HAS_YAML:
        raise AuthentikError("the Python package PyYAML is required")
    if isinstance(content, dict):
        return content
    if not isinstance(content, str):
        raise AuthentikError(f"content must be YAML text or a dictionary, got {_builtin_type(content)}")
    try:
        data = load_tagged(content)
    except YAMLError as exc:
        raise AuthentikError(f"content is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise AuthentikError("content must be a blueprint: a YAML mapping with version, metadata and entries")
    return data


def normalize_blueprint_content(content):
    """The blueprint as YAML text, the same for the same blueprint however it was written.

    Keys keep their order (entries are applied in order), layout is fixed: so a blueprint
    given the same way every run compares equal to what Authentik stores.
    """
    return dump_blueprint_yaml(load_blueprint_content(content))


def content_hash(content):
    """What Authentik stores as last_applied_hash after applying this content successfully."""
    return hashlib.sha512(content.encode("utf-8")).hexdigest()
