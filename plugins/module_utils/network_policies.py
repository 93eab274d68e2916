# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A namespace's network policies against the ones a flow model declares.

The role's policies carry its labels: those the model does not have are stale (they may allow
more than the model), and each declared one must be there with exactly the rendered spec.
"""

from __future__ import annotations

import json

APPLY_AGAIN = "run the role's apply (ansible-playbook site.yml --tags networkpolicy), which restores it."


def selector(labels: dict) -> str:
    """A label selector that matches objects with every one of the labels."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def _key(obj: dict) -> tuple[str, str]:
    return str(obj.get("kind")), str((obj.get("metadata") or {}).get("name"))


def stale(live: list[dict], declared: list[dict]) -> list[dict]:
    """The live policies the declaration does not have, as references for an apply's `absent`."""
    wanted = {_key(obj) for obj in declared}
    return [
        {"apiVersion": obj.get("apiVersion"), "kind": kind, "metadata": {"name": name}}
        for obj in live
        for kind, name in [_key(obj)]
        if (kind, name) not in wanted
    ]


def problems(namespace: str, declared: list[dict], live: list[dict]) -> list[str]:
    """What differs: a declared policy missing or with another spec, and stale policies."""
    found = {_key(obj): obj for obj in live}
    wrong = []
    for obj in declared:
        kind, name = _key(obj)
        there = found.get((kind, name))
        if there is None:
            wrong.append(
                f"{kind} {name} in namespace {namespace} is missing (or lacks the role's labels): {APPLY_AGAIN}"
            )
        elif there.get("spec") != obj.get("spec"):
            wrong.append(
                f"{kind} {name} in namespace {namespace} has the spec {json.dumps(there.get('spec'), sort_keys=True)}, "
                f"not the rendered {json.dumps(obj.get('spec'), sort_keys=True)}: {APPLY_AGAIN}"
            )
    left = stale(live, declared)
    if left:
        names = ", ".join(f"{ref['kind']} {ref['metadata']['name']}" for ref in left)
        wrong.append(
            f"Namespace {namespace} has policies with the role's labels that the flow model does not have: {names}. "
            "They may allow more than the model: run the role's apply (ansible-playbook site.yml --tags "
            "networkpolicy), which removes them."
        )
    return wrong
