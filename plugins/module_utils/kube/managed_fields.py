# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which fields of a live object a field manager owns, from its managedFields records (FieldsV1).

A record is a tree: `f:<name>` a field of a mapping, `k:<json>` the entry of a list with those key fields,
`v:<json>` a value of a list of values, `i:<n>` a list position, and `.` the node itself. A node with
nothing but `.` below it is a whole value the manager owns.
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.pointers import slot_of


def _records(live: dict, manager: str) -> list[dict]:
    records = (live.get("metadata") or {}).get("managedFields") or []
    return [
        record.get("fieldsV1") or {}
        for record in records
        if isinstance(record, dict)
        and record.get("manager") == manager
        and record.get("fieldsType", "FieldsV1") == "FieldsV1"
    ]


def _children(node: dict) -> dict:
    return {key: child for key, child in node.items() if key != "."}


def _child(node: dict, value: Any, slot: Any) -> dict | None:
    """The record's node for value[slot]."""
    if isinstance(value, dict):
        return node.get(f"f:{slot}")
    entry = value[slot]
    for key, child in node.items():
        if key.startswith("k:") and isinstance(entry, dict):
            fields = json.loads(key[2:])
            if all(entry.get(name) == wanted for name, wanted in fields.items()):
                return child
        elif key == f"i:{slot}":
            return child
    return None


def owns(live: dict | None, manager: str, tokens: list) -> bool:
    """Whether the manager owns the field at the tokens' location of the live object (or a value holding it)."""
    for record in _records(live or {}, manager):
        node, value = record, live
        for token in tokens:
            if not _children(node) or any(key.startswith("v:") for key in node):
                return True  # the whole value here is the manager's
            slot = slot_of(value, token)
            node = _child(node, value, slot) if slot is not None else None
            if node is None:
                break
            value = value[slot]
        else:
            return True
    return False


def _leaves(node: dict, value: Any, tokens: list) -> list[list]:
    children = _children(node)
    if not children or any(key.startswith("v:") for key in children):
        return [tokens]
    found = []
    for key, child in children.items():
        if key.startswith("f:") and isinstance(value, dict) and key[2:] in value:
            found += _leaves(child, value[key[2:]], [*tokens, key[2:]])
        elif key.startswith("k:") and isinstance(value, list):
            fields = json.loads(key[2:])
            if slot_of(value, fields) is not None:
                found += _leaves(child, value[slot_of(value, fields)], [*tokens, fields])
        elif key.startswith("i:") and isinstance(value, list) and key[2:].isdigit() and int(key[2:]) < len(value):
            found += _leaves(child, value[int(key[2:])], [*tokens, key[2:]])
    return found


def owned_fields(live: dict | None, manager: str) -> list[list]:
    """The locations (token lists) of the fields the manager owns in the live object."""
    return [tokens for record in _records(live or {}, manager) for tokens in _leaves(record, live, []) if tokens]
