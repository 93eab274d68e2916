"""Write a set of tracking data through an MLflow server with MlflowClient, or read it back; prints it as JSON.

Runs with an MLflow runtime's Python (not the collection's venv; any 3.x release), against MLFLOW_TRACKING_URI:
    python tracking_data.py write <prefix>   # two experiments, runs with params, metrics and an artifact,
                                             # a registered model with a version from one run
    python tracking_data.py read <prefix>    # the same items, found by name and read back

Both print the same shape, so a test compares what `write` printed with what `read` prints later (after an
upgrade, or from a read replica). A server that reads from a standby may not find what it has just written
(MLflow's own caveat of read replicas: the standby replays the primary's writes a moment later, and e.g.
creating a run reads its experiment first): each step is tried again while it finds nothing, for up to
READ_TIMEOUT seconds.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

RUNS_PER_EXPERIMENT = 2
READ_TIMEOUT = 30


def once_found(call, *args, **kwargs):
    """The call's result; made again while the server does not find what an earlier call wrote."""
    deadline = time.monotonic() + READ_TIMEOUT
    while True:
        try:
            return call(*args, **kwargs)
        except MlflowException as error:
            if error.error_code != "RESOURCE_DOES_NOT_EXIST" or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def write(client: MlflowClient, prefix: str) -> None:
    for number in range(2):
        experiment_id = client.create_experiment(f"{prefix}-experiment-{number}", tags={"team": f"team-{number}"})
        for run_number in range(RUNS_PER_EXPERIMENT):
            run = once_found(client.create_run, experiment_id, run_name=f"{prefix}-run-{number}-{run_number}")
            run_id = run.info.run_id
            once_found(client.log_param, run_id, "alpha", str(0.1 * (run_number + 1)))
            once_found(client.set_tag, run_id, "stage", "before-upgrade")
            for step in range(3):
                once_found(client.log_metric, run_id, "rmse", 1.0 / (step + 1 + run_number), step=step)
            with tempfile.TemporaryDirectory() as tmp:
                notes = Path(tmp) / "notes.txt"
                notes.write_text(f"notes of {prefix} {number} {run_number}\n")
                once_found(client.log_artifact, run_id, str(notes), artifact_path="model")
            once_found(client.set_terminated, run_id)
    first_run = once_found(first_of, client, prefix)
    client.create_registered_model(f"{prefix}-model", description="kept across upgrades")
    once_found(
        client.create_model_version,
        f"{prefix}-model",
        source=f"{first_run['artifact_uri']}/model",
        run_id=first_run["run_id"],
    )


def first_of(client: MlflowClient, prefix: str) -> dict:
    runs = read_runs(client, prefix)
    if len(runs) < 2 * RUNS_PER_EXPERIMENT:
        raise MlflowException("not every run is found yet", error_code=RESOURCE_DOES_NOT_EXIST)
    return runs[0]


def read_runs(client: MlflowClient, prefix: str) -> list[dict]:
    experiments = client.search_experiments(filter_string=f"name LIKE '{prefix}-experiment-%'", order_by=["name"])
    runs = []
    for experiment in experiments:
        for run in client.search_runs([experiment.experiment_id], order_by=["attributes.run_name ASC"]):
            with tempfile.TemporaryDirectory() as tmp:
                notes = Path(client.download_artifacts(run.info.run_id, "model/notes.txt", tmp)).read_text()
            runs.append(
                {
                    "experiment": experiment.name,
                    "experiment_tags": {k: v for k, v in experiment.tags.items() if not k.startswith("mlflow.")},
                    "run_id": run.info.run_id,
                    "run_name": run.info.run_name,
                    "status": run.info.status,
                    "artifact_uri": run.info.artifact_uri,
                    "params": run.data.params,
                    "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
                    "rmse": [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "rmse")],
                    "artifacts": [a.path for a in client.list_artifacts(run.info.run_id, "model")],
                    "notes": notes,
                }
            )
    return runs


def read(client: MlflowClient, prefix: str) -> dict:
    runs = read_runs(client, prefix)
    versions = client.search_model_versions(f"name = '{prefix}-model'")
    model = client.get_registered_model(f"{prefix}-model") if versions else None
    return {
        "runs": runs,
        "model": model and {"name": model.name, "description": model.description},
        "versions": [{"version": v.version, "run_id": v.run_id, "source": v.source} for v in versions],
    }


def main(command: str, prefix: str) -> dict:
    client = MlflowClient()
    if command == "write":
        write(client, prefix)
    deadline = time.monotonic() + READ_TIMEOUT
    while True:
        found = once_found(read, client, prefix)
        complete = len(found["runs"]) == 2 * RUNS_PER_EXPERIMENT and found["versions"]
        if complete or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
