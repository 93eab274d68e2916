"""What the drift tests share: a namespace of their own, and runs of a role's apply (homelab.mlflow.k8s_apply) in a
play that homelab.mlflow.drift_report collects from, each run with its own report folder unless given one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from kubernetes import client

REPO = Path(__file__).resolve().parents[3]

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
    name = f"drift-test-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(k8s)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture
def drift_runner(testcluster, drift_namespace, run_ansible, tmp_path):
    """Runs of a playbook with the drift report enabled, against the test cluster and its namespace: each run
    returns ansible-playbook's result, the report (None when none was written) and the report folder."""

    def runner(text: str = PLAYBOOK):
        playbook = tmp_path / "apply.yml"
        playbook.write_text(text)
        runs = iter(range(100))
        return lambda *args, report_dir=None, **variables: _run(playbook, runs, args, report_dir, variables)

    def _run(playbook, runs, args, report_dir, variables):
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

    return runner


@pytest.fixture
def drift_run(drift_runner):
    """Runs of the role's apply of PLAYBOOK."""
    return drift_runner()


# Stands in for ansible-playbook as bin/homelab-mlflow-drift calls it: runs the real one on the test's playbook
# (in place of playbooks/drift.yml, the whole stack), with the wrapper's further arguments and environment.
FAKE_ANSIBLE_PLAYBOOK = """\
import os, sys
real, playbook = os.environ["REAL_ANSIBLE_PLAYBOOK"], os.environ["TEST_PLAYBOOK"]
os.execv(real, [real, playbook, *sys.argv[2:]])
"""


@pytest.fixture
def drift_wrapper(testcluster, drift_namespace, drift_run, tmp_path):
    """bin/homelab-mlflow-drift detect, on the test's playbook (written by drift_run) against the test cluster."""
    fake = tmp_path / "ansible-playbook"
    fake.write_text(f"#!{sys.executable}\n{FAKE_ANSIBLE_PLAYBOOK}")
    fake.chmod(0o755)
    extra = json.dumps({"kubeconfig": str(testcluster.kubeconfig), "namespace": drift_namespace})

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        full_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("HOMELAB_MLFLOW_DRIFT_", "ANSIBLE_"))},
            "HOMELAB_MLFLOW_ANSIBLE_PLAYBOOK": str(fake),
            "REAL_ANSIBLE_PLAYBOOK": str(REPO / ".venv" / "bin" / "ansible-playbook"),
            "TEST_PLAYBOOK": str(tmp_path / "apply.yml"),
            "KUBECONFIG": str(testcluster.kubeconfig),
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            **env,
        }
        command = [sys.executable, str(REPO / "bin" / "homelab-mlflow-drift"), "detect", *args, "-e", extra]
        return subprocess.run(command, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=300, check=False)

    return run
