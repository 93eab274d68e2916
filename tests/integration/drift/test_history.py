"""When each drifted field was first seen, kept across runs, against the local test cluster's API server:
in the report folder (runs from a controller), and in a ConfigMap through bin/homelab-mlflow-drift (the
in-cluster CronJob's runs, each in a new pod with an empty report folder); a drift that is gone is listed once
as resolved."""

from __future__ import annotations

import json

from kubernetes import client

REPLICAS = "spec.replicas"


def scale_by_hand(k8s, namespace, replicas=3):
    client.AppsV1Api(k8s).patch_namespaced_deployment(
        "web", namespace, {"spec": {"replicas": replicas}}, field_manager="kubectl-edit"
    )


def seen(report, path=REPLICAS):
    (item,) = [i for i in report["targets"]["localhost"]["drift"] if i["object"]["kind"] == "Deployment"]
    return item["seen"][path]


def test_first_seen_is_kept_in_the_report_folder_and_a_resolved_drift_is_listed_once(
    k8s, drift_namespace, drift_run, tmp_path
):
    drift_run()
    scale_by_hand(k8s, drift_namespace)

    detected = [drift_run("--check", report_dir="kept")[1] for _run in range(3)]
    _correct, corrected, _folder = drift_run(report_dir="kept")
    _after, resolved, folder = drift_run("--check", report_dir="kept")
    resolved_markdown = (folder / "drift-report.md").read_text()
    _again, later, _folder = drift_run("--check", report_dir="kept")

    first = detected[0]["finished"]
    assert [seen(report) for report in detected] == [
        {"first_seen": first, "last_seen": report["finished"], "runs": runs}
        for runs, report in enumerate(detected, start=1)
    ]
    assert seen(corrected)["runs"] == 4
    assert resolved["targets"]["localhost"]["resolved"] == [
        {
            "object": f"Deployment {drift_namespace}/web",
            "path": REPLICAS,
            "first_seen": first,
            "last_seen": corrected["finished"],
            "runs": 4,
        }
    ]
    assert "### Resolved since the last run" in resolved_markdown
    assert later["targets"]["localhost"]["resolved"] == []


def test_the_in_cluster_run_keeps_first_seen_in_its_configmap(k8s, drift_namespace, drift_run, drift_wrapper, tmp_path):
    drift_run()  # creates the objects
    scale_by_hand(k8s, drift_namespace)
    core = client.CoreV1Api(k8s)
    core.create_namespaced_config_map(
        drift_namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="mlflow-drift-history"))
    )

    reports = []
    for number in range(3):
        folder = tmp_path / f"pod-{number}"  # a new pod: nothing left of the run before
        done = drift_wrapper(
            "--report-dir",
            str(folder),
            HOMELAB_MLFLOW_DRIFT_HISTORY_CONFIGMAP=f"{drift_namespace}/mlflow-drift-history",
        )
        assert done.returncode == 3, done.stdout + done.stderr
        reports.append(json.loads((folder / "drift-report.json").read_text()))

    assert [seen(report)["runs"] for report in reports] == [1, 2, 3]
    assert {seen(report)["first_seen"] for report in reports} == {reports[0]["finished"]}
    configmap = core.read_namespaced_config_map("mlflow-drift-history", drift_namespace)
    kept = json.loads(configmap.data["drift-history.json"])
    (entry,) = kept["targets"]["localhost"].values()
    assert (entry["path"], entry["runs"]) == (REPLICAS, 3)
