"""The fake Authentik API (tools/standins/authentik/): it behaves like Authentik where the collection
relies on it, and it holds every request and response to Authentik's OpenAPI document.

These tests talk HTTP to the fake directly (urllib), so that they can send what authentik-client
never would.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from authentik_client_testing import BLUEPRINT, READER, WRONG
from fake_authentik import APPLY_ACTOR, FakeAuthentik
from fake_authentik import TEST_TOKEN as TOKEN

FAKES = Path(__file__).resolve().parents[5] / "tools" / "standins" / "authentik"


def call(fake, method, path, body=None, token=TOKEN, timeout=5.0):
    """(status, JSON body or None) of one request to the fake."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{fake.url}/api/v3{path}", data=data, method=method)  # noqa: S310 - http
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the fake's http URL
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
    except urllib.error.HTTPError as err:
        payload = err.read()
        return err.code, json.loads(payload) if payload else None


def eventually(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def taken_violations(fake):
    """The violations recorded so far, cleared so that the fixture does not fail the test for them."""
    found = list(fake.violations)
    fake.violations.clear()
    return found


def test_a_valid_request_is_answered_and_passes_the_contract_against_fake_authentik_api(fake_authentik):
    status, body = call(fake_authentik, "GET", "/managed/blueprints/?name=x&page_size=5")

    assert status == 200
    assert body["results"] == []
    assert body["pagination"]["count"] == 0
    assert fake_authentik.violations == []


@pytest.mark.parametrize(
    ("method", "path", "body", "token", "expected"),
    [
        (
            "POST",
            "/managed/blueprints/",
            {"content": "version: 1\nentries: []\n"},
            TOKEN,
            "'name' is a required property",
        ),
        ("POST", "/managed/blueprints/", {"name": "x", "content": "a: b", "status": "successful"}, TOKEN, "status"),
        ("POST", "/managed/blueprints/", {"name": "x", "enabled": "yes"}, TOKEN, "is not of type 'boolean'"),
        ("GET", "/managed/blueprints/?page=first", None, TOKEN, "page"),
        ("GET", "/managed/blueprints/not-a-uuid/", None, TOKEN, "instance_uuid"),
        ("GET", "/managed/blueprints/", None, None, "Security"),
        ("GET", "/core/users/", None, TOKEN, "served by Authentik but not by this fake"),
        ("GET", "/no/such/thing/", None, TOKEN, "not in Authentik's API"),
    ],
    ids=[
        "body-missing-required",
        "body-unknown-property",
        "body-wrong-type",
        "query-wrong-type",
        "path-parameter-not-uuid",
        "no-authorization",
        "unserved-path",
        "unknown-path",
    ],
)
def test_a_request_that_violates_the_openapi_document_is_refused_and_recorded_against_fake_authentik_api(
    fake_authentik, method, path, body, token, expected
):
    status, answer = call(fake_authentik, method, path, body=body, token=token)

    violations = taken_violations(fake_authentik)
    assert status == 400
    assert len(violations) == 1
    assert expected in violations[0]
    assert answer["non_field_errors"]
    assert fake_authentik.blueprints == {}


def test_a_response_that_violates_the_openapi_document_is_recorded_against_fake_authentik_api(
    fake_authentik, monkeypatch
):
    def without_status(blueprint):
        shown = FakeAuthentik._blueprint_json(fake_authentik, blueprint)
        del shown["status"]
        return shown

    status, created = call(fake_authentik, "POST", "/managed/blueprints/", {"name": "x", "content": BLUEPRINT})
    assert status == 201
    monkeypatch.setattr(fake_authentik, "_blueprint_json", without_status)

    call(fake_authentik, "GET", f"/managed/blueprints/{created['pk']}/")

    violations = taken_violations(fake_authentik)
    assert len(violations) == 1
    assert "response 200 to GET" in violations[0]
    assert "'status' is a required property" in violations[0]


def test_violations_are_reported_for_the_fixture_to_fail_the_test_against_fake_authentik_api(fake_authentik):
    assert fake_authentik.violation_report() is None

    call(fake_authentik, "GET", "/no/such/thing/")

    report = fake_authentik.violation_report()
    assert report.startswith("the fake Authentik API saw requests or responses that violate Authentik 2026.5.6's")
    assert "GET /api/v3/no/such/thing/" in report
    taken_violations(fake_authentik)


def test_tokens_are_checked_like_authentik_checks_them_against_fake_authentik_api(start_fake_authentik):
    fake = start_fake_authentik(read_only_tokens=(READER,))
    refused = call(fake, "GET", "/managed/blueprints/", token=WRONG)
    reader_reads = call(fake, "GET", "/managed/blueprints/", token=READER)
    reader_writes = call(fake, "POST", "/managed/blueprints/", {"name": "x", "content": BLUEPRINT}, token=READER)

    # Authentik answers 403, never 401, and the answers are within the document.
    assert refused == (403, {"detail": "Token invalid/expired"})
    assert reader_reads[0] == 200
    assert reader_writes == (403, {"detail": "You do not have permission to perform this action."})
    assert fake.violations == []


def test_content_is_validated_when_written_like_authentik_does_against_fake_authentik_api(fake_authentik):
    unknown_model = "version: 1\nentries:\n  - model: authentik_core.nothing\n    identifiers: {name: x}\n"

    refused = call(fake_authentik, "POST", "/managed/blueprints/", {"name": "x", "content": unknown_model})
    empty = call(fake_authentik, "POST", "/managed/blueprints/", {"name": "y", "path": ""})

    assert refused[0] == 400
    assert refused[1]["content"][0] == "Failed to validate blueprint"
    assert "unknown model 'authentik_core.nothing'" in refused[1]["content"][1]
    assert empty == (400, {"non_field_errors": ["Either path or content must be set."]})
    assert fake_authentik.blueprints == {}


def test_a_patch_without_content_is_refused_like_authentik_does_against_fake_authentik_api(fake_authentik):
    _status, created = call(fake_authentik, "POST", "/managed/blueprints/", {"name": "x", "content": BLUEPRINT})

    answer = call(fake_authentik, "PATCH", f"/managed/blueprints/{created['pk']}/", {"enabled": False})

    assert answer == (400, {"non_field_errors": ["Either path or content must be set."]})


def test_apply_is_queued_then_done_in_the_background_against_fake_authentik_api(fake_authentik):
    _status, created = call(fake_authentik, "POST", "/managed/blueprints/", {"name": "mlflow", "content": BLUEPRINT})
    pk = created["pk"]

    status, answered = call(fake_authentik, "POST", f"/managed/blueprints/{pk}/apply/")
    task = eventually(
        lambda: next(
            (
                t
                for t in call(fake_authentik, "GET", f"/tasks/tasks/?rel_obj_id={pk}")[1]["results"]
                if t["state"] == "done"
            ),
            None,
        )
    )
    _status, applied = call(fake_authentik, "GET", f"/managed/blueprints/{pk}/")

    # The apply endpoint answers with the instance as it was; the worker changes it later.
    assert status == 200
    assert answered["status"] == "unknown"
    assert task["actor_name"] == APPLY_ACTOR
    assert (task["rel_obj_app_label"], task["rel_obj_model"]) == ("authentik_blueprints", "blueprintinstance")
    assert applied["status"] == "successful"
    assert applied["last_applied"] > created["last_applied"]
    assert applied["last_applied_hash"] == hashlib.sha512(BLUEPRINT.encode()).hexdigest()
    assert applied["managed_models"] == ["authentik_providers_proxy.proxyprovider"]


def test_an_apply_that_fails_sets_error_and_logs_why_against_fake_authentik_api(fake_authentik):
    # Valid with the blueprint's own context (checked when written), invalid with the instance's.
    body = {"name": "mlflow", "content": BLUEPRINT, "context": {"mode": "sideways"}}
    _status, created = call(fake_authentik, "POST", "/managed/blueprints/", body)

    call(fake_authentik, "POST", f"/managed/blueprints/{created['pk']}/apply/")
    task = eventually(
        lambda: next(iter(call(fake_authentik, "GET", "/tasks/tasks/?aggregated_status=error")[1]["results"]), None)
    )
    _status, failed = call(fake_authentik, "GET", f"/managed/blueprints/{created['pk']}/")

    assert failed["status"] == "error"
    assert failed["last_applied_hash"] == ""
    events = [event["event"] for event in task["logs"]]
    assert "'sideways' is not one of ['proxy', 'forward_single', 'forward_domain']" in events[0]
    assert events[-1] == "Blueprint validation failed"


def test_injected_faults_answer_then_stop_against_fake_authentik_api(fake_authentik):
    fake_authentik.inject(status=503, count=1, retry_after=2)
    fake_authentik.hang(count=1, seconds=1.0)

    first = call(fake_authentik, "GET", "/managed/blueprints/")
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        call(fake_authentik, "GET", "/managed/blueprints/", timeout=0.2)
    third = call(fake_authentik, "GET", "/managed/blueprints/")

    assert first == (503, {"detail": "Injected fault: HTTP 503"})
    assert third[0] == 200
    assert [r["injected"] for r in fake_authentik.requests] == [True, True, False]


def test_outposts_list_and_patch_against_fake_authentik_api(fake_authentik):
    first, second = fake_authentik.add_provider("grafana"), fake_authentik.add_provider("mlflow")
    pk = fake_authentik.add_outpost("shared", providers=[first])

    _status, listed = call(fake_authentik, "GET", "/outposts/instances/?name__iexact=SHARED")
    patched = call(fake_authentik, "PATCH", f"/outposts/instances/{pk}/", {"providers": [first, second]})
    unknown = call(fake_authentik, "PATCH", f"/outposts/instances/{pk}/", {"providers": [99]})

    assert [o["name"] for o in listed["results"]] == ["shared"]
    assert patched[0] == 200
    assert [p["name"] for p in patched[1]["providers_obj"]] == ["grafana", "mlflow"]
    assert unknown[0] == 400
    assert fake_authentik.outpost("authentik Embedded Outpost")["managed"] == "goauthentik.io/outposts/embedded"


def test_runs_as_a_script_against_fake_authentik_api(tmp_path):
    script = subprocess.Popen(
        [sys.executable, str(FAKES / "fake_authentik.py"), "--port", "0", "--token", "script-token"],
        stdout=subprocess.PIPE,  # the banner; warnings stay on stderr, out of what is parsed
        text=True,
    )
    try:
        banner = script.stdout.readline()
        url = banner.rsplit(" at ", 1)[1].strip()
        headers = {"Authorization": "Bearer script-token"}
        request = urllib.request.Request(f"{url}managed/blueprints/", headers=headers)  # noqa: S310 - http
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - the fake's http URL
            listed = json.loads(response.read())
    finally:
        script.terminate()
        script.wait(timeout=10)

    assert banner.startswith("fake Authentik API (OpenAPI of 2026.5.6) at http://127.0.0.1:")
    assert listed["results"] == []
    assert script.returncode == 0
