"""plugins/module_utils/onepassword/connect_backend.py and connect_items.py: the connect backend against
the fake Connect server of tools/standins/onepassword_connect, which checks every request and answer
against Connect's OpenAPI document.
"""

from __future__ import annotations

import socket

import pytest
from onepassword_client_testing import FAST, REFUSED_ALIKE, assert_no_secret, connect_client
from onepassword_connect import fake_id
from onepassword_connect.fixtures import HOMELAB_ONLY_TOKEN, TOKEN

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.clients import (
    onepassword_client,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.connect_backend import (
    ConnectClient,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordAuthError,
    OnePasswordNotFoundError,
    OnePasswordRateLimitError,
    OnePasswordUnavailableError,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.retry import RetryPolicy

HOMELAB = fake_id("vault", "Homelab")
POSTGRES = fake_id("item", HOMELAB, "mlflow-postgres")


def test_connect_backend_against_fake_connect_server_reads_references_with_and_without_sections(fake_connect):
    values = connect_client(fake_connect).read(
        [
            "op://Homelab/mlflow-postgres/password",
            "op://Homelab/mlflow-postgres/connection/host",
            "op://Homelab/mlflow-postgres/replication/password",
            "op://Homelab/mlflow-s3/secret access key",
        ]
    )

    assert values == [
        "fake-Pg-Passw0rd-7f3a9c",
        "mlflow-postgres-rw.mlflow.svc",
        "fake-Repl-Passw0rd-2b8e41",
        "fake-S3-Secret-d41d8c",
    ]


def test_connect_backend_against_fake_connect_server_makes_one_read_per_item(fake_connect):
    client = connect_client(fake_connect)

    client.read_item("Homelab", "mlflow-postgres", ["username", "password", "connection/host", "connection/port"])
    client.read(["op://Homelab/mlflow-s3/access key id", "op://Homelab/mlflow-s3/secret access key"])
    client.read(["op://Homelab/mlflow-postgres/password"])

    # One vault lookup, one item lookup and one item read per item; nothing again for an item read before.
    assert fake_connect.count(path="/v1/vaults") == 1
    assert fake_connect.count(path=f"/v1/vaults/{HOMELAB}/items") == 2
    assert len(fake_connect.item_reads()) == 2
    assert client.requests == len(fake_connect.requests) == 5


def test_connect_backend_against_fake_connect_server_takes_ids_without_looking_them_up(fake_connect):
    values = connect_client(fake_connect).read([f"op://{HOMELAB}/{POSTGRES}/username"])

    assert values == ["mlflow"]
    assert [request.path for request in fake_connect.requests] == [f"/v1/vaults/{HOMELAB}/items/{POSTGRES}"]


def test_connect_backend_against_fake_connect_server_escapes_quotes_in_titles(fake_connect):
    value = connect_client(fake_connect).read_item("Infrastructure", 'quoted "title" \\ backslash', ["note"])

    assert value == {"note": "fake-Quoted-Item-Value-5c2e"}


def test_connect_backend_against_fake_connect_server_prefers_a_field_outside_sections(fake_connect):
    client = connect_client(fake_connect)

    assert client.read(["op://Homelab/mlflow-postgres/password"]) == ["fake-Pg-Passw0rd-7f3a9c"]
    assert client.read(["op://Homelab/mlflow-postgres/USERNAME"]) == ["mlflow"], "any case when unambiguous"


@pytest.mark.parametrize(
    ("reference", "error", "message"),
    [
        *REFUSED_ALIKE,
        (
            "op://Homelab/mlflow-postgres/pasword",
            OnePasswordNotFoundError,
            "field 'pasword' not found in item 'mlflow-postgres' of vault 'Homelab'; its fields are: 'username', "
            "'password', 'connection/host', 'connection/port', 'replication/password', 'replication/host'",
        ),
        (
            "op://Homelab/mlflow-postgres/nosuchsection/host",
            OnePasswordNotFoundError,
            "section 'nosuchsection' not found .* its sections are: 'connection', 'replication'",
        ),
        (f"op://{fake_id('nope')}/item/field", OnePasswordNotFoundError, "vault '.*' not found"),
        (f"op://Homelab/{fake_id('nope')}/field", OnePasswordNotFoundError, "item '.*' not found"),
    ],
)
def test_connect_backend_against_fake_connect_server_says_what_is_missing_without_values(
    fake_connect, reference, error, message
):
    with pytest.raises(error, match=message) as failure:
        connect_client(fake_connect).read([reference])

    assert_no_secret(str(failure.value))


def test_connect_backend_against_fake_connect_server_reports_every_missing_field_of_an_item_at_once(fake_connect):
    with pytest.raises(OnePasswordNotFoundError) as failure:
        connect_client(fake_connect).read_item("Homelab", "mlflow-postgres", ["user", "password", "pass"])

    assert "field 'user' not found" in str(failure.value)
    assert "field 'pass' not found" in str(failure.value)
    assert_no_secret(str(failure.value))


def test_connect_backend_against_fake_connect_server_reads_duplicates_by_id(fake_connect):
    client = connect_client(fake_connect)

    assert client.read(["op://Homelab/duplicate0second0item00000/token"]) == ["fake-second-token-value"]


def test_connect_backend_against_fake_connect_server_reports_a_bad_token_without_retrying(fake_connect):
    client = connect_client(fake_connect, token=TOKEN + "-wrong")

    with pytest.raises(
        OnePasswordAuthError, match=r"refused the token \(HTTP 401: Invalid token signature\)"
    ) as failure:
        client.read(["op://Homelab/mlflow-postgres/password"])

    assert "connect_token or OP_CONNECT_TOKEN" in str(failure.value)
    assert_no_secret(str(failure.value))
    assert len(fake_connect.requests) == 1


def test_connect_backend_against_fake_connect_server_reports_vaults_out_of_the_tokens_scope(fake_connect):
    client = connect_client(fake_connect, token=HOMELAB_ONLY_TOKEN)
    infrastructure = fake_id("vault", "Infrastructure")
    authentik = fake_id("item", infrastructure, "authentik")

    with pytest.raises(OnePasswordNotFoundError, match="vault 'Infrastructure' not found, or the Connect token"):
        client.read(["op://Infrastructure/authentik/credential"])
    with pytest.raises(OnePasswordAuthError, match=r"may not read this \(HTTP 403"):
        client.read([f"op://{infrastructure}/{authentik}/credential"])


def test_connect_backend_against_fake_connect_server_retries_after_429_then_reads(fake_connect):
    fake_connect.rate_limit_next(2, retry_after=0)
    client = connect_client(fake_connect)

    assert client.read(["op://Homelab/mlflow-postgres/password"]) == ["fake-Pg-Passw0rd-7f3a9c"]
    assert client.retries == 2
    assert [request.status for request in fake_connect.requests] == [429, 429, 200, 200, 200]


def test_connect_backend_against_fake_connect_server_waits_as_long_as_retry_after_says(fake_connect):
    fake_connect.rate_limit_next(2, retry_after=7)
    sleeps = []
    policy = RetryPolicy(retries=3, delay=0.001, max_delay=5.0, sleep=sleeps.append)
    client = ConnectClient(fake_connect.url, TOKEN, policy, timeout=5)

    client.read(["op://Homelab/mlflow-postgres/username"])

    assert sleeps == [5.0, 5.0], "Retry-After, at most retry_max_delay"


def test_connect_backend_against_fake_connect_server_gives_up_after_429s_outlast_the_retries(fake_connect):
    fake_connect.rate_limit_next(10)

    with pytest.raises(OnePasswordRateLimitError, match=r"still rate limiting after 3 attempts \(HTTP 429") as err:
        connect_client(fake_connect, retries=2).read(["op://Homelab/mlflow-postgres/username"])
    assert len(fake_connect.requests) == 3
    # A Connect server's limit is its own: nothing about service account quotas.
    assert "The Connect server at" in str(err.value)
    assert "Service account" not in str(err.value)


def test_connect_backend_against_fake_connect_server_fails_clearly_after_repeated_500s(fake_connect):
    fake_connect.fail_next(10, status=500)

    with pytest.raises(OnePasswordUnavailableError) as failure:
        connect_client(fake_connect, retries=3).read(["op://Homelab/mlflow-postgres/username"])

    assert str(failure.value) == (
        "looking up vault 'Homelab': failed after 4 attempts: HTTP 500: injected by the fake server"
    )
    assert len(fake_connect.requests) == 4


def test_connect_backend_against_fake_connect_server_retries_a_503_then_reads(fake_connect):
    fake_connect.fail_next(1, status=503, path_prefix=f"/v1/vaults/{HOMELAB}/items/")
    client = connect_client(fake_connect)

    assert client.read(["op://Homelab/mlflow-postgres/username"]) == ["mlflow"]
    assert client.retries == 1
    assert len(fake_connect.item_reads()) == 2


def test_connect_backend_against_fake_connect_server_retries_a_request_that_times_out(fake_connect):
    fake_connect.hang_next(2, seconds=1.5)
    client = connect_client(fake_connect, timeout=0.2)

    assert client.read(["op://Homelab/mlflow-postgres/username"]) == ["mlflow"]
    assert client.retries == 2


def test_connect_backend_against_fake_connect_server_gives_up_when_every_attempt_times_out(fake_connect):
    fake_connect.hang_next(2, seconds=1.5)

    with pytest.raises(OnePasswordUnavailableError, match=r"failed after 2 attempts: no answer from .* within 0.2"):
        connect_client(fake_connect, timeout=0.2, retries=1).read(["op://Homelab/mlflow-postgres/username"])


def test_connect_backend_against_fake_connect_server_retries_a_dropped_connection(fake_connect):
    fake_connect.drop_next(2)
    client = connect_client(fake_connect)

    assert client.read(["op://Homelab/mlflow-postgres/username"]) == ["mlflow"]
    assert client.retries == 2


def test_connect_backend_retries_a_refused_connection_then_gives_up():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = onepassword_client(
        "connect", connect_host=f"http://127.0.0.1:{port}", connect_token=TOKEN, retries=2, **FAST
    )

    with pytest.raises(OnePasswordUnavailableError, match=r"failed after 3 attempts: connection to .* failed"):
        client.read(["op://Homelab/mlflow-postgres/username"])
    assert client.retries == 2


def test_connect_backend_against_fake_connect_server_checks_heartbeat_and_health(fake_connect):
    client = connect_client(fake_connect)

    assert client.heartbeat() is True
    assert client.health()["name"] == "1Password Connect API"
    assert all(request.authorization is None for request in fake_connect.requests), "no token where none is needed"
