"""The posture rules: each finds exactly its problem, names the object and the setting, and passes what is right."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils import posture

NS = "mlflow"


def deployment(name="web", containers=None, init=None, volumes=None, kind="Deployment"):
    pod = {"containers": containers or [{"name": "main", "image": "registry.k8s.io/pause:3.10"}]}
    if init:
        pod["initContainers"] = init
    if volumes is not None:
        pod["volumes"] = volumes
    template = {"metadata": {"labels": {"app": name}}, "spec": pod}
    spec = {"jobTemplate": {"spec": {"template": template}}} if kind == "CronJob" else {"template": template}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def container(name, image="registry.k8s.io/pause:3.10", limits=None):
    return {"name": name, "image": image, "resources": {"limits": limits} if limits is not None else {}}


def test_containers_cover_init_containers_cronjobs_and_database_clusters():
    cluster = {"kind": "Cluster", "metadata": {"name": "pg"}, "spec": {"imageName": "pg:17", "resources": {}}}
    found = posture.containers(
        [
            deployment(containers=[container("app", limits={"memory": "1Gi"})], init=[container("init")]),
            deployment("nightly", kind="CronJob"),
            cluster,
        ]
    )

    assert [(c.where, c.limits) for c in found] == [
        ("Deployment web container init", {}),
        ("Deployment web container app", {"memory": "1Gi"}),
        ("CronJob nightly container main", {}),
        ("Cluster pg (its instances)", {}),
    ]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (None, "Namespace mlflow does not exist, not restricted (posture_pod_security_level)"),
        ({"metadata": {"labels": {}}}, "enforces PodSecurity nothing (no label pod-security.kubernetes.io/enforce)"),
        (
            {"metadata": {"labels": {posture.ENFORCE_LABEL: "baseline"}}},
            "enforces PodSecurity baseline, not restricted",
        ),
        (
            {"metadata": {"labels": {posture.ENFORCE_LABEL: "restricted"}}, "status": {"phase": "Terminating"}},
            "is Terminating, not restricted",
        ),
    ],
)
def test_pod_security_names_what_the_namespace_enforces(obj, expected):
    assert expected in posture.pod_security_problem(NS, obj, "restricted")


def test_pod_security_passes_an_active_namespace_that_enforces_the_level_and_cites_another_variable():
    good = {"metadata": {"labels": {posture.ENFORCE_LABEL: "restricted"}}, "status": {"phase": "Active"}}

    assert posture.pod_security_problem(NS, good, "restricted") is None
    cited = posture.pod_security_problem(NS, None, "restricted", {"pod_security_level": "namespace_pod_security_level"})
    assert "(namespace_pod_security_level)" in cited


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (None, "the ServiceAccount default is missing"),
        ({"automountServiceAccountToken": True}, "has automountServiceAccountToken True"),
        ({}, "has automountServiceAccountToken unset"),
    ],
)
def test_a_default_service_account_that_may_mount_a_token_is_named(account, expected):
    problem = posture.default_service_account_problem(NS, account)

    assert expected in problem
    assert "(posture_require_default_sa_without_token)" in problem


def test_a_default_service_account_without_token_passes_and_an_empty_variable_cites_none():
    assert posture.default_service_account_problem(NS, {"automountServiceAccountToken": False}) is None
    problem = posture.default_service_account_problem(NS, None, {"default_service_account": ""})
    assert "(" not in problem.split("API token")[1].split(":")[0]


def test_limits_name_each_container_and_each_missing_resource():
    found = posture.containers(
        [deployment(containers=[container("a", limits={"cpu": "1"}), container("b", limits={"memory": "1Gi"})])]
    )

    problem = posture.limits_problem(NS, found, ["memory", "cpu"])

    assert "Deployment web container a has no memory limit" in problem
    assert "Deployment web container b has no cpu limit" in problem
    assert "(posture_require_memory_limits, posture_require_cpu_limits)" in problem
    assert posture.limits_problem(NS, found, []) is None


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("registry.k8s.io/pause:latest", "which has the tag latest"),
        ("registry.k8s.io/pause", "which has neither a tag nor a digest"),
        ("registry.k8s.io:5000/pause", "which has neither a tag nor a digest"),
        ("registry.k8s.io/pause:3.10", None),
        ("registry.k8s.io/pause@sha256:" + "a" * 64, None),
    ],
)
def test_floating_images_are_named(image, expected):
    problem = posture.floating_images_problem(NS, posture.containers([deployment(containers=[container("c", image)])]))

    if expected is None:
        assert problem is None
    else:
        assert f"Deployment web container c uses the image {image}, {expected}" in problem


def test_only_empty_dirs_without_a_size_limit_are_named():
    volumes = [
        {"name": "tmp", "emptyDir": {}},
        {"name": "cache", "emptyDir": {"sizeLimit": "64Mi"}},
        {"name": "config", "configMap": {"name": "x"}},
    ]

    problem = posture.empty_dir_problem(NS, [deployment("nightly", kind="CronJob", volumes=volumes)])

    assert "CronJob nightly volume tmp is an emptyDir without sizeLimit" in problem
    assert "cache" not in problem
    assert "config" not in problem
    assert posture.empty_dir_problem(NS, [deployment(volumes=volumes[1:])]) is None


CILIUM_DENY = {
    "kind": "CiliumNetworkPolicy",
    "spec": {
        "endpointSelector": {},
        "enableDefaultDeny": {"ingress": True, "egress": True},
        "ingress": [{}],
        "egress": [{}],
    },
}
KUBERNETES_DENY = {"kind": "NetworkPolicy", "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}


@pytest.mark.parametrize(
    ("policy", "denies"),
    [
        (CILIUM_DENY, True),
        ({**CILIUM_DENY, "spec": {**CILIUM_DENY["spec"], "egress": [{"toEntities": ["world"]}]}}, False),
        ({**CILIUM_DENY, "spec": {**CILIUM_DENY["spec"], "enableDefaultDeny": {"egress": False}}}, False),
        (
            {**CILIUM_DENY, "spec": {"endpointSelector": {"matchLabels": {"a": "b"}}, "ingress": [{}], "egress": [{}]}},
            False,
        ),
        ({**CILIUM_DENY, "spec": {"endpointSelector": {}, "ingress": [{}]}}, False),
        (KUBERNETES_DENY, True),
        ({**KUBERNETES_DENY, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}, False),
        ({**KUBERNETES_DENY, "spec": {**KUBERNETES_DENY["spec"], "ingress": [{}]}}, False),
    ],
)
def test_a_default_deny_must_select_every_pod_and_allow_nothing(policy, denies):
    assert posture.denies_everything(policy) is denies
    problem = posture.default_deny_problem(NS, policy["kind"], "mlflow-default-deny", policy)
    assert (problem is None) is denies
    if not denies:
        assert "does not deny by default: its spec is" in problem


def test_a_missing_default_deny_is_named_with_its_variable():
    problem = posture.default_deny_problem(NS, "NetworkPolicy", "mlflow-default-deny", None)

    assert problem.startswith(
        "NetworkPolicy mlflow-default-deny (posture_default_deny_policy) in namespace mlflow is missing"
    )


def test_only_a_podsecurity_refusal_proves_admission_is_enforced():
    assert posture.privileged_admitted_problem(NS, 'pods "x" is forbidden: violates PodSecurity "restricted"') is None
    assert "admitted a privileged pod" in posture.privileged_admitted_problem(NS, None)
    assert "it said: quota exceeded" in posture.privileged_admitted_problem(NS, "quota exceeded")


def test_a_pod_of_a_cronjob_template_keeps_its_labels_and_spec():
    cronjob = deployment("drift", kind="CronJob")

    pod = posture.pod_of(cronjob, NS, "drift-admission-probe")

    assert pod["metadata"] == {"name": "drift-admission-probe", "namespace": NS, "labels": {"app": "drift"}}
    assert pod["spec"] == posture.pod_template(cronjob)["spec"]


def test_a_refused_or_missing_workload_is_named():
    assert posture.refused_pod_problem(NS, {}, "CronJob drift", None) is None
    assert "is missing" in posture.refused_pod_problem(NS, None, "CronJob drift", None)
    refused = posture.refused_pod_problem(NS, {}, "CronJob drift", "violates PodSecurity")
    assert (
        refused
        == "The API server would not start a pod of CronJob drift's template in namespace mlflow: violates PodSecurity"
    )


@pytest.mark.parametrize(("expected", "allowed", "says"), [(True, False, "may not"), (False, True, "may")])
def test_access_that_differs_from_the_expectation_is_named(expected, allowed, says):
    attributes = {"verb": "delete", "resource": "persistentvolumeclaims", "name": "data"}

    problem = posture.access_problem(NS, "system:serviceaccount:mlflow:drift", expected, allowed, attributes)

    assert (
        f"says system:serviceaccount:mlflow:drift {says} delete persistentvolumeclaims data in namespace mlflow"
        in problem
    )
    assert posture.access_problem(NS, "u", expected, expected, attributes) is None


@pytest.mark.parametrize(
    ("kind", "cilium_served", "expected"),
    [
        ("auto", True, "CiliumNetworkPolicy"),
        ("auto", False, "NetworkPolicy"),
        ("NetworkPolicy", True, "NetworkPolicy"),
        ("CiliumNetworkPolicy", False, "CiliumNetworkPolicy"),
    ],
)
def test_the_default_deny_kind_auto_follows_what_the_cluster_serves(kind, cilium_served, expected):
    def serves(api_version, served_kind):
        return cilium_served and (api_version, served_kind) == ("cilium.io/v2", "CiliumNetworkPolicy")

    assert posture.default_deny_kind(kind, serves) == expected
