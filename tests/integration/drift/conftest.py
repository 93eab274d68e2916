"""What the drift tests share: a namespace of their own, and runs of a role's apply (homelab.mlflow.k8s_apply) in a
play that homelab.mlflow.drift_report collects from, each run with its own report folder unless given one."""

from __future__ import annotations

import json
import textwrap
import uuid

import pytest
from kubernetes import client

# Applied as the roles apply (homelab.mlflow.k8s_apply), in a play the drift report collects from.
PLAYBOOK = textwrap.dedent(
    """\
    - name: A role's apply, in a drift run
      hosts: localhost
      gather_facts: false
      vars:
        drift_report: true
      tasks:
        - name: Check the ignore rules and other field managers
          homelab.mlflow.k8s_apply: {}

        - name: Apply the web objects
          homelab.mlflow.k8s_apply:
            kubeconfig: "{{ kubeconfig }}"
            namespace: "{{ namespace }}"
            ignore: "{{ task_rules | default([]) }}"
            definitions:
              - apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                  labels: {app: web}
                data: {a: "1", b: "2"}
              - apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  labels: {app: web}
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
                          env:
                            - {name: A, value: "1"}
                            - {name: B, value: "2"}
    """
)


@pytest.fixture
def drift_namespace(k8s):
    name = f"drift-ignore-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(k8s)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture
def drift_run(testcluster, drift_namespace, run_ansible, tmp_path):
    playbook = tmp_path / "apply.yml"
    playbook.write_text(PLAYBOOK)
    runs = iter(range(100))

    def run(*args: str, report_dir=None, **variables):
        name = report_dir or f"run-{next(runs)}"
        extra = json.dumps({"kubeconfig": str(testcluster.kubeconfig), "namespace": drift_namespace, **variables})
        result = run_ansible(
            "ansible-playbook",
            str(playbook),
            "--diff",
            "-e",
            extra,
            *args,
            env={
                "ANSIBLE_CALLBACKS_ENABLED": "homelab.mlflow.drift_report",
                "HOMELAB_MLFLOW_DRIFT_REPORT_DIR": str(tmp_path / name),
            },
        )
        report = tmp_path / name / "drift-report.json"
        return result, json.loads(report.read_text()) if report.exists() else None, tmp_path / name

    return run
