# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""homelab.mlflow.postgres before it writes: the APIs it needs, the StorageClass, the nodes, changes the
running database cluster cannot take, and the credentials Secret's type and owner.

Returns the fact `postgres_existing_scheduled_backup` ({resources: [the ScheduledBackup]} or no resources):
turning backups off suspends the schedule as it is, which the ScheduledBackup's template reads.
"""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import as_int
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import shown
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.outcome import Outcome, cluster_info_missing
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.postgres_apis import required_apis
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.postgres_cluster import check_existing
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.storage_classes import (
    missing_message,
    storage_class,
)

CNPG = "postgresql.cnpg.io/v1"
ONEPASSWORD_ITEM = ("onepassword.com/v1", "OnePasswordItem")
CREDENTIALS_TYPE = "kubernetes.io/basic-auth"


def check(values, cluster: Cluster) -> Outcome:
    outcome = Outcome()
    if not cluster.known:
        outcome.problems.append(cluster_info_missing("postgres"))
        return outcome
    where = f"context {cluster.context}" if cluster.context else "context of the kubeconfig"
    for api in required_apis(values):
        if not cluster.serves(api.api_version, api.kind):
            outcome.add(
                api.variable,
                f"The API {api.crd} ({api.api_version} {api.kind}) is not installed in the cluster ({where}): "
                f"{api.remedy}",
            )
    class_name = values["postgres_storage_class"]
    selected = storage_class(cluster, class_name)
    if selected is None:
        outcome.add("postgres_storage_class", missing_message(cluster, "postgres_storage_class", class_name))
    _check_nodes(values, cluster, outcome)
    namespace = values["mlflow_namespace"]
    if cluster.serves(CNPG, "Cluster"):
        live = cluster.get(CNPG, "Cluster", values["postgres_cluster_name"], namespace)
        if live is not None:
            check_existing(values, live, selected, outcome)
    backup = (
        cluster.get(CNPG, "ScheduledBackup", values["postgres_scheduled_backup_name"], namespace)
        if cluster.serves(CNPG, "ScheduledBackup")
        else None
    )
    outcome.facts["postgres_existing_scheduled_backup"] = {"resources": [shown(backup)] if backup else []}
    _check_credentials_secret(values, cluster, outcome)
    return outcome


def topology_domains(nodes: list, key: str) -> list[str]:
    """The distinct values of a node label, in the order found."""
    found = [((node.get("metadata") or {}).get("labels") or {}).get(key) for node in nodes]
    return list(dict.fromkeys(value for value in found if value is not None))


def _check_nodes(values, cluster: Cluster, outcome: Outcome) -> None:
    instances = as_int(values["postgres_instances"])
    if instances <= 1 or values["postgres_pod_anti_affinity_type"] != "required":
        return
    key = values["postgres_pod_anti_affinity_topology_key"]
    domains = topology_domains(cluster.list("v1", "Node"), key)
    if len(domains) >= instances:
        return
    outcome.add(
        "postgres_instances",
        f"postgres_instances is {values['postgres_instances']} with postgres_pod_anti_affinity_type required, but the "
        f"nodes have only {len(domains)} distinct value(s) of the label {key} "
        "(postgres_pod_anti_affinity_topology_key), so some instances could never be scheduled. Lower "
        "postgres_instances, add nodes, or set postgres_pod_anti_affinity_type to preferred.",
    )


# The credentials Secret's type cannot change once it exists, and with another source than
# onepassword_operator a OnePasswordItem of its name would have the operator rewrite it.
def _check_credentials_secret(values, cluster: Cluster, outcome: Outcome) -> None:
    name, namespace = values["postgres_credentials_secret"], values["mlflow_namespace"]
    source = values["postgres_credentials_source"]
    secret = cluster.get("v1", "Secret", name, namespace)
    # Only the type is looked at: the values never reach a message or the result.
    secret_type = (secret.get("type") or "Opaque") if secret is not None else ""
    if secret_type not in ("", CREDENTIALS_TYPE):
        outcome.add(
            "postgres_credentials_secret",
            f"Secret {name} (postgres_credentials_secret) already exists in namespace {namespace} with type "
            f"{secret_type}, but the credentials Secret is of type {CREDENTIALS_TYPE}, and a Secret's type cannot "
            f"change. If it is an old copy of the credentials, delete it (kubectl -n {namespace} delete secret {name}) "
            "and run again; if something else uses it, choose another postgres_credentials_secret.",
        )
    if source == "onepassword_operator" or not cluster.serves(*ONEPASSWORD_ITEM):
        return
    if cluster.get(*ONEPASSWORD_ITEM, name, namespace) is None:
        return
    outcome.add(
        "postgres_credentials_source",
        f"postgres_credentials_source is {source}, but namespace {namespace} has a OnePasswordItem {name}, so the "
        f"1Password operator owns Secret {name} and would undo what the role writes there. Keep "
        "postgres_credentials_source onepassword_operator; or, to switch, delete the OnePasswordItem first "
        f"(kubectl -n {namespace} delete onepassworditems.onepassword.com {name}; the operator then deletes the "
        "Secret, which this role writes anew, and CloudNativePG keeps the database running meanwhile).",
    )
