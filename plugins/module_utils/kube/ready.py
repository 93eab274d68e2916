# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether an object is ready, and one wait loop.

Each check takes the object as the API server returns it and says (state, reason): state is
"ready", "waiting" or "failed" (waiting longer will not help); reason is one line for a person.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.client import Kube
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import quantity_value
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.discovery import Resources
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.objects import Ref

READY, WAITING, FAILED = "ready", "waiting", "failed"
# CloudNativePG's phase of a cluster that serves.
CNPG_HEALTHY = "Cluster in healthy state"


def _conditions(obj: dict) -> dict[str, dict]:
    return {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or [] if isinstance(c, dict)}


def _true(condition: dict | None) -> bool:
    return bool(condition) and str(condition.get("status")) == "True"


def _said(condition: dict | None) -> str:
    if not condition:
        return ""
    return ": ".join(part for part in (condition.get("reason"), condition.get("message")) if part)


def exists(obj: dict | None) -> tuple[str, str]:
    return (READY, "exists") if obj is not None else (WAITING, "does not exist")


def job_state(obj: dict) -> tuple[str, str]:
    """A Job: ready when complete, failed when its Failed condition is true."""
    conditions = _conditions(obj)
    if _true(conditions.get("Failed")):
        return FAILED, f"failed ({_said(conditions['Failed']) or 'no reason given'})"
    if _true(conditions.get("Complete")):
        return READY, "complete"
    status = obj.get("status") or {}
    return WAITING, f"running ({status.get('active', 0)} active, {status.get('failed', 0)} failed pods)"


def deployment_state(obj: dict) -> tuple[str, str]:
    """A Deployment: ready when its current template is rolled out to every wanted replica."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    wanted = int(spec.get("replicas", 1))
    generation = (obj.get("metadata") or {}).get("generation", 0)
    progressing = _conditions(obj).get("Progressing") or {}
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return FAILED, f"rollout stopped: {_said(progressing)}"
    if status.get("observedGeneration", 0) < generation:
        return WAITING, "the controller has not seen the newest template yet"
    updated, available, total = (
        int(status.get(key, 0)) for key in ("updatedReplicas", "availableReplicas", "replicas")
    )
    if updated < wanted:
        return WAITING, f"{updated} of {wanted} replicas updated"
    if total > updated:
        return WAITING, f"{total - updated} old replicas still running"
    if available < wanted:
        return WAITING, f"{available} of {wanted} replicas available"
    return READY, f"rolled out ({available} of {wanted} replicas available)"


def claim_state(obj: dict) -> tuple[str, str]:
    """A PersistentVolumeClaim: ready when bound."""
    phase = (obj.get("status") or {}).get("phase", "Pending")
    if phase == "Bound":
        return READY, "Bound"
    if phase == "Lost":
        return FAILED, "Lost (its volume is gone)"
    return WAITING, phase


def cnpg_cluster_state(obj: dict) -> tuple[str, str]:
    """A CloudNativePG Cluster: ready when healthy with every instance ready."""
    status = obj.get("status") or {}
    wanted = int((obj.get("spec") or {}).get("instances", 1))
    phase = status.get("phase") or "no phase yet"
    ready = int(status.get("readyInstances", 0))
    if phase == CNPG_HEALTHY and ready >= wanted:
        return READY, f"{phase}, {ready} of {wanted} instances ready"
    return WAITING, f"{phase}, {ready} of {wanted} instances ready"


def condition_ready(obj: dict) -> tuple[str, str]:
    """An object with a Ready condition (an operator's custom resource)."""
    condition = _conditions(obj).get("Ready")
    if _true(condition):
        return READY, "Ready"
    return WAITING, _said(condition) or "not Ready yet"


def claim_size_state(obj: dict) -> tuple[str, str]:
    """A PersistentVolumeClaim: ready when bound with at least the storage it requests (a resize done)."""
    state, reason = claim_state(obj)
    if state != READY:
        return state, reason
    status = obj.get("status") or {}
    capacity = (status.get("capacity") or {}).get("storage")
    requested = (((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    have, want = quantity_value(capacity), quantity_value(requested)
    if have is None or want is None or have >= want:
        return READY, f"Bound with {capacity or 'no reported capacity'}"
    # A file system only grows once a pod mounts the volume: the claim says so in its conditions.
    conditions = ", ".join(sorted(c for c in _conditions(obj) if c)) or "none"
    return (
        WAITING,
        f"Bound with {capacity} of the {requested} requested; a resize may be in progress (conditions: {conditions})",
    )


BASIC_AUTH = "kubernetes.io/basic-auth"


def basic_auth_state(obj: dict) -> tuple[str, str]:
    """A Secret of user credentials: type kubernetes.io/basic-auth with the keys username and password.

    Only the keys are looked at, never a value (they may be hidden). Neither the type of a Secret nor
    who writes its keys changes by waiting, so a wrong one fails at once.
    """
    kind = obj.get("type") or "Opaque"
    if kind != BASIC_AUTH:
        return FAILED, f"it has the type {kind}, not {BASIC_AUTH}"
    keys = sorted(obj.get("data") or {})
    if not {"username", "password"} <= set(keys):
        return FAILED, f"it has the keys {', '.join(keys) or 'none'}, not username and password"
    return READY, f"{BASIC_AUTH} with the keys username and password"


def secret_values_state(obj: dict, expected: dict) -> tuple[str, str]:
    """A Secret whose keys hold the expected values. The reason names the keys, never a value."""
    data = obj.get("data") or {}
    wrong = []
    for key in sorted(expected):
        try:
            value = base64.b64decode(data[key], validate=True).decode()
        except KeyError:
            wrong.append(f"it has no key {key}")
            continue
        except (binascii.Error, UnicodeDecodeError):
            value = None
        if value != str(expected[key]):
            wrong.append(f"its key {key} does not hold the expected value")
    if wrong:
        return FAILED, "; ".join(wrong)
    return READY, f"its {', '.join(sorted(expected))} as expected"


def longhorn_volume_state(obj: dict) -> tuple[str, str]:
    """A Longhorn Volume (volumes.longhorn.io): usable unless faulted (no usable replica left).

    A detached volume reports robustness 'unknown' and a volume short of replicas 'degraded': both serve.
    """
    status = obj.get("status") or {}
    state, robustness = status.get("state") or "unknown", status.get("robustness") or "unknown"
    if robustness == "faulted":
        return FAILED, f"faulted (state {state}): none of its replicas is usable"
    return READY, f"{state}, robustness {robustness}"


CHECKS: dict[str, Callable[[dict], tuple[str, str]]] = {
    "exists": exists,
    "complete": job_state,
    "rolled_out": deployment_state,
    "bound": claim_state,
    "healthy": cnpg_cluster_state,
    "ready_condition": condition_ready,
    "bound_at_size": claim_size_state,
    "basic_auth": basic_auth_state,
    "longhorn_usable": longhorn_volume_state,
}


# How a failure message says what an object is not (yet).
WANTED = {
    "exists": "there",
    "absent": "gone",
    "complete": "complete",
    "rolled_out": "rolled out",
    "bound": "bound",
    "healthy": "healthy",
    "ready_condition": "ready",
    "bound_at_size": "bound at its requested size",
    "basic_auth": "a basic-auth Secret with username and password",
    "longhorn_usable": "a usable Longhorn volume",
}


def state_of(check: str, obj: dict | None) -> tuple[str, str]:
    if obj is None:
        return (WAITING, "does not exist") if check != "absent" else (READY, "absent")
    if check == "absent":
        return WAITING, "still there"
    return CHECKS[check](obj)


def wait_for(
    kube: Kube,
    resources: Resources,
    wanted: list[tuple[Ref, str]],
    timeout: float,
    known: dict[Ref, dict] | None = None,
    optional: set[Ref] | frozenset = frozenset(),
    interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[dict]:
    """Wait until every (object, check) is ready, or one failed, or the time is up.

    `known` holds objects already read (an apply's answer): a ready one costs no request. An object
    in `optional` that does not exist is ready: there is nothing of it to check. Returns each
    object's state: ref, check, state, reason, object.
    """
    known = dict(known or {})
    deadline = clock() + timeout
    pending = list(wanted)
    results: dict[Ref, dict] = {}
    first = True
    while True:
        still = []
        for ref, check in pending:
            if first and ref in known:
                obj = known[ref]
            else:
                resource = resources.get(ref.api_version, ref.kind)
                obj = kube.get(resource.path(ref.namespace, ref.name))
            if obj is None and ref in optional:
                state, reason = READY, "not there: nothing to check"
            else:
                state, reason = state_of(check, obj)
            results[ref] = {"ref": ref, "check": check, "state": state, "reason": reason, "object": obj}
            if state == WAITING:
                still.append((ref, check))
        first = False
        pending = still
        failed = [r for r in results.values() if r["state"] == FAILED]
        if not pending or failed or clock() >= deadline:
            return [results[ref] for ref, _check in wanted]
        sleep(min(interval, max(0.0, deadline - clock())))
