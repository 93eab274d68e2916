"""homelab.mlflow.posture on the test cluster: read-only checks of a namespace's security posture.

Scratch namespaces are made through the API: one in good shape (every kind of workload the role
reads, the CloudNativePG Cluster and the default deny), and one per check with a single object made
bad. One ansible-playbook run covers them all, each namespace an inventory host of its own: the good
ones pass with changed=0, each bad one fails with a message that names the object.
"""

from __future__ import annotations

import copy
import textwrap
import uuid
from pathlib import Path

import pytest
import yaml
from ansible_runs import ansible_playbook, failure_messages, recap, write_inventory
from kube_namespaces import delete_namespaces
from kubernetes import client

REPO = Path(__file__).resolve().parents[4]
RUN = uuid.uuid4().hex[:6]
PLAYBOOK = textwrap.dedent(
    """\
    - name: Check the security posture
      hosts: all
      gather_facts: false
      module_defaults:
        group/kubernetes.core.k8s:
          kubeconfig: "{{ mlflow_kubeconfig }}"
      roles:
        - homelab.mlflow.cluster_preflight
        - homelab.mlflow.posture
    """
)
LIMITS = {"limits": {"memory": "64Mi"}}
IMAGE = "registry.k8s.io/pause:3.10"


# What homelab.mlflow.namespace sets on the namespace's default ServiceAccount.
DEFAULT_SA = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {"name": "default"},
    "automountServiceAccountToken": False,
}
BOUNDED_TMP = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]


def pod_spec(name: str, image: str = IMAGE, resources: dict | None = None, volumes: list | None = None) -> dict:
    container = {"name": name, "image": image, "resources": LIMITS if resources is None else resources}
    if volumes is None:
        return {"containers": [container]}
    mounts = [{"name": volume["name"], "mountPath": "/" + volume["name"]} for volume in volumes]
    return {"containers": [{**container, "volumeMounts": mounts}], "volumes": volumes}


def workloads(default_sa: dict | bool | None = True, **changes: dict) -> list[dict]:
    """One object of every kind the role reads, all in good shape (the default ServiceAccount too:
    DEFAULT_SA unless `default_sa` is another one, or None for none); `changes` replaces a kind's pod spec."""
    default_sa = DEFAULT_SA if default_sa is True else default_sa
    labels = {"app": "posture"}
    specs = {
        kind: changes.get(kind) or pod_spec(kind.lower(), volumes=BOUNDED_TMP)
        for kind in ("Deployment", "StatefulSet", "Job", "CronJob")
    }

    def template(kind: str) -> dict:
        return {"metadata": {"labels": labels}, "spec": specs[kind]}

    return [
        *([default_sa] if default_sa else []),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels}, "template": template("Deployment")},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "replicas": 0,
                "serviceName": "db",
                "selector": {"matchLabels": labels},
                "template": template("StatefulSet"),
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "once"},
            "spec": {
                "suspend": True,
                "template": {**template("Job"), "spec": {**specs["Job"], "restartPolicy": "Never"}},
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "nightly"},
            "spec": {
                "schedule": "0 3 * * *",
                "suspend": True,
                "jobTemplate": {
                    "spec": {
                        "template": {**template("CronJob"), "spec": {**specs["CronJob"], "restartPolicy": "Never"}}
                    }
                },
            },
        },
    ]


def cnpg_cluster(resources: dict | None = None, image: str = "ghcr.io/cloudnative-pg/postgresql:17.6") -> dict:
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "pg"},
        "spec": {
            "instances": 1,
            "imageName": image,
            "storage": {"size": "1Gi"},
            "resources": {"requests": {"memory": "64Mi"}, **LIMITS} if resources is None else resources,
        },
    }


CILIUM_DENY = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "mlflow-default-deny"},
    "spec": {
        "endpointSelector": {},
        "enableDefaultDeny": {"ingress": True, "egress": True},
        "ingress": [{}],
        "egress": [{}],
    },
}
KUBERNETES_DENY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "mlflow-default-deny"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
}
CILIUM_ALLOWS = copy.deepcopy(CILIUM_DENY)
CILIUM_ALLOWS["spec"]["egress"] = [{"toEntities": ["world"]}]

GOOD = [*workloads(), cnpg_cluster(), CILIUM_DENY]
# host: (PodSecurity level enforced, objects, host variables, what the failure names; None: passes)
CASES = {
    "good": ("restricted", GOOD, {}, None),
    "good_kubernetes_policy": (
        "restricted",
        [*workloads(), KUBERNETES_DENY],
        {"networkpolicy_kind": "kubernetes"},
        None,
    ),
    "pod_security_baseline": ("baseline", GOOD, {}, "enforces PodSecurity baseline, not restricted"),
    "pod_security_unlabelled": (None, GOOD, {}, "enforces PodSecurity nothing"),
    "deployment_no_limits": (
        "restricted",
        [*workloads(Deployment=pod_spec("server", resources={})), CILIUM_DENY],
        {},
        "Deployment web container server has no memory limit",
    ),
    "cronjob_no_memory_limit": (
        "restricted",
        [*workloads(CronJob=pod_spec("gc", resources={"limits": {"cpu": "1"}})), CILIUM_DENY],
        {},
        "CronJob nightly container gc has no memory limit",
    ),
    "cpu_limits_required": (
        "restricted",
        GOOD,
        {"posture_require_cpu_limits": True},
        "Deployment web container deployment has no cpu limit",
    ),
    "cnpg_cluster_no_limits": (
        "restricted",
        [*workloads(), cnpg_cluster(resources={"requests": {"memory": "64Mi"}}), CILIUM_DENY],
        {},
        "Cluster pg (its instances) has no memory limit",
    ),
    "statefulset_latest_image": (
        "restricted",
        [*workloads(StatefulSet=pod_spec("db", image="registry.k8s.io/pause:latest")), CILIUM_DENY],
        {},
        "StatefulSet db container db uses the image registry.k8s.io/pause:latest, which has the tag latest",
    ),
    "job_untagged_image": (
        "restricted",
        [*workloads(Job=pod_spec("migrate", image="registry.k8s.io/pause")), CILIUM_DENY],
        {},
        "Job once container migrate uses the image registry.k8s.io/pause, which has neither a tag nor a digest",
    ),
    "cronjob_empty_dir_unbounded": (
        "restricted",
        [*workloads(CronJob=pod_spec("gc", volumes=[{"name": "tmp", "emptyDir": {}}])), CILIUM_DENY],
        {},
        "CronJob nightly volume tmp is an emptyDir without sizeLimit",
    ),
    "empty_dir_unbounded_allowed": (
        "restricted",
        [*workloads(Deployment=pod_spec("server", volumes=[{"name": "tmp", "emptyDir": {}}])), CILIUM_DENY],
        {"posture_require_empty_dir_size_limits": False},
        None,
    ),
    "default_sa_mounts_token": (
        "restricted",
        [*workloads(default_sa={**DEFAULT_SA, "automountServiceAccountToken": True}), CILIUM_DENY],
        {},
        "the ServiceAccount default has automountServiceAccountToken True",
    ),
    "default_sa_unset": (
        "restricted",
        [*workloads(default_sa=None), CILIUM_DENY],
        {},
        "(posture_require_default_sa_without_token)",
    ),
    "default_deny_missing": (
        "restricted",
        workloads(),
        {},
        "CiliumNetworkPolicy mlflow-default-deny (posture_default_deny_policy) in namespace",
    ),
    "default_deny_allows": ("restricted", [*workloads(), CILIUM_ALLOWS], {}, "does not deny by default"),
}


def namespace_of(host: str) -> str:
    return f"posture-{RUN}-{host.replace('_', '-')}"[:63].rstrip("-")


@pytest.fixture(scope="module")
def posture_run(testcluster, k8s, tmp_path_factory):
    core = client.CoreV1Api(k8s)
    work = tmp_path_factory.mktemp("posture")
    try:
        for host, (level, objects, _variables, _message) in CASES.items():
            namespace = namespace_of(host)
            labels = {"pod-security.kubernetes.io/enforce": level} if level else {}
            core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace, labels=labels)))
            documents = [{**item, "metadata": {**item["metadata"], "namespace": namespace}} for item in objects]
            testcluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(documents))
        hosts = {host: {"mlflow_namespace": namespace_of(host), **case[2]} for host, case in CASES.items()}
        inventory = write_inventory(work / "inventory.yml", testcluster, hosts)
        playbook = work / "posture.yml"
        playbook.write_text(PLAYBOOK)
        result = ansible_playbook(REPO, playbook, inventory, "--forks", "6", timeout=1200)
        (work / "output.txt").write_text(result.stdout + result.stderr)
        yield result.stdout
    finally:
        delete_namespaces(k8s, (namespace_of(host) for host in CASES))


@pytest.mark.parametrize("host", [host for host, case in CASES.items() if case[3] is None])
def test_a_namespace_in_good_shape_passes_and_nothing_changes(posture_run, host):
    counters = recap(posture_run)[host]

    assert counters["failed"] == 0, failure_messages(posture_run).get(host)
    assert counters["changed"] == 0


@pytest.mark.parametrize("host", [host for host, case in CASES.items() if case[3] is not None])
def test_a_bad_object_fails_the_check_and_is_named(posture_run, host):
    expected = CASES[host][3]
    messages = failure_messages(posture_run).get(host, [])

    assert recap(posture_run)[host]["failed"] == 1
    assert any(expected in message and namespace_of(host) in message for message in messages), messages
