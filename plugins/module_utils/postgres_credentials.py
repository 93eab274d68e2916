# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether the 1Password item homelab.mlflow.postgres reads holds the database owner's credentials.

Messages name the role's variables and never a value: a read that failed says what was read, through
which source, and why; an item that was read says which of its fields to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

# The credentials sources that read the item on the controller: the module's backend, and how to say it.
SOURCES = {
    "onepassword_sdk": ("sdk", "the 1Password SDK"),
    "onepassword_connect": ("connect", "1Password Connect"),
}


@dataclass(frozen=True)
class Item:
    """Where the owner's credentials are: postgres_credentials_source and the postgres_onepassword_* variables."""

    source: str
    vault: str
    item: str
    username_field: str
    password_field: str
    owner: str

    @property
    def backend(self) -> str:
        return SOURCES[self.source][0]


def read_failure(item: Item, reason: str) -> str:
    """The message of a read that failed (the reason comes from the module and holds no value)."""
    return (
        f"Reading the fields {item.username_field} and {item.password_field} (postgres_onepassword_username_field, "
        f"postgres_onepassword_password_field) of item {item.item} (postgres_onepassword_item) in vault {item.vault} "
        f"(postgres_onepassword_vault) through {SOURCES[item.source][1]} (postgres_credentials_source "
        f"{item.source}) failed: {reason or 'no reason given'}"
    )


def owner_problem(item: Item, fields: dict) -> str | None:
    """None when the item's fields hold a password and the owner's user name; else what to fix."""
    if fields.get(item.password_field) and fields.get(item.username_field) == item.owner:
        return None
    return (
        f"Item {item.item} in vault {item.vault} does not hold the credentials of the database owner postgres_owner "
        f"({item.owner}): its field {item.password_field} (postgres_onepassword_password_field) must hold a password, "
        f"and its field {item.username_field} (postgres_onepassword_username_field) the user name {item.owner}, which "
        "initdb creates and MLflow connects as. Fix the item in 1Password, or point postgres_onepassword_item or the "
        "field variables at the right one."
    )
