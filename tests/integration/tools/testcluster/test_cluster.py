"""The local test cluster is a real Kubernetes control plane: it validates, admits, authorizes
and runs workloads (on kwok-simulated nodes, one per zone) the way a production cluster does."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from ansible_runs import eventually
from kube_namespaces import restricted_namespace
from kubernetes import client
from kubernetes.client.exceptions import ApiException

RESTRICTED_CONTAINER = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
}


@pytest.fixture
def namespace(k8s):
    with restricted_namespace(k8s, "harness") as name:
        yield name


def test_api_server_is_upstream_kubernetes(k8s):
    version = client.VersionApi(k8s).get_code()
    assert version.git_version.startswith("v1.")
    assert version.git_tree_state == "clean"


def test_upstream_crds_are_established(k8s):
    crds = client.ApiextensionsV1Api(k8s).list_custom_resource_definition().items
    established = {
        crd.metadata.name
        for crd in crds
        if any(c.type == "Established" and c.status == "True" for c in crd.status.conditions)
    }
    for name in [
        "clusters.postgresql.cnpg.io",
        "scheduledbackups.postgresql.cnpg.io",
        "httproutes.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "ciliumnetworkpolicies.cilium.io",
        "onepassworditems.onepassword.com",
        "volumes.longhorn.io",
        "recurringjobs.longhorn.io",
    ]:
        assert name in established


def test_platform_objects_exist(k8s):
    core = client.CoreV1Api(k8s)
    namespaces = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"authentik", "cnpg-system", "cilium-system"} <= namespaces
    assert client.StorageV1Api(k8s).read_storage_class("longhorn").provisioner == "driver.longhorn.io"
    dns = core.read_namespaced_service("kube-dns", "kube-system")
    assert {(p.port, p.protocol) for p in dns.spec.ports} == {(53, "UDP"), (53, "TCP")}
    gateway = client.CustomObjectsApi(k8s).get_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", "cilium-system", "gateways", "main-gateway"
    )
    assert gateway["spec"]["gatewayClassName"] == "cilium"


def test_invalid_cnpg_cluster_is_rejected_by_its_schema(k8s, namespace):
    invalid = {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "invalid"},
        "spec": {"instances": 0, "storage": {"size": "1Gi"}},
    }
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(k8s).create_namespaced_custom_object(
            "postgresql.cnpg.io", "v1", namespace, "clusters", invalid
        )
    assert err.value.status == 422
    assert "spec.instances" in err.value.body


def test_privileged_pod_is_rejected_by_podsecurity_restricted(k8s, namespace):
    pod = {
        "metadata": {"name": "privileged"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.37", "securityContext": {"privileged": True}}]},
    }
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(k8s).create_namespaced_pod(namespace, pod)
    assert err.value.status == 403
    message = json.loads(err.value.body)["message"]
    assert 'violates PodSecurity "restricted:latest"' in message
    assert "privileged" in message


def test_service_account_token_works_and_rbac_forbids_without_a_role(k8s, testcluster, namespace):
    core = client.CoreV1Api(k8s)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "nobody"}})
    token = core.create_namespaced_service_account_token(
        "nobody", namespace, {"spec": {"expirationSeconds": 600}}
    ).status.token

    configuration = client.Configuration()
    configuration.host = testcluster.server
    configuration.ssl_ca_cert = k8s.configuration.ssl_ca_cert
    configuration.api_key = {"authorization": f"Bearer {token}"}
    as_account = client.ApiClient(configuration)

    review = client.AuthenticationV1Api(as_account).create_self_subject_review({})
    assert review.status.user_info.username == f"system:serviceaccount:{namespace}:nobody"
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(as_account).list_namespaced_secret(namespace)
    assert err.value.status == 403


def test_three_kwok_nodes_are_ready_one_per_zone(k8s):
    nodes = client.CoreV1Api(k8s).list_node(label_selector="type=kwok").items

    def ready(node) -> bool:
        return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])

    assert {n.metadata.name: n.metadata.labels["topology.kubernetes.io/zone"] for n in nodes} == {
        "kwok-node-0": "zone-a",
        "kwok-node-1": "zone-b",
        "kwok-node-2": "zone-c",
    }
    assert all(ready(n) for n in nodes)
    assert len({n.metadata.labels["kubernetes.io/hostname"] for n in nodes}) == 3
    assert all(n.metadata.annotations["kwok.x-k8s.io/node"] == "fake" for n in nodes)


def test_deployment_becomes_available_on_the_kwok_nodes(k8s, namespace):
    labels = {"app": "web"}
    client.AppsV1Api(k8s).create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.29", **RESTRICTED_CONTAINER}]},
                },
            },
        },
    )

    def available():
        status = client.AppsV1Api(k8s).read_namespaced_deployment_status("web", namespace).status
        return status.available_replicas == 2

    eventually(available, what="Deployment web available")
    pods = client.CoreV1Api(k8s).list_namespaced_pod(namespace, label_selector="app=web").items
    assert {p.spec.node_name for p in pods} <= {"kwok-node-0", "kwok-node-1", "kwok-node-2"}
    assert all(p.status.phase == "Running" for p in pods)


def test_job_pod_completes_and_pod_deletion_finishes(k8s, namespace):
    batch, core = client.BatchV1Api(k8s), client.CoreV1Api(k8s)
    batch.create_namespaced_job(
        namespace,
        {
            "metadata": {"name": "once"},
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "once", "image": "busybox:1.37", **RESTRICTED_CONTAINER}],
                    }
                }
            },
        },
    )
    eventually(
        lambda: batch.read_namespaced_job_status("once", namespace).status.succeeded == 1, what="Job once succeeded"
    )

    pod = core.list_namespaced_pod(namespace, label_selector="job-name=once").items[0]
    assert pod.status.phase == "Succeeded"
    core.delete_namespaced_pod(pod.metadata.name, namespace)
    eventually(
        lambda: not core.list_namespaced_pod(namespace, label_selector="job-name=once").items, what="pod deleted"
    )


def test_longhorn_claim_is_bound_by_the_provisioner_standin(k8s, namespace):
    core = client.CoreV1Api(k8s)
    core.create_namespaced_persistent_volume_claim(
        namespace,
        {
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "longhorn",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    eventually(
        lambda: core.read_namespaced_persistent_volume_claim("data", namespace).status.phase == "Bound",
        what="PVC bound",
    )
    claim = core.read_namespaced_persistent_volume_claim("data", namespace)
    volume = core.read_persistent_volume(claim.spec.volume_name)
    assert volume.spec.local.path
    assert volume.spec.capacity["storage"] == "1Gi"


def test_audit_log_records_verb_resource_and_user(k8s, testcluster):
    mark = testcluster.audit.mark()
    name = f"audited-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(k8s)
    core.create_namespace({"metadata": {"name": name}})
    core.delete_namespace(name)
    secret_value = base64.b64encode(b"never-in-the-audit-log").decode()
    core.create_namespaced_secret("default", {"metadata": {"name": name}, "data": {"v": secret_value}})
    core.delete_namespaced_secret(name, "default")

    writes = [
        (r.verb, r.resource, r.name)
        for r in eventually(lambda: testcluster.audit.writes(mark, user="testcluster-admin"), what="audit")
        if r.name == name
    ]
    assert ("create", "/namespaces", name) in writes
    assert ("delete", "/namespaces", name) in writes
    assert ("create", "/secrets", name) in writes
    assert secret_value not in testcluster.audit.path.read_text()
