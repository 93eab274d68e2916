# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Server-side apply of a role's object set, and removal of the objects it no longer wants.

For each kind and namespace of the set, one LIST reads what is there. An object that already holds
every declared field, declared by the same declaration (its digest annotation), needs no request:
a run that changes nothing costs a request per kind. Any other object is applied with server-side
apply under one field manager (in check mode as a dry run, dryRun=All), and the server's answer
says whether it changed. Jobs are immutable: an existing one is kept, a failed one replaced.
Objects of the set's own labels that the set no longer declares can be pruned once every declared
object is in place, so that what a switched-off option made goes without a gap in between.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube, KubeError
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import FieldChange, changed_fields, holds
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.discovery import Resource, Resources
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.ignore import LeftToOthers
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.objects import (
    FIELD_MANAGER,
    Ref,
    as_data,
    declared_digest,
    digest,
    redacted,
    with_digest,
    without_server_fields,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.ready import job_state

CHANGES = ("created", "updated", "replaced", "deleted")
# How long a replaced Job may take to go (its pods are deleted first).
JOB_GONE_TIMEOUT = 60


class ApplyError(KubeError):
    """The API server refused an object of the set; outcomes says what was done before."""

    def __init__(self, message: str, ref: Ref, cause: KubeError, outcomes: list):
        super().__init__(message, cause.status, cause.reason, cause.details)
        self.ref = ref
        self.server_message = str(cause)
        self.outcomes = outcomes


@dataclass
class Outcome:
    """What the apply did (or, in check mode, would do) to one object."""

    ref: Ref
    action: str  # created, updated, replaced, unchanged, deleted, absent
    before: dict | None = None  # as found, server bookkeeping removed
    after: dict | None = None  # as declared and applied, server bookkeeping removed
    live: dict | None = None  # the server's object after the apply, with status
    fields: list[FieldChange] = field(default_factory=list)
    note: str = ""
    # Differences left to others (ignore rules, other field managers), and the rules that matched the object.
    ignored: list[FieldChange] = field(default_factory=list)
    rules_matched: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action in CHANGES

    def to_json(self) -> dict:
        data = dict(self.ref.to_json(), action=self.action, changed=self.changed)
        data["fields"] = [item.to_json() for item in self.fields]
        if self.note:
            data["note"] = self.note
        if self.ignored:
            data["ignored"] = [item.to_json() for item in self.ignored]
        if self.rules_matched:
            data["rules_matched"] = self.rules_matched
        return data

    def diff(self) -> dict:
        """Ansible's diff of this object: before and after without bookkeeping or Secret values."""
        return {
            "before_header": self.ref.label,
            "after_header": self.ref.label,
            "before": redacted(self.before) or {},
            "after": redacted(self.after, self.before) or {},
        }


class Snapshot:
    """The objects already there: one request per kind and namespace.

    A kind and namespace with several objects of the set is read with one LIST; one with a single
    object with one GET (less to transfer, and enough for credentials that may get but not list).
    """

    def __init__(
        self, kube: Kube, resources: Resources, refs: list[Ref] | None = None, known: list[dict] | None = None
    ):
        self.kube = kube
        self.resources = resources
        # Objects an earlier task of the run read: not read again. Never a Secret: results hide their values.
        self._known = {
            Ref.of(obj): obj for obj in known or [] if obj.get("kind") not in (None, "Secret") and obj.get("metadata")
        }
        self._groups: dict[tuple, dict[str, dict] | None] = {}
        self._wanted: dict[tuple, int] = {}
        for ref in refs or []:
            if ref not in self._known and resources.serves(ref.api_version, ref.kind):
                key = self._key(ref)
                self._wanted[key] = self._wanted.get(key, 0) + 1

    def _key(self, ref: Ref) -> tuple:
        namespaced = self.resources.get(ref.api_version, ref.kind).namespaced
        return (ref.api_version, ref.kind, ref.namespace if namespaced else None)

    def find(self, ref: Ref) -> dict | None:
        if ref in self._known:
            return self._known[ref]
        resource = self.resources.get(ref.api_version, ref.kind)
        key = self._key(ref)
        namespace = key[2]
        if key not in self._groups:
            self._groups[key] = None
            if self._wanted.get(key, 1) > 1:
                try:
                    items = self.kube.list(resource.path(namespace))
                    # A list's items do not say their kind: the comparison needs it.
                    self._groups[key] = {
                        item["metadata"]["name"]: dict(item, apiVersion=ref.api_version, kind=ref.kind)
                        for item in items
                    }
                except KubeError as error:
                    if error.status != 403:
                        raise  # 403: may get but not list, so objects are read one by one
        group = self._groups[key]
        if group is None:
            return self.kube.get(resource.path(namespace, ref.name))
        return group.get(ref.name)

    def labelled(self, api_version: str, kind: str, namespace: str | None, labels: dict) -> list[dict]:
        """The objects of a kind in a namespace with every one of the labels: from the kind's LIST
        when the set was read that way, else one LIST with a label selector."""
        resource = self.resources.get(api_version, kind)
        namespace = namespace if resource.namespaced else None
        group = self._groups.get((api_version, kind, namespace))
        if group is not None:
            items = list(group.values())
        else:
            selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
            items = [
                dict(item, apiVersion=api_version, kind=kind)
                for item in self.kube.list(resource.path(namespace), label_selector=selector)
            ]
        return [item for item in items if _has_labels(item, labels)]


def _has_labels(obj: dict, labels: dict) -> bool:
    found = (obj.get("metadata") or {}).get("labels") or {}
    return all(found.get(key) == value for key, value in labels.items())


@dataclass(frozen=True)
class Prune:
    """Objects of these kinds (each {api_version, kind}) in the set's namespace that carry every one of
    the labels are the set's own: those it does not declare are removed."""

    labels: dict
    kinds: list[dict]

    def stale(self, snapshot: Snapshot, namespace: str | None, declared: list[Ref]) -> list[Ref]:
        if not self.labels:
            raise ValueError("prune needs labels: without them every object of its kinds would be removed")
        wanted = {(ref.api_version, ref.kind, ref.name) for ref in declared}
        found = []
        for item in self.kinds:
            if not item.get("api_version") or not item.get("kind"):
                raise ValueError(f"each kind to prune needs api_version and kind, not {item}")
            api_version, kind = item["api_version"], item["kind"]
            if not snapshot.resources.serves(api_version, kind):
                continue
            for obj in snapshot.labelled(api_version, kind, namespace, self.labels):
                name = obj["metadata"]["name"]
                if (api_version, kind, name) not in wanted:
                    found.append(_ref(dict(obj, apiVersion=api_version, kind=kind), namespace, snapshot.resources))
        return sorted(found, key=lambda ref: (ref.kind, ref.name))


def _ref(obj: dict, namespace: str | None, resources: Resources) -> Ref:
    """The object's reference; a cluster-scoped kind has no namespace, whatever the default."""
    ref = Ref.of(obj, namespace)
    if (
        ref.namespace
        and resources.serves(ref.api_version, ref.kind)
        and not resources.get(ref.api_version, ref.kind).namespaced
    ):
        return Ref(ref.api_version, ref.kind, None, ref.name)
    return ref


def _place(obj: dict, ref: Ref, namespaced: bool) -> dict:
    """The object with its namespace set when its kind is namespaced."""
    if not namespaced:
        return obj
    placed = dict(obj)
    placed["metadata"] = dict(obj.get("metadata") or {}, namespace=ref.namespace)
    return placed


def _refused(ref: Ref, error: KubeError, verb: str, outcomes: list) -> ApplyError:
    return ApplyError(f"The API server refused to {verb} {ref.label}: {error}", ref, error, outcomes)


def _wait_gone(kube: Kube, path: str, timeout: float = JOB_GONE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while kube.get(path) is not None:
        if time.monotonic() > deadline:
            raise KubeError(f"{path} was still there {timeout} s after its deletion")
        time.sleep(1)


def apply_object(
    kube: Kube,
    resources: Resources,
    snapshot: Snapshot,
    obj: dict,
    ref: Ref,
    check_mode: bool,
    field_manager: str,
    others: LeftToOthers | None = None,
) -> Outcome:
    resource = resources.get(ref.api_version, ref.kind)
    obj = _place(obj, ref, resource.namespaced)
    live = snapshot.find(ref)
    applied, ignored = (others or LeftToOthers()).apply_to(obj, live, field_manager)
    outcome = _apply(kube, resource, obj, applied, ref, live, check_mode, field_manager)
    outcome.ignored, outcome.rules_matched = ignored.fields, ignored.rules_matched
    return outcome


def _apply(
    kube: Kube,
    resource: Resource,
    obj: dict,
    applied: dict,
    ref: Ref,
    live: dict | None,
    check_mode: bool,
    field_manager: str,
) -> Outcome:
    """Apply one object: `obj` as declared (its digest), `applied` as sent (without what others own)."""
    before = without_server_fields(live)
    declared = with_digest(applied, obj)
    if live is not None and declared_digest(live) == digest(obj) and holds(live, as_data(declared)):
        return Outcome(ref, "unchanged", before, before, live)
    path = resource.path(ref.namespace, ref.name)
    action = "created" if live is None else "updated"
    if ref.kind == "Job" and live is not None:
        # A Job's template cannot change: a running or complete one stays, a failed one is replaced.
        if job_state(live)[0] != "failed":
            return Outcome(ref, "unchanged", before, before, live, note="a Job is not changed once created")
        if not check_mode:
            kube.delete(path, propagation="Foreground")
            _wait_gone(kube, path)
        action = "replaced"
    try:
        if check_mode and action == "replaced":
            answer = declared  # the dry run would meet the failed Job, which stays until deleted
        else:
            answer = kube.apply(path, declared, field_manager, dry_run=check_mode)
    except KubeError as error:
        if check_mode and live is None and error.status == 404 and ref.namespace:
            # A first run: the namespace does not exist yet, so the server cannot dry-run into it.
            after = without_server_fields(declared)
            return Outcome(
                ref,
                "created",
                None,
                after,
                None,
                changed_fields(ref.kind, None, after),
                f"namespace {ref.namespace} does not exist yet",
            )
        raise
    after = without_server_fields(answer)
    if live is not None and action == "updated" and after == before:
        return Outcome(ref, "unchanged", before, after, answer)
    return Outcome(
        ref, action, before if action != "replaced" else None, after, answer, changed_fields(ref.kind, before, after)
    )


def remove_object(kube: Kube, resources: Resources, snapshot: Snapshot, ref: Ref, check_mode: bool) -> Outcome:
    if not resources.serves(ref.api_version, ref.kind):
        return Outcome(ref, "absent", note="the cluster does not serve this kind")
    live = snapshot.find(ref)
    if live is None:
        return Outcome(ref, "absent")
    resource = resources.get(ref.api_version, ref.kind)
    if kube.delete(resource.path(ref.namespace, ref.name), dry_run=check_mode) is None:
        return Outcome(ref, "absent")
    before = without_server_fields(live)
    return Outcome(ref, "deleted", before, None, None, changed_fields(ref.kind, before, None))


def apply_set(
    kube: Kube,
    resources: Resources,
    declared: list[dict],
    absent: list[dict] | None = None,
    namespace: str | None = None,
    check_mode: bool = False,
    field_manager: str = FIELD_MANAGER,
    prune: Prune | None = None,
    known: list[dict] | None = None,
    others: LeftToOthers | None = None,
) -> list[Outcome]:
    """Apply every declared object in order, then remove the absent ones that exist and, with
    `prune`, the set's own objects it no longer declares. With `others`, the fields that ignore rules and
    other field managers leave to the cluster are not applied."""
    refs = [_ref(obj, namespace, resources) for obj in declared]
    gone = [_ref(obj, namespace, resources) for obj in absent or []]
    snapshot = Snapshot(kube, resources, refs + gone, known)
    outcomes: list[Outcome] = []
    for obj, ref in zip(declared, refs, strict=True):
        try:
            outcomes.append(apply_object(kube, resources, snapshot, obj, ref, check_mode, field_manager, others))
        except KubeError as error:
            raise _refused(ref, error, "apply", outcomes) from None
    if prune is not None:
        gone = list(dict.fromkeys(gone + prune.stale(snapshot, namespace, refs)))
    for ref in gone:
        try:
            outcomes.append(remove_object(kube, resources, snapshot, ref, check_mode))
        except KubeError as error:
            raise _refused(ref, error, "delete", outcomes) from None
    return outcomes
