"""The drift run's result as Prometheus metrics, through bin/homelab-mlflow-drift against the local test
cluster: a textfile for node-exporter's textfile collector, and a push to a real Pushgateway (the upstream
release, built from its Go module and run on the loopback address), both read with prometheus-client's parser
of the text format."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

PUSHGATEWAY_MODULE = "github.com/prometheus/pushgateway@v1.11.1"
PUSHGATEWAY_BIN = Path.home() / ".cache" / "homelab-mlflow" / "pushgateway-bin"


def samples(text: str) -> dict:
    return {
        (sample.name, tuple(sorted((k, v) for k, v in sample.labels.items() if k not in ("instance", "job")))): (
            sample.value
        )
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def pushgateway():
    """A Pushgateway on the loopback address; built once into the cache from its Go module."""
    binary = PUSHGATEWAY_BIN / "pushgateway"
    if not binary.exists():
        subprocess.run(
            ["go", "install", PUSHGATEWAY_MODULE],
            env={**os.environ, "GOBIN": str(PUSHGATEWAY_BIN)},
            check=True,
            timeout=1200,
        )
    url = f"http://127.0.0.1:{_free_port()}"
    server = subprocess.Popen(
        [str(binary), f"--web.listen-address={url[len('http://') :]}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2):  # noqa: S310
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=10)


def test_the_metrics_go_to_a_textfile_and_a_pushgateway(
    k8s, drift_namespace, drift_run, drift_wrapper, pushgateway, tmp_path
):
    drift_run()
    client.AppsV1Api(k8s).patch_namespaced_deployment(
        "web", drift_namespace, {"spec": {"replicas": 2}}, field_manager="kubectl-edit"
    )
    textfile = tmp_path / "textfile" / "homelab-mlflow-drift.prom"
    textfile.parent.mkdir()

    done = drift_wrapper(
        "--report-dir", str(tmp_path / "report"), "--metrics-textfile", str(textfile), "--pushgateway", pushgateway
    )
    with urllib.request.urlopen(f"{pushgateway}/metrics", timeout=10) as answer:  # noqa: S310
        pushed = answer.read().decode()

    assert done.returncode == 3, done.stdout + done.stderr
    for text in (textfile.read_text(), pushed):
        found = samples(text)
        target = (("mode", "detect"), ("target", "localhost"))
        assert found[("homelab_mlflow_drift_target_objects", target)] == 1
        assert found[("homelab_mlflow_drift_fields", (target[0], ("role", "(playbook)"), target[1]))] == 1
        assert found[("homelab_mlflow_drift_last_run_exit_code", (("mode", "detect"),))] == 3
        assert found[("homelab_mlflow_drift_last_run_status", (("mode", "detect"), ("status", "drift")))] == 1
        assert found[("homelab_mlflow_drift_last_run_timestamp_seconds", (("mode", "detect"),))] > time.time() - 600
    assert 'job="homelab_mlflow_drift"' in pushed
    assert oct(textfile.stat().st_mode & 0o777) == "0o644"


def test_metrics_that_cannot_be_pushed_leave_the_runs_exit_code(drift_run, drift_wrapper, tmp_path):
    drift_run()

    done = drift_wrapper("--report-dir", str(tmp_path / "report"), "--pushgateway", f"http://127.0.0.1:{_free_port()}")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "cannot push the metrics to http://127.0.0.1:" in done.stderr
