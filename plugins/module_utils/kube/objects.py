# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Object references, the declaration digest, and what a result or diff may show of an object."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import dataclass

FIELD_MANAGER = "homelab.mlflow"
# The digest of what the collection last declared for an object: when it differs from the
# current declaration, fields may have been dropped from it, which only an apply removes.
DIGEST_ANNOTATION = "homelab.mlflow/declared"
# Server bookkeeping, left out of results and diffs.
SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")
HIDDEN = "(hidden)"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class Ref:
    """Which object: apiVersion, kind, namespace (None when cluster-scoped) and name."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    @classmethod
    def of(cls, obj: dict, namespace: str | None = None) -> Ref:
        if not isinstance(obj, dict) or not obj.get("kind") or not obj.get("apiVersion"):
            raise ValueError(f"not a Kubernetes object (it needs apiVersion and kind): {str(obj)[:200]}")
        metadata = obj.get("metadata") or {}
        if not metadata.get("name"):
            raise ValueError(f"{obj['kind']} without metadata.name")
        return cls(
            str(obj["apiVersion"]), str(obj["kind"]), metadata.get("namespace") or namespace, str(metadata["name"])
        )

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    def to_json(self) -> dict:
        data = {"api_version": self.api_version, "kind": self.kind, "name": self.name}
        if self.namespace:
            data["namespace"] = self.namespace
        return data


def _masked(obj: dict) -> dict:
    """A Secret with its values replaced by their keys: a digest of it reveals nothing."""
    masked = copy.deepcopy(obj)
    for section in ("data", "stringData"):
        if isinstance(masked.get(section), dict):
            masked[section] = sorted(masked[section])
    return masked


def digest(obj: dict) -> str:
    """A digest of a declared object (a Secret's values left out), for DIGEST_ANNOTATION."""
    shape = _masked(obj) if obj.get("kind") == "Secret" else obj
    return hashlib.sha256(json.dumps(shape, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def with_digest(obj: dict, declaration: dict | None = None) -> dict:
    """The object to apply, annotated with the digest of its declaration (by default the object itself)."""
    declared = copy.deepcopy(obj)
    metadata = declared.setdefault("metadata", {})
    value = digest(declaration if declaration is not None else obj)
    metadata["annotations"] = dict(metadata.get("annotations") or {}, **{DIGEST_ANNOTATION: value})
    return declared


def declared_digest(live: dict | None) -> str | None:
    return ((live or {}).get("metadata") or {}).get("annotations", {}).get(DIGEST_ANNOTATION)


def as_data(obj: dict) -> dict:
    """A Secret's stringData as the data the server stores, so declared and live compare."""
    if obj.get("kind") != "Secret" or not isinstance(obj.get("stringData"), dict):
        return obj
    converted = {key: value for key, value in obj.items() if key != "stringData"}
    data = dict(obj.get("data") or {})
    for key, value in obj["stringData"].items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    converted["data"] = data
    return converted


def without_server_fields(obj: dict | None, keep_status: bool = False) -> dict | None:
    """The object without managedFields and the server's bookkeeping (and status, unless kept)."""
    if obj is None:
        return None
    cleaned = {key: value for key, value in obj.items() if keep_status or key != "status"}
    metadata = {key: value for key, value in (obj.get("metadata") or {}).items() if key not in SERVER_METADATA}
    annotations = {key: value for key, value in (metadata.get("annotations") or {}).items() if key != DIGEST_ANNOTATION}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    cleaned["metadata"] = metadata
    return cleaned


def redacted(obj: dict | None, compare_with: dict | None = None) -> dict | None:
    """A Secret with every value hidden ('(hidden, changed)' where it differs from compare_with)."""
    if obj is None or obj.get("kind") != "Secret":
        return obj
    shown = copy.deepcopy(obj)
    annotations = (shown.get("metadata") or {}).get("annotations") or {}
    if LAST_APPLIED in annotations:  # kubectl apply's copy of the whole Secret, values included
        annotations[LAST_APPLIED] = HIDDEN
    other = (compare_with or {}).get("data") or {}
    for section in ("data", "stringData"):
        if isinstance(shown.get(section), dict):
            shown[section] = {
                key: HIDDEN if compare_with is None or other.get(key) == value else f"{HIDDEN[:-1]}, changed)"
                for key, value in shown[section].items()
            }
    return shown


def without_managed_fields(obj: dict | None) -> dict | None:
    """The object as the server has it, status included, without the field managers' records."""
    if obj is None or "managedFields" not in (obj.get("metadata") or {}):
        return obj
    metadata = {key: value for key, value in obj["metadata"].items() if key != "managedFields"}
    return dict(obj, metadata=metadata)
