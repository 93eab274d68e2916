"""plugins/module_utils/onepassword/references.py: ``op://`` secret references parsed, built and refused."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordConfigError,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.references import SecretReference


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("op://Homelab/mlflow-postgres/password", ("Homelab", "mlflow-postgres", None, "password")),
        ("op://Homelab/mlflow-postgres/connection/host", ("Homelab", "mlflow-postgres", "connection", "host")),
        ("op://Home Lab/my item/secret access key", ("Home Lab", "my item", None, "secret access key")),
    ],
)
def test_parses_references_with_and_without_a_section(text, expected):
    ref = SecretReference.parse(text)

    assert (ref.vault, ref.item, ref.section, ref.field) == expected
    assert str(ref) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Homelab/item/field", "is not a 1Password secret reference"),
        ("op://Homelab/item", "is not a valid secret reference"),
        ("op://Homelab//field", "no empty part"),
        ("op://a/b/c/d/e", "is not a valid secret reference"),
        ("op://Homelab/item/otp?attribute=totp", "query parameters"),
        (None, "is not a 1Password secret reference"),
    ],
)
def test_refuses_malformed_references_naming_them(text, message):
    with pytest.raises(OnePasswordConfigError, match=message) as failure:
        SecretReference.parse(text)

    if text:
        assert text.split("?")[0] in str(failure.value)


def test_fields_of_an_item_become_references():
    assert str(SecretReference.for_field("Homelab", "db", "password")) == "op://Homelab/db/password"
    ref = SecretReference.for_field("Homelab", "db", "connection/host")
    assert (ref.section, ref.field, ref.field_path) == ("connection", "host", "connection/host")


@pytest.mark.parametrize(
    ("vault", "item", "field", "message"),
    [
        ("a/b", "item", "field", "holds a '/'"),
        ("Homelab", "", "field", "non-empty"),
        ("Homelab", "item", "a/b/c", "neither"),
        ("Homelab", "item", "/field", "neither"),
    ],
)
def test_refuses_field_names_that_cannot_be_references(vault, item, field, message):
    with pytest.raises(OnePasswordConfigError, match=message):
        SecretReference.for_field(vault, item, field)
