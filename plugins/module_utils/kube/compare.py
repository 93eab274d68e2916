# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a live object holds what is declared, and which fields differ.

holds() lets the apply skip objects that already hold every declared field (no request);
differences() is the per-field result the apply returns and the drift report shows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# Server-side bookkeeping: differences there are not changes of what a role declares.
NOISE_PATHS = re.compile(
    r"^(status(\.|\[|$)|metadata\.(resourceVersion|generation|managedFields|creationTimestamp|uid|selfLink)(\.|\[|$))"
)
# Keys that identify the items of Kubernetes lists (their strategic merge keys), in the order tried.
MERGE_KEYS = ("name", "port", "containerPort", "mountPath", "devicePath", "ip", "type", "topologyKey", "key")
# Parts of a Secret that are never secret: everything else of a Secret is reported only as changed.
SECRET_PLAIN_PATHS = re.compile(r"^(metadata\.labels(\.|\[|$)|metadata\.name$|type$|immutable$)")
SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
QUANTITY = re.compile(r"^([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


class _Absent:
    """A field that is not there (on one side of a difference)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


def quantity_value(value: Any) -> Decimal | None:
    """A Kubernetes quantity ('512Mi', '0.5', '500m', 2) as a number; None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    match = QUANTITY.match(str(value).strip())
    if not match:
        return None
    try:
        return Decimal(match.group(1)) * SUFFIXES[match.group(2) or ""]
    except InvalidOperation:
        return None


def _same_scalar(declared: Any, live: Any) -> bool:
    if isinstance(declared, bool) or isinstance(live, bool):
        return declared is live
    if declared == live:
        return True
    # The API server stores some values in canonical form (quantities, numbers as strings).
    number = quantity_value(declared)
    return number is not None and number == quantity_value(live)


def holds(live: Any, declared: Any) -> bool:
    """Whether the live value holds every declared field with the same value.

    Maps: each declared key, recursively (the server adds defaults: extra keys are fine). Lists:
    as many items, each holding the declared one. A declared null means "not set".
    """
    if isinstance(declared, dict):
        if not isinstance(live, dict):
            return False
        return all(
            (key not in live or live[key] is None) if value is None else key in live and holds(live[key], value)
            for key, value in declared.items()
        )
    if isinstance(declared, list):
        return isinstance(live, list) and len(live) == len(declared) and all(map(holds, live, declared))
    return _same_scalar(declared, live)


@dataclass
class FieldChange:
    """One field that differs between what was found and what is declared."""

    path: str
    expected: Any = ABSENT
    found: Any = ABSENT
    redacted: bool = False
    message: str = ""
    # The ignore rule or field manager that left it to the cluster (not drift).
    ignored_by: str = ""

    @property
    def change(self) -> str:
        if self.message:
            return "refused"
        if self.found is ABSENT and self.expected is not ABSENT:
            return "missing"
        if self.expected is ABSENT and self.found is not ABSENT:
            return "unexpected"
        return "changed"

    def to_json(self) -> dict:
        data: dict[str, Any] = {"path": self.path, "change": self.change}
        if self.redacted:
            data["redacted"] = True
        else:
            if self.expected is not ABSENT:
                data["expected"] = self.expected
            if self.found is not ABSENT:
                data["found"] = self.found
        if self.message:
            data["message"] = self.message
        if self.ignored_by:
            data["ignored_by"] = self.ignored_by
        return data

    @classmethod
    def from_json(cls, data: dict) -> FieldChange:
        return cls(
            str(data.get("path", "")),
            data.get("expected", ABSENT),
            data.get("found", ABSENT),
            bool(data.get("redacted")),
            str(data.get("message", "")),
            str(data.get("ignored_by", "")),
        )


def join_path(path: str, key: Any) -> str:
    key = str(key)
    if SIMPLE_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _merge_key(before: list, after: list, path: str) -> str | None:
    items = before + after
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    # Ports are keyed by their number (a Service's) or container port, whatever their name.
    keys = ("port", "containerPort", *MERGE_KEYS) if path.endswith("ports") else MERGE_KEYS
    for key in keys:
        if all(key in item for item in items):
            if len({json.dumps(i[key], sort_keys=True) for i in before}) == len(before) and len(
                {json.dumps(i[key], sort_keys=True) for i in after}
            ) == len(after):
                return key
    return None


def differences(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """Field-level differences between what was found (before) and what is declared (after).

    Dictionaries are compared key by key. Lists of objects are compared item by item: by their
    merge key (`name`, `port`, ...) when both sides hold the same items, so that a path names the
    container or port it is about; by position when as many items changed their key; otherwise
    by key, as items missing or unexpected. Other lists and scalars are compared as whole values.
    """
    if (isinstance(before, dict) and after is ABSENT) or (before is ABSENT and isinstance(after, dict)):
        # A whole mapping on one side only: its fields, one by one.
        before, after = before if before is not ABSENT else {}, after if after is not ABSENT else {}
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            found.extend(differences(before.get(key, ABSENT), after.get(key, ABSENT), join_path(path, key)))
        return found
    if isinstance(before, list) and isinstance(after, list) and before != after:
        key = _merge_key(before, after, path)
        same_items = key is not None and {json.dumps(i[key], sort_keys=True) for i in before} == {
            json.dumps(i[key], sort_keys=True) for i in after
        }
        all_objects = all(isinstance(item, dict) for item in before + after)
        if all_objects and len(before) == len(after) and not same_items:
            found = []
            for index, (old, new) in enumerate(zip(before, after, strict=True)):
                found.extend(differences(old, new, f"{path}[{index}]"))
            return found
        if key is not None:
            by_key_before = {json.dumps(item[key], sort_keys=True): item for item in before}
            by_key_after = {json.dumps(item[key], sort_keys=True): item for item in after}
            found = []
            for identity in list(by_key_after) + [k for k in by_key_before if k not in by_key_after]:
                item_path = f"{path}[{key}={json.loads(identity)}]"
                old, new = by_key_before.get(identity, ABSENT), by_key_after.get(identity, ABSENT)
                if old is ABSENT or new is ABSENT:
                    found.append(FieldChange(item_path, expected=new, found=old))
                else:
                    found.extend(
                        differences(
                            {k: v for k, v in old.items() if k != key},
                            {k: v for k, v in new.items() if k != key},
                            item_path,
                        )
                    )
            return found
    if before == after:
        return []
    return [FieldChange(path or "(value)", expected=after, found=before)]


def is_noise(path: str) -> bool:
    return bool(NOISE_PATHS.match(path))


def redact_secret_fields(fields: list[FieldChange]) -> list[FieldChange]:
    """A Secret's values are never reported, only which keys differ."""
    for item in fields:
        if not SECRET_PLAIN_PATHS.match(item.path):
            item.redacted = True
            # Keep only whether each side has the field: that much is no secret.
            item.expected = "(set)" if item.expected is not ABSENT else ABSENT
            item.found = "(set)" if item.found is not ABSENT else ABSENT
    return fields


def changed_fields(kind: str, before: dict | None, after: dict | None) -> list[FieldChange]:
    """The fields a role's apply changed (or would change) in one object, Secrets redacted."""
    found = [
        item
        for item in differences(before if before is not None else ABSENT, after if after is not None else ABSENT)
        if not is_noise(item.path)
    ]
    return redact_secret_fields(found) if kind == "Secret" else found
