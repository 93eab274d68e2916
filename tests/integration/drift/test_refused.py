"""A drift that needs the object recreated is reported, never "fixed": against the local test
cluster's API server, an immutable field (a Deployment's selector, after the Deployment was
recreated by hand) makes the dry run and the apply fail with 422; homelab.mlflow.drift_report
reports it as drift that needs a person (exit code 3), and the object stays the same one."""

from __future__ import annotations

import textwrap

from kubernetes import client

# Applied as the roles apply: server-side, field manager homelab.mlflow, conflicts forced.
PLAYBOOK = textwrap.dedent(
    """\
    - name: A role's apply, in a drift run
      hosts: localhost
      gather_facts: false
      vars:
        drift_report: true
      tasks:
        - name: Apply the Deployment
          kubernetes.core.k8s:
            kubeconfig: "{{ kubeconfig }}"
            state: present
            apply: true
            server_side_apply:
              field_manager: homelab.mlflow
              force_conflicts: true
            definition:
              apiVersion: apps/v1
              kind: Deployment
              metadata:
                name: web
                namespace: "{{ namespace }}"
              spec:
                replicas: 1
                selector:
                  matchLabels: {app: web}
                template:
                  metadata:
                    labels: {app: web}
                  spec:
                    containers:
                      - name: web
                        image: registry.k8s.io/pause:3.10
    """
)


def deployment(namespace: str, selector: dict) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web", namespace=namespace),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels=selector),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=selector),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="registry.k8s.io/pause:3.10")]),
            ),
        ),
    )


def test_an_immutable_field_is_reported_and_the_object_is_not_recreated(k8s, drift_namespace, drift_runner, tmp_path):
    apps = client.AppsV1Api(k8s)
    # Recreated by hand with another selector, which no update can change back.
    apps.create_namespaced_deployment(drift_namespace, deployment(drift_namespace, {"app": "web", "tier": "front"}))
    uid = apps.read_namespaced_deployment("web", drift_namespace).metadata.uid
    run = drift_runner(PLAYBOOK)

    detect, detected, _folder = run("--check", report_dir="detect")
    correct, corrected, _folder = run(report_dir="correct")

    for result, report, state in ((detect, detected, "found"), (correct, corrected, "not_corrected")):
        # ansible-playbook: a task failed (2); the report: drift that needs a person (3).
        assert result.returncode == 2, result.stdout
        assert (report["status"], report["exit_code"]) == ("drift", 3)
        (item,) = report["targets"]["localhost"]["drift"]
        assert item["change"] == "refused"
        assert item["state"] == state
        assert item["object"] == {
            "api_version": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "namespace": drift_namespace,
        }
        assert "field is immutable" in item["message"]
        assert [f["path"] for f in item["fields"]] == ["spec.selector"]
    assert (
        "refused by the API server: needs a person, an apply cannot correct it"
        in (tmp_path / "correct" / "drift-report.md").read_text()
    )
    # Never deleted to be made anew.
    assert apps.read_namespaced_deployment("web", drift_namespace).metadata.uid == uid
