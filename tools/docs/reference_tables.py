"""Tables of options and return values, nested ones included: one row per entry, named by its path
(`jobs[].name` for a key of a list's dictionaries, `config.name` for a key of a dictionary)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import yaml
from reference_markup import PageOf, code, paragraphs

# The keys of an entry that hold its children: suboptions of an option, `contains` of a return value.
CHILDREN = ("suboptions", "options", "contains")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def options_table(options: dict, page_of: PageOf, subject: tuple[str, str], first_column: str = "option") -> str:
    rows = []
    for path, option in _walk(options):
        name = code(path) + ("<br>required" if option.get("required") else "")
        rows.append(
            [
                name,
                type_of(option),
                code(value(option["default"])) if "default" in option else "",
                _join(
                    paragraphs(option.get("description"), page_of, subject, "<br><br>"),
                    *_option_facts(option, page_of, subject),
                ),
            ]
        )
    return table([first_column, "type", "default", "description"], rows)


def returns_table(returns: dict, page_of: PageOf, subject: tuple[str, str]) -> str:
    rows = []
    for path, entry in _walk(returns):
        description = paragraphs(entry.get("description"), page_of, subject, "<br><br>")
        sample = f"Sample: {code(value(entry['sample']))}" if "sample" in entry else ""
        rows.append(
            [
                code(path),
                type_of(entry),
                paragraphs(entry.get("returned"), page_of, subject, " "),
                _join(description, sample),
            ]
        )
    return table(["key", "type", "returned", "description"], rows)


def type_of(entry: dict) -> str:
    kind = entry.get("type", "str")
    return f"{kind} of {entry['elements']}" if entry.get("elements") else kind


def value(data: object) -> str:
    """A default, choice or sample as it would be written in YAML: `true`, `[]`, `{a: b}`, text as it is."""
    if isinstance(data, str):
        return data if data else '""'
    if isinstance(data, (dict, list)) and data:
        return yaml.safe_dump(data, default_flow_style=True, width=10_000, sort_keys=False).strip()
    return json.dumps(data)


def _walk(entries: dict, prefix: str = "") -> Iterator[tuple[str, dict]]:
    for name, entry in entries.items():
        path = prefix + name
        yield path, entry
        children = next((entry[key] for key in CHILDREN if isinstance(entry.get(key), dict)), None)
        if children:
            separator = "[]." if entry.get("type") == "list" else "."
            yield from _walk(children, path + separator)


def _option_facts(option: dict, page_of: PageOf, subject: tuple[str, str]) -> list[str]:
    facts = []
    choices = option.get("choices")
    if isinstance(choices, dict):  # choices with a description each
        described = (f"{code(value(c))}: {paragraphs(text, page_of, subject, ' ')}" for c, text in choices.items())
        facts.append("Choices: " + "; ".join(described))
    elif choices:
        facts.append("Choices: " + ", ".join(code(value(choice)) for choice in choices) + ".")
    if option.get("aliases"):
        facts.append("Aliases: " + ", ".join(code(alias) for alias in option["aliases"]) + ".")
    for key, label in (("vars", "Variable"), ("env", "Environment variable"), ("keyword", "Keyword")):
        names = [code(item["name"]) for item in option.get(key) or []]
        if names:
            facts.append(f"{label}{'s' if len(names) > 1 else ''}: {', '.join(names)}.")
    ini = [f"{code(item['key'])} in section {code(item['section'])}" for item in option.get("ini") or []]
    if ini:
        facts.append("ansible.cfg: " + ", ".join(ini) + ".")
    return facts


def _join(*parts: str) -> str:
    return "<br><br>".join(part for part in parts if part)


def _cell(text: str) -> str:
    """A table cell on one line; `|` escaped, as GitHub's tables split on it even inside code spans."""
    return " ".join(text.replace("|", "\\|").splitlines())
