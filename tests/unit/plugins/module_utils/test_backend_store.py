"""plugins/module_utils/backend_store.py: the backend store URI from the credentials Secret."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import unquote, urlsplit

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.backend_store import (
    CredentialsError,
    backend_store_uri,
    checksum,
    credentials,
)

PASSWORD = "p@ss/w:rd#%?&=+ \"'\\ü"  # noqa: S105 (a test credential)


def secret(**values: str) -> dict:
    return {"kind": "Secret", "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}}


def test_the_credentials_are_read_from_base64():
    assert credentials(secret(username="mlflow@lab", password=PASSWORD)) == ("mlflow@lab", PASSWORD)


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        (None, "does not exist"),
        (secret(username="mlflow"), "has no non-empty keys username and password"),
        (secret(username="", password="x"), "has no non-empty keys username and password"),  # noqa: S106
        ({"data": {"username": "bm90IGJhc2U2NA==", "password": "%%%"}}, "password that is not base64"),
    ],
    ids=["missing", "no-password", "empty-username", "not-base64"],
)
def test_unusable_credentials_say_why(obj, problem):
    with pytest.raises(CredentialsError, match=problem):
        credentials(obj)


def test_the_uri_parses_back_to_exactly_the_credentials():
    uri = backend_store_uri("mlflow@lab", PASSWORD, "psycopg2", "mlflow-postgres-rw.ns.svc", 5432, "ml flow")
    parts = urlsplit(uri)

    assert (parts.scheme, parts.hostname, parts.port, unquote(parts.path)) == (
        "postgresql+psycopg2",
        "mlflow-postgres-rw.ns.svc",
        5432,
        "/ml flow",
    )
    assert (unquote(parts.username), unquote(parts.password)) == ("mlflow@lab", PASSWORD)


def test_the_checksum_is_the_uris_sha256():
    uri = backend_store_uri("u", "p", "psycopg2", "h", 5432, "d")

    assert checksum(uri) == hashlib.sha256(uri.encode()).hexdigest()
    assert checksum(uri) != checksum(backend_store_uri("u", "p2", "psycopg2", "h", 5432, "d"))
