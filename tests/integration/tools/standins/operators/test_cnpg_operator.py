"""The CloudNativePG operator stand-in (tools/standins/operators/cnpg_operator.py) on the test cluster.

It must give a `Cluster` what the real operator gives it and what this collection relies on:
Services, the application Secret and instance pods (admitted under PodSecurity `restricted`) that
go with the Cluster, bound PVCs that never go, and the operator's status, without needless writes;
and finish each on-demand `Backup` as the operator would (or as a test asks).
"""

from __future__ import annotations

import base64
import time

import pytest
from ansible_runs import eventually
from cnpg_clusters import GROUP, PLURAL, VERSION, create_cluster, patch_cluster, read_status, wait_healthy
from kube_namespaces import exists, restricted_namespace
from kubernetes import client

STANDINS_USER = "system:testcluster-standins"
INITDB_WITH_SECRET = {"database": "mlflow", "owner": "mlflow", "secret": {"name": "mlflow-db"}}


@pytest.fixture
def namespace(k8s):
    with restricted_namespace(k8s, "cnpg-standin") as name:
        yield name


def decoded(secret: client.V1Secret) -> dict:
    return {key: base64.b64decode(value).decode() for key, value in secret.data.items()}


def create_credentials(core, namespace: str) -> client.V1Secret:
    """The owner's credentials, as the postgres role writes them, named in the Cluster's initdb."""
    body = {
        "metadata": {"name": "mlflow-db"},
        "type": "kubernetes.io/basic-auth",
        "stringData": {"username": "mlflow", "password": "not-a-real-password"},
    }
    return core.create_namespaced_secret(namespace, body)


def test_standin_cnpg_operator_brings_a_cluster_to_a_healthy_state(custom, core, namespace):
    credentials_version = create_credentials(core, namespace).metadata.resource_version
    cluster = create_cluster(custom, namespace, initdb=INITDB_WITH_SECRET)

    status = wait_healthy(custom, namespace, 1)
    assert status["currentPrimary"] == status["targetPrimary"] == "pg-1"
    assert status["instanceNames"] == ["pg-1"]
    assert (status["writeService"], status["readService"]) == ("pg-rw", "pg-r")
    [ready] = status["conditions"]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "True", "ClusterIsReady")

    owner = {"kind": "Cluster", "name": "pg", "uid": cluster["metadata"]["uid"], "controller": True}
    for suffix, extra in [
        ("rw", {"cnpg.io/instanceRole": "primary"}),
        ("ro", {"cnpg.io/instanceRole": "replica"}),
        ("r", {"cnpg.io/podRole": "instance"}),
    ]:
        service = core.read_namespaced_service(f"pg-{suffix}", namespace)
        assert service.spec.type == "ClusterIP"
        assert service.spec.selector == {"cnpg.io/cluster": "pg", **extra}
        assert [(p.name, p.port) for p in service.spec.ports] == [("postgres", 5432)]
        [ref] = service.metadata.owner_references
        assert {k: getattr(ref, k) for k in owner} == owner

    # Admitted although the namespace enforces PodSecurity `restricted`.
    pod = core.read_namespaced_pod("pg-1", namespace)
    assert pod.status.phase == "Running"
    instance_labels = {
        "cnpg.io/cluster": "pg",
        "cnpg.io/instanceName": "pg-1",
        "cnpg.io/podRole": "instance",
        "cnpg.io/instanceRole": "primary",
        "role": "primary",
    }
    assert instance_labels.items() <= pod.metadata.labels.items()  # binding adds the node's topology labels
    [container] = pod.spec.containers
    assert container.image == "ghcr.io/cloudnative-pg/postgresql:17.5"
    assert container.resources.requests == {"cpu": "100m", "memory": "256Mi"}
    assert pod.spec.security_context.run_as_user == 26
    [data] = [m for m in container.volume_mounts if m.mount_path == "/var/lib/postgresql/data"]
    [volume] = [v for v in pod.spec.volumes if v.name == data.name]
    assert volume.persistent_volume_claim.claim_name == "pg-1"

    claim = core.read_namespaced_persistent_volume_claim("pg-1", namespace)
    assert claim.status.phase == "Bound"
    assert (claim.spec.storage_class_name, claim.spec.resources.requests["storage"]) == ("longhorn", "1Gi")

    # As with the operator: a secret named in initdb is the application secret, used as it is.
    assert not exists(core.read_namespaced_secret, "pg-app", namespace)
    credentials = core.read_namespaced_secret("mlflow-db", namespace)
    assert credentials.metadata.resource_version == credentials_version


def test_standin_cnpg_operator_instances_stay_on_kwok_nodes_one_per_zone(custom, core, namespace):
    """Required anti-affinity by zone, through the real scheduler: three instances in the three zones, a
    fourth has nowhere to go; the Cluster's own node affinity holds besides `type: kwok`."""
    create_credentials(core, namespace)
    linux = {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}
    affinity = {
        "podAntiAffinityType": "required",
        "topologyKey": "topology.kubernetes.io/zone",
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [linux]}]}
        },
    }
    create_cluster(custom, namespace, instances=3, initdb=INITDB_WITH_SECRET, affinity=affinity)
    wait_healthy(custom, namespace, 3)

    zones = {node.metadata.name: node.metadata.labels["topology.kubernetes.io/zone"] for node in core.list_node().items}
    pods = core.list_namespaced_pod(namespace, label_selector="cnpg.io/podRole=instance").items
    assert sorted(zones[pod.spec.node_name] for pod in pods) == ["zone-a", "zone-b", "zone-c"]
    for pod in pods:
        [term] = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
        assert [(e.key, e.operator, e.values) for e in term.match_expressions] == [
            ("kubernetes.io/os", "In", ["linux"]),
            ("type", "In", ["kwok"]),
        ]
        assert ("kwok.x-k8s.io/node", "Equal", "fake", "NoSchedule") in [
            (t.key, t.operator, t.value, t.effect) for t in pod.spec.tolerations
        ]

    patch_cluster(custom, namespace, {"spec": {"instances": 4}})

    def unschedulable():
        pods = core.list_namespaced_pod(namespace, field_selector="metadata.name=pg-4").items
        conditions = [c for pod in pods for c in pod.status.conditions or []]
        return any(c.type == "PodScheduled" and c.reason == "Unschedulable" for c in conditions)

    eventually(unschedulable, what="instance pg-4 unschedulable: no fourth zone")
    assert read_status(custom, namespace)["readyInstances"] == 3


def test_standin_cnpg_operator_waits_for_the_initdb_secret(custom, core, namespace):
    create_cluster(custom, namespace, initdb=INITDB_WITH_SECRET)

    status = eventually(lambda: read_status(custom, namespace), what="a status")
    assert (status["phase"], status["readyInstances"]) == ("Setting up primary", 0)
    assert status["conditions"][0]["status"] == "False"
    assert not core.list_namespaced_pod(namespace).items

    create_credentials(core, namespace)
    wait_healthy(custom, namespace, 1)


def test_standin_cnpg_operator_generates_the_app_secret_when_initdb_names_none(custom, core, namespace):
    cluster = create_cluster(custom, namespace, initdb={"database": "mlflow", "owner": "tracking"})

    secret = eventually(
        lambda: (
            exists(core.read_namespaced_secret, "pg-app", namespace)
            and core.read_namespaced_secret("pg-app", namespace)
        ),
        what="Secret pg-app",
    )
    assert secret.type == "kubernetes.io/basic-auth"
    assert secret.metadata.owner_references[0].uid == cluster["metadata"]["uid"]
    data = decoded(secret)
    password = data["password"]
    assert len(password) == 64
    assert password.isalnum()
    host, fqdn = f"pg-rw.{namespace}:5432", f"pg-rw.{namespace}.svc.cluster.local:5432"
    assert {k: v for k, v in data.items() if k != "password"} == {
        "username": "tracking",
        "user": "tracking",
        "dbname": "mlflow",
        "host": "pg-rw",
        "port": "5432",
        "pgpass": f"pg-rw:5432:mlflow:tracking:{password}\n",
        "uri": f"postgresql://tracking:{password}@{host}/mlflow",
        "jdbc-uri": f"jdbc:postgresql://{host}/mlflow?password={password}&user=tracking",
        "fqdn-uri": f"postgresql://tracking:{password}@{fqdn}/mlflow",
        "fqdn-jdbc-uri": f"jdbc:postgresql://{fqdn}/mlflow?password={password}&user=tracking",
    }


def test_standin_cnpg_operator_scales_instances_and_keeps_their_claims(custom, core, namespace):
    create_cluster(custom, namespace)
    wait_healthy(custom, namespace, 1)

    patch_cluster(custom, namespace, {"spec": {"instances": 2}})
    status = wait_healthy(custom, namespace, 2)
    assert status["instanceNames"] == ["pg-1", "pg-2"]
    assert core.read_namespaced_pod("pg-2", namespace).metadata.labels["cnpg.io/instanceRole"] == "replica"
    eventually(
        lambda: core.read_namespaced_persistent_volume_claim("pg-2", namespace).status.phase == "Bound",
        what="PVC pg-2 bound",
    )

    patch_cluster(custom, namespace, {"spec": {"instances": 1}})
    wait_healthy(custom, namespace, 1)
    eventually(lambda: not exists(core.read_namespaced_pod, "pg-2", namespace), what="pod pg-2 deleted")
    claims = core.list_namespaced_persistent_volume_claim(namespace, label_selector="cnpg.io/cluster=pg")
    assert sorted(c.metadata.name for c in claims.items) == ["pg-1", "pg-2"]  # data is never deleted


def test_standin_cnpg_operator_objects_go_with_their_cluster(custom, core, namespace):
    create_cluster(custom, namespace)
    wait_healthy(custom, namespace, 1)
    assert exists(core.read_namespaced_secret, "pg-app", namespace)

    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "pg")

    # kube-controller-manager's garbage collector follows the ownerReferences.
    def gone():
        selector = "cnpg.io/cluster=pg"
        return not (
            core.list_namespaced_service(namespace, label_selector=selector).items
            or core.list_namespaced_pod(namespace, label_selector=selector).items
            or exists(core.read_namespaced_secret, "pg-app", namespace)
        )

    eventually(gone, what="services, pods and secret of Cluster pg garbage-collected")
    assert core.read_namespaced_persistent_volume_claim("pg-1", namespace).status.phase == "Bound"


def test_standin_cnpg_operator_writes_nothing_when_nothing_changed(custom, namespace, testcluster):
    create_cluster(custom, namespace)
    wait_healthy(custom, namespace, 1)
    audit = testcluster.audit
    mark = audit.mark()

    # A change that is not the operator's business still makes it look at the Cluster again.
    patch_cluster(custom, namespace, {"metadata": {"annotations": {"example.com/touched": "yes"}}})

    def synced():
        requests = [r for r in audit.requests(mark, STANDINS_USER) if r.namespace == namespace]
        got = [i for i, r in enumerate(requests) if r.verb == "get" and r.resource.endswith("/clusters")]
        # A sync reads the Cluster first and lists the instance pods last.
        return got and any(r.verb == "list" and r.resource == "/pods" for r in requests[got[0] :])

    eventually(synced, what="the stand-in to sync the touched Cluster")
    time.sleep(1)  # room for any write that would follow the last read
    assert [r for r in audit.writes(mark, STANDINS_USER) if r.namespace == namespace] == []


def test_standin_cnpg_operator_grows_claims_with_the_storage_size(custom, core, namespace):
    create_cluster(custom, namespace)
    wait_healthy(custom, namespace, 1)

    patch_cluster(custom, namespace, {"spec": {"storage": {"size": "2Gi"}}})

    def requested():
        claim = core.read_namespaced_persistent_volume_claim("pg-1", namespace)
        return claim.spec.resources.requests["storage"]

    eventually(lambda: requested() == "2Gi", what="PVC pg-1 requesting 2Gi")


# --- on-demand Backups -----------------------------------------------------------------------------

BACKUP_ERROR_ANNOTATION = "testcluster.homelab.mlflow/backup-error"


def create_backup(custom, namespace: str, name: str, method: str) -> None:
    spec = {"cluster": {"name": "pg"}, "method": method}
    if method == "plugin":
        spec["pluginConfiguration"] = {"name": "barman-cloud.cloudnative-pg.io"}
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Backup", "metadata": {"name": name}, "spec": spec}
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "backups", body)


def finished_backup(custom, namespace: str, name: str) -> dict:
    def finished():
        backup = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "backups", name)
        return backup["status"] if (backup.get("status") or {}).get("phase") in ("completed", "failed") else None

    return eventually(finished, what=f"Backup {name} completed or failed")


def test_a_backup_of_a_healthy_configured_cluster_completes_once_and_others_fail_as_with_the_operator(
    custom, namespace
):
    create_cluster(custom, namespace)
    wait_healthy(custom, namespace, 1)
    patch_cluster(custom, namespace, {"spec": {"backup": {"volumeSnapshot": {"className": "longhorn-snapshot"}}}})

    create_backup(custom, namespace, "snapshot", "volumeSnapshot")
    create_backup(custom, namespace, "object-store", "barmanObjectStore")
    create_backup(custom, namespace, "plugin", "plugin")

    completed = finished_backup(custom, namespace, "snapshot")
    assert completed["phase"] == "completed"
    assert completed["method"] == "volumeSnapshot"
    assert completed["startedAt"] <= completed["stoppedAt"]
    refused = finished_backup(custom, namespace, "object-store")
    assert refused["phase"] == "failed"
    assert refused["error"] == "no barmanObjectStore section defined on the target cluster"
    assert finished_backup(custom, namespace, "plugin")["error"] == (
        "cannot proceed with the backup as the cluster has no plugin configured"
    )


def test_a_backup_fails_with_the_error_a_test_annotates_the_cluster_with(custom, namespace):
    create_cluster(custom, namespace)
    patch_cluster(
        custom,
        namespace,
        {
            "metadata": {"annotations": {BACKUP_ERROR_ANNOTATION: "snapshot class missing"}},
            "spec": {"backup": {"volumeSnapshot": {"className": "longhorn-snapshot"}}},
        },
    )

    create_backup(custom, namespace, "annotated", "volumeSnapshot")

    status = finished_backup(custom, namespace, "annotated")
    assert (status["phase"], status["error"]) == ("failed", "snapshot class missing")
