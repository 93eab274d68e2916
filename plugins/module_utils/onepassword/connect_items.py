# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Finding things in Connect's answers: a vault or item by name, a field of a FullItem by ID or label."""

from __future__ import annotations

import re

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordError,
    OnePasswordNotFoundError,
    labels,
)

# 1Password IDs (vaults, items) are 26 lower-case letters and digits; a name of that shape is taken
# as an ID, as `op://` references allow either.
ID_PATTERN = re.compile(r"^[0-9a-z]{26}$")


def scim_string(value):
    """`value` as the inside of a quoted string of a SCIM filter (``name eq "..."``)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def single_id(name, entries, key, not_found, ambiguous):
    """The ID of the one entry (a vault, an item) whose `key` is `name`, matched as `matching` does.

    OnePasswordNotFoundError(`not_found`) when none is, OnePasswordError(`ambiguous`) when several are.
    """
    ids = [entry.get("id") for entry in matching(name, entries, lambda entry: (entry.get(key),))]
    if not ids:
        raise OnePasswordNotFoundError(not_found)
    if len(ids) > 1:
        raise OnePasswordError(ambiguous)
    return ids[0]


def field_value(full_item, ref):
    """The value of `ref`'s field in a Connect FullItem, matched by ID or label (exact, then any case)."""
    title = full_item.get("title", ref.item)
    where = f"item {title!r} of vault {ref.vault!r}"
    sections = {
        section.get("id"): section.get("label") or section.get("id") for section in full_item.get("sections") or []
    }
    fields = full_item.get("fields") or []
    if ref.section:
        section_ids = matching(ref.section, sections.items(), lambda entry: (entry[0], entry[1]))
        if not section_ids:
            named = [label for label in sections.values() if label]
            raise OnePasswordNotFoundError(
                f"{ref}: section {ref.section!r} not found in {where}; its sections are: {labels(named)}"
            )
        ids = {entry[0] for entry in section_ids}
        fields = [field for field in fields if (field.get("section") or {}).get("id") in ids]
    matches = matching(ref.field, fields, lambda field: (field.get("id"), field.get("label")))
    if not matches:
        raise OnePasswordNotFoundError(
            f"{ref}: field {ref.field_path!r} not found in {where}; its fields are: "
            f"{labels(_connect_labels(full_item, sections))}"
        )
    if len(matches) > 1 and not ref.section:
        # As for a Login's built-in username and password: a field outside every section wins.
        unsectioned = [field for field in matches if not (field.get("section") or {}).get("id")]
        matches = unsectioned if len(unsectioned) == 1 else matches
    if len(matches) > 1:
        raise OnePasswordError(
            f"{ref}: more than one field of {where} matches {ref.field_path!r}: use <section>/<field> or the field's ID"
        )
    return matches[0].get("value") or ""


def matching(name, entries, keys):
    """The entries one of whose `keys` is `name`: exact matches if any, else case-insensitive ones."""
    entries = list(entries)
    exact = [entry for entry in entries if name in keys(entry)]
    if exact:
        return exact
    folded = name.casefold()
    return [entry for entry in entries if any(key and key.casefold() == folded for key in keys(entry))]


def _connect_labels(full_item, sections):
    names = []
    for field in full_item.get("fields") or []:
        label = field.get("label") or field.get("id")
        section = sections.get((field.get("section") or {}).get("id"))
        names.append(f"{section}/{label}" if section else label)
    return names
