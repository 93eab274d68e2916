"""Log a run through an MLflow server with MlflowClient and read it back; prints the result as JSON.

Runs with the MLflow runtime's Python (not the collection's venv), against MLFLOW_TRACKING_URI:
    python client_smoke.py <experiment name> <artifact text>
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from mlflow import MlflowClient


def main(experiment_name: str, artifact_text: str) -> dict:
    client = MlflowClient()
    experiment_id = client.create_experiment(experiment_name)
    run_id = client.create_run(experiment_id, run_name="integration").info.run_id
    client.log_param(run_id, "alpha", "0.5")
    client.log_param(run_id, "optimizer", "adam")
    for step, value in enumerate([0.5, 0.25, 0.125]):
        client.log_metric(run_id, "rmse", value, step=step)
    with tempfile.TemporaryDirectory() as tmp:
        notes = Path(tmp) / "notes.txt"
        notes.write_text(artifact_text)
        client.log_artifact(run_id, str(notes), artifact_path="model")
    client.set_terminated(run_id)

    run = client.get_run(run_id)
    with tempfile.TemporaryDirectory() as tmp:
        downloaded = Path(client.download_artifacts(run_id, "model/notes.txt", tmp)).read_text()
    return {
        "experiment_id": experiment_id,
        "run_id": run_id,
        "status": run.info.status,
        "artifact_uri": run.info.artifact_uri,
        "params": run.data.params,
        "metrics": run.data.metrics,
        "rmse_history": [(m.step, m.value) for m in client.get_metric_history(run_id, "rmse")],
        "artifacts": [a.path for a in client.list_artifacts(run_id, "model")],
        "downloaded": downloaded,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
