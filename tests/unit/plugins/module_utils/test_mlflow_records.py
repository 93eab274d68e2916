"""plugins/module_utils/mlflow_records.py: the records read through MLflow's REST API, and each one that is
gone or changed named after an upgrade (answers shaped as MLflow's; the real server is in the mlflow role's
upgrade test)."""

from __future__ import annotations

import copy

from ansible_collections.homelab.mlflow.plugins.module_utils.mlflow_records import (
    missing_records,
    read_records,
    summary,
)

EXPERIMENTS = [
    {"experiment_id": "0", "name": "Default", "lifecycle_stage": "active"},
    {"experiment_id": "2", "name": "training", "lifecycle_stage": "active"},
    {"experiment_id": "3", "name": "thrown away", "lifecycle_stage": "deleted"},
]
RUNS = [
    {
        "info": {"run_id": "b2", "experiment_id": "2"},
        "data": {"params": [{"key": "lr", "value": "0.1"}], "metrics": [{"key": "loss", "value": 0.25, "step": 3}]},
    },
    {"info": {"run_id": "a1", "experiment_id": "2"}, "data": {}},
]
MODELS = [{"name": "classifier", "latest_versions": [{"version": "1", "run_id": "b2", "current_stage": "None"}]}]


class RecordingApi:
    """MLflow's answers to the three searches, and the requests asked."""

    def __init__(self, experiments=None, runs=None, models=None):
        self.answers = {
            "experiments": EXPERIMENTS if experiments is None else experiments,
            "runs": RUNS if runs is None else runs,
            "registered_models": MODELS if models is None else models,
        }
        self.requests = []

    def json(self, method, path, payload=None):
        self.requests.append((method, path, payload))
        key = {"experiments": "experiments", "runs": "runs", "registered-models": "registered_models"}[
            path.split("/")[4]
        ]
        return {key: self.answers[key]} if self.answers[key] else {}


def test_records_are_the_active_experiments_their_runs_and_the_registered_models():
    api = RecordingApi()

    records = read_records(api, limit=50)

    assert records == {
        "experiments": [{"id": "0", "name": "Default"}, {"id": "2", "name": "training"}],
        "runs": [
            {"id": "a1", "experiment_id": "2", "params": {}, "metrics": {}},
            {"id": "b2", "experiment_id": "2", "params": {"lr": "0.1"}, "metrics": {"loss": 0.25}},
        ],
        "models": [{"name": "classifier", "versions": [{"version": "1", "run_id": "b2"}]}],
    }
    experiments, runs, models = api.requests
    assert experiments[2] == {"max_results": 50}
    assert runs[2]["experiment_ids"] == ["0", "2"]
    assert runs[2]["max_results"] == 50
    assert models[:2] == ("GET", "/api/2.0/mlflow/registered-models/search?max_results=50")
    assert summary(records) == "2 experiment(s), 2 run(s), 1 registered model(s) with 1 version(s)"


def test_an_empty_server_has_no_runs_to_search():
    api = RecordingApi(experiments=[], runs=[], models=[])

    assert read_records(api) == {"experiments": [], "runs": [], "models": []}
    assert [request[1] for request in api.requests] == [
        "/api/2.0/mlflow/experiments/search",
        "/api/2.0/mlflow/registered-models/search?max_results=200",
    ]


def test_the_same_records_miss_nothing_and_new_ones_do_not_count():
    before = read_records(RecordingApi())
    after = copy.deepcopy(before)
    after["runs"].append({"id": "c3", "experiment_id": "2", "params": {}, "metrics": {}})
    after["models"][0]["versions"].append({"version": "2", "run_id": "c3"})

    assert missing_records(before, after) == []


def test_each_record_gone_or_changed_is_named():
    before = read_records(RecordingApi())
    after = copy.deepcopy(before)
    after["experiments"] = [{"id": "2", "name": "renamed"}]
    after["runs"] = [{"id": "b2", "experiment_id": "2", "params": {"lr": "0.1"}, "metrics": {"loss": 0.5}}]
    after["models"] = [{"name": "classifier", "versions": [{"version": "1", "run_id": "other"}]}]

    assert missing_records(before, after) == [
        "experiment 'Default' (0) is gone",
        "experiment 2 was 'training', is 'renamed'",
        "run a1 of experiment 2 is gone",
        "run b2: metrics loss differ",
        "registered model 'classifier': version 1 is gone or changed",
    ]
    assert missing_records(before, {"experiments": [], "runs": [], "models": []})[-1] == (
        "registered model 'classifier' is gone"
    )
