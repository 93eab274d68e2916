# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks that MLflow serves over HTTP: /health, and a smoke run written, read back and deleted.

The HTTP transport is passed in (`send`), so the checks run against any server, a fake one in
the unit tests. Every failure is an ApiCheckError whose message says what to fix.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

# send(method, url, body bytes or None, headers) -> (status, body bytes); raises OSError when nothing answers.
Send = Callable[[str, str, "bytes | None", dict], "tuple[int, bytes]"]

PARAM = ("verified_by", "homelab.mlflow")
METRIC = ("verify_metric", 0.5)
ARTIFACT = "verify.txt"


class ApiCheckError(Exception):
    """MLflow did not answer as it should."""


@dataclass
class MlflowApi:
    """MLflow's REST API at one base URL.

    A server that reads from database standbys (read replicas) may not find what it has just written until the
    standby replays it: an answer RESOURCE_DOES_NOT_EXIST is asked again for up to `replica_lag` seconds.
    """

    base: str
    send: Send
    replica_lag: float = 10
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self):
        self.base = self.base.rstrip("/")

    def call(
        self,
        method: str,
        path: str,
        payload=None,
        *,
        data: bytes | None = None,
        ok=(200,),
        headers: dict | None = None,
    ) -> tuple[int, bytes]:
        deadline = self.clock() + self.replica_lag
        while True:
            status, body = self._call_once(method, path, payload, data, headers)
            if status in ok or not _not_found_yet(status, body) or self.clock() >= deadline:
                break
            self.sleep(0.2)
        if status not in ok:
            raise ApiCheckError(f"{method} {self.base}{path} answered {status}: {_excerpt(body)}")
        return status, body

    def _call_once(self, method, path, payload, data, extra_headers) -> tuple[int, bytes]:
        headers = dict(extra_headers or {})
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            headers["Content-Type"] = "text/plain"
        url = f"{self.base}{path}"
        try:
            return self.send(method, url, data, headers)
        except OSError as error:
            raise ApiCheckError(f"{method} {url} got no answer: {error}") from None

    def json(self, method: str, path: str, payload=None, *, ok=(200,), headers: dict | None = None) -> dict:
        _status, body = self.call(method, path, payload, ok=ok, headers=headers)
        try:
            return json.loads(body or b"{}")
        except ValueError:
            raise ApiCheckError(f"{method} {self.base}{path} answered with no JSON: {_excerpt(body)}") from None


def _not_found_yet(status: int, body: bytes) -> bool:
    """MLflow's answer for an object it does not find (yet, when a standby lags)."""
    return status == 404 and b"RESOURCE_DOES_NOT_EXIST" in (body or b"")


def _excerpt(body: bytes | str, chars: int = 200) -> str:
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    return json.dumps(text if len(text) <= chars else text[:chars] + "...")


def wait_for_health(
    api: MlflowApi,
    timeout: float = 60,
    interval: float = 5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Ask /health until it answers 200 or the time is up; its answer must be OK."""
    deadline = clock() + timeout
    while True:
        try:
            _status, body = api.call("GET", "/health")
            break
        except ApiCheckError as error:
            if clock() >= deadline:
                raise ApiCheckError(
                    f"MLflow did not answer {api.base}/health (mlflow_verify_url) with 200 "
                    f"within {timeout:g} s: {error}"
                ) from None
            sleep(min(interval, max(0.0, deadline - clock())))
    text = body.decode(errors="replace")
    if text.strip() != "OK":
        raise ApiCheckError(f"{api.base}/health answered {_excerpt(text)}, not OK.")
    return text.strip()


def artifact_path(artifact_uri: str) -> str:
    """The artifact proxy's path of the smoke test's file: the run's artifact URI without the scheme."""
    return re.sub(r"^mlflow-artifacts:(//[^/]*)?/*", "", artifact_uri) + f"/{ARTIFACT}"


def _metric(run: dict) -> list[float]:
    return [float(m["value"]) for m in (run.get("data") or {}).get("metrics") or [] if m.get("key") == METRIC[0]]


def _param(run: dict) -> list[str]:
    return [p["value"] for p in (run.get("data") or {}).get("params") or [] if p.get("key") == PARAM[0]]


def smoke_test(api: MlflowApi, name: str, clock_ms: Callable[[], int]) -> dict:
    """Log a run with a parameter, a metric and an artifact, read it back, then delete it all.

    Deleted experiments stay in the database until `mlflow gc` (mlflow_gc_enabled) purges them.
    """
    started = clock_ms()
    experiment_id = run_id = path = None
    try:
        experiment_id = api.json("POST", "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]
        created = api.json(
            "POST",
            "/api/2.0/mlflow/runs/create",
            {"experiment_id": experiment_id, "run_name": "verify", "start_time": started},
        )
        info = created["run"]["info"]
        run_id, artifact_uri = info["run_id"], info["artifact_uri"]
        api.json(
            "POST",
            "/api/2.0/mlflow/runs/log-batch",
            {
                "run_id": run_id,
                "params": [{"key": PARAM[0], "value": PARAM[1]}],
                "metrics": [{"key": METRIC[0], "value": METRIC[1], "timestamp": started, "step": 0}],
            },
        )
        # mlflow-artifacts:/<experiment>/<run>/artifacts when the server proxies artifacts: anything
        # else means clients would write to storage directly.
        if not artifact_uri.startswith("mlflow-artifacts:"):
            raise ApiCheckError(
                f"The run's artifact URI is {artifact_uri}, not an mlflow-artifacts: URI: the server does not "
                "proxy artifacts (--serve-artifacts)."
            )
        artifact = f"/api/2.0/mlflow-artifacts/artifacts/{artifact_path(artifact_uri)}"
        content = f"{name}\n"
        api.call("PUT", artifact, data=content.encode())
        path = artifact
        api.json(
            "POST", "/api/2.0/mlflow/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": clock_ms()}
        )
        run = api.json("GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}")["run"]
        _status, read = api.call("GET", artifact)
        listing = api.json("GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}")
        files = [f.get("path") for f in listing.get("files") or []]
        if (
            (run.get("info") or {}).get("status") != "FINISHED"
            or _param(run) != [PARAM[1]]
            or _metric(run) != [METRIC[1]]
            or read.decode(errors="replace") != content
            or files != [ARTIFACT]
        ):
            raise ApiCheckError(
                f"The smoke test's run or artifact did not read back as written: run {json.dumps(run)}, "
                f"artifact {_excerpt(read)}, listing {json.dumps(listing)}."
            )
    except (KeyError, TypeError) as error:
        _clean_up(api, experiment_id, run_id, path)
        raise ApiCheckError(f"MLflow's answer lacks {error}: is {api.base} an MLflow server?") from None
    except ApiCheckError:
        # The check's own failure is the one to report.
        _clean_up(api, experiment_id, run_id, path)
        raise
    problems = _clean_up(api, experiment_id, run_id, path)
    if problems:
        raise ApiCheckError("The smoke test's objects could not all be deleted: " + "; ".join(problems))
    return {"experiment_id": experiment_id, "run_id": run_id, "artifact_uri": artifact_uri}


def _clean_up(api: MlflowApi, experiment_id, run_id, artifact) -> list[str]:
    """Delete what the smoke test made, each step whatever the others did; what failed."""
    steps = []
    if artifact:
        steps.append(("DELETE", artifact, None, (200, 204, 404)))
    if run_id:
        steps.append(("POST", "/api/2.0/mlflow/runs/delete", {"run_id": run_id}, (200,)))
    if experiment_id:
        steps.append(("POST", "/api/2.0/mlflow/experiments/delete", {"experiment_id": experiment_id}, (200,)))
    problems = []
    for method, path, payload, ok in steps:
        try:
            api.call(method, path, payload, ok=ok)
        except ApiCheckError as error:
            problems.append(str(error))
    return problems
