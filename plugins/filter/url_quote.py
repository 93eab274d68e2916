# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: url_quote
author: homelab.mlflow maintainers
version_added: 0.1.0
short_description: Percent-encode a string for one component of a URL
description:
  - Percent-encodes every character of the input except ASCII letters, digits and C(_.-~), and
    except the characters listed in O(safe), the same as Python's C(urllib.parse.quote) with O(safe)
    as its C(safe) argument.
  - With the default O(safe) (none), the result can be placed in any single part of a URL - the user
    or password of the authority, a path segment, a query value - and decodes back to the input, whatever
    characters it holds (C(@), C(:), C(/), C(#), C(%), C(?), spaces, quotes, non-ASCII text as UTF-8).
  - Unlike P(ansible.builtin.urlencode#filter), which leaves C(/) unencoded, so a password with a C(/)
    breaks a database URL.
positional: _input, safe
options:
  _input:
    description: The text to encode.
    type: string
    required: true
  safe:
    description:
      - Characters that are left as they are, in addition to ASCII letters, digits and C(_.-~).
      - Only ASCII characters take effect.
    type: string
    default: ""
notes:
  - Numbers and booleans are rejected rather than converted, so that a value YAML typed by
    accident (a password C(0123) read as an integer) is noticed instead of quoted wrongly.
"""

EXAMPLES = r"""
- name: Build a PostgreSQL URL from credentials with any characters
  ansible.builtin.set_fact:
    database_url: >-
      postgresql://{{ username | homelab.mlflow.url_quote }}:{{ password | homelab.mlflow.url_quote
      }}@db.example.com:5432/mlflow
  no_log: true

- name: Quote a path, keeping its slashes
  ansible.builtin.debug:
    msg: "{{ 'experiments/a b' | homelab.mlflow.url_quote(safe='/') }}"
    # => experiments/a%20b
"""

RETURN = r"""
_value:
  description: The percent-encoded text.
  type: string
  sample: p%40ss%2Fw%3Ard%23%25%3F%26%3D%2B%20%22%27
"""

from urllib.parse import quote

from ansible.errors import AnsibleFilterError


def _builtin_type(value):
    """The name of the built-in type a value is (list, not Ansible's _AnsibleTaggedList), for messages."""
    return next(kind.__name__ for kind in type(value).__mro__ if kind.__module__ == "builtins")


def url_quote(value, safe=""):
    """Percent-encode `value` with urllib.parse.quote semantics (nothing but unreserved characters kept)."""
    if not isinstance(value, str):
        raise AnsibleFilterError(f"url_quote expects a string, got {_builtin_type(value)}")
    if not isinstance(safe, str):
        raise AnsibleFilterError(f"url_quote: safe must be a string, got {_builtin_type(safe)}")
    return quote(value, safe=safe)


class FilterModule:
    """Filters of homelab.mlflow for building URLs."""

    def filters(self):
        return {"url_quote": url_quote}
