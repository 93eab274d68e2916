"""Fields left to the cluster, against the local test cluster's API server: ignore rules (by name, by label,
a list entry by key) and other field managers' fields (an autoscaler's spec.replicas) are neither reported by
homelab.mlflow.drift_report nor taken back by homelab.mlflow.k8s_apply's server-side apply, while a change
next to them in the same object is; a rule that matches nothing is reported; a bad rule fails before any
request."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from kubernetes import client

REPO = Path(__file__).resolve().parents[3]
CONTAINER = "/spec/template/spec/containers/name=web"
RULES = [
    {"description": "scaled by hand", "kind": "Deployment", "name": "web", "json_pointers": ["/spec/replicas"]},
    {"kind": "ConfigMap", "labels": {"app": "web"}, "json_pointers": ["/data/a"]},
    {"kind": "Deployment", "name": "web", "json_pointers": [f"{CONTAINER}/env/name=A"]},
    {"description": "stale", "kind": "Service", "name": "gone", "json_pointers": ["/spec/type"]},
]


def fields_of(report, kind):
    (item,) = [i for i in report["targets"]["localhost"]["drift"] if i["object"]["kind"] == kind]
    return {f["path"]: (f.get("expected"), f.get("found")) for f in item["fields"]}


def edit(k8s, namespace, manager="kubectl-edit"):
    """Changes behind the collection's back, as `kubectl edit` makes them: one ignored and one not ignored
    change in each object."""
    apps, core = client.AppsV1Api(k8s), client.CoreV1Api(k8s)
    apps.patch_namespaced_deployment(
        "web",
        namespace,
        {
            "spec": {
                "replicas": 3,
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "web", "image": "registry.k8s.io/pause:3.9", "env": [{"name": "A", "value": "9"}]}
                        ]
                    }
                },
            }
        },
        field_manager=manager,
    )
    core.patch_namespaced_config_map("settings", namespace, {"data": {"a": "x", "b": "y"}}, field_manager=manager)


def test_ignored_fields_by_name_label_and_list_key_are_not_drift_nor_corrected_and_a_stale_rule_is_reported(
    k8s, drift_namespace, drift_run
):
    created, _report, _folder = drift_run()
    assert created.returncode == 0, created.stdout
    edit(k8s, drift_namespace)

    detect, detected, folder = drift_run("--check", homelab_mlflow_ignore_rules=RULES)
    correct, corrected, _folder = drift_run(homelab_mlflow_ignore_rules=RULES)
    again, in_sync, _folder = drift_run("--check", homelab_mlflow_ignore_rules=RULES)

    assert detect.returncode == 0, detect.stdout
    assert (detected["status"], detected["exit_code"]) == ("drift", 3)
    # The change next to the ignored ones, in the same objects, is drift.
    image = "spec.template.spec.containers[name=web].image"
    assert fields_of(detected, "Deployment") == {image: ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.9")}
    assert fields_of(detected, "ConfigMap") == {"data.b": ("2", "y")}
    target = detected["targets"]["localhost"]
    ignored = {(i["object"]["kind"], i["path"]): (i["expected"], i["found"]) for i in target["ignored"]}
    assert ignored == {
        ("Deployment", "spec.replicas"): (1, 3),
        ("Deployment", "spec.template.spec.containers[name=web].env[name=A]"): (
            {"name": "A", "value": "1"},
            {"name": "A", "value": "9"},
        ),
        ("ConfigMap", "data.a"): ("1", "x"),
    }
    assert detected["summary"]["ignored_differences"] == 3
    assert [rule["rule"] for rule in target["stale_rules"]] == ["homelab_mlflow_ignore_rules[3] (stale)"]
    markdown = (folder / "drift-report.md").read_text()
    assert "### Ignored: 3 differences" in markdown
    assert "### Ignore rules that matched nothing" in markdown

    assert correct.returncode == 0, correct.stdout
    assert corrected["status"] == "corrected"
    deployment = client.AppsV1Api(k8s).read_namespaced_deployment("web", drift_namespace)
    (container,) = deployment.spec.template.spec.containers
    # Corrected: what no rule ignores. Left as found: what the rules ignore.
    assert container.image == "registry.k8s.io/pause:3.10"
    assert deployment.spec.replicas == 3
    assert {e.name: e.value for e in container.env} == {"A": "9", "B": "2"}
    assert client.CoreV1Api(k8s).read_namespaced_config_map("settings", drift_namespace).data == {"a": "x", "b": "2"}

    assert again.returncode == 0, again.stdout
    assert (in_sync["status"], in_sync["exit_code"]) == ("in_sync", 0)
    assert in_sync["summary"]["ignored_differences"] == 3


def test_without_the_rules_the_same_changes_are_drift_and_corrected(k8s, drift_namespace, drift_run):
    drift_run()
    edit(k8s, drift_namespace)

    _detect, detected, _folder = drift_run("--check")
    drift_run()

    assert "spec.replicas" in fields_of(detected, "Deployment")
    assert fields_of(detected, "ConfigMap") == {"data.a": ("1", "x"), "data.b": ("2", "y")}
    assert client.AppsV1Api(k8s).read_namespaced_deployment("web", drift_namespace).spec.replicas == 1


def scale(k8s, namespace, replicas, manager):
    """As an autoscaler scales: through the scale subresource, under its own field manager."""
    client.AppsV1Api(k8s).patch_namespaced_deployment_scale(
        "web", namespace, {"spec": {"replicas": replicas}}, field_manager=manager
    )


def replicas_owners(k8s, namespace):
    deployment = client.AppsV1Api(k8s).read_namespaced_deployment("web", namespace)
    return {
        entry.manager
        for entry in deployment.metadata.managed_fields
        if "f:replicas" in (entry.fields_v1 or {}).get("f:spec", {})
    }


@pytest.mark.parametrize(
    "variables",
    [
        pytest.param({"homelab_mlflow_field_managers": ["autoscaler"]}, id="field-manager"),
        pytest.param(
            {"task_rules": [{"kind": "Deployment", "name": "web", "json_pointers": ["/spec/replicas"]}]},
            id="the-roles-autoscaler-rule",
        ),
    ],
)
def test_replicas_an_autoscaler_manages_are_left_alone(k8s, drift_namespace, drift_run, variables):
    drift_run(**variables)
    scale(k8s, drift_namespace, 4, "autoscaler")

    detect, detected, _folder = drift_run("--check", **variables)
    correct, _corrected, _folder = drift_run(**variables)

    assert detect.returncode == 0, detect.stdout
    assert (detected["status"], detected["exit_code"]) == ("in_sync", 0)
    (ignored,) = detected["targets"]["localhost"]["ignored"]
    assert (ignored["path"], ignored["expected"], ignored["found"]) == ("spec.replicas", 1, 4)
    assert correct.returncode == 0, correct.stdout
    assert "changed=0" in correct.stdout
    assert client.AppsV1Api(k8s).read_namespaced_deployment("web", drift_namespace).spec.replicas == 4
    # The apply did not take the field back: it is the autoscaler's alone.
    assert replicas_owners(k8s, drift_namespace) == {"autoscaler"}


def test_a_bad_rule_fails_before_any_request_naming_the_rule(drift_run):
    rules = [
        {"kind": "Deployment", "json_pointers": ["/spec/replicas"]},
        {"kind": "Deploymnet", "json_pointers": ["/x"]},
    ]

    result, report, _folder = drift_run("--check", homelab_mlflow_ignore_rules=rules)

    assert result.returncode == 2
    assert "homelab_mlflow_ignore_rules[1]: kind 'Deploymnet' is none the roles apply" in result.stdout
    assert "Check the ignore rules and other field managers" in result.stdout.split("fatal:")[0].rsplit("TASK", 1)[1]
    assert report["exit_code"] == 2


# The mlflow role's HorizontalPodAutoscaler, rendered from its template as the role renders it.
AUTOSCALER_PLAYBOOK = textwrap.dedent(
    """\
    - name: The mlflow role's autoscaler
      hosts: localhost
      gather_facts: false
      vars:
        drift_report: true
        mlflow_namespace: "{{ namespace }}"
        mlflow_autoscaler_enabled: true
        mlflow_replicas: 2
        mlflow_autoscaler_max_replicas: 5
        mlflow_autoscaler_cpu_utilization: 70
        __mlflow_labels: {app.kubernetes.io/name: mlflow}
      tasks:
        - name: Apply the autoscaler
          homelab.mlflow.k8s_apply:
            kubeconfig: "{{ kubeconfig }}"
            namespace: "{{ namespace }}"
            definitions:
              - "{{ lookup('ansible.builtin.template', playbook_dir ~ '/horizontalpodautoscaler.yaml.j2') }}"
    """
)


def test_the_roles_autoscaler_is_what_the_api_server_takes(k8s, drift_namespace, drift_runner, tmp_path):
    template = REPO / "roles" / "mlflow" / "templates" / "horizontalpodautoscaler.yaml.j2"
    (tmp_path / template.name).write_text(template.read_text())
    run = drift_runner(AUTOSCALER_PLAYBOOK)

    created, _report, _folder = run()
    again, in_sync, _folder = run("--check")

    assert created.returncode == 0, created.stdout
    assert (again.returncode, in_sync["status"]) == (0, "in_sync"), again.stdout
    found = client.AutoscalingV2Api(k8s).read_namespaced_horizontal_pod_autoscaler("mlflow", drift_namespace)
    assert (found.spec.min_replicas, found.spec.max_replicas) == (2, 5)
    assert (found.spec.scale_target_ref.kind, found.spec.scale_target_ref.name) == ("Deployment", "mlflow")
    assert found.spec.metrics[0].resource.target.average_utilization == 70
