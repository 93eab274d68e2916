"""plugins/module_utils/drift/results.py: what a drift run's task results say differs, per object and
field. The results below have the shapes kubernetes.core.k8s and homelab.mlflow.k8s_apply return (taken
from real runs against the local test cluster, trimmed)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.drift import results
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.report import DriftReport

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


# --- task results ---------------------------------------------------------------------------------


def test_a_changed_object_is_reported_field_by_field_with_expected_and_found():
    (item,) = results.drift_from_result(DEPLOYMENT_DRIFT, MLFLOW, "Apply the MLflow Deployment")

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
    items = results.drift_from_result(MULTI_DOCUMENT, MLFLOW, "Apply the Service and routing objects")

    assert [(i.obj["kind"], i.change) for i in items] == [("Service", "modified"), ("HTTPRoute", "missing")]
    assert paths(items[0]) == ["spec.ports[port=80].targetPort"]
    assert items[1].fields == []


def test_each_changed_item_of_a_loop_is_reported_and_unchanged_or_skipped_ones_are_not():
    items = results.drift_from_result(LOOP, "homelab.mlflow.postgres", "Apply the PostgreSQL cluster")

    assert [(i.obj["kind"], paths(i)) for i in items] == [("Cluster", ["spec.instances"])]


def test_a_no_log_result_is_reported_as_changed_with_nothing_of_it():
    (item,) = results.drift_from_result(
        CENSORED, MLFLOW, "Apply the backend store Secret", {"template": "backend-store-secret.yaml.j2"}
    )

    assert item.change == "withheld"
    assert item.obj is None
    assert item.fields == []
    assert "backend-store-secret.yaml.j2" in item.message


def test_a_no_log_result_is_not_reported_when_unchanged():
    assert results.drift_from_result({**CENSORED, "changed": False}, MLFLOW, "t") == []


def test_secret_values_never_reach_the_report_only_which_keys_differ():
    report = DriftReport(mode="detect", run_id="r")
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

    assert results.drift_from_result(result, MLFLOW, "t") == []


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

    (item,) = results.drift_from_result(result, MLFLOW, "Remove the objects of options that are off")

    assert item.change == "unwanted"
    assert item.obj == {"api_version": "policy/v1", "kind": "PodDisruptionBudget", "name": "mlflow", "namespace": "ns"}


def test_a_changed_task_without_a_diff_is_reported_with_its_message():
    result = {"changed": True, "msg": "Namespace ns does not exist yet: a run would create Secret creds."}

    (item,) = results.drift_from_result(result, "homelab.mlflow.postgres", "Report the objects a run would create")

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

    (item,) = results.drift_from_result(changed, "homelab.mlflow.authentik", "Apply the blueprint")
    (missing,) = results.drift_from_result(deleted, "homelab.mlflow.authentik", "Apply the blueprint")
    (unwanted,) = results.drift_from_result(removed, "homelab.mlflow.authentik", "Apply the blueprint")

    assert item.obj == {"name": "Authentik blueprint mlflow"}
    assert [(f.path, f.expected, f.found) for f in item.fields] == [
        ("content.entries[0].attrs.skip_path_regex", "^/assets/\n", "^/static/\n"),
        ("enabled", True, False),
    ]
    assert (missing.change, unwanted.change) == ("missing", "unwanted")


def test_a_422_refusal_is_drift_that_needs_a_person_with_the_api_servers_causes():
    (item,) = results.refusal_from_failure(REFUSED, MLFLOW, "Apply the Service and routing objects")

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
    assert results.refusal_from_failure({"failed": True, "msg": msg}, MLFLOW, "t") == []
