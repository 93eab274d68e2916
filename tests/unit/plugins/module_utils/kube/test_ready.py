"""plugins/module_utils/kube/ready.py: readiness of each kind, and the wait loop."""

from __future__ import annotations

import base64
import importlib

import pytest

PACKAGE = "ansible_collections.homelab.mlflow.plugins.module_utils.kube"
ready = importlib.import_module(f"{PACKAGE}.ready")
objects = importlib.import_module(f"{PACKAGE}.objects")


def job(*conditions):
    return {"status": {"conditions": [{"type": t, "status": "True", "reason": r} for t, r in conditions]}}


def test_a_job_is_ready_when_complete_and_failed_at_once_when_it_failed():
    assert ready.job_state(job(("Complete", "")))[0] == ready.READY
    assert ready.job_state(job(("Failed", "BackoffLimitExceeded"))) == (ready.FAILED, "failed (BackoffLimitExceeded)")
    assert ready.job_state({"status": {"active": 1}})[0] == ready.WAITING


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}, ready.READY),
        ({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}, ready.WAITING),
        ({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}, ready.WAITING),
        ({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}, ready.WAITING),
        (
            {"observedGeneration": 2, "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]},
            ready.FAILED,
        ),
    ],
)
def test_a_deployment_is_rolled_out_when_every_replica_runs_the_newest_template(status, state):
    deployment = {"metadata": {"generation": 2}, "spec": {"replicas": 2}, "status": status}
    assert ready.deployment_state(deployment)[0] == state


def test_claims_clusters_and_ready_conditions():
    assert ready.claim_state({"status": {"phase": "Bound"}})[0] == ready.READY
    assert ready.claim_state({"status": {"phase": "Lost"}})[0] == ready.FAILED
    healthy = {"spec": {"instances": 2}, "status": {"phase": ready.CNPG_HEALTHY, "readyInstances": 2}}
    assert ready.cnpg_cluster_state(healthy)[0] == ready.READY
    assert (
        ready.cnpg_cluster_state(dict(healthy, status={"phase": ready.CNPG_HEALTHY, "readyInstances": 1}))[0]
        == ready.WAITING
    )
    assert ready.condition_ready(job(("Ready", "")))[0] == ready.READY


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_wait_reads_until_ready_and_uses_what_is_known_first(fake_kube):
    kube = fake_kube()
    ref = objects.Ref("v1", "ConfigMap", "ns", "late")
    path = "/api/v1/namespaces/ns/configmaps/late"
    clock = Clock()

    def sleep(seconds):
        clock.sleep(seconds)
        kube.objects[path] = {"metadata": {"name": "late"}}

    states = ready.wait_for(kube, kube.resources, [(ref, "exists")], 10, sleep=sleep, clock=clock)
    assert states[0]["state"] == ready.READY
    assert kube.requests == {"GET": 2}


def test_the_wait_gives_up_at_the_timeout_with_the_last_reason(fake_kube):
    kube = fake_kube()
    ref = objects.Ref("v1", "ConfigMap", "ns", "never")
    clock = Clock()
    states = ready.wait_for(kube, kube.resources, [(ref, "exists")], 5, sleep=clock.sleep, clock=clock)
    assert (states[0]["state"], states[0]["reason"]) == (ready.WAITING, "does not exist")
    assert clock.now >= 5


def test_a_ready_known_object_costs_no_request(fake_kube):
    kube = fake_kube()
    ref = objects.Ref("v1", "ConfigMap", "ns", "known")
    states = ready.wait_for(kube, kube.resources, [(ref, "exists")], 10, {ref: {"metadata": {}}})
    assert states[0]["state"] == ready.READY
    assert kube.requests == {}


def claim(phase, requested, capacity=None, conditions=()):
    status = {"phase": phase, "conditions": [{"type": t, "status": "True"} for t in conditions]}
    if capacity:
        status["capacity"] = {"storage": capacity}
    return {"spec": {"resources": {"requests": {"storage": requested}}}, "status": status}


@pytest.mark.parametrize(
    ("obj", "state"),
    [
        (claim("Bound", "50Gi", "50Gi"), ready.READY),
        # Capacity in another notation than the request: compared as quantities.
        (claim("Bound", "1Gi", "1073741824"), ready.READY),
        (claim("Bound", "1G", "1Gi"), ready.READY),
        (claim("Bound", "60Gi", "50Gi", ["FileSystemResizePending"]), ready.WAITING),
        (claim("Pending", "50Gi"), ready.WAITING),
        (claim("Lost", "50Gi", "50Gi"), ready.FAILED),
    ],
)
def test_a_claim_is_at_its_size_when_bound_with_at_least_the_storage_it_requests(obj, state):
    assert ready.claim_size_state(obj)[0] == state


def test_a_claim_being_resized_says_how_far_it_got():
    state, reason = ready.claim_size_state(claim("Bound", "60Gi", "50Gi", ["FileSystemResizePending"]))
    assert state == ready.WAITING
    assert reason == (
        "Bound with 50Gi of the 60Gi requested; a resize may be in progress (conditions: FileSystemResizePending)"
    )


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        (
            {"type": "kubernetes.io/basic-auth", "data": {"username": "(hidden)", "password": "(hidden)"}},
            (ready.READY, "kubernetes.io/basic-auth with the keys username and password"),
        ),
        (
            {"data": {"username": "bWxmbG93", "password": "cA=="}},
            (ready.FAILED, "it has the type Opaque, not kubernetes.io/basic-auth"),
        ),
        (
            {"type": "kubernetes.io/basic-auth", "data": {"user": "bWxmbG93", "password": "cA=="}},
            (ready.FAILED, "it has the keys password, user, not username and password"),
        ),
        ({"type": "kubernetes.io/basic-auth"}, (ready.FAILED, "it has the keys none, not username and password")),
    ],
)
def test_a_credentials_secret_is_basic_auth_with_a_username_and_a_password(secret, expected):
    assert ready.basic_auth_state(dict(secret, kind="Secret")) == expected


def test_a_credentials_secret_state_never_shows_a_value():
    _state, reason = ready.basic_auth_state({"type": "Opaque", "data": {"password": "c2VjcmV0LXZhbHVl"}})
    assert "c2VjcmV0LXZhbHVl" not in reason


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ({"state": "attached", "robustness": "healthy"}, ready.READY),
        ({"state": "attached", "robustness": "degraded"}, ready.READY),
        ({"state": "detached", "robustness": "unknown"}, ready.READY),
        ({}, ready.READY),
        ({"state": "detached", "robustness": "faulted"}, ready.FAILED),
    ],
)
def test_a_longhorn_volume_serves_unless_faulted(status, state):
    assert ready.longhorn_volume_state({"status": status})[0] == state


def test_the_new_checks_are_conditions_verify_accepts():
    assert {"bound_at_size", "basic_auth", "longhorn_usable"} <= set(ready.CHECKS)


def _secret(**data):
    return {"kind": "Secret", "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}}


PASSWORD = "s3cret"  # noqa: S105 (a test credential)


def test_secret_values_are_compared_decoded_and_never_shown():
    expected = {"username": "mlflow"}
    assert ready.secret_values_state(_secret(username="mlflow", password=PASSWORD), expected)[0] == "ready"
    state, reason = ready.secret_values_state(_secret(username="admin", password=PASSWORD), expected)
    assert state == "failed"
    assert reason == "its key username does not hold the expected value"
    assert "admin" not in reason
    assert PASSWORD not in reason
    assert ready.secret_values_state(_secret(password=PASSWORD), expected) == ("failed", "it has no key username")


def test_an_optional_object_that_does_not_exist_is_ready_without_waiting(fake_kube):
    kube = fake_kube()
    ref = objects.Ref("v1", "ConfigMap", "ns", "absent")
    slept = []
    (state,) = ready.wait_for(kube, kube.resources, [(ref, "exists")], 60, optional={ref}, sleep=slept.append)
    assert (state["state"], state["reason"], slept) == ("ready", "not there: nothing to check", [])
