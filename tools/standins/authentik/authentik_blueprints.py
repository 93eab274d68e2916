"""How the fake Authentik API judges blueprint content: Authentik's blueprint JSON schema.

Authentik parses a blueprint (YAML with its own tags: `!Find`, `!KeyOf`, `!Context`, `!Format`,
...), resolves the tags against the blueprint's context and the database, and checks every entry
against its model's serializer. The fake has no database, so it does what it can without one:

- the YAML must parse (Authentik's tags allowed) and be a mapping with `version: 1`;
- `!Context` (key, or [key, default]) resolves against the blueprint's own `context:` with the
  instance's context on top, as in Authentik; `!Format` formats what resolved;
- tags that read the database, files or the environment (`!Find`, `!KeyOf`, `!Env`, ...) are
  left out of the check, as values the fake cannot know;
- the result must validate against Authentik's blueprint JSON schema (`blueprints/schema.json`
  of the newest release in the shared schema folder), each entry against its model's schema.

Problems come back as log lines, worded like Authentik's importer logs them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import yaml
from authentik_openapi import schemas_dir
from jsonschema import Draft7Validator

MISSING = object()


class Tag:
    """A value with one of Authentik's YAML tags."""

    def __init__(self, tag: str, value):
        self.tag = tag
        self.value = value


class _Loader(yaml.SafeLoader):
    pass


def _construct(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return Tag("!" + suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return Tag("!" + suffix, loader.construct_sequence(node, deep=True))
    return Tag("!" + suffix, loader.construct_mapping(node, deep=True))


_Loader.add_multi_constructor("!", _construct)


def blueprint_schema_path() -> Path:
    """The blueprint JSON schema of the newest release the shared schema folder has one for."""
    found = sorted(schemas_dir().glob("*/blueprints/schema.json"), key=lambda p: _version_key(p.parts[-3]))
    if not found:
        raise FileNotFoundError(f"no */blueprints/schema.json under {schemas_dir()}")
    return found[-1]


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in version.split("."))


@cache
def _validator() -> Draft7Validator:
    schema = json.loads(blueprint_schema_path().read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


@cache
def _entry_schemas() -> dict[str, dict]:
    """Each model's branch of the schema's `blueprint_entry` oneOf, by model name."""
    branches = _validator().schema["$defs"]["blueprint_entry"]["oneOf"]
    return {branch["properties"]["model"]["const"]: branch for branch in branches}


def parse(content: str):
    """The blueprint as data, or ValueError saying why it cannot be read."""
    try:
        data = yaml.load(content, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ValueError(f"Failed to parse blueprint: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("Failed to parse blueprint: not a mapping")
    return data


def _resolve(value, context: dict):
    """The value with !Context and !Format resolved; MISSING for what the fake cannot resolve."""
    if isinstance(value, Tag):
        if value.tag == "!Context":
            key, default = (value.value, None) if not isinstance(value.value, list) else [*value.value, None][:2]
            return context.get(key, default)
        if value.tag == "!Format" and isinstance(value.value, list) and value.value:
            args = [_resolve(arg, context) for arg in value.value]
            if any(arg is MISSING for arg in args):
                return MISSING
            return args[0] % tuple(args[1:])
        return MISSING
    if isinstance(value, dict):
        resolved = {key: _resolve(item, context) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not MISSING}
    if isinstance(value, list):
        return [item for item in (_resolve(item, context) for item in value) if item is not MISSING]
    return value


def model_names(data: dict) -> list[str]:
    entries = data.get("entries") or []
    if isinstance(entries, dict):
        entries = [entry for group in entries.values() for entry in group]
    return sorted({entry.get("model") for entry in entries if isinstance(entry, dict) and entry.get("model")})


def problems(content: str, context: dict | None = None) -> list[str]:
    """Why Authentik would not apply this blueprint with this instance context (empty: it would)."""
    try:
        data = parse(content)
    except ValueError as exc:
        return [str(exc)]
    if data.get("version", 1) != 1:
        return ["Invalid blueprint version"]
    own_context = data.get("context") if isinstance(data.get("context"), dict) else {}
    merged = {**_resolve(own_context, {}), **(context or {})}
    resolved = _resolve(data, merged)

    validator = _validator()
    found = []
    top_level = {key: value for key, value in resolved.items() if key != "entries"}
    top_level["entries"] = []
    for error in validator.iter_errors(top_level):
        found.append(f"Blueprint invalid: {_where(error)}{error.message}")
    entries = resolved.get("entries")
    if entries is None:
        found.append("Blueprint invalid: 'entries' is a required property")
        entries = []
    if isinstance(entries, dict):
        entries = [entry for group in entries.values() for entry in (group or [])]
    if not isinstance(entries, list):
        found.append("Blueprint invalid: entries must be a list")
        entries = []
    branches = _entry_schemas()
    for index, entry in enumerate(entries):
        model = entry.get("model") if isinstance(entry, dict) else None
        if model not in branches:
            found.append(f"Entry invalid: entries[{index}]: unknown model {model!r}")
            continue
        for error in validator.evolve(schema=branches[model]).iter_errors(entry):
            found.append(f"Entry invalid: entries[{index}] ({model}) {_where(error)}{error.message}")
    return found


def _where(error) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    return f"{path}: " if path else ""
