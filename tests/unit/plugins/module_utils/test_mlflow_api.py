"""plugins/module_utils/mlflow_api.py: /health and the smoke run, against an in-memory MLflow."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.mlflow_api import (
    ApiCheckError,
    MlflowApi,
    artifact_path,
    smoke_test,
    wait_for_health,
)

BASE = "http://mlflow.test"


class FakeMlflow:
    """The few REST calls the checks make, with what an MLflow server answers; `broken` changes one."""

    def __init__(self, artifact_uri="mlflow-artifacts:/{experiment}/{run}/artifacts", broken=None):
        self.artifact_uri = artifact_uri
        self.broken = broken or {}
        self.experiments, self.runs, self.artifacts, self.calls = {}, {}, {}, []
        self.health = [(200, b"OK")]

    def __call__(self, method, url, body, headers):
        parts = urlsplit(url)
        path, query = parts.path, parse_qs(parts.query)
        self.calls.append((method, path))
        if (method, path) in self.broken:
            return self.broken[(method, path)]
        payload = json.loads(body) if body and headers.get("Content-Type") == "application/json" else None
        if path == "/health":
            answer = self.health.pop(0) if len(self.health) > 1 else self.health[0]
            if isinstance(answer, OSError):
                raise answer
            return answer
        if path == "/api/2.0/mlflow/experiments/create":
            experiment = str(len(self.experiments) + 1)
            self.experiments[experiment] = {"name": payload["name"], "stage": "active"}
            return 200, json.dumps({"experiment_id": experiment}).encode()
        if path == "/api/2.0/mlflow/runs/create":
            run = f"run{len(self.runs) + 1}"
            uri = self.artifact_uri.format(experiment=payload["experiment_id"], run=run)
            self.runs[run] = {"info": {"run_id": run, "artifact_uri": uri, "status": "RUNNING"}, "data": {}}
            return 200, json.dumps({"run": self.runs[run]}).encode()
        if path == "/api/2.0/mlflow/runs/log-batch":
            self.runs[payload["run_id"]]["data"] = {"params": payload["params"], "metrics": payload["metrics"]}
            return 200, b"{}"
        if path == "/api/2.0/mlflow/runs/update":
            self.runs[payload["run_id"]]["info"]["status"] = payload["status"]
            return 200, b"{}"
        if path == "/api/2.0/mlflow/runs/get":
            return 200, json.dumps({"run": self.runs[query["run_id"][0]]}).encode()
        if path == "/api/2.0/mlflow/runs/delete":
            self.runs[payload["run_id"]]["info"]["stage"] = "deleted"
            return 200, b"{}"
        if path == "/api/2.0/mlflow/experiments/delete":
            self.experiments[payload["experiment_id"]]["stage"] = "deleted"
            return 200, b"{}"
        if path == "/api/2.0/mlflow/artifacts/list":
            names = [key.rsplit("/", 1)[1] for key in self.artifacts if f"/{query['run_id'][0]}/" in key]
            return 200, json.dumps({"files": [{"path": name, "is_dir": False} for name in names]}).encode()
        if path.startswith("/api/2.0/mlflow-artifacts/artifacts/"):
            key = path.removeprefix("/api/2.0/mlflow-artifacts/artifacts/")
            if method == "PUT":
                self.artifacts[key] = body
                return 200, b"{}"
            if method == "DELETE":
                return (200, b"{}") if self.artifacts.pop(key, None) is not None else (404, b"")
            return (200, self.artifacts[key]) if key in self.artifacts else (404, b"")
        return 404, b"not found"


def clock_ms():
    return 1_700_000_000_000


def test_health_answers_ok():
    assert wait_for_health(MlflowApi(BASE + "/", FakeMlflow())) == "OK"


def test_health_is_asked_again_until_the_server_answers():
    fake = FakeMlflow()
    fake.health = [ConnectionRefusedError("refused"), (503, b"starting"), (200, b"OK\n")]
    slept = []

    assert wait_for_health(MlflowApi(BASE, fake), timeout=60, interval=5, sleep=slept.append) == "OK"
    assert slept == [5, 5]


def test_health_gives_up_after_the_timeout_naming_the_url_variable():
    fake = FakeMlflow()
    fake.health = [(502, b"bad gateway")]
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(ApiCheckError) as raised:
        wait_for_health(MlflowApi(BASE, fake), timeout=10, interval=5, sleep=sleep, clock=lambda: now[0])

    message = str(raised.value)
    assert "mlflow_verify_url" in message
    assert f"{BASE}/health" in message
    assert "502" in message


def test_health_that_is_not_ok_fails():
    fake = FakeMlflow()
    fake.health = [(200, b"<html>login</html>")]

    with pytest.raises(ApiCheckError, match="not OK"):
        wait_for_health(MlflowApi(BASE, fake))


def test_the_smoke_run_is_written_read_back_and_deleted():
    fake = FakeMlflow()

    done = smoke_test(MlflowApi(BASE, fake), "homelab-mlflow-verify-x", clock_ms)

    assert done["artifact_uri"] == "mlflow-artifacts:/1/run1/artifacts"
    assert fake.experiments == {"1": {"name": "homelab-mlflow-verify-x", "stage": "deleted"}}
    assert fake.runs["run1"]["info"]["status"] == "FINISHED"
    assert fake.runs["run1"]["info"]["stage"] == "deleted"
    assert fake.artifacts == {}
    assert ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/run1/artifacts/verify.txt") in fake.calls


def test_a_run_whose_artifacts_bypass_the_server_fails_and_is_cleaned_up():
    fake = FakeMlflow(artifact_uri="s3://bucket/{experiment}/{run}")

    with pytest.raises(ApiCheckError, match="does not proxy artifacts"):
        smoke_test(MlflowApi(BASE, fake), "x", clock_ms)
    assert fake.runs["run1"]["info"]["stage"] == "deleted"
    assert fake.experiments["1"]["stage"] == "deleted"


def test_what_does_not_read_back_fails_the_check():
    fake = FakeMlflow()
    fake.broken[("GET", "/api/2.0/mlflow/artifacts/list")] = (200, b'{"files": []}')

    with pytest.raises(ApiCheckError, match="did not read back as written"):
        smoke_test(MlflowApi(BASE, fake), "x", clock_ms)
    assert fake.artifacts == {}


def test_a_refused_call_names_the_request_and_the_answer():
    fake = FakeMlflow()
    fake.broken[("POST", "/api/2.0/mlflow/experiments/create")] = (403, b"Invalid Host header")

    with pytest.raises(ApiCheckError, match=r"POST http://mlflow.test/api/2.0/mlflow/experiments/create answered 403"):
        smoke_test(MlflowApi(BASE, fake), "x", clock_ms)
    assert [call for call in fake.calls if "delete" in call[1]] == []


def test_a_failed_clean_up_after_a_passing_check_fails_too():
    fake = FakeMlflow()
    fake.broken[("POST", "/api/2.0/mlflow/runs/delete")] = (500, b"boom")

    with pytest.raises(ApiCheckError, match="could not all be deleted"):
        smoke_test(MlflowApi(BASE, fake), "x", clock_ms)
    assert fake.experiments["1"]["stage"] == "deleted"


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("mlflow-artifacts:/1/abc/artifacts", "1/abc/artifacts/verify.txt"),
        ("mlflow-artifacts://mlflow.example.com/1/abc/artifacts", "1/abc/artifacts/verify.txt"),
    ],
)
def test_the_artifact_path_drops_the_scheme_and_host(uri, path):
    assert artifact_path(uri) == path


NOT_FOUND = (404, b'{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No Experiment with id=1 exists"}')


class LaggingStandby(FakeMlflow):
    """Reads from a standby that has not yet replayed the experiment: creating a run finds it only later."""

    def __init__(self, lagging_answers: int):
        super().__init__()
        self.lagging_answers = lagging_answers

    def __call__(self, method, url, body, headers):
        if urlsplit(url).path == "/api/2.0/mlflow/runs/create" and self.lagging_answers:
            self.lagging_answers -= 1
            self.calls.append((method, urlsplit(url).path))
            return NOT_FOUND
        return super().__call__(method, url, body, headers)


class Clock:
    def __init__(self):
        self.now, self.slept = 0.0, []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_what_a_lagging_standby_does_not_find_yet_is_asked_again():
    fake, clock = LaggingStandby(lagging_answers=3), Clock()
    api = MlflowApi(BASE, fake, replica_lag=10, sleep=clock.sleep, clock=lambda: clock.now)

    smoke_test(api, "homelab-mlflow-verify-x", clock_ms)

    assert fake.calls.count(("POST", "/api/2.0/mlflow/runs/create")) == 4
    assert len(clock.slept) == 3


def test_what_is_still_not_found_after_the_lag_fails():
    fake, clock = LaggingStandby(lagging_answers=1000), Clock()
    api = MlflowApi(BASE, fake, replica_lag=2, sleep=clock.sleep, clock=lambda: clock.now)

    with pytest.raises(ApiCheckError, match=r"runs/create answered 404: .*RESOURCE_DOES_NOT_EXIST"):
        smoke_test(api, "x", clock_ms)
    assert 2 <= clock.now < 2.5


def test_other_errors_are_not_asked_again():
    fake, clock = FakeMlflow(broken={("POST", "/api/2.0/mlflow/runs/create"): (500, b"boom")}), Clock()
    api = MlflowApi(BASE, fake, sleep=clock.sleep, clock=lambda: clock.now)

    with pytest.raises(ApiCheckError, match="answered 500"):
        smoke_test(api, "x", clock_ms)
    assert clock.slept == []
