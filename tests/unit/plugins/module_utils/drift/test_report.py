"""plugins/module_utils/drift/report.py: a drift run's report from the results of its tasks, per target;
its status and exit code; rescued failures; a credential rotation as one change; the JSON's keys. The
results have the shape of the engine's (homelab.mlflow.k8s_apply)."""

from __future__ import annotations

import json

from ansible_collections.homelab.mlflow.plugins.module_utils.drift.report import DriftReport

MLFLOW = "homelab.mlflow.mlflow"


def engine_result(*objects):
    """homelab.mlflow.k8s_apply's result: per object its action and changed fields."""
    return {"changed": True, "objects": list(objects)}


def engine_object(kind, name, *fields, api_version="v1", action="updated"):
    return {
        "api_version": api_version,
        "kind": kind,
        "namespace": "ns",
        "name": name,
        "action": action,
        "changed": True,
        "fields": list(fields),
    }


DEPLOYMENT_DRIFT = engine_result(
    engine_object(
        "Deployment",
        "mlflow",
        {"path": "spec.replicas", "change": "changed", "expected": 2, "found": 3},
        api_version="apps/v1",
    )
)

# The engine's failed result when the API server refused an object (HTTP 422).
REFUSED = {
    "failed": True,
    "changed": False,
    "msg": 'The API server refused to apply Service ns/mlflow: Service "mlflow" is invalid',
    "objects": [],
    "error": {
        "object": {"api_version": "v1", "kind": "Service", "namespace": "ns", "name": "mlflow"},
        "status": 422,
        "reason": "Invalid",
        "message": 'Service "mlflow" is invalid: spec.ports[1].name: Duplicate value: "http"',
        "details": {"causes": [{"field": "spec.ports[1].name", "message": 'Duplicate value: "http"'}]},
    },
}


def test_detect_exit_codes():
    in_sync = DriftReport(mode="detect")
    in_sync.target("local")
    in_sync.finish({})
    drift = DriftReport(mode="detect")
    drift.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "t")
    drift.finish({})

    assert (in_sync.status(), in_sync.exit_code()) == ("in_sync", 0)
    assert (drift.status(), drift.exit_code()) == ("drift", 3)


def test_correct_exit_codes():
    corrected = DriftReport(mode="correct")
    corrected.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "t")
    corrected.finish({})
    refused = DriftReport(mode="correct")
    refused.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "t")
    refused.add_failed("local", REFUSED, MLFLOW, "Apply the Service and routing objects")
    refused.finish({"local": 1})

    assert (corrected.status(), corrected.exit_code()) == ("corrected", 0)
    assert corrected.to_json()["targets"]["local"]["drift"][0]["state"] == "corrected"
    assert (refused.status(), refused.exit_code()) == ("drift", 3)
    states = [item["state"] for item in refused.to_json()["targets"]["local"]["drift"]]
    assert states == ["corrected", "not_corrected"]
    assert refused.to_json()["targets"]["local"]["stopped_at"] == {
        "role": MLFLOW,
        "task": "Apply the Service and routing objects",
    }


def test_a_failure_the_run_rescued_is_no_error_and_the_one_that_stopped_it_is():
    report = DriftReport(mode="detect")
    report.add_failed("local", {"failed": True, "msg": "port closed"}, "homelab.mlflow.cluster_preflight", "Connect")
    report.add_failed("local", {"failed": True, "msg": "unreachable API"}, "homelab.mlflow.cluster_preflight", "Fail")
    report.add_failed("other", {"failed": True, "msg": "rescued"}, "homelab.mlflow.cluster_preflight", "Connect")
    report.finish({"local": 1, "other": 0})

    data = report.to_json()
    assert data["targets"]["local"]["errors"] == [
        {"role": "homelab.mlflow.cluster_preflight", "task": "Fail", "message": "unreachable API"}
    ]
    assert data["targets"]["other"]["errors"] == []
    assert (data["status"], data["exit_code"]) == ("failed", 2)


def test_an_unreachable_target_fails_the_run():
    report = DriftReport(mode="detect")
    report.add_unreachable("local", {"msg": "no route"}, "", "Gathering")
    report.finish({})

    assert report.exit_code() == 2
    assert "unreachable: no route" in report.to_markdown()


def test_the_json_report_has_the_documented_keys():
    report = DriftReport(mode="correct", run_id="r", playbook="drift.yml")
    report.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "Apply the MLflow Deployment")
    report.finish({})

    data = report.to_json()

    assert set(data) == {
        "format",
        "run_id",
        "mode",
        "playbook",
        "started",
        "finished",
        "status",
        "exit_code",
        "summary",
        "targets",
    }
    assert data["summary"] == {
        "targets": 1,
        "targets_with_drift": 1,
        "objects": 1,
        "credential_rotations": 0,
        "errors": 0,
        "ignored_differences": 0,
        "stale_rules": 0,
    }
    assert set(data["targets"]["local"]) == {
        "status",
        "drift",
        "errors",
        "unreachable",
        "stopped_at",
        "ignored",
        "stale_rules",
    }
    assert set(data["targets"]["local"]["drift"][0]) == {
        "role",
        "task",
        "object",
        "change",
        "state",
        "correctable",
        "fields",
        "message",
        "part_of",
    }
    json.dumps(data)


NEW_PASSWORD = engine_result(
    engine_object("Secret", "mlflow-secrets", {"path": "data.password", "change": "changed", "redacted": True})
)
NEW_BACKEND_STORE = engine_result(
    engine_object("Secret", "mlflow-backend-store", {"path": "data.uri", "change": "changed", "redacted": True})
)
ROLLOUT = engine_result(
    engine_object(
        "Deployment",
        "mlflow",
        {
            "path": 'spec.template.metadata.annotations["checksum/backend-store"]',
            "change": "changed",
            "expected": "b2",
            "found": "a1",
        },
        api_version="apps/v1",
    )
)
POSTGRES = "homelab.mlflow.postgres"


def test_a_password_rotation_and_the_rollout_it_causes_are_one_change():
    report = DriftReport(mode="correct", run_id="r")
    report.add_changed("local", NEW_PASSWORD, POSTGRES, "Apply the PostgreSQL cluster and its credentials")
    report.add_changed("local", NEW_BACKEND_STORE, MLFLOW, "Apply the migration Job and wait for it to complete")
    report.add_changed("local", ROLLOUT, MLFLOW, "Apply the MLflow server")
    report.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "Apply the MLflow server")
    report.finish({})

    data = report.to_json()
    markdown = report.to_markdown()

    parts = [(item["object"]["name"], item["part_of"]) for item in data["targets"]["local"]["drift"]]
    assert parts == [
        ("mlflow-secrets", "credential_rotation"),
        ("mlflow-backend-store", "credential_rotation"),
        ("mlflow", "credential_rotation"),
        ("mlflow", None),
    ]
    assert data["summary"]["credential_rotations"] == 1
    assert "objects: 4 (credential rotations: 1)" in markdown
    assert "### Credentials rotated" in markdown
    assert "- **Secret ns/mlflow-secrets** (role postgres): new values of `data.password`" in markdown
    assert "- **Deployment ns/mlflow** (role mlflow): rolls out for them" in markdown
    # Each object once: the rotation's under its heading, the unrelated change of the same Deployment under its role.
    assert markdown.count("mlflow-backend-store") == 1
    assert "### Role postgres" not in markdown
    assert "| `spec.replicas` | `2` | `3` |" in markdown


def test_a_secret_value_changed_without_a_rollout_is_drift_of_its_own():
    report = DriftReport(mode="detect", run_id="r")
    report.add_changed("local", NEW_PASSWORD, POSTGRES, "Apply the PostgreSQL cluster and its credentials")
    report.finish({})

    data = report.to_json()

    assert [item["part_of"] for item in data["targets"]["local"]["drift"]] == [None]
    assert data["summary"]["credential_rotations"] == 0
    assert "### Role postgres" in report.to_markdown()


def test_a_rollout_for_other_reasons_is_no_rotation():
    report = DriftReport(mode="correct", run_id="r")
    report.add_changed("local", NEW_PASSWORD, POSTGRES, "Apply the PostgreSQL cluster and its credentials")
    report.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "Apply the MLflow server")
    report.finish({})

    assert {item["part_of"] for item in report.to_json()["targets"]["local"]["drift"]} == {None}


RULES = [
    {"rule": "homelab_mlflow_ignore_rules[0]", "kind": "Deployment", "json_pointers": ["/spec/replicas"]},
    {"rule": "homelab_mlflow_ignore_rules[1] (old)", "kind": "Service", "name": "gone", "json_pointers": ["/x"]},
]
VALIDATED = {"changed": False, "ignore_rules": RULES, "objects": []}
IGNORED_REPLICAS = {
    "changed": False,
    "ignore_rules": RULES,
    "objects": [
        dict(
            engine_object("Deployment", "mlflow", api_version="apps/v1", action="unchanged"),
            changed=False,
            ignored=[
                {
                    "path": "spec.replicas",
                    "change": "changed",
                    "expected": 1,
                    "found": 5,
                    "ignored_by": "homelab_mlflow_ignore_rules[0]: /spec/replicas",
                }
            ],
            rules_matched=["homelab_mlflow_ignore_rules[0]"],
        )
    ],
}


def test_ignored_differences_are_counted_and_not_drift_and_rules_that_matched_nothing_are_listed():
    report = DriftReport(mode="detect", run_id="r")
    report.add_ok("local", VALIDATED, "", "Check the ignore rules")
    report.add_ok("local", IGNORED_REPLICAS, MLFLOW, "Apply the MLflow server")
    report.finish({})

    data = report.to_json()
    markdown = report.to_markdown()

    assert (data["status"], data["exit_code"]) == ("in_sync", 0)
    assert data["summary"]["ignored_differences"] == 1
    assert data["summary"]["stale_rules"] == 1
    (ignored,) = data["targets"]["local"]["ignored"]
    assert ignored["object"]["kind"] == "Deployment"
    assert (ignored["path"], ignored["found"]) == ("spec.replicas", 5)
    (stale,) = data["targets"]["local"]["stale_rules"]
    assert stale["rule"] == "homelab_mlflow_ignore_rules[1] (old)"
    assert "### Ignored: 1 difference" in markdown
    row = "| Deployment ns/mlflow | `spec.replicas` | `1` | `5` | homelab_mlflow_ignore_rules[0]: /spec/replicas |"
    assert row in markdown
    assert "### Ignore rules that matched nothing" in markdown
    assert "- homelab_mlflow_ignore_rules[1] (old): Service gone, `/x`: remove the rule or correct it" in markdown


def test_rules_are_not_called_stale_when_the_run_stopped_before_every_object():
    report = DriftReport(mode="detect", run_id="r")
    report.add_ok("local", VALIDATED, "", "Check the ignore rules")
    report.add_failed("local", {"failed": True, "msg": "unreachable API"}, MLFLOW, "Apply the MLflow server")
    report.finish({"local": 1})

    assert report.to_json()["targets"]["local"]["stale_rules"] is None


def test_rules_are_not_called_stale_when_tags_left_roles_out():
    report = DriftReport(mode="detect", run_id="r", every_role=False)
    report.add_ok("local", VALIDATED, "", "Check the ignore rules")
    report.finish({})

    assert report.to_json()["targets"]["local"]["stale_rules"] is None
    assert report.to_json()["summary"]["stale_rules"] == 0
