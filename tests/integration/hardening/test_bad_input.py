"""Bad input fails before anything is written: every role's argument_specs and preflight checks,
through the full playbooks/site.yml against the local test cluster.

Each bad input is one deployment target (an inventory host with its own namespace) of a single
ansible-playbook run, so the whole table costs one run. For each host the test asserts that the run
failed, that the failure names the variable and says what is allowed, and that the API server's
audit log holds no write request (create, update, patch, delete, deletecollection that is not a
dry run) about the host's namespace. A bad value fails before the cluster is contacted: the log
holds no request about its namespace at all. Most hosts deploy to a namespace that does not exist
yet (a first run); some to one that exists.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from ansible_runs import ansible_playbook, failure_messages, site_settings, write_inventory
from kubernetes import client
from kubernetes.client.exceptions import ApiException

REPO = Path(__file__).resolve().parents[3]
PLAYBOOK = REPO / "playbooks" / "site.yml"
ADMIN = "testcluster-admin"
RUN = uuid.uuid4().hex[:6]
GOOD_IMAGE = "registry.example.com/homelab-mlflow-drift:0.1.0"

# (id, variables, the variable the message names, what the message says is allowed)
CASES = [
    # cluster_preflight
    ("namespace_not_dns_label", {"mlflow_namespace": f"MLflow_{RUN}"}, "mlflow_namespace", "lower-case letters"),
    (
        "connect_timeout_zero",
        {"cluster_preflight_connect_timeout": 0},
        "cluster_preflight_connect_timeout",
        "at least 1",
    ),
    (
        "connect_timeout_not_int",
        {"cluster_preflight_connect_timeout": "soon"},
        "cluster_preflight_connect_timeout",
        "int",
    ),
    # namespace
    (
        "pod_security_level_choice",
        {"namespace_pod_security_level": "strict"},
        "namespace_pod_security_level",
        "restricted",
    ),
    ("pod_security_version", {"namespace_pod_security_version": "1.36"}, "namespace_pod_security_version", "v1.36"),
    (
        "extra_labels_override_pod_security",
        {"namespace_extra_labels": {"pod-security.kubernetes.io/enforce": "privileged"}},
        "namespace_extra_labels",
        "namespace_pod_security_level",
    ),
    # postgres
    ("postgres_storage_size_unit", {"postgres_storage_size": "20GB"}, "postgres_storage_size", "Kubernetes quantity"),
    ("postgres_storage_size_zero", {"postgres_storage_size": "0Gi"}, "postgres_storage_size", "positive"),
    ("postgres_instances_zero", {"postgres_instances": 0}, "postgres_instances", "at least 1"),
    ("postgres_image_latest", {"postgres_image": "ghcr.io/cloudnative-pg/postgresql:latest"}, "postgres_image", "17.6"),
    ("postgres_image_untagged", {"postgres_image": "ghcr.io/cloudnative-pg/postgresql"}, "postgres_image", "tag"),
    (
        "postgres_image_digest_uppercase",
        {"postgres_image_digest": "sha256:" + "ABCDEF0123456789" * 4},
        "postgres_image_digest",
        "64 lower-case hexadecimal digits",
    ),
    ("postgres_cluster_name", {"postgres_cluster_name": "MLflow_PG"}, "postgres_cluster_name", "DNS-1035"),
    ("postgres_database", {"postgres_database": "ml-flow"}, "postgres_database", "PostgreSQL identifier"),
    ("postgres_owner_superuser", {"postgres_owner": "postgres"}, "postgres_owner", "other than the superuser"),
    (
        "postgres_resources_quantity",
        {"postgres_resources": {"requests": {"memory": "lots"}, "limits": {"memory": "512Mi"}}},
        "postgres_resources",
        "Kubernetes quantities",
    ),
    (
        "postgres_resources_no_memory_limit",
        {"postgres_resources": {"requests": {"cpu": "100m", "memory": "512Mi"}}},
        "postgres_resources",
        "memory limit",
    ),
    (
        "postgres_credentials_source_choice",
        {"postgres_credentials_source": "vault"},
        "postgres_credentials_source",
        "variables",
    ),
    (
        "postgres_backup_schedule_five_fields",
        {"postgres_scheduled_backup_enabled": True, "postgres_backup_schedule": "0 3 * * *"},
        "postgres_backup_schedule",
        "six cron fields",
    ),
    # storage
    (
        "storage_artifacts_size_spaces",
        {"storage_artifacts_size": "50 GiB"},
        "storage_artifacts_size",
        "Kubernetes quantity",
    ),
    (
        "storage_access_mode_choice",
        {"storage_artifacts_access_mode": "ReadWriteAll"},
        "storage_artifacts_access_mode",
        "ReadWriteMany",
    ),
    (
        "storage_pvc_name",
        {"storage_artifacts_pvc_name": "Artifacts"},
        "storage_artifacts_pvc_name",
        "lower-case letters",
    ),
    (
        "storage_class_missing",
        {"storage_artifacts_storage_class": "no-such-class"},
        "storage_artifacts_storage_class",
        "longhorn",
    ),
    (
        "storage_recurring_job_cron",
        {"storage_recurring_jobs": [{"name": "snap", "task": "snapshot", "cron": "hourly"}]},
        "storage_recurring_jobs",
        "five fields",
    ),
    # mlflow
    (
        "external_host_url",
        {"mlflow_external_host": "https://mlflow.example.com/"},
        "mlflow_external_host",
        "without scheme",
    ),
    (
        "external_host_port",
        {"mlflow_external_host": "mlflow.example.com:443"},
        "mlflow_external_host",
        "without scheme, port",
    ),
    ("replicas_on_readwriteonce", {"mlflow_replicas": 2}, "mlflow_replicas", "ReadWriteMany"),
    ("replicas_zero", {"mlflow_replicas": 0}, "mlflow_replicas", "1 or more"),
    ("replicas_not_int", {"mlflow_replicas": "two"}, "mlflow_replicas", "int"),
    (
        "mlflow_image_latest",
        {"mlflow_image": "docker.io/burakince/mlflow:latest"},
        "mlflow_image",
        "without tag or digest",
    ),
    ("mlflow_version_latest", {"mlflow_version": "latest"}, "mlflow_version", "3.17.2"),
    (
        "mlflow_resources_no_memory_limit",
        {"mlflow_resources": {"limits": {"cpu": "1"}}},
        "mlflow_resources",
        "memory limit",
    ),
    (
        "mlflow_resources_quantity",
        {"mlflow_resources": {"limits": {"memory": "1 GB"}}},
        "mlflow_resources",
        "Kubernetes quantities",
    ),
    (
        "mlflow_verify_url",
        {"mlflow_verify_http": True, "mlflow_verify_url": "mlflow.local"},
        "mlflow_verify_url",
        "http://",
    ),
    ("mlflow_run_as_root", {"mlflow_run_as_user": 0}, "mlflow_run_as_user", "unprivileged user"),
    (
        "mlflow_pull_policy_choice",
        {"mlflow_image_pull_policy": "Sometimes"},
        "mlflow_image_pull_policy",
        "IfNotPresent",
    ),
    ("mlflow_gateway_name", {"mlflow_gateway_name": "Main Gateway"}, "mlflow_gateway_name", "lower-case letters"),
    (
        "mlflow_image_digest_short",
        {"mlflow_image_digest": "sha256:0123456789abcdef"},
        "mlflow_image_digest",
        "64 lower-case hexadecimal digits",
    ),
    (
        "mlflow_image_digest_no_algorithm",
        {"mlflow_image_digest": "0123456789abcdef" * 4},
        "mlflow_image_digest",
        "'sha256:'",
    ),
    (
        "mlflow_tmp_size_limit_unit",
        {"mlflow_tmp_size_limit": "256MB"},
        "mlflow_tmp_size_limit",
        "positive Kubernetes quantity",
    ),
    (
        "mlflow_db_upgrade_resources_no_memory_limit",
        {"mlflow_db_upgrade_resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}}},
        "mlflow_db_upgrade_resources",
        "memory limit",
    ),
    # networkpolicy
    ("networkpolicy_kind_choice", {"networkpolicy_kind": "calico"}, "networkpolicy_kind", "cilium"),
    (
        "networkpolicy_api_server_cidrs",
        {"networkpolicy_api_server_cidrs": ["10.0.0.1"]},
        "networkpolicy_api_server_cidrs",
        "CIDRs",
    ),
    (
        "networkpolicy_api_server_ports",
        {"networkpolicy_api_server_ports": [70000]},
        "networkpolicy_api_server_ports",
        "1 to 65535",
    ),
    # drift_cronjob
    (
        "drift_image_latest",
        {"drift_cronjob_enabled": True, "drift_cronjob_image": "registry.example.com/homelab-mlflow-drift:latest"},
        "drift_cronjob_image",
        "never 'latest'",
    ),
    (
        "drift_image_untagged",
        {"drift_cronjob_enabled": True, "drift_cronjob_image": "registry.example.com/homelab-mlflow-drift"},
        "drift_cronjob_image",
        "fixed tag or a digest",
    ),
    (
        "drift_schedule",
        {"drift_cronjob_enabled": True, "drift_cronjob_image": GOOD_IMAGE, "drift_cronjob_schedule": "hourly"},
        "drift_cronjob_schedule",
        "five cron fields",
    ),
    (
        "drift_image_digest",
        {"drift_cronjob_enabled": True, "drift_cronjob_image": GOOD_IMAGE, "drift_cronjob_image_digest": "sha256:xyz"},
        "drift_cronjob_image_digest",
        "64 lower-case hexadecimal digits",
    ),
    (
        "drift_tmp_size_limit",
        {"drift_cronjob_enabled": True, "drift_cronjob_image": GOOD_IMAGE, "drift_cronjob_tmp_size_limit": "1 Gi"},
        "drift_cronjob_tmp_size_limit",
        "positive Kubernetes quantity",
    ),
    ("drift_mode_choice", {"drift_cronjob_mode": "fix"}, "drift_cronjob_mode", "correct"),
]
# These run a second time against a namespace that exists (not a first run).
ON_EXISTING_NAMESPACE = {
    "postgres_storage_size_unit",
    "storage_class_missing",
    "mlflow_image_latest",
    "mlflow_image_digest_short",
    "drift_image_latest",
}
# The bad inputs only the cluster can show (what it has): found by the read-only checks against it.
FOUND_IN_THE_CLUSTER = {"storage_class_missing"}


def targets() -> list[tuple[str, str, dict, str, str, bool]]:
    """(host, case id, variables, variable, allowed, namespace exists) of every deployment target."""
    found = []
    for case_id, variables, variable, allowed in CASES:
        found.append((f"bad_input_{case_id}", case_id, variables, variable, allowed, False))
        if case_id in ON_EXISTING_NAMESPACE:
            found.append((f"bad_input_{case_id}_existing", case_id, variables, variable, allowed, True))
    return found


TARGETS = targets()


def namespace_of(index: int, variables: dict) -> str:
    return variables.get("mlflow_namespace", f"bad-{RUN}-{index:03d}")


@pytest.fixture(scope="module")
def bad_input_run(testcluster, k8s, tmp_path_factory):
    """One site.yml run over every bad input; the output, the audit log since its start, and the namespaces."""
    core = client.CoreV1Api(k8s)
    hosts, namespaces, existing = {}, {}, []
    for index, (host, _case_id, variables, _variable, _allowed, exists) in enumerate(TARGETS):
        namespace = namespace_of(index, variables)
        namespaces[host] = namespace
        hosts[host] = {"mlflow_namespace": namespace, **variables}
        if exists:
            core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
            existing.append(namespace)
    directory = tmp_path_factory.mktemp("bad-input")
    inventory = write_inventory(
        directory / "inventory.yml",
        testcluster,
        hosts,
        **site_settings(testcluster),
        postgres_password=f"bad-input-{RUN}-password",
    )
    mark = testcluster.audit.mark()
    try:
        result = ansible_playbook(REPO, PLAYBOOK, inventory, "--forks", "8", timeout=1800)
        (directory / "output.txt").write_text(result.stdout + result.stderr)
        requests = testcluster.audit.requests(mark, user=ADMIN)
        yield {
            "result": result,
            "requests": requests,
            "namespaces": namespaces,
            "messages": failure_messages(result.stdout),
        }
    finally:
        for namespace in [*existing, *(n for n in namespaces.values() if n not in existing)]:
            try:
                core.delete_namespace(namespace)
            except (ApiException, ValueError) as err:
                if getattr(err, "status", 404) not in (404, 422):
                    raise


def concerns(request, namespace: str) -> bool:
    return request.concerns(namespace) or namespace in request.name


@pytest.mark.parametrize(
    ("host", "variables", "variable", "allowed"),
    [
        pytest.param(host, variables, variable, allowed, id=host)
        for host, _c, variables, variable, allowed, _e in TARGETS
    ],
)
def test_bad_input_fails_names_the_variable_and_writes_nothing(bad_input_run, host, variables, variable, allowed):
    messages = bad_input_run["messages"].get(host)
    namespace = bad_input_run["namespaces"][host]

    assert bad_input_run["result"].returncode != 0
    assert messages, f"{host} ({json.dumps(variables)}) did not fail"
    message = messages[0]
    assert variable in message, message
    assert allowed in message, message
    writes = [r for r in bad_input_run["requests"] if r.is_write and concerns(r, namespace)]
    assert writes == [], f"{host}: {writes}"


def hosts_that_asked_about_their_namespace(bad_input_run) -> set[str]:
    return {
        host
        for host, namespace in bad_input_run["namespaces"].items()
        if any(concerns(r, namespace) for r in bad_input_run["requests"])
    }


def test_bad_input_the_audit_log_sees_the_run(bad_input_run):
    """The reads of the checks against the cluster are in the log: an empty list of writes means something."""
    assert {"bad_input_storage_class_missing", "bad_input_storage_class_missing_existing"} <= (
        hosts_that_asked_about_their_namespace(bad_input_run)
    )


def test_bad_values_fail_before_the_cluster_is_asked_about_the_namespace(bad_input_run):
    value_hosts = {target[0] for target in TARGETS if target[1] not in FOUND_IN_THE_CLUSTER}

    assert hosts_that_asked_about_their_namespace(bad_input_run) & value_hosts == set()
