"""What removing a deployment deletes and keeps: Kubernetes objects and Authentik's SSO objects."""

from __future__ import annotations

import pytest
from authentik_client_testing import owned_blueprint

from ansible_collections.homelab.mlflow.plugins.module_utils import teardown

NS = "mlflow"
OURS = {"app.kubernetes.io/managed-by": "homelab.mlflow", "app.kubernetes.io/instance": "mlflow"}
APPLIED = [{"manager": "homelab.mlflow", "operation": "Apply"}]


def obj(api_version, kind, name, namespace=NS, labels=None, managers=None, owners=None, spec=None):
    labels = OURS if labels is None else labels
    managers = APPLIED if managers is None else managers
    metadata = {"name": name, "labels": dict(labels or {}), "managedFields": managers}
    if namespace:
        metadata["namespace"] = namespace
    if owners:
        metadata["ownerReferences"] = owners
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec or {}}


CLUSTER = obj(
    "postgresql.cnpg.io/v1",
    "Cluster",
    "mlflow-postgres",
    spec={"bootstrap": {"initdb": {"secret": {"name": "mlflow-secrets"}}}, "superuserSecret": {"name": "su"}},
)
LIVE = [
    obj("networking.k8s.io/v1", "NetworkPolicy", "mlflow-default-deny"),
    obj("apps/v1", "Deployment", "mlflow"),
    obj("v1", "Service", "mlflow"),
    obj("batch/v1", "CronJob", "mlflow-gc"),
    obj("batch/v1", "Job", "mlflow-db-upgrade-3-1"),
    obj("v1", "Secret", "mlflow-backend-store"),
    obj("v1", "Secret", "mlflow-secrets"),
    obj("v1", "Secret", "su"),
    obj("v1", "PersistentVolumeClaim", "mlflow-artifacts"),
    obj("postgresql.cnpg.io/v1", "ScheduledBackup", "mlflow-postgres-backup"),
    CLUSTER,
]


def names(refs):
    return [teardown.describe(ref) for ref in refs]


def test_keeps_the_data_and_deletes_the_rest_workloads_first_policies_last():
    result = teardown.plan(LIVE, namespace=NS)
    assert result["delete_names"] == [
        "CronJob mlflow/mlflow-gc",
        "Job mlflow/mlflow-db-upgrade-3-1",
        "Deployment mlflow/mlflow",
        "Service mlflow/mlflow",
        "Secret mlflow/mlflow-backend-store",
        "NetworkPolicy mlflow/mlflow-default-deny",
    ]
    assert sorted(result["keep_names"]) == [
        "Cluster mlflow/mlflow-postgres",
        "PersistentVolumeClaim mlflow/mlflow-artifacts",
        "ScheduledBackup mlflow/mlflow-postgres-backup",
        "Secret mlflow/mlflow-secrets",
        "Secret mlflow/su",
    ]
    assert result["delete"][0] == {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "mlflow-gc", "namespace": NS},
    }


def test_delete_data_deletes_everything_data_before_the_policies():
    result = teardown.plan(LIVE, namespace=NS, delete_data=True)
    assert result["keep"] == []
    order = result["delete_names"]
    assert order.index("Cluster mlflow/mlflow-postgres") < order.index("PersistentVolumeClaim mlflow/mlflow-artifacts")
    assert order[-1] == "NetworkPolicy mlflow/mlflow-default-deny"


def test_the_credentials_secret_stays_without_its_cluster():
    result = teardown.plan([obj("v1", "Secret", "creds")], namespace=NS, kept_secrets=["creds"])
    assert result["keep_names"] == ["Secret mlflow/creds"]


@pytest.mark.parametrize(
    "other",
    [
        obj("v1", "ConfigMap", "unlabelled", labels={}),
        obj("v1", "ConfigMap", "someone-else", labels={"app.kubernetes.io/managed-by": "Helm"}),
        obj("v1", "Endpoints", "copied-labels", managers=[{"manager": "kube-controller-manager"}]),
        obj("apps/v1", "ReplicaSet", "owned", owners=[{"kind": "Deployment", "name": "mlflow"}]),
        obj("v1", "Service", "other-namespace", namespace="mlflow-dev"),
    ],
)
def test_leaves_what_the_collection_did_not_apply_here(other):
    assert teardown.plan([other], namespace=NS)["delete"] == []


def test_outside_the_namespace_only_what_is_named_for_the_deployment():
    jobs = [
        obj("longhorn.io/v1beta2", "RecurringJob", "mlflow-daily", namespace="longhorn-system"),
        obj("longhorn.io/v1beta2", "RecurringJob", "mlflow-dev-daily", namespace="longhorn-system"),
        obj("rbac.authorization.k8s.io/v1", "ClusterRole", "mlflow-drift-mlflow", namespace=None),
        obj("rbac.authorization.k8s.io/v1", "ClusterRole", "mlflow-drift-mlflow-dev", namespace=None),
    ]
    result = teardown.plan(jobs, names=["mlflow-daily", "mlflow-drift-mlflow"])
    assert result["delete_names"] == ["ClusterRole mlflow-drift-mlflow", "RecurringJob longhorn-system/mlflow-daily"]


def test_recurring_job_names_from_the_claim_and_the_settings():
    claim = obj(
        "v1",
        "PersistentVolumeClaim",
        "mlflow-artifacts",
        labels={
            **OURS,
            "recurring-job.longhorn.io/source": "enabled",
            "recurring-job.longhorn.io/mlflow-old": "enabled",
            "recurring-job.longhorn.io/shared": "enabled",
            "recurring-job-group.longhorn.io/default": "enabled",
        },
    )
    assert teardown.recurring_job_names([claim], "mlflow-", [{"name": "daily"}]) == ["mlflow-daily", "mlflow-old"]


def test_template_kinds_reads_literal_pairs_only():
    texts = [
        "apiVersion: v1\nkind: Service\nmetadata: {}\n",
        "{# comment #}\n---\napiVersion: longhorn.io/v1beta2\nkind: RecurringJob\n",
        "apiVersion: {{ api_version }}\nkind: {{ kind }}\n",
        "apiVersion: batch/v1\n# a note\nkind: CronJob\n",
    ]
    assert teardown.template_kinds(texts) == [
        {"api_version": "batch/v1", "kind": "CronJob"},
        {"api_version": "longhorn.io/v1beta2", "kind": "RecurringJob"},
        {"api_version": "v1", "kind": "Service"},
    ]
    apis = {"v1": {"Service": {"namespaced": True}}, "batch/v1": {"CronJob": {"namespaced": True}}}
    assert [k["kind"] for k in teardown.served_kinds(teardown.template_kinds(texts), apis)] == ["CronJob", "Service"]


# -- Authentik --------------------------------------------------------------------------------------

HOST = "mlflow.example.com"
OWNER = "mlflow at mlflow.example.com"
NAMES = {"blueprint": "bp", "provider": "prov", "application_slug": "app", "outpost": "out"}


def blueprint(name, owner=OWNER, host=HOST, provider="prov", app="app", outpost="out"):
    entries = f"""\
  - model: authentik_providers_proxy.proxyprovider
    identifiers: {{name: {provider}}}
    attrs: {{external_host: "https://{host}"}}
  - model: authentik_core.application
    identifiers: {{slug: {app}}}
  - model: authentik_outposts.outpost
    identifiers: {{name: {outpost}}}
"""
    return {"name": name, "content": owned_blueprint(name, owner, entries)}


PROVIDER = {"pk": 7, "name": "prov", "external_host": f"https://{HOST}"}
APPLICATION = {"slug": "app", "provider": 7}
OUTPOST = {"pk": "u-1", "name": "out", "providers": [7], "managed": None}


def steps(actions):
    return [(a["action"], a["object"], a["name"]) for a in actions]


def test_deletes_what_its_blueprint_declares_application_first():
    actions, skipped = teardown.sso_removal(NAMES, HOST, OWNER, [blueprint("bp")], PROVIDER, APPLICATION, OUTPOST)
    assert steps(actions) == [
        ("delete", "application", "app"),
        ("delete", "provider", "prov"),
        ("delete", "outpost", "out"),
    ]
    assert skipped == []


def test_without_its_blueprint_the_external_url_decides():
    actions, _skipped = teardown.sso_removal(NAMES, HOST, OWNER, [], PROVIDER, APPLICATION, OUTPOST)
    assert len(actions) == 3
    foreign = {**PROVIDER, "external_host": "https://other.example.com"}
    actions, skipped = teardown.sso_removal(NAMES, HOST, OWNER, [], foreign, APPLICATION, {**OUTPOST, "providers": [7]})
    assert actions == []
    assert len(skipped) == 3


def test_never_deletes_another_deployments_objects():
    theirs = blueprint("theirs", owner="dev at dev.example.com", host="dev.example.com")
    actions, skipped = teardown.sso_removal(NAMES, HOST, OWNER, [theirs], PROVIDER, APPLICATION, OUTPOST)
    assert actions == []
    assert all("another deployment" in line for line in skipped)


def test_a_shared_outpost_only_loses_the_provider():
    shared = {
        "pk": "u-2",
        "name": "authentik Embedded Outpost",
        "providers": [3, 7],
        "managed": "goauthentik.io/outposts/embedded",
    }
    names = {**NAMES, "outpost": shared["name"]}
    actions, _skipped = teardown.sso_removal(
        names, HOST, OWNER, [blueprint("bp")], PROVIDER, APPLICATION, shared, dedicated=False
    )
    assert steps(actions) == [
        ("remove_provider", "outpost", "authentik Embedded Outpost"),
        ("delete", "application", "app"),
        ("delete", "provider", "prov"),
    ]


def test_a_managed_or_busy_dedicated_outpost_stays():
    busy = {**OUTPOST, "providers": [7, 9]}
    actions, _skipped = teardown.sso_removal(NAMES, HOST, OWNER, [], PROVIDER, APPLICATION, busy)
    assert ("delete", "outpost", "out") not in steps(actions)
    managed = {**OUTPOST, "managed": "goauthentik.io/outposts/embedded"}
    actions, skipped = teardown.sso_removal(NAMES, HOST, OWNER, [blueprint("bp")], PROVIDER, APPLICATION, managed)
    assert ("delete", "outpost", "out") not in steps(actions)
    assert any("managed by Authentik" in line for line in skipped)


def test_nothing_left_nothing_to_do():
    assert teardown.sso_removal(NAMES, HOST, OWNER, [], None, None, None) == ([], [])


def test_outpost_route_name():
    assert teardown.outpost_route_name("mlflow-mlflow-example-com") == "ak-outpost-mlflow-mlflow-example-com"
