# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""1Password secret references: ``op://<vault>/<item>/[<section>/]<field>``."""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import OnePasswordConfigError

REFERENCE_PREFIX = "op://"


@dataclass(frozen=True)
class SecretReference:
    """One field of one item: ``op://<vault>/<item>/[<section>/]<field>``.

    Vault and item are names or IDs; section and field are labels or IDs. A reference names a
    secret but is not one, so it may appear in messages.
    """

    vault: str
    item: str
    field: str
    section: str | None = None

    @classmethod
    def parse(cls, text):
        """Parse ``op://vault/item/field`` or ``op://vault/item/section/field``."""
        if not isinstance(text, str) or not text.startswith(REFERENCE_PREFIX):
            raise OnePasswordConfigError(
                f"{text!r} is not a 1Password secret reference: expected op://<vault>/<item>/[<section>/]<field>"
            )
        path = text[len(REFERENCE_PREFIX) :]
        if "?" in path:
            raise OnePasswordConfigError(
                f"{text}: query parameters such as ?attribute= are not supported; name the field itself"
            )
        parts = path.split("/")
        if len(parts) not in (3, 4) or not all(part.strip() for part in parts):
            raise OnePasswordConfigError(
                f"{text} is not a valid secret reference: expected op://<vault>/<item>/[<section>/]<field> "
                "with no empty part"
            )
        if len(parts) == 3:
            return cls(vault=parts[0], item=parts[1], field=parts[2])
        return cls(vault=parts[0], item=parts[1], section=parts[2], field=parts[3])

    @classmethod
    def for_field(cls, vault, item, field):
        """The reference to `field` (a label or ID, or ``section/field``) of `item` in `vault`."""
        for what, value in (("vault", vault), ("item", item), ("field", field)):
            if not isinstance(value, str) or not value.strip():
                raise OnePasswordConfigError(f"the {what} to read must be a non-empty string, got {value!r}")
        for what, value in (("vault", vault), ("item", item)):
            if "/" in value:
                raise OnePasswordConfigError(f"the {what} name {value!r} holds a '/': use its ID instead")
        section, separator, label = field.rpartition("/")
        if separator and (not section.strip() or not label.strip() or "/" in section):
            raise OnePasswordConfigError(f"the field {field!r} is neither <field> nor <section>/<field>")
        return cls(vault=vault, item=item, field=label, section=section or None)

    def __str__(self):
        middle = f"{self.section}/" if self.section else ""
        return f"{REFERENCE_PREFIX}{self.vault}/{self.item}/{middle}{self.field}"

    @property
    def field_path(self):
        """The field as `read_item` names it: ``field`` or ``section/field``."""
        return f"{self.section}/{self.field}" if self.section else self.field
