"""plugins/callback/drift_report.py: what a drift run's task results say differs, per object and
field; what is never shown; the exit code; the Markdown. The results below have the shapes
kubernetes.core.k8s returns (taken from real runs against the local test cluster, trimmed)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

# Loaded from its file: putting the checkout's .collections on sys.path would reorder the
# ansible_collections namespace for every other test of the session.
REPO = Path(__file__).resolve().parents[4]
COMPARE = "ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare"


def _load_compare():
    """The engine's comparison, which the plugin imports, under its collection name."""
    if COMPARE not in sys.modules:
        spec = importlib.util.spec_from_file_location(COMPARE, REPO / "plugins/module_utils/kube/compare.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[COMPARE] = module
        spec.loader.exec_module(module)


PLUGIN = Path(__file__).resolve().parents[4] / "plugins" / "callback" / "drift_report.py"
_load_compare()
_spec = importlib.util.spec_from_file_location("homelab_mlflow_callback_drift_report", PLUGIN)
drift_report = importlib.util.module_from_spec(_spec)
# Dataclasses look their module up while the class is made.
sys.modules.setdefault(_spec.name, drift_report)
_spec.loader.exec_module(drift_report)

ABSENT = drift_report.ABSENT
MLFLOW = "homelab.mlflow.mlflow"


def deployment(image="docker.io/burakince/mlflow:3.17.2", replicas=2, status=None):
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "mlflow", "namespace": "ns", "uid": "u-1", "resourceVersion": "7"},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "mlflow", "image": image}]}}},
    }
    if status:
        obj["status"] = status
    return obj


# kubernetes.core.k8s, one object, check mode with diff: only the differing parts, list items with
# their merge key.
DEPLOYMENT_DRIFT = {
    "changed": True,
    "method": "apply",
    "result": deployment(),
    "diff": {
        "before": {
            "spec": {
                "template": {"spec": {"containers": [{"image": "docker.io/burakince/mlflow:3.0.0", "name": "mlflow"}]}},
                "replicas": 3,
            }
        },
        "after": {
            "spec": {
                "template": {
                    "spec": {"containers": [{"image": "docker.io/burakince/mlflow:3.17.2", "name": "mlflow"}]}
                },
                "replicas": 2,
            }
        },
    },
    "_ansible_no_log": False,
}

# kubernetes.core.k8s with a list of templates: one result per document.
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "mlflow", "namespace": "ns"}}
ROUTE = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "mlflow", "namespace": "ns"},
}
MULTI_DOCUMENT = {
    "changed": True,
    "result": {
        "results": [
            {
                "changed": False,
                "method": "apply",
                "diff": {},
                "result": {"kind": "ServiceAccount", "metadata": {"name": "mlflow"}},
            },
            {
                "changed": True,
                "method": "apply",
                "result": SERVICE,
                "diff": {
                    "before": {"spec": {"ports": [{"targetPort": 8080, "port": 80}]}},
                    "after": {"spec": {"ports": [{"targetPort": "http", "port": 80}]}},
                },
            },
            {
                "changed": True,
                "method": "apply",
                "result": ROUTE,
                "diff": {"before": {}, "after": {**ROUTE, "spec": {}}},
            },
        ]
    },
    "_ansible_no_log": False,
}

# A loop of kubernetes.core.k8s (one item per object).
CLUSTER = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg", "namespace": "ns"}}
LOOP = {
    "changed": True,
    "results": [
        {
            "changed": True,
            "method": "apply",
            "item": CLUSTER,
            "result": CLUSTER,
            "diff": {"before": {"spec": {"instances": 2}}, "after": {"spec": {"instances": 1}}},
        },
        {"changed": False, "item": {"kind": "ScheduledBackup"}, "result": {}},
        {"skipped": True, "changed": False},
    ],
}

# What a no_log task's result looks like by the time a callback sees it.
CENSORED = {
    "_ansible_no_log": True,
    "changed": True,
    "censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
}

SECRET_VALUE = "c3VwZXItc2VjcmV0LXZhbHVl"  # noqa: S105  # base64 of a made-up password
SECRET_DRIFT = {
    "changed": True,
    "method": "apply",
    "result": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "ns"}},
    "diff": {
        "before": {
            "data": {"password": "b3RoZXI="},
            "metadata": {"labels": {"tier": "db"}, "annotations": {"note": SECRET_VALUE}},
        },
        "after": {
            "data": {"password": SECRET_VALUE, "username": "bWxmbG93"},
            "metadata": {"labels": {"tier": "database"}},
        },
    },
}

REFUSED = {
    "changed": False,
    "failed": True,
    "reason": "Unprocessable Entity",
    "msg": "Failed to apply object: "
    + json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": 'Service "mlflow" is invalid: spec.ports[1].name: Duplicate value: "http"',
            "reason": "Invalid",
            "details": {
                "name": "mlflow",
                "kind": "Service",
                "causes": [
                    {
                        "reason": "FieldValueDuplicate",
                        "message": 'Duplicate value: "http"',
                        "field": "spec.ports[1].name",
                    }
                ],
            },
            "code": 422,
        }
    ),
    "invocation": {"module_args": {"resource_definition": [SERVICE]}},
}

BLUEPRINT_BEFORE = """\
name: mlflow
enabled: false
context: {}
content:
  version: 1
  entries:
    - model: authentik_providers_proxy.proxyprovider
      identifiers: {name: mlflow}
      attrs:
        mode: !Context mode
        skip_path_regex: |
          ^/static/
"""
BLUEPRINT_AFTER = BLUEPRINT_BEFORE.replace("enabled: false", "enabled: true").replace("^/static/", "^/assets/")


def paths(item):
    return [f.path for f in item.fields]


# --- differences ----------------------------------------------------------------------------------


def test_fields_are_named_by_path_with_list_items_by_their_merge_key():
    before = {
        "metadata": {"labels": {"app.kubernetes.io/part-of": "other"}},
        "spec": {
            "containers": [{"name": "mlflow", "env": [{"name": "HOME", "value": "/root"}], "args": ["--workers=4"]}]
        },
    }
    after = {
        "metadata": {"labels": {"app.kubernetes.io/part-of": "mlflow"}},
        "spec": {
            "containers": [
                {"name": "mlflow", "env": [{"name": "HOME", "value": "/home/mlflow"}], "args": ["--workers=1"]}
            ]
        },
    }

    fields = drift_report.diff_fields(before, after)

    assert [(f.path, f.expected, f.found) for f in fields] == [
        ('metadata.labels["app.kubernetes.io/part-of"]', "mlflow", "other"),
        ("spec.containers[name=mlflow].args", ["--workers=1"], ["--workers=4"]),
        ("spec.containers[name=mlflow].env[name=HOME].value", "/home/mlflow", "/root"),
    ]


def test_a_field_or_list_item_on_one_side_only_is_missing_or_unexpected():
    fields = drift_report.diff_fields(
        {"spec": {"ports": [{"port": 81, "name": "x"}]}, "metadata": {"labels": {"extra": "1"}}},
        {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 81, "name": "x"}]}, "metadata": {}},
    )

    changes = {f.path: f.change for f in fields}
    assert changes == {"metadata.labels.extra": "unexpected", "spec.ports[port=80]": "missing"}


def test_as_many_list_items_with_another_key_compare_by_position():
    fields = drift_report.diff_fields(
        {"ports": [{"port": 8080, "name": "http"}]}, {"ports": [{"port": 80, "name": "http"}]}
    )

    assert [(f.path, f.expected, f.found) for f in fields] == [("ports[0].port", 80, 8080)]


def test_lists_of_objects_without_a_merge_key_compare_by_position():
    fields = drift_report.diff_fields(
        {"ingress": [{"toPorts": [{"ports": [{"port": "5433"}]}]}]},
        {"ingress": [{"toPorts": [{"ports": [{"port": "5432"}]}]}]},
    )

    assert [(f.path, f.expected, f.found) for f in fields] == [("ingress[0].toPorts[0].ports[0].port", "5432", "5433")]


# --- task results ---------------------------------------------------------------------------------


def test_a_changed_object_is_reported_field_by_field_with_expected_and_found():
    (item,) = drift_report.drift_from_result(DEPLOYMENT_DRIFT, MLFLOW, "Apply the MLflow Deployment")

    assert item.change == "modified"
    assert item.obj == {"api_version": "apps/v1", "kind": "Deployment", "name": "mlflow", "namespace": "ns"}
    assert [f.to_json() for f in item.fields] == [
        {"path": "spec.replicas", "change": "changed", "expected": 2, "found": 3},
        {
            "path": "spec.template.spec.containers[name=mlflow].image",
            "change": "changed",
            "expected": "docker.io/burakince/mlflow:3.17.2",
            "found": "docker.io/burakince/mlflow:3.0.0",
        },
    ]


def test_each_document_of_a_multi_document_apply_is_its_own_object():
    items = drift_report.drift_from_result(MULTI_DOCUMENT, MLFLOW, "Apply the Service and routing objects")

    assert [(i.obj["kind"], i.change) for i in items] == [("Service", "modified"), ("HTTPRoute", "missing")]
    assert paths(items[0]) == ["spec.ports[port=80].targetPort"]
    assert items[1].fields == []


def test_each_changed_item_of_a_loop_is_reported_and_unchanged_or_skipped_ones_are_not():
    items = drift_report.drift_from_result(LOOP, "homelab.mlflow.postgres", "Apply the PostgreSQL cluster")

    assert [(i.obj["kind"], paths(i)) for i in items] == [("Cluster", ["spec.instances"])]


def test_a_no_log_result_is_reported_as_changed_with_nothing_of_it():
    (item,) = drift_report.drift_from_result(
        CENSORED, MLFLOW, "Apply the backend store Secret", {"template": "backend-store-secret.yaml.j2"}
    )

    assert item.change == "withheld"
    assert item.obj is None
    assert item.fields == []
    assert "backend-store-secret.yaml.j2" in item.message


def test_a_no_log_result_is_not_reported_when_unchanged():
    assert drift_report.drift_from_result({**CENSORED, "changed": False}, MLFLOW, "t") == []


def test_secret_values_never_reach_the_report_only_which_keys_differ():
    report = drift_report.DriftReport(mode="detect", run_id="r")
    report.add_changed("local", SECRET_DRIFT, "homelab.mlflow.postgres", "Apply the credentials Secret")
    report.finish({})

    data = report.to_json()
    text = json.dumps(data) + report.to_markdown()
    (item,) = data["targets"]["local"]["drift"]
    assert SECRET_VALUE not in text
    assert "b3RoZXI=" not in text
    assert "bWxmbG93" not in text
    assert {f["path"]: f for f in item["fields"]} == {
        "data.password": {"path": "data.password", "change": "changed", "redacted": True},
        "data.username": {"path": "data.username", "change": "missing", "redacted": True},
        "metadata.annotations.note": {"path": "metadata.annotations.note", "change": "unexpected", "redacted": True},
        # Labels are no secret.
        "metadata.labels.tier": {
            "path": "metadata.labels.tier",
            "change": "changed",
            "expected": "database",
            "found": "db",
        },
    }


def test_server_side_bookkeeping_alone_is_not_drift():
    result = {
        "changed": True,
        "method": "apply",
        "result": deployment(),
        "diff": {
            "before": {"metadata": {"resourceVersion": "7"}, "status": {"observedGeneration": 3}},
            "after": {"metadata": {"resourceVersion": "8"}, "status": {"observedGeneration": 4}},
        },
    }

    assert drift_report.drift_from_result(result, MLFLOW, "t") == []


def test_an_object_the_role_removes_is_reported_as_unwanted():
    result = {
        "changed": True,
        "method": "delete",
        "result": {},
        "invocation": {
            "module_args": {
                "kind": "PodDisruptionBudget",
                "name": "mlflow",
                "namespace": "ns",
                "api_version": "policy/v1",
            }
        },
    }

    (item,) = drift_report.drift_from_result(result, MLFLOW, "Remove the objects of options that are off")

    assert item.change == "unwanted"
    assert item.obj == {"api_version": "policy/v1", "kind": "PodDisruptionBudget", "name": "mlflow", "namespace": "ns"}


def test_a_changed_task_without_a_diff_is_reported_with_its_message():
    result = {"changed": True, "msg": "Namespace ns does not exist yet: a run would create Secret creds."}

    (item,) = drift_report.drift_from_result(result, "homelab.mlflow.postgres", "Report the objects a run would create")

    assert (item.change, item.obj, item.message) == ("other", None, result["msg"])


def test_authentik_blueprint_diffs_are_read_as_yaml_with_authentik_tags_kept():
    changed = {
        "changed": True,
        "diff": {
            "before_header": "Authentik blueprint mlflow",
            "after_header": "Authentik blueprint mlflow",
            "before": BLUEPRINT_BEFORE,
            "after": BLUEPRINT_AFTER,
        },
    }
    deleted = {"changed": True, "diff": {**changed["diff"], "before": ""}}
    removed = {"changed": True, "diff": {**changed["diff"], "after": ""}}

    (item,) = drift_report.drift_from_result(changed, "homelab.mlflow.authentik", "Apply the blueprint")
    (missing,) = drift_report.drift_from_result(deleted, "homelab.mlflow.authentik", "Apply the blueprint")
    (unwanted,) = drift_report.drift_from_result(removed, "homelab.mlflow.authentik", "Apply the blueprint")

    assert item.obj == {"name": "Authentik blueprint mlflow"}
    assert [(f.path, f.expected, f.found) for f in item.fields] == [
        ("content.entries[0].attrs.skip_path_regex", "^/assets/\n", "^/static/\n"),
        ("enabled", True, False),
    ]
    assert (missing.change, unwanted.change) == ("missing", "unwanted")


def test_a_422_refusal_is_drift_that_needs_a_person_with_the_api_servers_causes():
    (item,) = drift_report.refusal_from_failure(REFUSED, MLFLOW, "Apply the Service and routing objects")

    assert item.change == "refused"
    assert not item.correctable
    assert item.obj == {"api_version": "v1", "kind": "Service", "name": "mlflow", "namespace": "ns"}
    assert [f.to_json() for f in item.fields] == [
        {"path": "spec.ports[1].name", "change": "refused", "message": 'Duplicate value: "http"'}
    ]
    assert "Duplicate value" in item.message


@pytest.mark.parametrize(
    "msg",
    [
        'Failed to apply object: {"kind":"Status","code":403,"message":"forbidden"}',
        "Failed to apply object: not json",
        "Could not connect",
    ],
)
def test_other_failures_are_not_drift(msg):
    assert drift_report.refusal_from_failure({"failed": True, "msg": msg}, MLFLOW, "t") == []


# --- the report -----------------------------------------------------------------------------------


def test_detect_exit_codes():
    in_sync = drift_report.DriftReport(mode="detect")
    in_sync.target("local")
    in_sync.finish({})
    drift = drift_report.DriftReport(mode="detect")
    drift.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "t")
    drift.finish({})

    assert (in_sync.status(), in_sync.exit_code()) == ("in_sync", 0)
    assert (drift.status(), drift.exit_code()) == ("drift", 3)


def test_correct_exit_codes():
    corrected = drift_report.DriftReport(mode="correct")
    corrected.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "t")
    corrected.finish({})
    refused = drift_report.DriftReport(mode="correct")
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
    report = drift_report.DriftReport(mode="detect")
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
    report = drift_report.DriftReport(mode="detect")
    report.add_unreachable("local", {"msg": "no route"}, "", "Gathering")
    report.finish({})

    assert report.exit_code() == 2
    assert "unreachable: no route" in report.to_markdown()


def test_the_markdown_names_target_role_object_field_expected_and_found():
    report = drift_report.DriftReport(mode="detect", run_id="run-1")
    report.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "Apply the MLflow Deployment")
    report.add_changed("local", MULTI_DOCUMENT, MLFLOW, "Apply the Service and routing objects")
    args_drift = {
        "changed": True,
        "method": "apply",
        "result": deployment(),
        "diff": {
            "before": {
                "spec": {"template": {"spec": {"containers": [{"name": "mlflow", "args": ["--a|b", "--workers=4"]}]}}}
            },
            "after": {
                "spec": {"template": {"spec": {"containers": [{"name": "mlflow", "args": ["--a|b", "--workers=1"]}]}}}
            },
        },
    }
    report.add_changed("local", args_drift, MLFLOW, "Apply the MLflow Deployment")
    report.add_changed("local", CENSORED, MLFLOW, "Apply the backend store Secret", {"template": "s.yaml.j2"})
    report.finish({})

    markdown = report.to_markdown()

    assert markdown.startswith("# Drift report: drift found\n")
    assert "- Run: run-1, " in markdown
    assert "## Target local: drift" in markdown
    assert "### Role mlflow" in markdown
    assert "- **Deployment ns/mlflow**: differs" in markdown
    assert "| `spec.replicas` | `2` | `3` |" in markdown
    assert "| `spec.template.spec.containers[name=mlflow].image` | `docker.io/burakince/mlflow:3.17.2` |" in markdown
    # Of a list of values only the items that differ.
    assert "| `spec.template.spec.containers[name=mlflow].args` | `--workers=1` | `--workers=4` |" in markdown
    assert "- **HTTPRoute ns/mlflow**: missing" in markdown
    assert "- **task Apply the backend store Secret**: differs; details withheld" in markdown


def test_the_markdown_escapes_table_cells():
    item = drift_report.FieldDrift("spec.x", expected="a|b", found=ABSENT).to_json()

    assert drift_report._cells(item) == ("`a\\|b`", "(absent)")


def test_the_json_report_has_the_documented_keys():
    report = drift_report.DriftReport(mode="correct", run_id="r", playbook="drift.yml")
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
    }
    assert set(data["targets"]["local"]) == {"status", "drift", "errors", "unreachable", "stopped_at"}
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
    report = drift_report.DriftReport(mode="correct", run_id="r")
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
    report = drift_report.DriftReport(mode="detect", run_id="r")
    report.add_changed("local", NEW_PASSWORD, POSTGRES, "Apply the PostgreSQL cluster and its credentials")
    report.finish({})

    data = report.to_json()

    assert [item["part_of"] for item in data["targets"]["local"]["drift"]] == [None]
    assert data["summary"]["credential_rotations"] == 0
    assert "### Role postgres" in report.to_markdown()


def test_a_rollout_for_other_reasons_is_no_rotation():
    report = drift_report.DriftReport(mode="correct", run_id="r")
    report.add_changed("local", NEW_PASSWORD, POSTGRES, "Apply the PostgreSQL cluster and its credentials")
    report.add_changed("local", DEPLOYMENT_DRIFT, MLFLOW, "Apply the MLflow server")
    report.finish({})

    assert {item["part_of"] for item in report.to_json()["targets"]["local"]["drift"]} == {None}
