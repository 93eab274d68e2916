# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cron schedules as Kubernetes CronJobs, Longhorn's RecurringJobs and CloudNativePG read them (the
Go library robfig/cron): five fields (minute hour day-of-month month day-of-week), or six with the
seconds first; each field `*` or `?`, values, ranges (a-b) and steps (/n), comma-separated; month
and day-of-week also by name (JAN, MON); optionally a macro such as @daily, or @every 1h."""

from __future__ import annotations

import re

MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (lowest, highest, names) of each field, seconds first.
_SECOND = (0, 59, {})
_FIELDS = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, {name: number for number, name in enumerate(_MONTHS, start=1)}),
    (0, 6, {name: number for number, name in enumerate(_DAYS)}),
)
_PART = re.compile(r"(?P<range>\*|\?|(?P<start>[0-9A-Za-z]+)(?:-(?P<end>[0-9A-Za-z]+))?)(?:/(?P<step>[0-9]+))?")
_EVERY = re.compile(r"@every\s+([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+")


def _number(text: str, lowest: int, highest: int, names: dict) -> int | None:
    number = names.get(text.lower()) if not text.isdigit() else int(text)
    return number if number is not None and lowest <= number <= highest else None


def is_field(text: str, lowest: int, highest: int, names: dict | None = None) -> bool:
    """One cron field: every comma-separated part a value, range or `*`, optionally with a step."""
    for part in text.split(","):
        match = _PART.fullmatch(part)
        if match is None or (match["step"] is not None and int(match["step"]) < 1):
            return False
        if match["start"] is None:
            continue
        start = _number(match["start"], lowest, highest, names or {})
        end = _number(match["end"], lowest, highest, names or {}) if match["end"] else start
        if start is None or end is None or start > end:
            return False
    return True


def is_cron(value, *, seconds: bool = False, macros: bool = False, every: bool = False) -> bool:
    """A cron schedule: five fields, or six with `seconds`; with `macros` also @daily and the like,
    with `every` also @every and a duration (CloudNativePG)."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if text.startswith("@"):
        return (macros and text in MACROS) or (every and _EVERY.fullmatch(text) is not None)
    fields = text.split()
    bounds = ((_SECOND,) if seconds else ()) + _FIELDS
    return len(fields) == len(bounds) and all(
        is_field(field, *limits) for field, limits in zip(fields, bounds, strict=True)
    )
