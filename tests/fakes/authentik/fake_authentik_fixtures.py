"""pytest fixtures for the fake Authentik API (fake_authentik.py).

Load them in a test module, after putting this folder on sys.path, with
`pytest_plugins = ["fake_authentik_fixtures"]`.

`fake_authentik` starts a fresh fake for each test (URL `fake_authentik.url`, token
fake_authentik.TEST_TOKEN) and fails the test at teardown when any request the fake received,
or any response it gave, violated Authentik's OpenAPI document. Tests that provoke violations on
purpose must clear `fake_authentik.violations` themselves.
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
def fake_authentik(authentik_contract):
    fake = FakeAuthentik(token=TEST_TOKEN, contract=authentik_contract, apply_delay=0.05).start()
    yield fake
    fake.stop()
    report = fake.violation_report()
    if report:
        pytest.fail(report, pytrace=False)
