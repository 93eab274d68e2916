# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a tracking server holds, as records to compare across an upgrade: experiments, runs with their
parameters and latest metrics, registered models with their latest versions.

An upgrade reads them through the earlier release before it migrates; verify reads them again through the
upgraded server and names each one that is gone or changed. Only the first `limit` of each kind are read
(the newest runs first), so a large server costs three requests, not a copy of its database.
"""

from __future__ import annotations

from urllib.parse import urlencode

# Most of each kind read; MLflow's searches answer up to 1000 a page.
DEFAULT_LIMIT = 200


def read_records(api, limit: int = DEFAULT_LIMIT) -> dict:
    """The server's active experiments, their newest runs and its registered models, as comparable data."""
    found = api.json("POST", "/api/2.0/mlflow/experiments/search", {"max_results": limit}).get("experiments", [])
    experiments = sorted(({"id": e["experiment_id"], "name": e["name"]} for e in found if _active(e)), key=_by_id)
    runs = []
    if experiments:
        payload = {
            "experiment_ids": [experiment["id"] for experiment in experiments],
            "max_results": limit,
            "order_by": ["attributes.start_time DESC"],
        }
        runs = sorted(
            (_run(run) for run in api.json("POST", "/api/2.0/mlflow/runs/search", payload).get("runs", [])), key=_by_id
        )
    query = urlencode({"max_results": min(limit, 1000)})
    models = api.json("GET", f"/api/2.0/mlflow/registered-models/search?{query}").get("registered_models", [])
    return {
        "experiments": experiments,
        "runs": runs,
        "models": sorted((_model(model) for model in models), key=lambda model: model["name"]),
    }


def missing_records(before: dict, after: dict) -> list[str]:
    """Each record of `before` that `after` does not hold as it was, in a sentence; [] when none."""
    found = []
    experiments = {experiment["id"]: experiment for experiment in after.get("experiments", [])}
    for experiment in before.get("experiments", []):
        now = experiments.get(experiment["id"])
        if now is None:
            found.append(f"experiment {experiment['name']!r} ({experiment['id']}) is gone")
        elif now["name"] != experiment["name"]:
            found.append(f"experiment {experiment['id']} was {experiment['name']!r}, is {now['name']!r}")
    runs = {run["id"]: run for run in after.get("runs", [])}
    for run in before.get("runs", []):
        now = runs.get(run["id"])
        if now is None:
            found.append(f"run {run['id']} of experiment {run['experiment_id']} is gone")
            continue
        for part in ("params", "metrics"):
            differ = sorted(key for key, value in run[part].items() if now[part].get(key) != value)
            if differ:
                found.append(f"run {run['id']}: {part} {', '.join(differ)} differ")
    models = {model["name"]: model for model in after.get("models", [])}
    for model in before.get("models", []):
        now = models.get(model["name"])
        if now is None:
            found.append(f"registered model {model['name']!r} is gone")
            continue
        for version in model["versions"]:
            if version not in now["versions"]:
                found.append(f"registered model {model['name']!r}: version {version['version']} is gone or changed")
    return found


def summary(records: dict) -> str:
    """How many of each kind `records` holds, in words."""
    versions = sum(len(model["versions"]) for model in records.get("models", []))
    return (
        f"{len(records.get('experiments', []))} experiment(s), {len(records.get('runs', []))} run(s), "
        f"{len(records.get('models', []))} registered model(s) with {versions} version(s)"
    )


def _active(experiment: dict) -> bool:
    return experiment.get("lifecycle_stage", "active") == "active"


def _by_id(record: dict) -> str:
    return record["id"]


def _run(run: dict) -> dict:
    info, data = run.get("info", {}), run.get("data", {})
    return {
        "id": info["run_id"],
        "experiment_id": info["experiment_id"],
        "params": {param["key"]: param["value"] for param in data.get("params", [])},
        "metrics": {metric["key"]: metric["value"] for metric in data.get("metrics", [])},
    }


def _model(model: dict) -> dict:
    versions = [
        {"version": str(version["version"]), "run_id": version.get("run_id", "")}
        for version in model.get("latest_versions", [])
    ]
    return {"name": model["name"], "versions": sorted(versions, key=lambda version: version["version"])}
