# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""homelab.mlflow.storage before it writes: the StorageClass, Longhorn's APIs, and changes an existing claim
cannot take.

A claim's class and access modes are immutable and it cannot shrink: the API server would refuse the apply
half-way through the run, so each is said before anything is written, with how to move the data instead.
Returns the fact `storage_on_longhorn` (whether the class is Longhorn's), which the claim's template reads.
"""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import volumes
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.outcome import Outcome, cluster_info_missing
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.storage_classes import (
    missing_message,
    storage_class,
)

MIGRATE = (
    "To move the artifacts, create a new claim (another storage_artifacts_pvc_name) with the settings you want, "
    "copy the data over (for example with a Job that mounts both and runs rsync, or by restoring a Longhorn backup "
    "into it), point MLflow at it, and only then delete the old claim yourself: this role never deletes a claim."
)


def check(values, cluster: Cluster) -> Outcome:
    outcome = Outcome()
    if not cluster.known:
        outcome.problems.append(cluster_info_missing("storage"))
        return outcome
    class_name = values["storage_artifacts_storage_class"]
    selected = storage_class(cluster, class_name)
    if selected is None:
        outcome.add(
            "storage_artifacts_storage_class", missing_message(cluster, "storage_artifacts_storage_class", class_name)
        )
    on_longhorn = selected is not None and selected.get("provisioner") == values["storage_longhorn_provisioner"]
    outcome.facts["storage_on_longhorn"] = on_longhorn
    if selected is not None:
        _check_recurring_jobs(values, cluster, selected, on_longhorn, outcome)
    claim = cluster.get("v1", "PersistentVolumeClaim", values["storage_artifacts_pvc_name"], values["mlflow_namespace"])
    if claim is not None:
        _check_claim(values, claim, selected, outcome)
    return outcome


def _check_recurring_jobs(values, cluster: Cluster, selected: dict, on_longhorn: bool, outcome: Outcome) -> None:
    jobs, groups = values["storage_recurring_jobs"], values["storage_recurring_job_groups"]
    if not jobs and not groups:
        return
    served = cluster.serves("longhorn.io/v1beta2", "RecurringJob")
    if on_longhorn and served:
        return
    variable = "storage_recurring_jobs" if jobs else "storage_recurring_job_groups"
    class_name, longhorn = values["storage_artifacts_storage_class"], values["storage_longhorn_provisioner"]
    why = (
        f"StorageClass {class_name} (storage_artifacts_storage_class) is provisioned by {selected.get('provisioner')}, "
        f"not Longhorn ({longhorn})"
        if not on_longhorn
        else "the CRD recurringjobs.longhorn.io (longhorn.io/v1beta2) is not installed"
    )
    outcome.add(
        variable,
        f"{variable} is set, but {why}: recurring snapshots and backups are a Longhorn feature. Use a Longhorn "
        "StorageClass, or leave storage_recurring_jobs and storage_recurring_job_groups empty.",
    )


def _check_claim(values, claim: dict, selected: dict | None, outcome: Outcome) -> None:
    name, namespace = values["storage_artifacts_pvc_name"], values["mlflow_namespace"]
    where = f"claim {name} in namespace {namespace}"
    spec = claim.get("spec") or {}
    live_size = str(((spec.get("resources") or {}).get("requests") or {}).get("storage", ""))
    live_class = spec.get("storageClassName") or ""
    live_modes = list(spec.get("accessModes") or [])
    size, class_name = values["storage_artifacts_size"], values["storage_artifacts_storage_class"]
    access_mode = values["storage_artifacts_access_mode"]
    if (claim.get("metadata") or {}).get("deletionTimestamp"):
        outcome.add(
            "storage_artifacts_pvc_name",
            f"The existing {where} is being deleted (it waits for the pods that use it to stop), so it cannot be "
            f"applied: wait until it is gone (kubectl -n {namespace} get pvc {name}), or keep it by restoring it from "
            "a backup.",
        )
    if volumes.shrinks(size, live_size):
        outcome.add(
            "storage_artifacts_size",
            f"storage_artifacts_size is {size}, but the existing {where} requests {live_size}, and a "
            f"PersistentVolumeClaim cannot shrink. Set storage_artifacts_size to {live_size} or more. {MIGRATE}",
        )
    if live_class != class_name:
        outcome.add(
            "storage_artifacts_storage_class",
            f"storage_artifacts_storage_class is {class_name}, but the existing {where} has StorageClass "
            f"{live_class or '(none)'}, which cannot change. Keep storage_artifacts_storage_class {live_class}. "
            f"{MIGRATE}",
        )
    if live_modes != [access_mode]:
        outcome.add(
            "storage_artifacts_access_mode",
            f"storage_artifacts_access_mode is {access_mode}, but the existing {where} has access mode "
            f"{', '.join(live_modes)}, which cannot change. Keep storage_artifacts_access_mode "
            f"{live_modes[0] if live_modes else ''}. {MIGRATE}",
        )
    if volumes.grows(size, live_size) and not volumes.allows_expansion(selected):
        outcome.add(
            "storage_artifacts_size",
            f"storage_artifacts_size is {size}, larger than the {live_size} of the existing {where}, but StorageClass "
            f"{class_name} does not allow volume expansion (allowVolumeExpansion), so the claim cannot grow. Keep "
            f"storage_artifacts_size at {live_size}, or allow expansion on the StorageClass if its provisioner "
            "supports it.",
        )
