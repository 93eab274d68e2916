"""plugins/test/cron.py: cron schedules of five fields, six with seconds, macros and @every when asked."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.test.cron import TestModule, cron


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("7 * * * *", {}, True),
        ("hourly", {}, False),
        ("@hourly", {}, False),
        ("@hourly", {"macros": True}, True),
        ("0 0 3 * * *", {"seconds": True}, True),
        ("@every 5m", {"every": True}, True),
        ("* * * * 7", {}, False),
    ],
)
def test_cron(value, kwargs, expected):
    assert cron(value, **kwargs) is expected


def test_the_test_module_offers_it():
    assert TestModule().tests() == {"cron": cron}
