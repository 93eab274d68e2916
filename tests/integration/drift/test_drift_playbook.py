"""playbooks/drift.yml refuses, before any request to a cluster, runs whose mode and check mode
disagree or that would go unreported (the callback not enabled)."""

from __future__ import annotations

import pytest

CALLBACK = {"ANSIBLE_CALLBACKS_ENABLED": "homelab.mlflow.drift_report"}


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), CALLBACK, "Detect mode (the default) runs in check mode: add --check --diff"),
        (
            ("--check", "-e", "drift_correct=true"),
            CALLBACK,
            "Correct mode (drift_correct=true) applies the desired state",
        ),
        (("--check", "--diff"), {}, "reports what it finds through the callback homelab.mlflow.drift_report, which is"),
    ],
    ids=["detect-without-check", "correct-with-check", "without-the-callback"],
)
def test_refused_before_any_request(run_ansible, play_recap, tmp_path, args, env, message):
    # A kubeconfig that leads nowhere: the run must stop before it would be read.
    result = run_ansible(
        "ansible-playbook",
        "playbooks/drift.yml",
        "-e",
        f"mlflow_kubeconfig={tmp_path / 'missing-kubeconfig'}",
        *args,
        env={**env, "HOMELAB_MLFLOW_DRIFT_REPORT_DIR": str(tmp_path / "report")},
    )

    assert result.returncode == 2, result.stdout
    assert message in " ".join(result.stdout.split())
    # At most the check of the variable names and the first of the two mode checks passed.
    assert play_recap(result.stdout)["ok"] <= 2
