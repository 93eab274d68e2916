"""plugins/module_utils/onepassword/sdk_backend.py: the sdk backend, tested at the onepassword-sdk `Client`
boundary: `Client.authenticate` is patched to return a client whose `secrets`, `items` and `vaults` are
autospecs of the installed SDK's classes (so a call that does not match the SDK's signatures fails)
answering with the SDK's own pydantic types.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import deque
from types import SimpleNamespace
from unittest import mock

import onepassword
import pytest
from onepassword.errors import RateLimitExceededException
from onepassword.types import Item, ItemOverview, ResolveAllResponse, VaultOverview
from onepassword_client_testing import FAST, REFUSED_ALIKE, SDK_TOKEN, assert_no_secret
from onepassword_connect import EXAMPLE_DATA, fake_id, load_data

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.clients import (
    clear_clients,
    onepassword_client,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordAuthError,
    OnePasswordError,
    OnePasswordNotFoundError,
    OnePasswordRateLimitError,
    OnePasswordUnavailableError,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.sdk_backend import (
    INTEGRATION_VERSION,
)

# Taken before any test patches Client.authenticate.
AUTHENTICATE = inspect.signature(onepassword.Client.authenticate)


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
        *REFUSED_ALIKE,
        (
            "op://Homelab/mlflow-postgres/nosuchsection/host",
            OnePasswordNotFoundError,
            "section 'nosuchsection' not found in item 'mlflow-postgres'",
        ),
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
