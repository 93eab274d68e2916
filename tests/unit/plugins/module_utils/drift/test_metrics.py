"""plugins/module_utils/drift/metrics.py: the run's result in Prometheus' text format, read back with
prometheus-client's parser (as Prometheus, node-exporter and the Pushgateway read it)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.homelab.mlflow.plugins.module_utils.drift.metrics import prometheus_text
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.model import FieldDrift, ObjectDrift
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.report import DriftReport

DEPLOYMENT = {"api_version": "apps/v1", "kind": "Deployment", "namespace": "ns", "name": "mlflow"}
ROUTE = {"api_version": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "namespace": "ns", "name": "mlflow"}
CLUSTER = {"api_version": "postgresql.cnpg.io/v1", "kind": "Cluster", "namespace": "ns", "name": "pg"}


def samples(text):
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def report_data():
    report = DriftReport(mode="detect", run_id="r")
    production = report.target('prod "eu"')
    production.drift += [
        ObjectDrift(
            "homelab.mlflow.mlflow",
            "t",
            "modified",
            DEPLOYMENT,
            [
                FieldDrift("spec.replicas", 1, 3),
                FieldDrift("spec.template.spec.containers[name=mlflow].image", "a", "b"),
            ],
        ),
        ObjectDrift("homelab.mlflow.mlflow", "t", "missing", ROUTE, message="missing"),
        ObjectDrift("homelab.mlflow.postgres", "t", "modified", CLUSTER, [FieldDrift("spec.instances", 1, 2)]),
    ]
    production.ignored.append({"path": "spec.x"})
    production.rules = [{"rule": "homelab_mlflow_ignore_rules[0]"}]
    report.target("staging")
    report.finish({})
    data = report.to_json()
    data["finished"] = "2026-12-01T02:00:00+00:00"
    return data


def test_the_metrics_parse_and_say_per_target_and_role_what_drifted():
    found = samples(prometheus_text(report_data()))

    prod = (("mode", "detect"), ("target", 'prod "eu"'))
    assert found[("homelab_mlflow_drift_objects", (*prod[:1], ("role", "mlflow"), prod[1]))] == 2
    assert found[("homelab_mlflow_drift_fields", (*prod[:1], ("role", "mlflow"), prod[1]))] == 3
    assert found[("homelab_mlflow_drift_objects", (*prod[:1], ("role", "postgres"), prod[1]))] == 1
    assert found[("homelab_mlflow_drift_target_objects", prod)] == 3
    assert found[("homelab_mlflow_drift_ignored_differences", prod)] == 1
    assert found[("homelab_mlflow_drift_stale_rules", prod)] == 1
    assert found[("homelab_mlflow_drift_target_objects", (("mode", "detect"), ("target", "staging")))] == 0
    assert found[("homelab_mlflow_drift_target_status", (*prod[:1], ("status", "drift"), prod[1]))] == 1
    assert found[("homelab_mlflow_drift_last_run_exit_code", (("mode", "detect"),))] == 3
    assert found[("homelab_mlflow_drift_last_run_status", (("mode", "detect"), ("status", "drift")))] == 1
    assert found[("homelab_mlflow_drift_last_run_status", (("mode", "detect"), ("status", "in_sync")))] == 0
    assert found[("homelab_mlflow_drift_last_run_timestamp_seconds", (("mode", "detect"),))] == 1796090400


def test_each_family_is_declared_once_as_a_gauge():
    families = list(text_string_to_metric_families(prometheus_text(report_data())))

    names = [family.name for family in families]
    assert len(names) == len(set(names))
    assert {family.type for family in families} == {"gauge"}
