"""plugins/module_utils/preflight/postgres.py and its parts (postgres_apis.py, postgres_cluster.py)."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import postgres
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.postgres_cluster import major_version

from .conftest import ROLE_APIS, add_fixed_size_longhorn, assert_each_says

NS = "/api/v1/namespaces/ns"
CLUSTER = "/apis/postgresql.cnpg.io/v1/namespaces/ns/clusters/mlflow-postgres"
BACKUP = "/apis/postgresql.cnpg.io/v1/namespaces/ns/scheduledbackups/mlflow-postgres-backup"
VALUES = {
    "mlflow_namespace": "ns",
    "postgres_cluster_name": "mlflow-postgres",
    "postgres_instances": 1,
    "postgres_pod_anti_affinity_type": "preferred",
    "postgres_pod_anti_affinity_topology_key": "kubernetes.io/hostname",
    "postgres_storage_size": "20Gi",
    "postgres_storage_class": "longhorn",
    "postgres_database": "mlflow",
    "postgres_owner": "mlflow",
    "postgres_image": "ghcr.io/cloudnative-pg/postgresql:17.6",
    "postgres_scheduled_backup_enabled": False,
    "postgres_scheduled_backup_name": "mlflow-postgres-backup",
    "postgres_backup_method": "barmanObjectStore",
    "postgres_pod_monitor_enabled": False,
    "postgres_credentials_source": "variables",
    "postgres_credentials_secret": "mlflow-secrets",
}


def live_cluster(size="20Gi", class_name="longhorn", image="ghcr.io/cloudnative-pg/postgresql:17.6", initdb=None):
    bootstrap = {"initdb": initdb or {"database": "mlflow", "owner": "mlflow"}}
    return {"spec": {"storage": {"size": size, "storageClass": class_name}, "imageName": image, "bootstrap": bootstrap}}


def test_a_first_run_passes_and_finds_no_scheduled_backup(cluster_of):
    outcome = postgres.check(VALUES, cluster_of())

    assert outcome.problems == []
    assert outcome.facts == {"postgres_existing_scheduled_backup": {"resources": []}}


def test_the_existing_scheduled_backup_is_a_fact_without_managed_fields(kube, cluster_of):
    kube.add(BACKUP, {"metadata": {"name": "b", "managedFields": [{}]}, "spec": {"schedule": "0 0 3 * * *"}})

    facts = postgres.check(VALUES, cluster_of()).facts

    assert facts == {
        "postgres_existing_scheduled_backup": {
            "resources": [{"metadata": {"name": "b"}, "spec": {"schedule": "0 0 3 * * *"}}]
        }
    }


def test_every_missing_api_is_named_with_its_remedy(cluster_of):
    values = {
        **VALUES,
        "postgres_scheduled_backup_enabled": True,
        "postgres_backup_method": "volumeSnapshot",
        "postgres_credentials_source": "onepassword_operator",
        "postgres_pod_monitor_enabled": True,
    }
    apis = {k: v for k, v in ROLE_APIS.items() if k != "postgresql.cnpg.io/v1"}

    problems = postgres.check(values, cluster_of(apis, context="lab")).problems

    assert [p.variable for p in problems] == [
        "postgres_cluster_name",
        "postgres_scheduled_backup_enabled",
        "postgres_backup_method",
        "postgres_credentials_source",
        "postgres_pod_monitor_enabled",
    ]
    assert problems[0].message.startswith(
        "The API clusters.postgresql.cnpg.io (postgresql.cnpg.io/v1 Cluster) is not installed in the cluster "
        "(context lab): homelab.mlflow.postgres deploys the database"
    )


def test_a_missing_storage_class_is_named(cluster_of):
    (problem,) = postgres.check({**VALUES, "postgres_storage_class": "fast-ssd"}, cluster_of()).problems

    assert 'postgres_storage_class is "fast-ssd", but the cluster has no such StorageClass; it has longhorn' in (
        problem.message
    )


def test_required_anti_affinity_needs_enough_topology_domains(kube, cluster_of):
    for name, zone in (("a", "z1"), ("b", "z1"), ("c", None)):
        labels = {"topology.kubernetes.io/zone": zone} if zone else {}
        kube.add(f"/api/v1/nodes/{name}", {"metadata": {"name": name, "labels": labels}})
    values = {
        **VALUES,
        "postgres_instances": "2",
        "postgres_pod_anti_affinity_type": "required",
        "postgres_pod_anti_affinity_topology_key": "topology.kubernetes.io/zone",
    }

    (problem,) = postgres.check(values, cluster_of()).problems

    assert problem.variable == "postgres_instances"
    assert "the nodes have only 1 distinct value(s) of the label topology.kubernetes.io/zone" in problem.message


@pytest.mark.parametrize(
    ("live", "overrides", "expected"),
    [
        (live_cluster(), {}, []),
        (live_cluster(), {"postgres_storage_size": "10Gi"}, ["has 20Gi volumes, and volumes cannot shrink"]),
        (live_cluster(class_name=""), {}, []),
        (live_cluster(class_name="standard"), {}, ["keeps its data on StorageClass standard"]),
        (
            live_cluster(initdb={"database": "app", "owner": "app"}),
            {},
            [
                "postgres_database/postgres_owner are mlflow/mlflow, but the existing cluster mlflow-postgres in "
                "namespace ns was bootstrapped with app/app"
            ],
        ),
        (
            live_cluster(image="registry:5000/postgresql:18.0@sha256:" + "a" * 64),
            {},
            [
                "postgres_image is ghcr.io/cloudnative-pg/postgresql:17.6, PostgreSQL 17, but the existing cluster "
                "mlflow-postgres in namespace ns runs PostgreSQL 18"
            ],
        ),
        (live_cluster(image="ghcr.io/cloudnative-pg/postgresql:16.4"), {}, []),
    ],
)
def test_an_existing_cluster_takes_only_what_it_can(problems_with, live, overrides, expected):
    problems = problems_with(postgres.check, {**VALUES, **overrides}, CLUSTER, live)

    assert_each_says(problems, expected)


def test_volumes_grow_only_on_an_expandable_class(kube, problems_with):
    not_expandable = add_fixed_size_longhorn(kube)

    (problem,) = problems_with(postgres.check, {**VALUES, "postgres_storage_size": "30Gi"}, CLUSTER, live_cluster())

    assert not_expandable in problem.message


@pytest.mark.parametrize(
    ("image", "major"),
    [
        ("ghcr.io/cloudnative-pg/postgresql:17.6", "17"),
        ("registry:5000/postgresql:16-bookworm", "16"),
        ("registry:5000/postgresql@sha256:" + "a" * 64, ""),
        ("postgresql:latest", ""),
        ("", ""),
    ],
)
def test_the_major_version_is_the_tags_leading_number(image, major):
    assert major_version(image) == major


@pytest.mark.parametrize(
    ("secret_type", "refused"), [("kubernetes.io/basic-auth", False), ("", True), ("Opaque", True)]
)
def test_the_credentials_secret_keeps_its_type(kube, cluster_of, secret_type, refused):
    kube.add(f"{NS}/secrets/mlflow-secrets", {"type": secret_type, "data": {"password": "c2VjcmV0"}})

    outcome = postgres.check(VALUES, cluster_of())

    assert [p.variable for p in outcome.problems] == (["postgres_credentials_secret"] if refused else [])
    if refused:
        assert (
            f"with type {secret_type or 'Opaque'}, but the credentials Secret is of type kubernetes.io/basic-auth"
            in (outcome.problems[0].message)
        )
    assert "c2VjcmV0" not in repr(outcome)


def test_a_onepassword_item_owns_the_secret_unless_it_is_the_source(kube, cluster_of):
    apis = {**ROLE_APIS, "onepassword.com/v1": {"OnePasswordItem": {"name": "onepassworditems", "namespaced": True}}}
    kube.add("/apis/onepassword.com/v1/namespaces/ns/onepassworditems/mlflow-secrets", {"metadata": {}})

    (problem,) = postgres.check(VALUES, cluster_of(apis)).problems
    operator = {**VALUES, "postgres_credentials_source": "onepassword_operator"}

    assert problem.variable == "postgres_credentials_source"
    assert "has a OnePasswordItem mlflow-secrets, so the 1Password operator owns" in problem.message
    assert postgres.check(operator, cluster_of(apis)).problems == []
