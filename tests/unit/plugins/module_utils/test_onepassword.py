"""plugins/module_utils/onepassword.py: references, retries, the client cache, and both backends.

The sdk backend is tested at the onepassword-sdk `Client` boundary: `Client.authenticate` is
patched to return a client whose `secrets`, `items` and `vaults` are autospecs of the installed
SDK's classes (so a call that does not match the SDK's signatures fails) answering with the SDK's
own pydantic types. The connect backend is tested against the fake Connect server of
tests/fakes/onepassword_connect, which checks every request and answer against Connect's OpenAPI
document.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import time
from collections import deque
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import onepassword
import pytest
import yaml
from onepassword.errors import RateLimitExceededException
from onepassword.types import Item, ItemOverview, ResolveAllResponse, VaultOverview
from onepassword_connect import EXAMPLE_DATA, fake_id, load_data
from onepassword_connect.fixtures import (  # noqa: F401  # pylint: disable=unused-import
    HOMELAB_ONLY_TOKEN,
    TOKEN,
    example_secret_values,
    fake_connect_fixture,
    fake_connect_server_fixture,
)

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword import clients, sdk_backend
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.clients import (
    clear_clients,
    client_from_params,
    onepassword_client,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.connect_backend import (
    ConnectClient,
    normalize_connect_host,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordAuthError,
    OnePasswordConfigError,
    OnePasswordError,
    OnePasswordNotFoundError,
    OnePasswordRateLimitError,
    OnePasswordUnavailableError,
    gave_up_error,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.options import ONEPASSWORD_ARG_SPEC
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.references import SecretReference
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.sdk_backend import (
    INTEGRATION_NAME,
    INTEGRATION_VERSION,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.retry import RetriesExhausted, RetryPolicy, Transient

REPO = Path(__file__).resolve().parents[4]

SDK_TOKEN = "-".join(("ops", "fake", "service", "account", "token"))
SECRETS = example_secret_values()
HOMELAB = fake_id("vault", "Homelab")
POSTGRES = fake_id("item", HOMELAB, "mlflow-postgres")
FAST = {"retry_delay": 0.001, "retry_max_delay": 0.01}
# Taken before any test patches Client.authenticate.
AUTHENTICATE = inspect.signature(onepassword.Client.authenticate)


@pytest.fixture(autouse=True)
def _fresh_clients():
    clear_clients()
    yield
    clear_clients()


def connect_client(server, token=TOKEN, **options):
    return onepassword_client("connect", connect_host=server.url, connect_token=token, **{**FAST, **options})


def assert_no_secret(text):
    for secret in (*SECRETS, TOKEN, HOMELAB_ONLY_TOKEN, SDK_TOKEN):
        assert secret not in text


# -- references


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


# -- retries (the policy itself: test_retry.py)


def test_retries_that_run_out_say_how_many_attempts_failed_and_why():
    error = gave_up_error(RetriesExhausted(Transient("HTTP 503"), 4), "reading x")

    assert isinstance(error, OnePasswordUnavailableError)
    assert str(error) == "reading x: failed after 4 attempts: HTTP 503"


def test_rate_limiting_that_outlasts_the_retries_is_reported_as_such():
    error = gave_up_error(RetriesExhausted(Transient("HTTP 429", rate_limited=True), 2), "reading x", "Wait")

    assert isinstance(error, OnePasswordRateLimitError)
    assert str(error) == "reading x: 1Password is still rate limiting after 2 attempts (HTTP 429). Wait"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retries": -1}, "retries must be"),
        ({"retries": 1.5}, "retries must be"),
        ({"retry_delay": -1}, "retry_delay must be"),
        ({"retry_max_delay": "soon"}, "retry_max_delay must be"),
        ({"timeout": 0}, "timeout must be"),
    ],
)
def test_refuses_retry_and_timeout_settings_that_cannot_work(options, message):
    with pytest.raises(OnePasswordConfigError, match=message):
        onepassword_client("connect", connect_host="http://connect:8080", connect_token=TOKEN, **options)


# -- options and the client cache


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"backend": "sdk"}, "service_account_token or OP_SERVICE_ACCOUNT_TOKEN"),
        ({"backend": "connect", "connect_token": TOKEN}, "connect_host or OP_CONNECT_HOST"),
        ({"backend": "connect", "connect_host": "http://connect:8080"}, "connect_token or OP_CONNECT_TOKEN"),
        ({"backend": "connect", "connect_host": "connect:8080", "connect_token": TOKEN}, "http:// or https://"),
        ({"backend": "cli"}, "backend must be one of sdk, connect"),
    ],
)
def test_missing_or_wrong_options_name_the_option_and_its_variable(options, message):
    with pytest.raises(OnePasswordConfigError, match=message):
        onepassword_client(**options)


@pytest.mark.parametrize("host", ["http://connect:8080", "http://connect:8080/", "http://connect:8080/v1/"])
def test_connect_host_may_end_in_a_slash_or_v1(host):
    assert normalize_connect_host(host) == "http://connect:8080"


def test_one_client_per_backend_and_credentials_in_a_process():
    first = onepassword_client("connect", connect_host="http://connect:8080", connect_token=TOKEN)
    again = onepassword_client("connect", connect_host="http://connect:8080/", connect_token=TOKEN, retries=1)
    other = onepassword_client("connect", connect_host="http://connect:8080", connect_token=HOMELAB_ONLY_TOKEN)
    sdk = onepassword_client("sdk", service_account_token=SDK_TOKEN)

    assert again is first
    assert first.retry_policy.retries == 1, "the latest settings apply to the shared client"
    assert other is not first
    assert sdk is onepassword_client("sdk", service_account_token=SDK_TOKEN)
    assert sdk is not onepassword_client("sdk", service_account_token=SDK_TOKEN + "2")


def test_a_forked_process_gets_its_own_client(monkeypatch):
    parent = onepassword_client("sdk", service_account_token=SDK_TOKEN)
    monkeypatch.setattr(clients.os, "getpid", lambda: -1)

    assert onepassword_client("sdk", service_account_token=SDK_TOKEN) is not parent


def test_client_from_params_takes_the_argument_spec_options():
    params = {name: None for name in ONEPASSWORD_ARG_SPEC}
    params.update(backend="connect", connect_host="http://connect:8080", connect_token=TOKEN, retries=2)

    client = client_from_params(params)

    assert (client.backend, client.retry_policy.retries, client.validate_certs, client.timeout) == (
        "connect",
        2,
        True,
        30.0,
    )


def test_the_integration_version_is_the_collection_version():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())

    assert (INTEGRATION_NAME, INTEGRATION_VERSION) == (
        f"{galaxy['namespace']}.{galaxy['name']}",
        galaxy["version"],
    )


def test_without_the_sdk_the_sdk_backend_says_what_to_install(monkeypatch):
    monkeypatch.setattr(sdk_backend, "HAS_ONEPASSWORD_SDK", False)

    with pytest.raises(OnePasswordConfigError, match=r"install it \(pip install onepassword-sdk\)"):
        onepassword_client("sdk", service_account_token=SDK_TOKEN)


# -- the sdk backend, at the SDK's Client boundary


class FakeSdk:
    """onepassword-sdk's `Client` with example.yaml's vaults, answering with the SDK's own types."""

    def __init__(self, data):
        self.vaults = []
        for vault in data["vaults"]:
            vault_id = vault.get("id") or fake_id("vault", vault["name"])
            items = []
            for item in vault.get("items") or []:
                item_id = item.get("id") or fake_id("item", vault_id, item["title"])
                sections = {}
                fields = []
                for field in item.get("fields") or []:
                    section_id = (
                        sections.setdefault(field["section"], fake_id(item_id, field["section"]))
                        if (field.get("section"))
                        else None
                    )
                    fields.append(
                        {
                            "id": fake_id("field", item_id, field.get("section") or "", field["label"]),
                            "title": field["label"],
                            "sectionId": section_id,
                            "fieldType": "Concealed" if field.get("type") == "CONCEALED" else "Text",
                            "value": field.get("value", ""),
                        }
                    )
                items.append(
                    {
                        "id": item_id,
                        "title": item["title"],
                        "fields": fields,
                        "sections": [{"id": sid, "title": title} for title, sid in sections.items()],
                    }
                )
            self.vaults.append({"id": vault_id, "title": vault["name"], "items": items})
        self.tokens = {SDK_TOKEN}
        self.calls = []
        # What the next calls do instead of answering: an exception to raise or seconds to stall.
        self.upsets = deque()

    def install(self, monkeypatch):
        monkeypatch.setattr(onepassword.Client, "authenticate", self.authenticate)
        return self

    def calls_to(self, name):
        return [args for called, args in self.calls if called == name]

    async def _enter(self, name, args):
        self.calls.append((name, args))
        if self.upsets:
            upset = self.upsets.popleft()
            if isinstance(upset, Exception):
                raise upset
            await asyncio.sleep(upset)

    async def authenticate(self, *args, **kwargs):
        bound = AUTHENTICATE.bind(*args, **kwargs)
        await self._enter("authenticate", bound.arguments)
        if bound.arguments["auth"] not in self.tokens:
            raise Exception(  # the SDK raises bare Exceptions
                "error initializing client: invalid service account token, please make sure you provide a valid "
                f"service account token as parameter: {bound.arguments['auth']}"
            )
        client = SimpleNamespace(
            secrets=mock.create_autospec(onepassword.Secrets, instance=True),
            items=mock.create_autospec(onepassword.Items, instance=True),
            vaults=mock.create_autospec(onepassword.Vaults, instance=True),
        )
        client.secrets.resolve_all.side_effect = self.resolve_all
        client.items.get.side_effect = self.get_item
        client.items.list.side_effect = self.list_items
        client.vaults.list.side_effect = self.list_vaults
        return client

    async def resolve_all(self, secret_references):
        await self._enter("resolve_all", list(secret_references))
        answers = {}
        for reference in secret_references:
            answers[reference] = self._resolve(reference)
        return ResolveAllResponse.model_validate({"individualResponses": answers})

    def _resolve(self, reference):
        parts = reference[len("op://") :].split("/") if reference.startswith("op://") else []
        if len(parts) not in (3, 4):
            return {"error": {"type": "parsing", "message": "invalid secret reference"}}
        vaults = [v for v in self.vaults if parts[0] in (v["id"], v["title"])]
        if len(vaults) != 1:
            return {"error": {"type": "vaultNotFound" if not vaults else "tooManyVaults"}}
        items = [i for i in vaults[0]["items"] if parts[1] in (i["id"], i["title"])]
        if len(items) != 1:
            return {"error": {"type": "itemNotFound" if not items else "tooManyItems"}}
        fields = items[0]["fields"]
        if len(parts) == 4:
            sections = [s["id"] for s in items[0]["sections"] if parts[2] in (s["id"], s["title"])]
            if not sections:
                return {"error": {"type": "noMatchingSections"}}
            fields = [f for f in fields if f["sectionId"] in sections]
        fields = [f for f in fields if parts[-1] in (f["id"], f["title"])]
        if len(fields) != 1:
            return {"error": {"type": "fieldNotFound" if not fields else "tooManyMatchingFields"}}
        secret = {"secret": fields[0]["value"], "itemId": items[0]["id"], "vaultId": vaults[0]["id"]}
        return {"content": secret}

    async def list_vaults(self, params=None):
        await self._enter("vaults.list", params)
        return [VaultOverview.model_validate(_vault_overview(v)) for v in self.vaults]

    async def list_items(self, vault_id, *filters):
        await self._enter("items.list", (vault_id, *filters))
        vault = next(v for v in self.vaults if v["id"] == vault_id)
        return [ItemOverview.model_validate(_item_overview(vault_id, i)) for i in vault["items"]]

    async def get_item(self, vault_id, item_id):
        await self._enter("items.get", (vault_id, item_id))
        vault = next(v for v in self.vaults if v["id"] == vault_id)
        item = next(i for i in vault["items"] if i["id"] == item_id)
        return Item.model_validate(
            {
                **_item_overview(vault_id, item),
                "fields": item["fields"],
                "sections": item["sections"],
                "notes": "",
                "version": 1,
                "files": [],
            }
        )


def _vault_overview(vault):
    return {
        "id": vault["id"],
        "title": vault["title"],
        "description": "",
        "vaultType": "userCreated",
        "activeItemCount": len(vault["items"]),
        "contentVersion": 1,
        "attributeVersion": 1,
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
    }


def _item_overview(vault_id, item):
    return {
        "id": item["id"],
        "title": item["title"],
        "category": "Login",
        "vaultId": vault_id,
        "websites": [],
        "tags": [],
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "state": "active",
    }


@pytest.fixture
def sdk(monkeypatch):
    return FakeSdk(load_data(EXAMPLE_DATA)).install(monkeypatch)


def sdk_client(**options):
    return onepassword_client("sdk", service_account_token=SDK_TOKEN, **{**FAST, **options})


def test_the_fake_sdk_client_has_the_installed_sdks_signatures(sdk):
    client = asyncio.run(onepassword.Client.authenticate(auth=SDK_TOKEN, integration_name="n", integration_version="v"))

    with pytest.raises(TypeError):
        asyncio.run(client.secrets.resolve_all(["op://a/b/c"], "unexpected"))
    with pytest.raises(TypeError):
        asyncio.run(client.items.get("vault-only"))
    assert sdk.calls_to("authenticate")


def test_sdk_backend_signs_in_once_and_resolves_all_references_in_one_batched_call(sdk):
    client = sdk_client()
    references = [
        "op://Homelab/mlflow-postgres/username",
        "op://Homelab/mlflow-postgres/connection/host",
        "op://Homelab/mlflow-s3/secret access key",
        "op://Homelab/mlflow-postgres/username",
    ]

    values = client.read(references)
    again = client.read(references[:2])
    item = sdk_client().read_item("Homelab", "mlflow-postgres", ["connection/port", "username"])

    assert values == ["mlflow", "mlflow-postgres-rw.mlflow.svc", "fake-S3-Secret-d41d8c", "mlflow"]
    assert again == values[:2]
    assert item == {"connection/port": "5432", "username": "mlflow"}
    assert sdk.calls_to("authenticate") == [
        {"auth": SDK_TOKEN, "integration_name": "homelab.mlflow", "integration_version": INTEGRATION_VERSION}
    ]
    # One call for the three distinct references, none for those read before, one for the new one.
    assert sdk.calls_to("resolve_all") == [references[:3], ["op://Homelab/mlflow-postgres/connection/port"]]


@pytest.mark.parametrize(
    ("reference", "error", "message"),
    [
        ("op://Nope/mlflow-postgres/username", OnePasswordNotFoundError, "vault 'Nope' not found"),
        ("op://Homelab/nope/username", OnePasswordNotFoundError, "item 'nope' not found in vault 'Homelab'"),
        (
            "op://Homelab/mlflow-postgres/nosuchsection/host",
            OnePasswordNotFoundError,
            "section 'nosuchsection' not found in item 'mlflow-postgres'",
        ),
        ("op://Homelab/duplicate/token", OnePasswordError, "more than one item .* titled 'duplicate'"),
        ("op://Homelab/mlflow-postgres/host", OnePasswordError, "more than one field .* matches 'host'"),
    ],
)
def test_sdk_backend_says_which_vault_item_section_or_field_is_missing(sdk, reference, error, message):
    with pytest.raises(error, match=message) as failure:
        sdk_client().read([reference])

    assert str(failure.value).startswith(reference)
    assert_no_secret(str(failure.value))
    assert len(sdk.calls_to("resolve_all")) == 1


def test_sdk_backend_lists_the_fields_of_an_item_whose_field_is_missing(sdk):
    with pytest.raises(OnePasswordNotFoundError) as failure:
        sdk_client().read(["op://Homelab/mlflow-postgres/pasword", "op://Homelab/mlflow-s3/secret access key"])

    message = str(failure.value)
    assert "field 'pasword' not found in item 'mlflow-postgres' of vault 'Homelab'" in message
    assert "its fields are: 'username', 'password', 'connection/host', 'connection/port'" in message
    assert_no_secret(message)
    assert [name for name, _args in sdk.calls] == [
        "authenticate",
        "resolve_all",
        "vaults.list",
        "items.list",
        "items.get",
    ]


def test_sdk_backend_retries_when_rate_limited_then_reads(sdk):
    sdk.upsets.extend([RateLimitExceededException("rate limit exceeded")] * 2)
    client = sdk_client()

    assert client.read(["op://Homelab/mlflow-postgres/username"]) == ["mlflow"]
    assert client.retries == 2
    assert client.requests == 4


def test_sdk_backend_gives_up_when_rate_limiting_outlasts_the_retries(sdk):
    sdk.upsets.extend([RateLimitExceededException("rate limit exceeded")] * 3)

    with pytest.raises(OnePasswordRateLimitError, match=r"still rate limiting after 3 attempts.*1,000 reads an hour"):
        sdk_client(retries=2).read(["op://Homelab/mlflow-postgres/username"])


def test_sdk_backend_retries_transient_failures(sdk):
    sdk.upsets.extend(
        [
            Exception("error sending request for url (https://my.1password.com/api/v2/...): connection reset"),
            Exception("http error: 503 Service Unavailable"),
        ]
    )
    client = sdk_client()

    assert client.read(["op://Homelab/mlflow-postgres/username"]) == ["mlflow"]
    assert client.retries == 2


def test_sdk_backend_times_out_a_call_that_does_not_answer_and_retries_it(sdk):
    sdk.upsets.extend([5.0, 5.0])
    started = time.monotonic()

    client = sdk_client(timeout=0.1)
    values = client.read(["op://Homelab/mlflow-postgres/username"])

    assert values == ["mlflow"]
    assert client.retries == 2
    assert time.monotonic() - started < 2


def test_sdk_backend_gives_up_on_a_call_that_never_answers(sdk):
    sdk.upsets.extend([5.0] * 3)

    with pytest.raises(OnePasswordUnavailableError, match=r"failed after 2 attempts: no answer within 0.1 seconds"):
        sdk_client(timeout=0.1, retries=1).read(["op://Homelab/mlflow-postgres/username"])


def test_sdk_backend_reports_a_refused_token_without_the_token(sdk):
    sdk.tokens = set()

    with pytest.raises(OnePasswordAuthError) as failure:
        sdk_client().read(["op://Homelab/mlflow-postgres/username"])

    message = str(failure.value)
    assert "refused the service account token" in message
    assert "<redacted>" in message
    assert_no_secret(message)
    # Not retried, and the SDK's own exception is not chained (a traceback would show it).
    assert len(sdk.calls_to("authenticate")) == 1
    assert failure.value.__cause__ is None
    assert failure.value.__suppress_context__


def test_sdk_backend_never_repeats_a_value_it_has_read_in_an_error(sdk):
    client = sdk_client()
    client.read(["op://Homelab/mlflow-s3/secret access key"])
    sdk.upsets.append(Exception("unexpected answer near 'fake-S3-Secret-d41d8c'"))

    with pytest.raises(OnePasswordError) as failure:
        client.read(["op://Homelab/mlflow-postgres/username"])

    assert str(failure.value) == "reading 1 secret reference: unexpected answer near '<redacted>'"


def test_sdk_backend_client_runs_on_its_own_event_loop(sdk):
    client = sdk_client()
    client.read(["op://Homelab/mlflow-postgres/username"])
    loop = client._loop  # pylint: disable=protected-access

    client.read(["op://Homelab/mlflow-postgres/connection/host"])
    clear_clients()

    assert client._loop is loop  # pylint: disable=protected-access
    assert loop.is_closed()


# -- the connect backend, against the fake Connect server


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
        ("op://Nope/mlflow-postgres/username", OnePasswordNotFoundError, "vault 'Nope' not found"),
        ("op://Homelab/nope/username", OnePasswordNotFoundError, "item 'nope' not found in vault 'Homelab'"),
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
        ("op://Homelab/duplicate/token", OnePasswordError, "more than one item in vault 'Homelab' is titled"),
        ("op://Homelab/mlflow-postgres/host", OnePasswordError, "more than one field .* matches 'host'"),
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
