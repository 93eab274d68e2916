"""plugins/module_utils/preflight/storage.py."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import storage

from .conftest import ROLE_APIS, add_fixed_size_longhorn, assert_each_says, storage_class

CLAIM = "/api/v1/namespaces/ns/persistentvolumeclaims/mlflow-artifacts"
VALUES = {
    "mlflow_namespace": "ns",
    "storage_artifacts_pvc_name": "mlflow-artifacts",
    "storage_artifacts_size": "20Gi",
    "storage_artifacts_storage_class": "longhorn",
    "storage_artifacts_access_mode": "ReadWriteOnce",
    "storage_longhorn_provisioner": "driver.longhorn.io",
    "storage_recurring_jobs": [],
    "storage_recurring_job_groups": [],
}


def claim(size="20Gi", class_name="longhorn", modes=("ReadWriteOnce",), deleting=False) -> dict:
    metadata = {"name": "mlflow-artifacts", **({"deletionTimestamp": "2025-01-01T00:00:00Z"} if deleting else {})}
    spec = {"resources": {"requests": {"storage": size}}, "storageClassName": class_name, "accessModes": list(modes)}
    return {"metadata": metadata, "spec": spec}


def test_a_first_run_on_longhorn_passes_and_says_so(kube, cluster_of):
    outcome = storage.check(VALUES, cluster_of())

    assert outcome.problems == []
    assert outcome.facts == {"storage_on_longhorn": True}
    assert ("GET", CLAIM) in kube.sent


def test_a_missing_class_names_the_classes_there_are(kube, cluster_of):
    kube.add("/apis/storage.k8s.io/v1/storageclasses/standard", storage_class("standard", "rancher.io/local-path"))

    (problem,) = storage.check({**VALUES, "storage_artifacts_storage_class": "fast-ssd"}, cluster_of()).problems

    assert problem.variable == "storage_artifacts_storage_class"
    assert problem.message.startswith(
        'storage_artifacts_storage_class is "fast-ssd", but the cluster has no such StorageClass; it has longhorn, '
        "standard."
    )


def test_recurring_jobs_need_longhorn(kube, cluster_of):
    kube.add("/apis/storage.k8s.io/v1/storageclasses/standard", storage_class("standard", "rancher.io/local-path"))
    jobs = {"storage_recurring_jobs": [{"name": "snap"}], "storage_artifacts_storage_class": "standard"}

    outcome = storage.check({**VALUES, **jobs}, cluster_of())

    (problem,) = outcome.problems
    assert "StorageClass standard (storage_artifacts_storage_class) is provisioned by rancher.io/local-path" in (
        problem.message
    )
    assert outcome.facts == {"storage_on_longhorn": False}


def test_recurring_job_groups_need_longhorns_crd(cluster_of):
    apis = {k: v for k, v in ROLE_APIS.items() if k != "longhorn.io/v1beta2"}

    (problem,) = storage.check({**VALUES, "storage_recurring_job_groups": ["daily"]}, cluster_of(apis)).problems

    assert problem.variable == "storage_recurring_job_groups"
    assert "the CRD recurringjobs.longhorn.io (longhorn.io/v1beta2) is not installed" in problem.message


@pytest.mark.parametrize(
    ("live", "overrides", "expected"),
    [
        (claim(), {}, []),
        (claim(size="20480Mi"), {}, []),
        (claim(), {"storage_artifacts_size": "10Gi"}, ["requests 20Gi, and a PersistentVolumeClaim cannot shrink"]),
        (claim(class_name=""), {}, ["has StorageClass (none), which cannot change"]),
        (claim(modes=("ReadWriteMany",)), {}, ["has access mode ReadWriteMany, which cannot change"]),
        (claim(deleting=True), {}, ["is being deleted (it waits for the pods that use it to stop)"]),
    ],
)
def test_an_existing_claim_takes_only_what_it_can(problems_with, live, overrides, expected):
    problems = problems_with(storage.check, {**VALUES, **overrides}, CLAIM, live)

    assert_each_says(problems, expected)


def test_a_claim_grows_only_on_an_expandable_class(kube, problems_with):
    not_expandable = add_fixed_size_longhorn(kube)

    (problem,) = problems_with(storage.check, {**VALUES, "storage_artifacts_size": "30Gi"}, CLAIM, claim())

    assert not_expandable in problem.message


def test_without_the_cluster_preflight_nothing_is_read(kube):
    from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster

    (problem,) = storage.check(VALUES, Cluster(None, lambda: kube)).problems

    assert problem.variable == "cluster_preflight_cluster_info"
    assert kube.sent == []
