"""bench/apirequests.py: the requests of a run, read from audit log lines, counted by verb, resource and object."""

from __future__ import annotations

import json

import apirequests


def event(
    verb, resource="", namespace="", name="", uri="/x", stage="ResponseComplete", user="testcluster-admin", **ref
):
    object_ref = {"resource": resource, "namespace": namespace, "name": name, **ref} if resource else None
    return {
        "stage": stage,
        "verb": verb,
        "requestURI": uri,
        "user": {"username": user},
        "objectRef": object_ref,
        "responseStatus": {"code": 200},
        "userAgent": "OpenAPI-Generator/37.0.2/python",
    }


def test_parse_event_reads_resource_group_and_subresource():
    request = apirequests.parse_event(
        event(
            "patch",
            "deployments",
            "ns",
            "mlflow",
            uri="/apis/apps/v1/x?dryRun=All",
            apiGroup="apps",
            subresource="status",
        )
    )
    assert request.resource == "apps/deployments/status"
    assert request.dry_run
    assert not request.is_write
    assert request.key == "patch (dry run) apps/deployments/status"


def test_only_completed_responses_count():
    assert apirequests.parse_event(event("get", "pods", stage="ResponseStarted")) is None


def test_non_resource_urls_are_keyed_by_path():
    request = apirequests.parse_event(event("get", uri="/apis?timeout=32s"))
    assert request.key == "get /apis"
    assert apirequests.object_key(request) == "/apis *"


def test_parse_lines_skips_a_line_cut_short():
    lines = [json.dumps(event("get", "pods", "ns")).encode(), b'{"stage": "ResponseCompl', b""]
    assert [r.verb for r in apirequests.parse_lines(lines)] == ["get"]


def test_read_between_positions_and_of_one_user(tmp_path):
    log = tmp_path / "apirequests.log"
    log.write_text(json.dumps(event("get", "pods", "before")) + "\n")
    start = apirequests.mark(log)
    with open(log, "a") as out:
        out.write(json.dumps(event("get", "pods", "inside")) + "\n")
        out.write(json.dumps(event("get", "pods", "inside", user="system:kwok")) + "\n")
    end = apirequests.mark(log)
    with open(log, "a") as out:
        out.write(json.dumps(event("get", "pods", "after")) + "\n")
    found = apirequests.read(log, start, end, user="testcluster-admin")
    assert [r.namespace for r in found] == ["inside"]


def test_summarize_counts_own_namespaces_and_cluster_wide_apart():
    requests = [
        apirequests.parse_event(e)
        for e in [
            event("patch", "deployments", "t-1", "mlflow", apiGroup="apps"),
            event("get", "deployments", "t-1", "mlflow", apiGroup="apps"),
            event("patch", "deployments", "t-2", "mlflow", apiGroup="apps"),
            event("patch", "namespaces", "", "t-1"),
            event("get", "storageclasses", "", "longhorn", apiGroup="storage.k8s.io"),
            event("get", uri="/apis"),
            event("get", "pods", "someone-else", "x"),
        ]
    ]
    summary = apirequests.summarize(requests, ["t-1", "t-2"])
    assert summary.total == 4
    assert summary.writes == 3
    assert summary.by_verb_resource == {"get apps/deployments": 1, "patch /namespaces": 1, "patch apps/deployments": 2}
    assert summary.per_object["apps/deployments mlflow"] == {"get": 1, "patch": 2}
    assert summary.per_object["/namespaces t-1"] == {"patch": 1}
    assert summary.cluster_wide == 2
    assert summary.cluster_wide_by_verb_resource == {"get /apis": 1, "get storage.k8s.io/storageclasses": 1}
