"""The namespace role on the test cluster: PodSecurity enforced, idempotent, nothing written in
check mode or on bad input."""

from __future__ import annotations

import uuid

import pytest
from kube_namespaces import delete_namespaces
from kubernetes import client

PLAYBOOK = "site.yml"
VERIFY_TASK = "Check that the namespace enforces PodSecurity and its default ServiceAccount mounts no API token"


@pytest.fixture
def namespace(k8s):
    name = f"ns-role-{uuid.uuid4().hex[:8]}"
    yield name
    delete_namespaces(k8s, [name])


def converge(run_ansible, namespace, *args):
    return run_ansible(
        "ansible-playbook", PLAYBOOK, "--tags", "namespace", "-e", f"mlflow_namespace={namespace}", *args
    )


def test_namespace_enforces_restricted_and_a_second_run_changes_nothing(run_ansible, play_recap, k8s, namespace):
    first = converge(run_ansible, namespace)
    assert first.returncode == 0, first.stdout
    labels = client.CoreV1Api(k8s).read_namespace(namespace).metadata.labels
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert labels["app.kubernetes.io/managed-by"] == "homelab.mlflow"
    # The verify tasks proved enforcement with a dry-run privileged pod.
    assert VERIFY_TASK in first.stdout

    # Pods that name no ServiceAccount get no API token; the role owns that one field.
    account = client.CoreV1Api(k8s).read_namespaced_service_account("default", namespace)
    assert account.automount_service_account_token is False
    assert [
        (entry.manager, entry.operation)
        for entry in account.metadata.managed_fields
        if entry.manager == "homelab.mlflow"
    ] == [("homelab.mlflow", "Apply")]
    assert VERIFY_TASK in first.stdout

    second = converge(run_ansible, namespace)
    assert second.returncode == 0, second.stdout
    assert play_recap(second.stdout)["changed"] == 0


def test_a_default_service_account_that_mounts_a_token_is_corrected(run_ansible, play_recap, k8s, namespace):
    assert converge(run_ansible, namespace).returncode == 0
    core = client.CoreV1Api(k8s)
    core.patch_namespaced_service_account("default", namespace, {"automountServiceAccountToken": True})

    check = converge(run_ansible, namespace, "--check", "--diff")
    assert check.returncode == 0, check.stdout
    assert play_recap(check.stdout)["changed"] == 1  # the ServiceAccount, reported, not written
    assert core.read_namespaced_service_account("default", namespace).automount_service_account_token is True

    fixed = converge(run_ansible, namespace)
    assert fixed.returncode == 0, fixed.stdout
    assert play_recap(fixed.stdout)["changed"] == 1
    assert core.read_namespaced_service_account("default", namespace).automount_service_account_token is False


def test_check_mode_reports_the_namespace_and_writes_nothing(run_ansible, play_recap, testcluster, namespace):
    mark = testcluster.audit.mark()
    result = converge(run_ansible, namespace, "--check", "--diff")
    assert result.returncode == 0, result.stdout
    assert play_recap(result.stdout)["changed"] == 1
    assert f"name: {namespace}" in result.stdout  # the diff shows the namespace to be created
    assert testcluster.audit.writes(mark, user="testcluster-admin", namespace=namespace) == []


@pytest.mark.parametrize(
    ("bad_input", "message"),
    [
        ("namespace_pod_security_level=strict", "namespace_pod_security_level must be one of"),
        ("namespace_pod_security_version=1.36", 'namespace_pod_security_version is "1.36"'),
        ('{"namespace_extra_labels": {"pod-security.kubernetes.io/enforce": "privileged"}}', "namespace_extra_labels"),
    ],
)
def test_bad_input_fails_before_any_write(run_ansible, testcluster, namespace, bad_input, message):
    mark = testcluster.audit.mark()
    result = converge(run_ansible, namespace, "-e", bad_input)
    assert result.returncode != 0
    assert message in result.stdout
    assert testcluster.audit.writes(mark, user="testcluster-admin", namespace=namespace) == []
