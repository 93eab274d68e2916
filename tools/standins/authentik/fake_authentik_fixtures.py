"""pytest fixtures for the fake Authentik API (fake_authentik.py), loaded for every test by
tests/conftest.py (`pytest_plugins`).

`authentik_contract` is Authentik's OpenAPI document, read once per session from the shared schema
folder. `start_fake_authentik(**options)` starts a fake with FakeAuthentik's options (the test
token and the contract unless given) and, at the test's end, stops it and fails the test when any
request the fake received, or any response it gave, violated that document. `fake_authentik` is
one such fake per test (URL `fake_authentik.url`, token fake_authentik.TEST_TOKEN). Tests that
provoke violations on purpose must clear `fake.violations` themselves.
"""

from __future__ import annotations

import pytest
from authentik_openapi import Contract, SchemasMissing
from fake_authentik import TEST_TOKEN, FakeAuthentik


@pytest.fixture(scope="session")
def authentik_contract() -> Contract:
    """Authentik's OpenAPI document, read once per session from the shared schema folder.

    Without it the tests fail rather than skip: a run that tested nothing of Authentik is not green."""
    try:
        return Contract()
    except SchemasMissing as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def start_fake_authentik(authentik_contract):
    """start_fake_authentik(**options): a started FakeAuthentik, stopped and checked against the contract at the end."""
    started: list[FakeAuthentik] = []

    def start(**options) -> FakeAuthentik:
        options.setdefault("token", TEST_TOKEN)
        options.setdefault("contract", authentik_contract)
        options.setdefault("apply_delay", 0.05)
        fake = FakeAuthentik(**options).start()
        started.append(fake)
        return fake

    yield start
    reports = []
    for fake in started:
        fake.stop()
        reports.append(fake.violation_report())
    if any(reports):
        pytest.fail("\n".join(report for report in reports if report), pytrace=False)


@pytest.fixture
def fake_authentik(start_fake_authentik):
    return start_fake_authentik()
