"""plugins/module_utils/drift/history.py: first seen and consecutive runs per drifted field, kept across runs;
drift that is gone listed once as resolved; a run that did not check everything changes nothing."""

from __future__ import annotations

import json

from ansible_collections.homelab.mlflow.plugins.module_utils.drift.history import (
    WHOLE_OBJECT,
    apply_history,
    load_history,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.markdown import render_markdown
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.model import FieldDrift, ObjectDrift
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.report import DriftReport

DEPLOYMENT = {"api_version": "apps/v1", "kind": "Deployment", "namespace": "ns", "name": "mlflow"}
ROUTE = {"api_version": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "namespace": "ns", "name": "mlflow"}


def run(finished, *drift, errors=()):
    report = DriftReport(mode="detect", run_id=finished)
    target = report.target("local")
    target.drift += list(drift)
    target.errors += list(errors)
    report.finish({})
    data = report.to_json()
    data["finished"] = finished
    return data


def replicas(found=3):
    return ObjectDrift("r", "t", "modified", DEPLOYMENT, [FieldDrift("spec.replicas", expected=1, found=found)])


def test_a_field_seen_in_consecutive_runs_keeps_when_it_was_first_seen():
    history = load_history(None)
    seen = []
    for finished in ("2026-12-01T01:00:00+00:00", "2026-12-01T02:00:00+00:00", "2026-12-01T03:00:00+00:00"):
        report = run(finished, replicas())
        history = load_history(json.dumps(apply_history(report, history)))  # as kept in its file
        seen.append(report["targets"]["local"]["drift"][0]["seen"]["spec.replicas"])

    assert seen == [
        {"first_seen": "2026-12-01T01:00:00+00:00", "last_seen": "2026-12-01T01:00:00+00:00", "runs": 1},
        {"first_seen": "2026-12-01T01:00:00+00:00", "last_seen": "2026-12-01T02:00:00+00:00", "runs": 2},
        {"first_seen": "2026-12-01T01:00:00+00:00", "last_seen": "2026-12-01T03:00:00+00:00", "runs": 3},
    ]


def test_drift_that_is_gone_is_listed_once_as_resolved():
    history = apply_history(run("t1", replicas(), ObjectDrift("r", "t", "missing", ROUTE)), load_history(None))

    second = run("t2", ObjectDrift("r", "t", "missing", ROUTE))
    history = apply_history(second, history)
    third = run("t3")
    history = apply_history(third, history)
    fourth = run("t4")
    apply_history(fourth, history)

    assert second["targets"]["local"]["resolved"] == [
        {"object": "Deployment ns/mlflow", "path": "spec.replicas", "first_seen": "t1", "last_seen": "t1", "runs": 1}
    ]
    assert third["targets"]["local"]["resolved"] == [
        {"object": "HTTPRoute ns/mlflow", "path": WHOLE_OBJECT, "first_seen": "t1", "last_seen": "t2", "runs": 2}
    ]
    assert fourth["targets"]["local"]["resolved"] == []
    markdown = render_markdown(third)
    assert "### Resolved since the last run" in markdown
    assert "- HTTPRoute ns/mlflow: first seen t1, last seen t2 (2 runs)" in markdown


def test_a_field_that_drifts_again_after_it_was_resolved_is_first_seen_anew():
    history = apply_history(run("t1", replicas()), load_history(None))
    history = apply_history(run("t2"), history)
    again = run("t3", replicas())
    apply_history(again, history)

    assert again["targets"]["local"]["drift"][0]["seen"]["spec.replicas"]["first_seen"] == "t3"


def test_a_run_that_did_not_check_every_object_resolves_nothing_and_counts_nothing():
    history = apply_history(run("t1", replicas()), load_history(None))

    failed = run("t2", errors=[{"role": "r", "task": "t", "message": "unreachable API"}])
    after = apply_history(failed, history)

    assert failed["targets"]["local"]["resolved"] == []
    assert after == history


def test_the_markdown_says_when_each_field_was_first_seen():
    history = apply_history(run("t1", replicas()), load_history(None))
    report = run("t2", replicas())
    apply_history(report, history)

    assert "| `spec.replicas` | `1` | `3` | t1, 2 runs |" in render_markdown(report)


def test_a_history_that_cannot_be_read_starts_anew():
    assert load_history("{not json") == {"format": 1, "targets": {}}
    assert load_history('{"format": 99}') == {"format": 1, "targets": {}}
