"""The storage role on the test cluster, through ansible-playbook.

One deployment per module (a namespace of its own) is converged and re-run; the tests read what it
left in the cluster. The test cluster's Longhorn stand-in only binds claims: a `volumes.longhorn.io`
is created by hand where a test needs Longhorn's view of the volume. Check mode and bad input run
as several hosts of one run each (all of them the controller), and the API server's audit log
proves that nothing was written.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from ansible_runs import ansible_playbook, failure_messages, recap, unexpected_failures, unique, write_inventory
from kube_namespaces import delete_namespaces
from kubernetes import client
from kubernetes.client.exceptions import ApiException

PLAYBOOK = Path(__file__).parent / "playbooks" / "storage.yml"
ADMIN = "testcluster-admin"
LONGHORN = "longhorn-system"
PVC = "mlflow-artifacts"

DEPLOYMENT_VARS = {
    "storage_artifacts_access_mode": "ReadWriteMany",
    "storage_recurring_jobs": [
        {"name": "artifacts-snapshot", "task": "snapshot", "cron": "0 * * * *", "retain": 24, "labels": {"every": 1}},
        {
            "name": "artifacts-backup",
            "task": "backup",
            "cron": "0 3 * * *",
            "retain": 14,
            "groups": ["nightly"],
            "parameters": {"full-backup-interval": 7},
        },
    ],
    "storage_recurring_job_groups": ["weekly"],
}


def writes_to(testcluster, mark: int, namespaces: set[str]) -> list:
    """Write requests of the admin user since `mark` that touched one of the namespaces (or created it),
    or one of their recurring jobs in Longhorn's namespace (named after the deployment's namespace)."""
    return [
        request
        for request in testcluster.audit.writes(mark, user=ADMIN)
        if request.namespace in namespaces
        or (request.resource == "/namespaces" and request.name in namespaces)
        or any(request.name.startswith(f"{namespace}-") for namespace in namespaces)
    ]


def delete_recurring_jobs(k8s, namespace: str) -> None:
    custom = client.CustomObjectsApi(k8s)
    for job in custom.list_namespaced_custom_object("longhorn.io", "v1beta2", LONGHORN, "recurringjobs")["items"]:
        if job["metadata"]["name"].startswith(f"{namespace}-"):
            custom.delete_namespaced_custom_object(
                "longhorn.io", "v1beta2", LONGHORN, "recurringjobs", job["metadata"]["name"]
            )


def longhorn_volume(k8s, name: str, robustness: str) -> None:
    """What Longhorn's manager would report for a volume: a volumes.longhorn.io with its robustness."""
    custom = client.CustomObjectsApi(k8s)
    try:
        custom.create_namespaced_custom_object(
            "longhorn.io",
            "v1beta2",
            LONGHORN,
            "volumes",
            {"metadata": {"name": name}, "spec": {}, "kind": "Volume", "apiVersion": "longhorn.io/v1beta2"},
        )
    except ApiException as err:
        if err.status != 409:
            raise
    custom.patch_namespaced_custom_object_status(
        "longhorn.io", "v1beta2", LONGHORN, "volumes", name, {"status": {"robustness": robustness, "state": "attached"}}
    )


@pytest.fixture(scope="module")
def deployment(repo_root, testcluster, k8s, tmp_path_factory):
    """Converge; then, with Longhorn reporting the volume healthy, run again."""
    namespace = unique("st-role")
    work = tmp_path_factory.mktemp("storage-role")
    inventory = write_inventory(
        work / "hosts.yml", testcluster, {"target": {"mlflow_namespace": namespace, **DEPLOYMENT_VARS}}
    )
    volume = None
    try:
        first = ansible_playbook(repo_root, PLAYBOOK, inventory)
        if first.returncode == 0:
            volume = client.CoreV1Api(k8s).read_namespaced_persistent_volume_claim(PVC, namespace).spec.volume_name
            longhorn_volume(k8s, volume, "healthy")
        second = ansible_playbook(repo_root, PLAYBOOK, inventory)
        yield {"namespace": namespace, "inventory": inventory, "work": work, "volume": volume, "runs": (first, second)}
    finally:
        if volume:
            client.CustomObjectsApi(k8s).delete_namespaced_custom_object(
                "longhorn.io", "v1beta2", LONGHORN, "volumes", volume
            )
        delete_recurring_jobs(k8s, namespace)
        delete_namespaces(k8s, [namespace])


@pytest.fixture
def local_path_class(k8s):
    """A StorageClass of another provisioner than Longhorn, for the time of a test."""
    name = unique("local-path")
    storage = client.StorageV1Api(k8s)
    storage.create_storage_class(
        client.V1StorageClass(metadata=client.V1ObjectMeta(name=name), provisioner="rancher.io/local-path")
    )
    yield name
    storage.delete_storage_class(name)


def test_converge_succeeds_and_a_second_run_changes_nothing(deployment):
    first, second = deployment["runs"]

    assert first.returncode == 0, first.stdout[-5000:]
    assert recap(first.stdout)["target"]["changed"] > 0
    assert second.returncode == 0, second.stdout[-5000:]
    assert recap(second.stdout)["target"]["changed"] == 0
    # The second run found Longhorn's volume and checked it.
    assert "ok: [target]" in second.stdout.split("Check that Longhorn's volume is not faulted")[-1]


def test_the_claim_is_bound_with_the_requested_spec_and_job_labels(deployment, k8s):
    namespace = deployment["namespace"]
    claim = client.CoreV1Api(k8s).read_namespaced_persistent_volume_claim(PVC, namespace)

    assert claim.status.phase == "Bound"
    assert claim.spec.storage_class_name == "longhorn"
    assert claim.spec.access_modes == ["ReadWriteMany"]
    assert claim.spec.resources.requests == {"storage": "50Gi"}
    labels = claim.metadata.labels
    assert labels["app.kubernetes.io/managed-by"] == "homelab.mlflow"
    assert labels["app.kubernetes.io/part-of"] == "mlflow"
    assert {key: value for key, value in labels.items() if "longhorn.io" in key} == {
        "recurring-job.longhorn.io/source": "enabled",
        f"recurring-job.longhorn.io/{namespace}-artifacts-snapshot": "enabled",
        f"recurring-job.longhorn.io/{namespace}-artifacts-backup": "enabled",
        "recurring-job-group.longhorn.io/weekly": "enabled",
    }


def test_the_recurring_jobs_are_in_longhorns_namespace(deployment, k8s):
    namespace = deployment["namespace"]
    custom = client.CustomObjectsApi(k8s)
    snapshot, backup = (
        custom.get_namespaced_custom_object("longhorn.io", "v1beta2", LONGHORN, "recurringjobs", f"{namespace}-{name}")
        for name in ("artifacts-snapshot", "artifacts-backup")
    )

    assert snapshot["spec"] == {
        "name": f"{namespace}-artifacts-snapshot",
        "task": "snapshot",
        "cron": "0 * * * *",
        "retain": 24,
        "concurrency": 1,
        "groups": [],
        "labels": {"every": "1"},
        "parameters": {},
    }
    assert backup["spec"]["task"] == "backup"
    assert backup["spec"]["retain"] == 14
    assert backup["spec"]["groups"] == ["nightly"]
    assert backup["spec"]["parameters"] == {"full-backup-interval": "7"}
    assert backup["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "homelab.mlflow"


def test_verify_fails_when_longhorn_reports_the_volume_faulted(deployment, repo_root, testcluster, k8s):
    longhorn_volume(k8s, deployment["volume"], "faulted")
    mark = testcluster.audit.mark()
    try:
        result = ansible_playbook(repo_root, PLAYBOOK, deployment["inventory"], "--tags", "verify")
    finally:
        longhorn_volume(k8s, deployment["volume"], "healthy")

    assert result.returncode != 0
    message = " ".join(failure_messages(result.stdout)["target"])
    assert f"Longhorn's volume {deployment['volume']} of claim {PVC} is faulted" in message
    # Verify alone writes nothing.
    assert writes_to(testcluster, mark, {deployment["namespace"]}) == []


def test_check_mode_writes_nothing(deployment, repo_root, testcluster, k8s, tmp_path):
    fresh = unique("st-check")
    hosts = {
        "fresh": {"mlflow_namespace": fresh, **DEPLOYMENT_VARS},
        # A larger claim: the dry run reports the change, the claim keeps its size.
        "grow": {"mlflow_namespace": deployment["namespace"], **DEPLOYMENT_VARS, "storage_artifacts_size": "60Gi"},
    }
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, hosts)

    mark = testcluster.audit.mark()
    result = ansible_playbook(repo_root, PLAYBOOK, inventory, "--check", "--diff")

    assert result.returncode == 0, result.stdout[-5000:]
    counters = recap(result.stdout)
    assert counters["fresh"]["changed"] > 0
    assert counters["grow"]["changed"] == 1
    # Each object the run would create, in a diff of its own.
    for header in (
        f"PersistentVolumeClaim {fresh}/{PVC}",
        f"RecurringJob {LONGHORN}/{fresh}-artifacts-snapshot",
        f"RecurringJob {LONGHORN}/{fresh}-artifacts-backup",
    ):
        assert f"+++ after: {header}" in result.stdout, header
    # The diff shows the new size.
    assert re.search(r"^-\s+storage: 50Gi\n\+\s+storage: 60Gi$", result.stdout, re.MULTILINE), result.stdout[-6000:]
    assert writes_to(testcluster, mark, {fresh, deployment["namespace"]}) == []
    with pytest.raises(ApiException) as missing:
        client.CoreV1Api(k8s).read_namespace(fresh)
    assert missing.value.status == 404
    claim = client.CoreV1Api(k8s).read_namespaced_persistent_volume_claim(PVC, deployment["namespace"])
    assert claim.spec.resources.requests == {"storage": "50Gi"}


def test_bad_input_fails_before_any_write_and_names_the_variable(
    deployment, repo_root, testcluster, k8s, tmp_path, local_path_class
):
    existing = {"mlflow_namespace": deployment["namespace"], **DEPLOYMENT_VARS}
    cases = {
        "no_class": (
            {"storage_artifacts_storage_class": "fast-ssd"},
            ['storage_artifacts_storage_class is "fast-ssd"', "no such StorageClass", "longhorn"],
        ),
        "bad_size": ({"storage_artifacts_size": "50 GB"}, ['storage_artifacts_size is "50 GB"', "'50Gi'"]),
        "bad_mode": (
            {"storage_artifacts_access_mode": "ReadOnlyMany"},
            ["storage_artifacts_access_mode", "ReadWriteOnce"],
        ),
        "bad_cron": (
            {"storage_recurring_jobs": [{"name": "snap", "task": "snapshot", "cron": "0 0 * * * *"}]},
            ['storage_recurring_jobs has the job "snap" with cron "0 0 * * * *"', "five fields"],
        ),
        "jobs_off_longhorn": (
            {"storage_artifacts_storage_class": local_path_class, **DEPLOYMENT_VARS},
            ["storage_recurring_jobs is set", "rancher.io/local-path, not Longhorn"],
        ),
        "shrink": ({**existing, "storage_artifacts_size": "10Gi"}, ["storage_artifacts_size is 10Gi", "cannot shrink"]),
        "change_mode": (
            {**existing, "storage_artifacts_access_mode": "ReadWriteOnce"},
            ["storage_artifacts_access_mode is ReadWriteOnce", "ReadWriteMany, which cannot change", "copy the data"],
        ),
        "change_class": (
            {
                **existing,
                "storage_artifacts_storage_class": local_path_class,
                "storage_recurring_jobs": [],
                "storage_recurring_job_groups": [],
            },
            [f"storage_artifacts_storage_class is {local_path_class}", "StorageClass longhorn, which cannot change"],
        ),
    }
    hosts = {
        name: {"mlflow_namespace": unique("st-bad"), **host_vars} for name, (host_vars, _expected) in cases.items()
    }
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, hosts)

    mark = testcluster.audit.mark()
    result = ansible_playbook(repo_root, PLAYBOOK, inventory)

    assert result.returncode != 0
    wrong = unexpected_failures(result.stdout, {host: expected for host, (_host_vars, expected) in cases.items()})
    assert wrong == {}, result.stdout[-8000:]
    assert writes_to(testcluster, mark, {host["mlflow_namespace"] for host in hosts.values()}) == []
    claim = client.CoreV1Api(k8s).read_namespaced_persistent_volume_claim(PVC, deployment["namespace"])
    assert claim.spec.resources.requests == {"storage": "50Gi"}
    assert claim.spec.access_modes == ["ReadWriteMany"]


def test_the_claim_grows_like_longhorn_grows_it_and_never_shrinks(repo_root, testcluster, k8s, tmp_path):
    namespace = unique("st-grow")
    core = client.CoreV1Api(k8s)

    def converge(size: str) -> subprocess.CompletedProcess:
        hosts = {"target": {"mlflow_namespace": namespace, "storage_artifacts_size": size}}
        return ansible_playbook(repo_root, PLAYBOOK, write_inventory(tmp_path / f"{size}.yml", testcluster, hosts))

    try:
        first = converge("1Gi")
        grown = converge("2Gi")
        claim = core.read_namespaced_persistent_volume_claim(PVC, namespace)
        volume = core.read_persistent_volume(claim.spec.volume_name)
        mark = testcluster.audit.mark()
        shrunk = converge("1Gi")
        writes = writes_to(testcluster, mark, {namespace})
    finally:
        delete_namespaces(k8s, [namespace])

    assert first.returncode == 0, first.stdout[-5000:]
    assert grown.returncode == 0, grown.stdout[-5000:]
    assert recap(grown.stdout)["target"]["changed"] == 1
    # The stand-in expanded the volume online, as Longhorn does; verify saw the claim at its new size.
    assert claim.spec.resources.requests == {"storage": "2Gi"}
    assert claim.status.capacity == {"storage": "2Gi"}
    assert volume.spec.capacity == {"storage": "2Gi"}
    # Shrinking is refused before any write, in one message naming the variable and both sizes.
    assert shrunk.returncode != 0
    (message,) = failure_messages(shrunk.stdout)["target"]
    assert "storage_artifacts_size is 1Gi, but the existing" in message
    assert "requests 2Gi, and a PersistentVolumeClaim cannot shrink" in message
    assert writes == []
