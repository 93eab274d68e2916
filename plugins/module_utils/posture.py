# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The security posture of a deployment namespace, judged from its objects as the API server has them.

Each check takes objects and returns the problems it finds, one sentence each that names the object,
what it lacks and the setting that fixes it; no problem, no sentence. The action plugin
homelab.mlflow.posture_checks reads the objects and asks the API server the questions that only it
can answer (would it admit this pod, may this account do that).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.images import is_pinned

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
# The workloads whose pods the checks look at; the CloudNativePG Cluster stands for its instances.
WORKLOAD_KINDS = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("postgresql.cnpg.io/v1", "Cluster"),
)
# The settings each check cites when nothing else is given (homelab.mlflow.posture's).
VARIABLES = {
    "pod_security_level": "posture_pod_security_level",
    "default_service_account": "posture_require_default_sa_without_token",
    "memory": "posture_require_memory_limits",
    "cpu": "posture_require_cpu_limits",
    "empty_dir_size_limits": "posture_require_empty_dir_size_limits",
    "default_deny": "posture_default_deny_policy",
}
RUN_NAMESPACE_ROLE = "run homelab.mlflow.namespace (ansible-playbook playbooks/site.yml --tags namespace)"


@dataclass(frozen=True)
class Container:
    """A container of a workload's pods (or a database cluster's instances): where, image, limits."""

    where: str
    image: str | None
    limits: dict


def _cited(variables: dict, key: str) -> str:
    name = variables.get(key, VARIABLES.get(key))
    return f" ({name})" if name else ""


def _label(obj: dict) -> str:
    return f"{obj.get('kind')} {(obj.get('metadata') or {}).get('name')}"


def pod_template(workload: dict) -> dict:
    """The pod template of a Deployment, StatefulSet, Job or CronJob: {metadata, spec}."""
    spec = workload.get("spec") or {}
    if workload.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return spec.get("template") or {}


def containers(workloads: list[dict]) -> list[Container]:
    """Every container of the workloads' pods, init containers first; a Cluster's instances as one."""
    found = []
    for workload in workloads:
        spec = workload.get("spec") or {}
        if workload.get("kind") == "Cluster":
            limits = (spec.get("resources") or {}).get("limits") or {}
            found.append(Container(f"{_label(workload)} (its instances)", spec.get("imageName"), limits))
            continue
        pod = pod_template(workload).get("spec") or {}
        for container in (pod.get("initContainers") or []) + (pod.get("containers") or []):
            limits = (container.get("resources") or {}).get("limits") or {}
            found.append(
                Container(f"{_label(workload)} container {container.get('name')}", container.get("image"), limits)
            )
    return found


def pod_security_problem(namespace: str, obj: dict | None, level: str, variables: dict | None = None) -> str | None:
    """The namespace must exist, be active and enforce the PodSecurity level."""
    if obj is None:
        found = "does not exist"
    else:
        enforced = ((obj.get("metadata") or {}).get("labels") or {}).get(ENFORCE_LABEL, "")
        phase = (obj.get("status") or {}).get("phase", "Active")
        if enforced == level and phase == "Active":
            return None
        found = (
            f"is {phase}"
            if phase != "Active"
            else f"enforces PodSecurity {enforced or f'nothing (no label {ENFORCE_LABEL})'}"
        )
    return (
        f"Namespace {namespace} {found}, not {level}{_cited(variables or {}, 'pod_security_level')}: "
        f"{RUN_NAMESPACE_ROLE}, which sets the label."
    )


def default_service_account_problem(namespace: str, account: dict | None, variables: dict | None = None) -> str | None:
    """The namespace's default ServiceAccount must not mount an API token into pods."""
    if account is not None and account.get("automountServiceAccountToken") is False:
        return None
    found = (
        "is missing"
        if account is None
        else f"has automountServiceAccountToken {account.get('automountServiceAccountToken', 'unset')}"
    )
    return (
        f"In namespace {namespace}: the ServiceAccount default {found}, so every pod that names no ServiceAccount "
        f"of its own gets an API token{_cited(variables or {}, 'default_service_account')}: {RUN_NAMESPACE_ROLE}, "
        "which sets it to false."
    )


def limits_problem(
    namespace: str, found: list[Container], required: list[str], variables: dict | None = None
) -> str | None:
    """Every container must have a limit of each required resource (memory, cpu)."""
    unlimited = []
    for container in found:
        missing = [name for name in required if name not in container.limits]
        if missing:
            unlimited.append(f"{container.where} has no {' or '.join(missing)} limit")
    if not unlimited:
        return None
    cited = ", ".join((variables or {}).get(name, VARIABLES.get(name, name)) for name in required)
    return (
        f"In namespace {namespace}: {'; '.join(unlimited)}. Without a memory limit one pod can take a node's memory "
        f"({cited}): set the limits in the role that owns the object (mlflow_resources, mlflow_db_upgrade_resources, "
        "mlflow_gc_resources, postgres_resources, drift_cronjob_resources) and run its apply."
    )


def floating_images_problem(namespace: str, found: list[Container]) -> str | None:
    """Every image must have a tag other than latest, or a digest."""
    floating = [
        f"{c.where} uses the image {c.image}, which has "
        + ("the tag latest" if c.image.endswith(":latest") else "neither a tag nor a digest")
        for c in found
        if c.image is not None and not is_pinned(c.image)
    ]
    if not floating:
        return None
    return (
        f"In namespace {namespace}: {'; '.join(floating)}. Such an image runs whatever was pushed last: give a "
        "release tag (not 'latest') or a digest (mlflow_version, mlflow_image_digest, postgres_image, "
        "postgres_image_digest, drift_cronjob_image, drift_cronjob_image_digest) and run the owning role's apply."
    )


def empty_dir_problem(namespace: str, workloads: list[dict], variables: dict | None = None) -> str | None:
    """Every emptyDir volume of the workloads' pods must have a size limit."""
    unbounded = [
        f"{_label(workload)} volume {volume.get('name')} is an emptyDir without sizeLimit"
        for workload in workloads
        if workload.get("kind") != "Cluster"
        for volume in (pod_template(workload).get("spec") or {}).get("volumes") or []
        if "emptyDir" in volume and not (volume.get("emptyDir") or {}).get("sizeLimit")
    ]
    if not unbounded:
        return None
    return (
        f"In namespace {namespace}: {'; '.join(unbounded)}. Such a volume can fill the node's disk"
        f"{_cited(variables or {}, 'empty_dir_size_limits')}: set the size limit in the role that owns the object "
        "(mlflow_tmp_size_limit, mlflow_db_upgrade_tmp_size_limit, mlflow_gc_tmp_size_limit, "
        "drift_cronjob_tmp_size_limit) and run its apply."
    )


def denies_everything(policy: dict) -> bool:
    """Whether a CiliumNetworkPolicy or NetworkPolicy selects every pod and allows nothing, both ways."""
    spec = policy.get("spec") or {}
    rules = (spec.get("ingress") or []) + (spec.get("egress") or [])
    if policy.get("kind") == "CiliumNetworkPolicy":
        return (
            spec.get("endpointSelector") == {}
            and False not in (spec.get("enableDefaultDeny") or {}).values()
            and all(rule == {} for rule in rules)
            and ("ingress" in spec or "ingressDeny" in spec)
            and ("egress" in spec or "egressDeny" in spec)
        )
    types = spec.get("policyTypes") or []
    return spec.get("podSelector") == {} and "Ingress" in types and "Egress" in types and not rules


CILIUM_POLICY = ("cilium.io/v2", "CiliumNetworkPolicy")


def default_deny_kind(kind: str, serves) -> str:
    """The kind of the default deny: `auto` is Cilium's where the cluster serves it (serves(api_version, kind))."""
    if kind != "auto":
        return kind
    return CILIUM_POLICY[1] if serves(*CILIUM_POLICY) else "NetworkPolicy"


def default_deny_problem(
    namespace: str, kind: str, name: str, policy: dict | None, variables: dict | None = None
) -> str | None:
    """The default-deny policy must be there and allow nothing."""
    if policy is not None and denies_everything(policy):
        return None
    found = (
        "is missing"
        if policy is None
        else f"does not deny by default: its spec is {json.dumps(policy.get('spec') or {}, sort_keys=True)}"
    )
    return (
        f"{kind} {name}{_cited(variables or {}, 'default_deny')} in namespace {namespace} {found}. Every pod would "
        "then be open to the whole cluster: run homelab.mlflow.networkpolicy (ansible-playbook playbooks/site.yml "
        "--tags networkpolicy), which restores it."
    )


def privileged_probe(namespace: str, name: str) -> dict:
    """A pod that no PodSecurity level but privileged admits: the API server must refuse it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "containers": [
                {"name": "probe", "image": "registry.k8s.io/pause:3.10", "securityContext": {"privileged": True}}
            ]
        },
    }


def pod_of(workload: dict, namespace: str, name: str) -> dict:
    """A pod as a workload's template would start it, under a name of its own."""
    template = pod_template(workload)
    labels = (template.get("metadata") or {}).get("labels") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": template.get("spec") or {},
    }


def privileged_admitted_problem(namespace: str, refusal: str | None) -> str | None:
    """The dry run of a privileged pod must have been refused by PodSecurity admission."""
    if refusal is not None and "violates PodSecurity" in refusal:
        return None
    said = f" (it said: {refusal})" if refusal else ""
    return (
        f"The API server admitted a privileged pod in {namespace} (dry run){said}: PodSecurity admission is not "
        "enforced there. Check that the PodSecurity admission plugin is enabled on the API server and that no "
        "exemption covers this namespace."
    )


def refused_pod_problem(namespace: str, workload: dict | None, label: str, refusal: str | None) -> str | None:
    """A pod of the workload's template must be admitted, or the workload could never start one."""
    if workload is None:
        return f"{label} in namespace {namespace} is missing: its pods could not be checked against admission."
    if refusal is None:
        return None
    return f"The API server would not start a pod of {label}'s template in namespace {namespace}: {refusal}"


def access_problem(namespace: str, user: str, expected: bool, allowed: bool, attributes: dict) -> str | None:
    """An account must be allowed exactly what it needs: the API server's answer against the expectation."""
    if expected == allowed:
        return None
    what = " ".join(str(attributes.get(key) or "") for key in ("verb", "resource", "name")).strip()
    return (
        f"The API server says {user} {'may' if allowed else 'may not'} {what} in namespace {namespace}, "
        f"which it {'must not do' if allowed else 'needs'}."
    )
