"""plugins/module_utils/checks/schedule.py: cron schedules with five or six fields, each within its range."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import schedule


@pytest.mark.parametrize(
    "value",
    [
        "7 * * * *",
        "0 3 * * *",
        "*/15 0-6 1,15 JAN-mar mon-FRI",
        "0 0 * * 0",
        "59 23 31 12 6",
        " 0 3 * * * ",
        "0 3 ? * *",
    ],
)
def test_five_fields_within_their_ranges_pass(value):
    assert schedule.is_cron(value)


@pytest.mark.parametrize(
    "value",
    [
        "hourly",
        "0 3 * *",
        "0 0 3 * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 7",
        "5-1 * * * *",
        "*/0 * * * *",
        "@hourly",
        "",
        None,
        5,
    ],
)
def test_other_values_fail(value):
    assert not schedule.is_cron(value)


def test_macros_only_when_allowed():
    assert schedule.is_cron("@daily", macros=True)
    assert schedule.is_cron("@annually", macros=True)
    assert not schedule.is_cron("@fortnightly", macros=True)
    assert not schedule.is_cron("@daily")


def test_six_fields_with_seconds():
    assert schedule.is_cron("0 0 3 * * *", seconds=True)
    assert not schedule.is_cron("0 3 * * *", seconds=True)
    assert not schedule.is_cron("60 0 3 * * *", seconds=True)


def test_every_only_when_allowed():
    assert schedule.is_cron("@every 1h30m", every=True)
    assert not schedule.is_cron("@every soon", every=True)
    assert not schedule.is_cron("@every 1h", macros=True)
