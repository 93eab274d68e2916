# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading variables as the roles' Jinja did (`| bool`, `| int`), and showing them in messages."""

from __future__ import annotations

import json
from dataclasses import dataclass

_TRUE = frozenset({"yes", "on", "1", "true", "y", "t"})


@dataclass(frozen=True)
class Problem:
    """One value that cannot be used: the variable to fix, and a message that says what is allowed."""

    variable: str
    message: str

    def __str__(self) -> str:
        return self.message


def as_bool(value) -> bool:
    """True as Jinja's `bool` filter reads it (true, yes, on, 1), False for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TRUE


def as_int(value, default: int = 0) -> int:
    """A whole number as Jinja's `int` filter reads it ("5", 5.0): the default when it is none."""
    for convert in (int, lambda v: int(float(v))):
        try:
            return convert(value)
        except (TypeError, ValueError, OverflowError):
            continue
    return default


def as_json(value) -> str:
    """The value as the messages show it (Jinja's `to_json`)."""
    return json.dumps(value, default=str)


def as_text(value) -> str:
    """A scalar as the messages show it unquoted (Jinja's `{{ value }}`)."""
    return str(value)


def is_mapping(value) -> bool:
    return isinstance(value, dict)


def is_list(value) -> bool:
    """A sequence that is not a string: what a YAML list is."""
    return isinstance(value, (list, tuple))
