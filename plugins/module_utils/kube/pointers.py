# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""JSON pointers (RFC 6901) into Kubernetes objects, with list entries named by a key.

A token in a list is an index (`/args/0`) or, since the positions of a list's entries are not stable,
`key=value`: the entry whose `key` has that value (`/spec/template/spec/containers/name=mlflow/image`,
`/spec/ports/port=80`). A location is a list of tokens; in a list, a token may also be a mapping of
key fields (the entries of the field managers' records, which may have several keys).
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import join_path

INDEX = re.compile(r"^(0|[1-9][0-9]*)$")
ENTRY = re.compile(r"^(?P<key>[^=]+)=(?P<value>.*)$")


class PointerError(ValueError):
    """A JSON pointer that is not one, or that cannot name a field of an object."""


def parse_pointer(text: Any) -> list[str]:
    """The tokens of a JSON pointer ('/spec/replicas' -> ['spec', 'replicas'])."""
    if not isinstance(text, str):
        raise PointerError(f"a JSON pointer is a string, not {type(text).__name__}")
    if not text.startswith("/"):
        raise PointerError(f"{text!r} is no JSON pointer: it starts with '/' (for example /spec/replicas)")
    if text == "/":
        raise PointerError("'/' names a field with an empty name, not a field of the object")
    tokens = []
    for raw in text[1:].split("/"):
        if re.search(r"~(?![01])", raw):
            raise PointerError(f"{text!r}: '~' is written ~0 and '/' ~1 in a token (RFC 6901)")
        if raw == "":
            raise PointerError(f"{text!r} has an empty token ('//' or a trailing '/')")
        if raw == "-":
            raise PointerError(f"{text!r}: '-' names the end of a list, no entry of it")
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tokens


def _entry_matches(entry: Any, token: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    if isinstance(token, dict):
        return all(key in entry and str(entry[key]) == str(value) for key, value in token.items())
    match = ENTRY.match(token)
    return bool(match) and str(entry.get(match["key"], object())) == match["value"]


def slot_of(container: Any, token: Any) -> Any:
    """The key or index the token names in the container, or None when it names nothing there."""
    if isinstance(container, dict):
        return token if isinstance(token, str) and token in container else None
    if isinstance(container, list):
        if isinstance(token, str) and INDEX.match(token):
            return int(token) if int(token) < len(container) else None
        for index, entry in enumerate(container):
            if _entry_matches(entry, token):
                return index
    return None


def _label(path: str, container: Any, token: Any, slot: Any) -> str:
    if isinstance(container, dict):
        return join_path(path, slot)
    if isinstance(token, dict):
        return f"{path}[{','.join(f'{key}={value}' for key, value in token.items())}]"
    match = ENTRY.match(token) if not INDEX.match(token) else None
    return f"{path}[{match['key']}={match['value']}]" if match else f"{path}[{slot}]"


def locate(document: Any, tokens: list) -> tuple[Any, Any, str] | None:
    """Where the tokens lead in the document: (container, key or index, path as the report names fields), or
    None when a token names nothing there."""
    container, slot, path = None, None, ""
    value = document
    for token in tokens:
        found = slot_of(value, token)
        if found is None:
            return None
        path = _label(path, value, token, found)
        container, slot, value = value, found, value[found]
    if container is None:
        return None
    return container, slot, path


def resolve(document: Any, tokens: list) -> tuple[bool, Any]:
    """(True, value) at the tokens' location, (False, None) when there is none."""
    place = locate(document, tokens)
    return (True, place[0][place[1]]) if place else (False, None)
