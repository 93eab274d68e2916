# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host's variables as the roles' checks read them: each templated when it is first read, so a value that
comes from a lookup is only looked up when a check needs it."""

from __future__ import annotations

from collections.abc import Mapping


class TemplatedVariables(Mapping):
    """The host's variables, each templated on first read (and only then)."""

    def __init__(self, templar, task_vars: Mapping):
        self._templar = templar
        self._task_vars = task_vars
        self._templated: dict = {}

    def __getitem__(self, name: str):
        if name not in self._templated:
            if name not in self._task_vars:
                raise KeyError(name)
            self._templated[name] = self._templar.template(self._task_vars[name])
        return self._templated[name]

    def __contains__(self, name) -> bool:
        return name in self._task_vars

    def __iter__(self):
        return iter(self._task_vars)

    def __len__(self) -> int:
        return len(self._task_vars)
