# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The variable names of the collection's roles, to tell a typo from a setting.

A variable carries one of the collection's prefixes (each role's name, and the first word of any
option a role declares outside its own prefix, such as ``onepassword_``) and is known when a role
declares it in ``meta/argument_specs.yml`` (any entry point), sets it in ``defaults/main.yml`` or
``vars/main.yml``, or registers or sets it as a fact in its tasks. A name that carries a prefix but
is not known does nothing: most likely a typo of a declared name, which `VariableNames.suggestion`
finds. Everything is read from the roles themselves, so that a new role or option needs no list
kept here. Used on the controller only, by the action homelab.mlflow.variable_names.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import yaml
except ImportError:  # never on the controller, which needs PyYAML to run Ansible
    yaml = None

COLLECTION = "homelab.mlflow"
# The collection's own setting, outside every role: warn about unknown names or fail on them.
SETTING = "homelab_mlflow_unknown_variables"
SETTING_PREFIX = "homelab_mlflow_"
MODES = ("warn", "fail")
DEFAULT_MODE = "warn"
# difflib's similarity ratio (of the names without their prefix) a declared name needs to be offered.
SUGGESTION_CUTOFF = 0.6
SET_FACT_ACTIONS = frozenset({"set_fact", "ansible.builtin.set_fact", "ansible.legacy.set_fact"})
# Keys of a task that hold further tasks.
TASK_LISTS = ("block", "rescue", "always")
ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"


class VariableNamesError(Exception):
    """A role file that cannot be read."""


@dataclass(frozen=True)
class VariableNames:
    """The names of the collection's roles."""

    # Longest first, so that the most specific prefix is the one found.
    prefixes: tuple[str, ...]
    # What a user sets: every role's argument_specs options, and the collection's setting.
    declared: frozenset[str]
    # What a variable of the collection may be called: declared, defaults, vars, registered, facts.
    known: frozenset[str]

    def prefix(self, name: str) -> str | None:
        """The collection's prefix `name` carries, in any case (Mlflow_replicas is a typo as well)."""
        return next((prefix for prefix in self.prefixes if name.lower().startswith(prefix)), None)

    def unknown(self, names: Iterable[object]) -> list[str]:
        """The names that carry a prefix of the collection but that no role knows, sorted."""
        return sorted(
            name for name in names if isinstance(name, str) and name not in self.known and self.prefix(name) is not None
        )

    def suggestion(self, name: str) -> str | None:
        """The declared name closest to `name`, or None when none is close enough.

        Only names with the same prefix compete, compared without it: the prefix alone would make
        every name of a role look alike. The closest by difflib wins; failing that, the shortest
        name holding every word of `name` (storage_size: storage_artifacts_size).
        """
        prefix = self.prefix(name)
        if prefix is None:
            return None
        rest = name.lower()[len(prefix) :]
        candidates = {declared[len(prefix) :]: declared for declared in self.declared if declared.startswith(prefix)}
        matches = difflib.get_close_matches(rest, candidates, n=1, cutoff=SUGGESTION_CUTOFF)
        if matches:
            return candidates[matches[0]]
        words = set(rest.split("_")) - {""}
        holding = [declared for rest_of, declared in candidates.items() if words and words <= set(rest_of.split("_"))]
        return min(holding, key=lambda declared: (declared.count("_"), declared)) if holding else None


def warning_message(host: str, name: str, suggestion: str | None) -> str:
    message = f"{host}: {name} is set, but no role of {COLLECTION} reads it, so it has no effect"
    return f"{message}; did you mean {suggestion}?" if suggestion else message


def failure_message(host: str, unknown: Iterable[tuple[str, str | None]]) -> str:
    listed = ", ".join(f"{name} (did you mean {suggestion}?)" if suggestion else name for name, suggestion in unknown)
    return (
        f"{host}: no role of {COLLECTION} reads these variables, so they would have no effect"
        f" ({SETTING} is fail): {listed}"
    )


def mode_error(value: object) -> str | None:
    """Why `value` is not a valid value of the setting, or None when it is."""
    if value in MODES:
        return None
    return f"{SETTING} must be one of {', '.join(MODES)}, not {value!r}"


@functools.lru_cache(maxsize=4)
def role_variable_names(roles_dir: Path = ROLES_DIR) -> VariableNames:
    """Read the names of every role under `roles_dir` (once per process)."""
    if yaml is None:
        raise VariableNamesError("reading the roles' variable names needs PyYAML")
    roles = sorted(path for path in roles_dir.glob("*") if path.is_dir() and not path.name.startswith("."))
    if not roles:
        raise VariableNamesError(f"no role found in {roles_dir}")
    declared = {SETTING}
    known = {SETTING}
    for role in roles:
        declared.update(_argument_spec_options(role / "meta" / "argument_specs.yml"))
        for path in (role / "defaults" / "main.yml", role / "vars" / "main.yml"):
            known.update(_mapping_keys(_load(path)))
        for path in sorted(_task_files(role)):
            known.update(_set_names(_load(path) or []))
    known.update(declared)
    prefixes = {f"{role.name}_" for role in roles} | {SETTING_PREFIX}
    for name in declared:
        if not name.startswith(tuple(prefixes)) and "_" in name:
            prefixes.add(name.split("_", 1)[0] + "_")
    return VariableNames(
        prefixes=tuple(sorted(prefixes, key=lambda prefix: (-len(prefix), prefix))),
        declared=frozenset(declared),
        known=frozenset(known),
    )


@functools.cache
def _loader() -> type:
    # Role files hold Ansible's own tags (!unsafe, !vault); only their keys matter here.
    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return Loader


def _load(path: Path) -> object:
    if not path.is_file():
        return None
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_loader())
    except (OSError, yaml.YAMLError) as err:
        raise VariableNamesError(f"cannot read {path}: {err}") from err


def _mapping_keys(data: object) -> set[str]:
    return {key for key in data if isinstance(key, str)} if isinstance(data, dict) else set()


def _argument_spec_options(path: Path) -> set[str]:
    specs = _load(path)
    entry_points = specs.get("argument_specs") if isinstance(specs, dict) else None
    names: set[str] = set()
    for spec in (entry_points or {}).values():
        if isinstance(spec, dict):
            names.update(_mapping_keys(spec.get("options")))
    return names


def _task_files(role: Path) -> Iterator[Path]:
    for folder in ("tasks", "handlers"):
        for pattern in ("*.yml", "*.yaml"):
            yield from (role / folder).rglob(pattern)


def _set_names(tasks: object) -> set[str]:
    """Names the tasks register or set as facts, in blocks too."""
    names: set[str] = set()
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict):
            continue
        if isinstance(task.get("register"), str):
            names.add(task["register"])
        for action in SET_FACT_ACTIONS & task.keys():
            names.update(_set_fact_names(task[action]))
        for key in TASK_LISTS:
            names.update(_set_names(task.get(key)))
    return {name for name in names if "{" not in name}


def _set_fact_names(args: object) -> set[str]:
    if isinstance(args, str):  # set_fact: name=value ...
        args = dict(word.partition("=")[::2] for word in args.split() if "=" in word)
    return _mapping_keys(args) - {"cacheable"}
