"""plugins/module_utils/postgres_credentials.py: the 1Password item of the database owner, judged."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.postgres_credentials import (
    Item,
    owner_problem,
    read_failure,
)

ITEM = Item("onepassword_connect", "Secrets", "mlflow-db", "login", "secret", "mlflow")
PASSWORD = "n0t-shown"  # noqa: S105 (a test credential)


def test_the_backend_follows_the_source():
    assert ITEM.backend == "connect"
    assert Item("onepassword_sdk", "v", "i", "u", "p", "o").backend == "sdk"


def test_a_failed_read_names_every_variable_and_the_source():
    message = read_failure(ITEM, "vault 'Secrets' not found")
    for part in (
        "postgres_onepassword_username_field",
        "postgres_onepassword_password_field",
        "item mlflow-db (postgres_onepassword_item)",
        "vault Secrets (postgres_onepassword_vault)",
        "through 1Password Connect (postgres_credentials_source onepassword_connect)",
        "failed: vault 'Secrets' not found",
    ):
        assert part in message
    assert read_failure(ITEM, "").endswith("failed: no reason given")


def test_an_item_with_the_owner_and_a_password_is_fine():
    assert owner_problem(ITEM, {"login": "mlflow", "secret": PASSWORD}) is None


@pytest.mark.parametrize(
    "fields",
    [{"login": "admin", "secret": PASSWORD}, {"login": "mlflow", "secret": ""}, {"login": "mlflow"}, {}],
)
def test_another_user_or_no_password_names_the_fields_to_fix_and_no_value(fields):
    message = owner_problem(ITEM, fields)
    assert message.startswith("Item mlflow-db in vault Secrets does not hold the credentials of the database owner")
    assert "postgres_onepassword_password_field" in message
    assert "postgres_onepassword_username_field" in message
    assert PASSWORD not in message
    assert "admin" not in message
