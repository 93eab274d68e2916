"""plugins/module_utils/authentik/blueprints.py (and the blueprint endpoints it calls): a blueprint
instance made present, applied and removed, run in-process against the fake Authentik API
(tools/standins/authentik/), which holds every request and response to Authentik's OpenAPI document.
"""

from __future__ import annotations

import hashlib

import pytest
from authentik_client_testing import BLUEPRINT, NO_TASKS, client_for, present

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_content import (
    normalize_blueprint_content,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprints import ensure_blueprint_absent
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError


def test_creates_applies_and_waits_against_fake_authentik_api(fake_authentik):
    result = present(client_for(fake_authentik), context={"host": "mlflow.example.org"})

    stored = fake_authentik.blueprint("mlflow")
    assert result["changed"] is True
    assert result["applied"] is True
    assert result["blueprint"]["status"] == "successful"
    assert result["blueprint"]["pk"] == stored["pk"]
    assert stored["content"] == normalize_blueprint_content(BLUEPRINT)
    assert stored["context"] == {"host": "mlflow.example.org"}
    assert stored["last_applied_hash"] == hashlib.sha512(stored["content"].encode()).hexdigest()
    assert result["diff"]["before"] == ""
    assert "host: mlflow.example.org" in result["diff"]["after"]


def test_a_second_run_changes_nothing_and_writes_nothing_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)
    present(client)
    writes_before = len(fake_authentik.writes())

    again = present(client)

    assert again["changed"] is False
    assert again["applied"] is False
    assert len(fake_authentik.writes()) == writes_before
    assert again["diff"]["before"] == again["diff"]["after"]


@pytest.mark.parametrize(
    "change",
    [
        {"content": BLUEPRINT.replace("^/static/", "^/assets/")},
        {"context": {"mode": "proxy"}},
    ],
    ids=["content", "context"],
)
def test_a_change_updates_and_applies_again_against_fake_authentik_api(fake_authentik, change):
    client = client_for(fake_authentik)
    first = present(client)

    changed = present(client, **change)

    methods = [(r["method"], r["path"].rsplit("/", 2)[-2]) for r in fake_authentik.writes()]
    assert changed["changed"] is True
    assert changed["applied"] is True
    assert changed["blueprint"]["last_applied"] > first["blueprint"]["last_applied"]
    assert methods[-2:] == [("PUT", first["blueprint"]["pk"]), ("POST", "apply")]
    assert changed["diff"]["before"] != changed["diff"]["after"]


def test_a_disabled_blueprint_is_stored_but_not_applied_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)
    present(client)
    writes = len(fake_authentik.writes())

    disabled = present(client, enabled=False)
    again = present(client, enabled=False)

    assert disabled["changed"] is True
    assert disabled["applied"] is False
    assert fake_authentik.blueprint("mlflow")["enabled"] is False
    assert again["changed"] is False
    assert [r["method"] for r in fake_authentik.writes()[writes:]] == ["PUT"]


def test_check_mode_reports_but_writes_nothing_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)

    new = present(client, check_mode=True)
    present(client)
    writes = len(fake_authentik.writes())
    changed = present(client, context={"mode": "proxy"}, check_mode=True)
    removed = ensure_blueprint_absent(client, "mlflow", check_mode=True)

    assert (new["changed"], new["applied"]) == (True, True)
    assert (changed["changed"], changed["applied"]) == (True, True)
    assert removed["changed"] is True
    assert len(fake_authentik.writes()) == writes
    assert fake_authentik.blueprint("mlflow")["context"] == {}


def test_apply_always_applies_an_unchanged_blueprint_without_reporting_a_change_against_fake_authentik_api(
    fake_authentik,
):
    client = client_for(fake_authentik)
    first = present(client)

    again = present(client, apply="always")

    assert again["changed"] is False
    assert again["applied"] is True
    assert again["blueprint"]["last_applied"] > first["blueprint"]["last_applied"]


def test_a_failed_apply_fails_with_authentiks_log_lines_against_fake_authentik_api(fake_authentik):
    with pytest.raises(AuthentikError) as failure:
        present(client_for(fake_authentik), context={"mode": "sideways"})

    error = failure.value
    assert "Authentik could not apply blueprint 'mlflow': status error" in error.message
    assert "'sideways' is not one of ['proxy', 'forward_single', 'forward_domain']" in error.message
    assert "error: Blueprint validation failed" in error.message
    assert error.log[-1] == "error: Blueprint validation failed"
    assert error.blueprint.status.value == "error"


def test_a_failed_apply_is_retried_on_the_next_run_and_then_counts_as_a_change_against_fake_authentik_api(
    fake_authentik,
):
    client = client_for(fake_authentik)
    fake_authentik.fail_next_apply(["Entry invalid: Serializer errors {'name': ['already exists']}"])
    with pytest.raises(AuthentikError, match="already exists"):
        present(client)

    # Nothing changed in the options, but Authentik never applied this content: apply it.
    second = present(client)
    third = present(client)

    assert (second["changed"], second["applied"], second["blueprint"]["status"]) == (True, True, "successful")
    assert (third["changed"], third["applied"]) == (False, False)


def test_content_authentik_refuses_fails_with_its_validation_messages_against_fake_authentik_api(fake_authentik):
    content = "version: 1\nentries:\n  - model: authentik_core.nothing\n    identifiers: {name: x}\n"

    with pytest.raises(AuthentikError) as failure:
        present(client_for(fake_authentik), content=content)

    assert "refused the request to create blueprint instance 'mlflow' (HTTP 400)" in failure.value.message
    assert "content: Failed to validate blueprint" in failure.value.log
    assert "unknown model 'authentik_core.nothing'" in failure.value.message


def test_absent_deletes_and_then_changes_nothing_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)
    present(client)

    removed = ensure_blueprint_absent(client, "mlflow")
    again = ensure_blueprint_absent(client, "mlflow")

    assert removed["changed"] is True
    assert "name: mlflow" in removed["diff"]["before"]
    assert removed["diff"]["after"] == ""
    assert again["changed"] is False
    assert fake_authentik.blueprint("mlflow") is None


def test_waiting_ends_with_the_timeout_when_the_worker_is_slow_against_fake_authentik_api(fake_authentik):
    fake_authentik.apply_delay = 5.0

    with pytest.raises(AuthentikError, match=r"did not finish applying blueprint 'mlflow' within 0.3 s"):
        present(client_for(fake_authentik), wait_timeout=0.3)


def test_without_wait_the_apply_is_only_queued_against_fake_authentik_api(fake_authentik):
    fake_authentik.apply_delay = 5.0

    result = present(client_for(fake_authentik), wait=False)

    assert result["applied"] is True
    assert result["blueprint"]["status"] == "unknown"


def test_a_token_that_may_not_see_tasks_still_detects_the_end_of_an_apply_against_fake_authentik_api(
    start_fake_authentik,
):
    fake = start_fake_authentik(tokens_without_tasks=(NO_TASKS,))
    client = client_for(fake, token=NO_TASKS)
    applied = present(client)
    with pytest.raises(AuthentikError) as failure:
        present(client, context={"mode": "sideways"})

    assert applied["blueprint"]["status"] == "successful"
    assert "status error" in failure.value.message
    assert "not readable with this token" in failure.value.message
    assert fake.violations == []


# -- errors and retries -------------------------------------------------------------------------------


def test_a_create_that_timed_out_but_went_through_is_not_duplicated_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)
    content = normalize_blueprint_content(BLUEPRINT)
    first = client.create_blueprint("mlflow", content, {}, True)
    # The retry of such a create is refused as a duplicate name: the instance is there to use.
    again = client.create_blueprint("mlflow", content, {}, True)

    assert again.pk == first.pk
