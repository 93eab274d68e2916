"""The postgres role on the test cluster, through ansible-playbook.

One deployment per module (a namespace of its own) is converged, re-run and given a new password;
the tests read what it left in the cluster and in the output. Check mode and bad input run in
namespaces that are never created, and the API server's audit log proves nothing was written.
Bad inputs share one run: each is a host of its own (all of them the controller), so every case
fails independently, in parallel.
"""

from __future__ import annotations

import base64
import re
import secrets
import stat
from pathlib import Path

import pytest
import yaml
from ansible_runs import ansible_playbook, failure_messages, recap, unique, write_inventory
from kubernetes import client
from kubernetes.client.exceptions import ApiException

PLAYBOOK = Path(__file__).parent / "playbooks" / "postgres.yml"
ADMIN = "testcluster-admin"
GROUP, VERSION = "postgresql.cnpg.io", "v1"
CLUSTER, SECRET = "mlflow-postgres", "mlflow-secrets"
BARMAN = "barman-cloud.cloudnative-pg.io"

# The deployment: two instances on different nodes (the default anti-affinity, `required` by
# hostname; the test cluster has three nodes in three zones), and scheduled backups through the
# Barman Cloud plugin, whose CRDs the test cluster does not need.
DEPLOYMENT_VARS = {
    "postgres_instances": 2,
    "postgres_storage_size": "20Gi",
    "postgres_scheduled_backup_enabled": True,
    "postgres_backup_schedule": "0 30 2 * * *",
    "postgres_backup_method": "plugin",
    "postgres_plugins": [{"name": BARMAN, "isWALArchiver": True, "parameters": {"barmanObjectName": "mlflow-store"}}],
    "postgres_backup_plugin_configuration": {"name": BARMAN},
}


def task_output(stdout: str, task: str) -> str:
    """What the postgres role's task of that name printed, for every host."""
    return stdout.split(f"TASK [homelab.mlflow.postgres : {task}]")[-1].split("\nTASK [")[0]


def writes_to(testcluster, mark: int, namespaces: set[str]) -> list:
    """Write requests of the admin user since `mark` that touched one of the namespaces (or created it)."""
    return [
        request
        for request in testcluster.audit.writes(mark, user=ADMIN)
        if request.namespace in namespaces or (request.resource == "/namespaces" and request.name in namespaces)
    ]


def read_cluster(k8s, namespace: str) -> dict:
    return client.CustomObjectsApi(k8s).get_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", CLUSTER)


def read_scheduled_backup(k8s, namespace: str) -> dict:
    return client.CustomObjectsApi(k8s).get_namespaced_custom_object(
        GROUP, VERSION, namespace, "scheduledbackups", f"{CLUSTER}-backup"
    )


def decoded(secret: client.V1Secret) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


def delete_namespace(k8s, namespace: str) -> None:
    try:
        client.CoreV1Api(k8s).delete_namespace(namespace)
    except ApiException as err:
        if err.status != 404:
            raise


@pytest.fixture(scope="module")
def deployment(repo_root, testcluster, k8s, tmp_path_factory):
    """Converge (at -vvv, the password generated into a file), re-run, then (at -vvv again) set a
    password explicitly and turn scheduled backups off."""
    namespace = unique("pg-role")
    work = tmp_path_factory.mktemp("postgres-role")
    password_file = work / "secrets" / "postgres_password"
    host = {"mlflow_namespace": namespace, "postgres_password_file": str(password_file), **DEPLOYMENT_VARS}
    inventory = write_inventory(work / "hosts.yml", testcluster, {"target": host})
    new_password = secrets.token_urlsafe(24)
    try:
        first = ansible_playbook(repo_root, PLAYBOOK, inventory, "-vvv")
        second = ansible_playbook(repo_root, PLAYBOOK, inventory)
        secret_before = decoded(client.CoreV1Api(k8s).read_namespaced_secret(SECRET, namespace))
        backup_before = read_scheduled_backup(k8s, namespace)
        cluster_before = read_cluster(k8s, namespace)
        third = ansible_playbook(
            repo_root,
            PLAYBOOK,
            inventory,
            "-vvv",
            "-e",
            f"postgres_password={new_password}",
            "-e",
            "postgres_scheduled_backup_enabled=false",
        )
        yield {
            "namespace": namespace,
            "inventory": inventory,
            "password_file": password_file,
            "secret_before": secret_before,
            "backup_before": backup_before,
            "cluster_before": cluster_before,
            "new_password": new_password,
            "runs": (first, second, third),
        }
    finally:
        delete_namespace(k8s, namespace)


def test_converge_succeeds_and_a_second_run_changes_nothing(deployment):
    first, second = deployment["runs"][:2]

    assert first.returncode == 0, first.stdout[-5000:]
    assert recap(first.stdout)["target"]["changed"] > 0
    assert second.returncode == 0, second.stdout[-5000:]
    assert recap(second.stdout)["target"]["changed"] == 0
    # Verify ran and passed: the cluster reported healthy with both instances ready.
    assert "TASK [homelab.mlflow.postgres : Verify the credentials Secret]" in second.stdout


def test_the_cluster_has_the_requested_spec(deployment, k8s):
    cluster = read_cluster(k8s, deployment["namespace"])
    spec = cluster["spec"]

    assert spec["instances"] == 2
    assert spec["imageName"] == "ghcr.io/cloudnative-pg/postgresql:17.6"
    assert spec["affinity"]["enablePodAntiAffinity"] is True
    assert spec["affinity"]["topologyKey"] == "kubernetes.io/hostname"
    assert spec["affinity"]["podAntiAffinityType"] == "required"
    assert spec["storage"]["size"] == "20Gi"
    assert spec["storage"]["storageClass"] == "longhorn"
    assert spec["bootstrap"]["initdb"] == {"database": "mlflow", "owner": "mlflow", "secret": {"name": SECRET}}
    assert spec["resources"] == {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}}
    assert [plugin["name"] for plugin in spec["plugins"]] == [BARMAN]
    assert "monitoring" not in spec or not spec["monitoring"].get("enablePodMonitor")
    assert cluster["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "homelab.mlflow"
    assert cluster["metadata"]["labels"]["app.kubernetes.io/part-of"] == "mlflow"
    assert cluster["status"]["phase"] == "Cluster in healthy state"
    assert cluster["status"]["readyInstances"] == 2


def instance_nodes(k8s, namespace: str) -> dict[str, str]:
    """Instance pod -> the node the scheduler put it on."""
    pods = (
        client.CoreV1Api(k8s)
        .list_namespaced_pod(namespace, label_selector=f"cnpg.io/cluster={CLUSTER},cnpg.io/podRole=instance")
        .items
    )
    return {pod.metadata.name: pod.spec.node_name for pod in pods}


def node_zones(k8s) -> dict[str, str]:
    nodes = client.CoreV1Api(k8s).list_node().items
    return {node.metadata.name: node.metadata.labels.get("topology.kubernetes.io/zone") for node in nodes}


def test_the_two_instances_run_on_different_nodes(deployment, k8s):
    nodes = instance_nodes(k8s, deployment["namespace"])

    assert sorted(nodes) == [f"{CLUSTER}-1", f"{CLUSTER}-2"]
    assert None not in nodes.values()
    assert len(set(nodes.values())) == 2


def test_three_instances_kept_apart_by_zone_land_in_three_zones(repo_root, testcluster, k8s, tmp_path):
    namespace = unique("pg-zones")
    host = {
        "mlflow_namespace": namespace,
        "postgres_password": secrets.token_urlsafe(16),
        "postgres_instances": 3,
        "postgres_pod_anti_affinity_topology_key": "topology.kubernetes.io/zone",
    }
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, {"target": host})
    try:
        result = ansible_playbook(repo_root, PLAYBOOK, inventory)

        assert result.returncode == 0, result.stdout[-5000:]
        assert read_cluster(k8s, namespace)["status"]["readyInstances"] == 3
        zones, nodes = node_zones(k8s), instance_nodes(k8s, namespace)
        assert len(nodes) == 3
        assert sorted(zones[node] for node in nodes.values()) == ["zone-a", "zone-b", "zone-c"]
    finally:
        delete_namespace(k8s, namespace)


def test_the_scheduled_backup_follows_the_schedule_and_is_suspended_when_turned_off(deployment, k8s):
    before, after = deployment["backup_before"], read_scheduled_backup(k8s, deployment["namespace"])

    assert before["spec"]["cluster"] == {"name": CLUSTER}
    assert before["spec"]["schedule"] == "0 30 2 * * *"
    assert before["spec"]["method"] == "plugin"
    assert before["spec"]["pluginConfiguration"] == {"name": BARMAN}
    assert before["spec"]["suspend"] is False
    # Turned off, it is kept as it was, suspended: nothing is deleted.
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["spec"] == {**before["spec"], "suspend": True}


def test_a_generated_password_is_kept_in_a_private_file_and_used(deployment):
    password_file = deployment["password_file"]
    generated = password_file.read_text().strip()

    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert re.fullmatch(r"[A-Za-z0-9]{32}", generated)
    # The second run read the same file back: the Secret (and so the database) kept the password.
    assert deployment["secret_before"] == {"username": "mlflow", "password": generated}


def test_a_new_password_reaches_the_secret(deployment, k8s):
    third = deployment["runs"][2]
    secret = client.CoreV1Api(k8s).read_namespaced_secret(SECRET, deployment["namespace"])

    assert third.returncode == 0, third.stdout[-5000:]
    # One task changed: the Secret and the suspended ScheduledBackup; not the Cluster.
    assert recap(third.stdout)["target"]["changed"] == 1
    cluster = read_cluster(k8s, deployment["namespace"])
    assert cluster["metadata"]["generation"] == deployment["cluster_before"]["metadata"]["generation"]
    assert secret.type == "kubernetes.io/basic-auth"
    assert decoded(secret) == {"username": "mlflow", "password": deployment["new_password"]}
    # CloudNativePG reloads labelled Secrets, so PostgreSQL gets the new password too.
    assert secret.metadata.labels["cnpg.io/reload"] == "true"
    assert secret.metadata.labels["app.kubernetes.io/managed-by"] == "homelab.mlflow"


def test_the_password_never_reaches_the_output(deployment):
    first, second, third = deployment["runs"]
    generated = deployment["password_file"].read_text().strip()

    for password, run in ((generated, first), (generated, second), (deployment["new_password"], third)):
        assert password not in run.stdout + run.stderr
        assert base64.b64encode(password.encode()).decode() not in run.stdout + run.stderr


def test_check_mode_on_a_fresh_namespace_writes_nothing(repo_root, testcluster, k8s, tmp_path):
    namespace = unique("pg-check")
    password_file = tmp_path / "secrets" / "postgres_password"
    host = {"mlflow_namespace": namespace, "postgres_password_file": str(password_file), **DEPLOYMENT_VARS}
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, {"target": host})

    mark = testcluster.audit.mark()
    result = ansible_playbook(repo_root, PLAYBOOK, inventory, "--check", "--diff")

    assert result.returncode == 0, result.stdout[-5000:]
    assert recap(result.stdout)["target"]["changed"] > 0
    # Each object the run would create, the Secret with its values hidden.
    assert "changed: [target]" in task_output(result.stdout, "Apply the PostgreSQL cluster and its credentials")
    assert f"+++ after: Secret {namespace}/{SECRET}" in result.stdout
    assert re.search(r"password: ['\"]?\(hidden\)", result.stdout)
    assert f"+++ after: Cluster {namespace}/{CLUSTER}" in result.stdout
    assert f"+++ after: ScheduledBackup {namespace}/{CLUSTER}-backup" in result.stdout
    assert writes_to(testcluster, mark, {namespace}) == []
    with pytest.raises(ApiException) as missing:
        client.CoreV1Api(k8s).read_namespace(namespace)
    assert missing.value.status == 404
    assert not password_file.exists()


def test_bad_input_fails_before_any_write_and_names_the_variable(repo_root, testcluster, k8s, deployment, tmp_path):
    fresh = {"postgres_password": secrets.token_urlsafe(16)}
    cases = {
        "bad_size": ({**fresh, "postgres_storage_size": "20GB"}, ['postgres_storage_size is "20GB"', "'20Gi'"]),
        "no_class": (
            {**fresh, "postgres_storage_class": "fast-ssd"},
            ['postgres_storage_class is "fast-ssd"', "no such StorageClass", "longhorn"],
        ),
        "pod_monitor": (
            {**fresh, "postgres_pod_monitor_enabled": True},
            ["podmonitors.monitoring.coreos.com", "postgres_pod_monitor_enabled"],
        ),
        "more_instances_than_nodes": (
            {**fresh, "postgres_instances": 4},
            [
                "postgres_instances is 4 with postgres_pod_anti_affinity_type required",
                "only 3 distinct value(s) of the label kubernetes.io/hostname",
            ],
        ),
        "no_password": ({}, ["neither postgres_password nor postgres_password_file is set"]),
        "relative_password_file": (
            {"postgres_password_file": "secrets/postgres_password"},
            ['postgres_password_file is "secrets/postgres_password"', "absolute path"],
        ),
        "five_field_schedule": (
            {**fresh, **DEPLOYMENT_VARS, "postgres_backup_schedule": "30 2 * * *"},
            ['postgres_backup_schedule is "30 2 * * *"', "six cron fields"],
        ),
        "bad_name": ({**fresh, "postgres_cluster_name": "MLflow_DB"}, ['postgres_cluster_name is "MLflow_DB"']),
        # Not scheduled, but a backup configuration makes on-demand backups possible: checked all the same.
        "on_demand_backup_without_its_method": (
            {**fresh, "postgres_backup_configuration": {"barmanObjectStore": {"destinationPath": "s3://b/m"}}},
            ["on demand, as postgres_backup_configuration is set", "has no 'volumeSnapshot' section"],
        ),
        "object_store_without_credentials": (
            {
                **fresh,
                "postgres_backup_method": "barmanObjectStore",
                "postgres_backup_configuration": {"barmanObjectStore": {"destinationPath": "s3://backups/mlflow"}},
            },
            ["postgres_backup_configuration.barmanObjectStore needs destinationPath", "s3Credentials"],
        ),
    }
    hosts = {
        name: {"mlflow_namespace": unique("pg-bad"), **host_vars} for name, (host_vars, _expected) in cases.items()
    }
    # Shrinking the deployed cluster's volumes.
    hosts["shrink"] = {
        "mlflow_namespace": deployment["namespace"],
        **yaml.safe_load(deployment["inventory"].read_text())["all"]["hosts"]["target"],
        "postgres_storage_size": "10Gi",
    }
    cases["shrink"] = ({}, ["postgres_storage_size is 10Gi", "has 20Gi volumes", "cannot shrink"])
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, hosts)

    mark = testcluster.audit.mark()
    result = ansible_playbook(repo_root, PLAYBOOK, inventory)

    assert result.returncode != 0
    counters, messages = recap(result.stdout), failure_messages(result.stdout)
    wrong = {
        host: messages.get(host)
        for host, (_host_vars, expected) in cases.items()
        if counters[host]["failed"] != 1 or not any(all(e in m for e in expected) for m in messages.get(host, []))
    }
    assert wrong == {}, result.stdout[-8000:]
    assert writes_to(testcluster, mark, {host["mlflow_namespace"] for host in hosts.values()}) == []
    assert read_cluster(k8s, deployment["namespace"])["spec"]["storage"]["size"] == "20Gi"
