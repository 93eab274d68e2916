# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One client for reading 1Password items, shared by the module and the lookup of homelab.mlflow.

Two backends behind one interface (`OnePasswordClient.read` and `.read_item`):

- ``sdk``: the onepassword-sdk package with a service account token. The SDK is asynchronous;
  each client owns one event loop and runs every SDK call on it to completion.
- ``connect``: the REST API of a 1Password Connect server, with the standard library and
  ``ansible.module_utils.urls`` only.

What both guarantee:

- One authenticated client per set of credentials in a process (`onepassword_client` caches them).
- One read per item: the SDK backend resolves all references of a call in one batched
  ``secrets.resolve_all``; the Connect backend fetches each item once (``GET .../items/{id}``) and
  picks every requested field from that answer. Service account tokens are rate limited
  (1,000 reads an hour on most plans), so reading field by field would run out fast.
- Retries with exponential backoff and jitter, a bounded number of times, on rate limiting
  (HTTP 429, the SDK's ``RateLimitExceededException``) and transient failures (HTTP 5xx, timeouts,
  dropped connections).
- Errors (`OnePasswordError` and its subclasses) say which vault, item, section or field is
  missing and list the labels of an item's fields, but never hold a secret value or a token.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import json
import os
import random
import re
import threading
import time
import traceback
from dataclasses import dataclass
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.urls import Request, make_context

try:
    import onepassword
    from onepassword.errors import RateLimitExceededException
except ImportError:
    HAS_ONEPASSWORD_SDK = False
    ONEPASSWORD_SDK_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_ONEPASSWORD_SDK = True
    ONEPASSWORD_SDK_IMPORT_ERROR = None

BACKENDS = ("sdk", "connect")
REFERENCE_PREFIX = "op://"
# How the collection introduces itself to 1Password (the SDK's integration name and version).
INTEGRATION_NAME = "homelab.mlflow"
INTEGRATION_VERSION = "0.1.0"
USER_AGENT = f"{INTEGRATION_NAME}/{INTEGRATION_VERSION}"
MISSING_SDK_MESSAGE = (
    "the sdk backend needs the Python package onepassword-sdk on the host that runs it: "
    "install it (pip install onepassword-sdk) or use backend=connect"
)

# The connection options of every plugin that reads 1Password, declared once; the doc fragment
# homelab.mlflow.onepassword documents exactly these.
ONEPASSWORD_ARG_SPEC = dict(
    backend=dict(type="str", default="sdk", choices=list(BACKENDS)),
    service_account_token=dict(type="str", no_log=True, fallback=(env_fallback, ["OP_SERVICE_ACCOUNT_TOKEN"])),
    connect_host=dict(type="str", fallback=(env_fallback, ["OP_CONNECT_HOST"])),
    connect_token=dict(type="str", no_log=True, fallback=(env_fallback, ["OP_CONNECT_TOKEN"])),
    validate_certs=dict(type="bool", default=True),
    retries=dict(type="int", default=5),
    retry_delay=dict(type="float", default=1.0),
    retry_max_delay=dict(type="float", default=30.0),
    timeout=dict(type="float", default=30.0),
)

# 1Password IDs (vaults, items) are 26 lower-case letters and digits; a name of that shape is taken
# as an ID, as `op://` references allow either.
_ID = re.compile(r"^[0-9a-z]{26}$")
# The SDK reports most failures as a plain Exception with a message: these tell which are worth a retry.
_SDK_TRANSIENT = re.compile(
    r"timed? ?out|timeout|connection (?:reset|refused|closed|aborted)|temporar(?:y|ily)|try again|"
    r"unavailable|bad gateway|internal server error|\b50[0234]\b|error sending request",
    re.IGNORECASE,
)
_SDK_AUTH = re.compile(r"token|unauthori[sz]ed|authenticat|forbidden|\b40[13]\b|sign(?:ing)? ?in", re.IGNORECASE)
_JITTER = random.SystemRandom()


class OnePasswordError(Exception):
    """Reading from 1Password failed. The message never holds a secret value or a token."""


class OnePasswordConfigError(OnePasswordError):
    """The options or references given cannot work (missing token or host, malformed reference)."""


class OnePasswordAuthError(OnePasswordError):
    """1Password refused the token (HTTP 401/403 or the SDK's sign-in failed)."""


class OnePasswordNotFoundError(OnePasswordError):
    """A vault, item, section or field does not exist (or the token may not see it)."""


class OnePasswordRateLimitError(OnePasswordError):
    """1Password still answered 'rate limited' after every retry."""


class OnePasswordUnavailableError(OnePasswordError):
    """1Password still failed transiently (5xx, timeout, dropped connection) after every retry."""


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


class _Transient(Exception):
    """One attempt failed in a way that another attempt may not (rate limited, 5xx, timeout)."""

    def __init__(self, reason, rate_limited=False, retry_after=None):
        super().__init__(reason)
        self.reason = reason
        self.rate_limited = rate_limited
        self.retry_after = retry_after


class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    Before retry n (1, 2, ...) it waits a random time between half and all of
    ``min(max_delay, delay * 2 ** (n - 1))`` seconds, or what the server asked for with
    Retry-After (at most `max_delay`).
    """

    def __init__(self, retries=5, delay=1.0, max_delay=30.0, sleep=time.sleep):
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise OnePasswordConfigError(f"retries must be an integer of 0 or more, got {retries!r}")
        for name, value in (("retry_delay", delay), ("retry_max_delay", max_delay)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise OnePasswordConfigError(f"{name} must be a number of seconds, 0 or more, got {value!r}")
        self.retries = retries
        self.delay = float(delay)
        self.max_delay = float(max_delay)
        self.sleep = sleep

    def backoff(self, retry_number, retry_after=None):
        """Seconds to wait before retry number `retry_number` (1 for the first retry)."""
        if retry_after is not None:
            return min(max(float(retry_after), 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.delay * 2 ** (retry_number - 1))
        return ceiling / 2 + _JITTER.random() * ceiling / 2

    def run(self, attempt, what, on_retry=None, rate_limit_hint=""):
        """Call `attempt()` until it returns, raises a final error, or the retries are spent.

        `rate_limit_hint` ends the message when 1Password still rate limits after the last attempt.
        """
        retried = 0
        while True:
            try:
                return attempt()
            except _Transient as failure:
                if retried >= self.retries:
                    raise _give_up(failure, what, retried + 1, rate_limit_hint) from None
                retried += 1
                if on_retry is not None:
                    on_retry(failure)
                self.sleep(self.backoff(retried, failure.retry_after))


def _give_up(failure, what, attempts, rate_limit_hint=""):
    tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
    if failure.rate_limited:
        return OnePasswordRateLimitError(
            f"{what}: 1Password is still rate limiting after {tries} ({failure.reason})"
            + (f". {rate_limit_hint}" if rate_limit_hint else "")
        )
    return OnePasswordUnavailableError(f"{what}: failed after {tries}: {failure.reason}")


class OnePasswordClient:
    """Reads fields of 1Password items; `SdkClient` and `ConnectClient` are the backends.

    `requests` counts the calls made to 1Password (HTTP requests for Connect, SDK calls for the
    SDK), `retries` the attempts repeated after a transient failure.
    """

    backend = None

    def __init__(self, retry_policy, timeout):
        self.retry_policy = retry_policy
        self.timeout = _positive_timeout(timeout)
        self.requests = 0
        self.retries = 0
        self._secrets = ()

    def configure(self, retry_policy, timeout):
        """Use other retry and timeout settings from now on (the cached client is shared)."""
        self.retry_policy = retry_policy
        self.timeout = _positive_timeout(timeout)

    def read(self, references):
        """The values of `references` (`SecretReference` or ``op://`` strings), in their order."""
        parsed = [ref if isinstance(ref, SecretReference) else SecretReference.parse(ref) for ref in references]
        values = self._resolve(list(dict.fromkeys(parsed)))
        return [values[ref] for ref in parsed]

    def read_item(self, vault, item, fields):
        """``{field: value}`` for `fields` (labels or IDs, or ``section/field``) of one item."""
        if isinstance(fields, str) or not fields:
            raise OnePasswordConfigError("name the fields to read as a non-empty list")
        references = [SecretReference.for_field(vault, item, field) for field in fields]
        return dict(zip(fields, self.read(references), strict=True))

    def close(self):
        """Release what the client holds (the SDK's event loop); it cannot be used afterwards."""

    def _resolve(self, references):
        """``{reference: value}`` for distinct `references`."""
        raise NotImplementedError

    def _count_retry(self, failure):
        del failure
        self.retries += 1

    def _redact(self, text):
        """`text` without the client's credentials or any value it has read (should a message repeat one)."""
        known = sorted({*self._secrets, *self._values_read()}, key=len, reverse=True)
        for secret in known:
            # Shorter values would garble messages more than they could give away.
            if secret and len(secret) >= 4:
                text = text.replace(secret, "<redacted>")
        return text

    def _values_read(self):
        """The values the client holds (read earlier)."""
        return ()


def _positive_timeout(timeout):
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise OnePasswordConfigError(f"timeout must be a number of seconds above 0, got {timeout!r}")
    return float(timeout)


def _labels(names):
    return ", ".join(repr(name) for name in names) if names else "none"


class SdkClient(OnePasswordClient):
    """The onepassword-sdk backend: one signed-in SDK client and one event loop it runs on."""

    backend = "sdk"

    def __init__(self, service_account_token, retry_policy, timeout):
        if not HAS_ONEPASSWORD_SDK:
            raise OnePasswordConfigError(MISSING_SDK_MESSAGE)
        super().__init__(retry_policy, timeout)
        self._token = service_account_token
        self._secrets = (service_account_token,)
        self._loop = asyncio.new_event_loop()
        self._client = None
        self._values = {}

    def close(self):
        if not self._loop.is_closed():
            self._loop.close()
        self._client = None

    def _values_read(self):
        return self._values.values()

    def _call(self, make_call, what):
        """Run the SDK coroutine `make_call()` on the client's loop, with timeout and retries."""

        def attempt():
            self.requests += 1
            try:
                return self._loop.run_until_complete(asyncio.wait_for(make_call(), self.timeout))
            except RateLimitExceededException as err:
                raise _Transient(f"rate limited: {self._redact(str(err))}", rate_limited=True) from None
            except TimeoutError:
                raise _Transient(f"no answer within {self.timeout:g} seconds") from None
            except OnePasswordError:
                raise
            except Exception as err:  # noqa: BLE001 - the SDK raises bare Exceptions; sorted by their message
                message = self._redact(str(err)) or type(err).__name__
                if _SDK_TRANSIENT.search(message):
                    raise _Transient(message) from None
                if _SDK_AUTH.search(message):
                    raise OnePasswordAuthError(
                        f"{what}: 1Password refused the service account token ({message}); check "
                        "service_account_token or OP_SERVICE_ACCOUNT_TOKEN"
                    ) from None
                raise OnePasswordError(f"{what}: {message}") from None

        return self.retry_policy.run(
            attempt,
            what,
            on_retry=self._count_retry,
            rate_limit_hint="Service account tokens may make about 1,000 reads an hour (10,000 on 1Password "
            "Business): wait for the limit to reset, or read fewer items",
        )

    def _signed_in(self):
        if self._client is None:
            self._client = self._call(
                lambda: onepassword.Client.authenticate(
                    auth=self._token, integration_name=INTEGRATION_NAME, integration_version=INTEGRATION_VERSION
                ),
                "signing in to 1Password with the service account token",
            )
        return self._client

    def _resolve(self, references):
        wanted = [ref for ref in references if ref not in self._values]
        if wanted:
            client = self._signed_in()
            texts = [str(ref) for ref in wanted]
            count = len(texts)
            answer = self._call(
                lambda: client.secrets.resolve_all(texts),
                f"reading {count} secret reference" + ("s" if count != 1 else ""),
            )
            problems = []
            for ref in wanted:
                result = answer.individual_responses.get(str(ref))
                if result is None:
                    problems.append((OnePasswordError, f"{ref}: 1Password returned no answer for it"))
                elif result.error is not None:
                    problems.append(self._describe_error(ref, result.error))
                elif result.content is None:
                    problems.append((OnePasswordError, f"{ref}: 1Password returned neither a value nor an error"))
                else:
                    self._values[ref] = result.content.secret
            _raise_problems(problems)
        return {ref: self._values[ref] for ref in references}

    def _describe_error(self, ref, error):
        kind = getattr(error.type, "value", error.type)
        vault, item = ref.vault, ref.item
        not_found = {
            "vaultNotFound": f"vault {vault!r} not found, or the service account may not read it",
            "itemNotFound": f"item {item!r} not found in vault {vault!r}",
            "noMatchingSections": f"section {ref.section!r} not found in item {item!r} of vault {vault!r}",
        }
        ambiguous = {
            "tooManyVaults": f"more than one vault is named {vault!r}: use the vault's ID",
            "tooManyItems": f"more than one item in vault {vault!r} is titled {item!r}: use the item's ID",
            "tooManyMatchingFields": f"more than one field of item {item!r} matches {ref.field_path!r}: "
            "use <section>/<field> or the field's ID",
        }
        if kind in not_found:
            return OnePasswordNotFoundError, f"{ref}: {not_found[kind]}"
        if kind == "fieldNotFound":
            labels = self._field_labels(ref)
            listing = f"; its fields are: {_labels(labels)}" if labels is not None else ""
            return (
                OnePasswordNotFoundError,
                f"{ref}: field {ref.field_path!r} not found in item {item!r} of vault {vault!r}{listing}",
            )
        if kind in ambiguous:
            return OnePasswordError, f"{ref}: {ambiguous[kind]}"
        detail = getattr(error, "message", None)
        return OnePasswordError, f"{ref}: cannot be read ({kind}{': ' + self._redact(detail) if detail else ''})"

    def _field_labels(self, ref):
        """The labels of the fields of `ref`'s item, for an error message; None if they cannot be had.

        Only called when a field is missing: the three reads it costs are spent on a failing run.
        """
        try:
            client = self._signed_in()
            vaults = self._call(client.vaults.list, "listing vaults")
            vault_ids = [vault.id for vault in vaults if ref.vault in (vault.id, vault.title)]
            if len(vault_ids) != 1:
                return None
            overviews = self._call(lambda: client.items.list(vault_ids[0]), f"listing the items of vault {ref.vault!r}")
            item_ids = [item.id for item in overviews if ref.item in (item.id, item.title)]
            if len(item_ids) != 1:
                return None
            full = self._call(lambda: client.items.get(vault_ids[0], item_ids[0]), f"reading item {ref.item!r}")
        except OnePasswordError:
            return None
        sections = {section.id: section.title for section in full.sections}
        labels = []
        for field in full.fields:
            section = sections.get(field.section_id) if field.section_id else None
            labels.append(f"{section}/{field.title}" if section else field.title)
        return labels


def _raise_problems(problems):
    """Raise one error for all `problems` ((error class, message) pairs), if there are any."""
    if not problems:
        return
    classes = {cls for cls, message in problems}
    error_class = classes.pop() if len(classes) == 1 else OnePasswordError
    raise error_class("; ".join(message for cls, message in problems))


class ConnectClient(OnePasswordClient):
    """The 1Password Connect backend: the REST API, one GET per item, IDs looked up once."""

    backend = "connect"

    def __init__(self, host, token, retry_policy, timeout, validate_certs=True):
        super().__init__(retry_policy, timeout)
        self.host = normalize_connect_host(host)
        self._token = token
        self._secrets = (token,)
        self.validate_certs = validate_certs
        self._http = None
        self._vault_ids = {}
        self._item_ids = {}
        self._items = {}

    def _values_read(self):
        return [field.get("value") or "" for item in self._items.values() for field in item.get("fields") or []]

    # -- the server's own health endpoints (no token needed), for preflight checks

    def heartbeat(self):
        """True when the server answers ``GET /heartbeat``."""
        self._get("/heartbeat", what=f"checking that 1Password Connect at {self.host} is up", parse=False)
        return True

    def health(self):
        """The server's ``GET /health`` document: name, version and the state of its dependencies."""
        return self._get("/health", what=f"asking 1Password Connect at {self.host} for its health")

    # -- reading

    def _resolve(self, references):
        by_item = {}
        for ref in references:
            by_item.setdefault((ref.vault, ref.item), []).append(ref)
        values = {}
        problems = []
        for (vault, item), refs in by_item.items():
            full = self._full_item(vault, item)
            for ref in refs:
                try:
                    values[ref] = _connect_field_value(full, ref)
                except OnePasswordError as err:
                    problems.append((type(err), str(err)))
        _raise_problems(problems)
        return values

    def _vault_id(self, vault):
        if _ID.match(vault):
            return vault
        if vault not in self._vault_ids:
            found = self._get(
                "/v1/vaults", {"filter": f'name eq "{_scim_string(vault)}"'}, what=f"looking up vault {vault!r}"
            )
            ids = [entry.get("id") for entry in _matching(vault, found, lambda entry: (entry.get("name"),))]
            if not ids:
                raise OnePasswordNotFoundError(f"vault {vault!r} not found, or the Connect token may not read it")
            if len(ids) > 1:
                raise OnePasswordError(f"more than one vault is named {vault!r}: use the vault's ID")
            self._vault_ids[vault] = ids[0]
        return self._vault_ids[vault]

    def _item_id(self, vault, vault_id, item):
        if _ID.match(item):
            return item
        key = (vault_id, item)
        if key not in self._item_ids:
            try:
                found = self._get(
                    f"/v1/vaults/{vault_id}/items",
                    {"filter": f'title eq "{_scim_string(item)}"'},
                    what=f"looking up item {item!r} in vault {vault!r}",
                )
            except OnePasswordNotFoundError:
                raise OnePasswordNotFoundError(
                    f"vault {vault!r} not found, or the Connect token may not read it"
                ) from None
            ids = [entry.get("id") for entry in _matching(item, found, lambda entry: (entry.get("title"),))]
            if not ids:
                raise OnePasswordNotFoundError(f"item {item!r} not found in vault {vault!r}")
            if len(ids) > 1:
                raise OnePasswordError(f"more than one item in vault {vault!r} is titled {item!r}: use the item's ID")
            self._item_ids[key] = ids[0]
        return self._item_ids[key]

    def _full_item(self, vault, item):
        vault_id = self._vault_id(vault)
        item_id = self._item_id(vault, vault_id, item)
        key = (vault_id, item_id)
        if key not in self._items:
            try:
                self._items[key] = self._get(
                    f"/v1/vaults/{vault_id}/items/{item_id}", what=f"reading item {item!r} of vault {vault!r}"
                )
            except OnePasswordNotFoundError:
                raise OnePasswordNotFoundError(
                    f"item {item!r} not found in vault {vault!r}, or the Connect token may not read it"
                ) from None
        return self._items[key]

    # -- HTTP

    def _get(self, path, query=None, what="", parse=True):
        url = self.host + path
        if query:
            url += "?" + urlencode(query, quote_via=quote)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if path.startswith("/v1/"):
            headers["Authorization"] = f"Bearer {self._token}"

        if self._http is None:
            # Made once: loading the system's CA certificates takes a noticeable time per request.
            context = make_context(validate_certs=self.validate_certs)
            self._http = Request(use_proxy=True, follow_redirects="none", context=context)

        def attempt():
            self.requests += 1
            try:
                response = self._http.open("GET", url, headers=headers, timeout=self.timeout)
                body = response.read()
            except HTTPError as err:
                raise self._http_error(err, what) from None
            except TimeoutError:
                raise _Transient(f"no answer from {self.host} within {self.timeout:g} seconds") from None
            except URLError as err:
                reason = err.reason
                if isinstance(reason, TimeoutError):
                    raise _Transient(f"no answer from {self.host} within {self.timeout:g} seconds") from None
                if isinstance(reason, (ConnectionError, HTTPException)):
                    raise _Transient(f"connection to {self.host} failed: {self._redact(str(reason))}") from None
                raise OnePasswordError(
                    f"{what}: cannot reach 1Password Connect at {self.host}: {self._redact(str(reason))}"
                ) from None
            except (ConnectionError, HTTPException) as err:
                raise _Transient(
                    f"connection to {self.host} failed: {self._redact(str(err)) or type(err).__name__}"
                ) from None
            if not parse:
                return body
            try:
                return json.loads(body)
            except ValueError:
                raise OnePasswordError(f"{what}: {self.host} answered with something other than JSON") from None

        return self.retry_policy.run(
            attempt,
            what,
            on_retry=self._count_retry,
            rate_limit_hint=f"The Connect server at {self.host} (or a proxy in front of it) limits requests: "
            "wait and run again, or give it more capacity",
        )

    def _http_error(self, err, what):
        status = err.code
        message = ""
        try:
            document = json.loads(err.read() or b"{}")
            if isinstance(document, dict):
                message = str(document.get("message") or "")
        except (ValueError, OSError, HTTPException):
            pass
        detail = f"HTTP {status}" + (f": {self._redact(message)}" if message else "")
        if status == 429:
            return _Transient(detail, rate_limited=True, retry_after=_retry_after(err.headers))
        if status >= 500:
            return _Transient(detail, retry_after=_retry_after(err.headers) if status == 503 else None)
        if status == 401:
            return OnePasswordAuthError(
                f"{what}: 1Password Connect at {self.host} refused the token ({detail}); check connect_token or "
                "OP_CONNECT_TOKEN"
            )
        if status == 403:
            return OnePasswordAuthError(f"{what}: the Connect token may not read this ({detail})")
        if status == 404:
            return OnePasswordNotFoundError(f"{what}: not found ({detail})")
        return OnePasswordError(f"{what}: 1Password Connect at {self.host} answered {detail}")


def _retry_after(headers):
    """Seconds from a Retry-After header given in seconds; None without one (dates are ignored)."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def _scim_string(value):
    """`value` as the inside of a quoted string of a SCIM filter (``name eq "..."``)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _connect_field_value(full_item, ref):
    """The value of `ref`'s field in a Connect FullItem, matched by ID or label (exact, then any case)."""
    title = full_item.get("title", ref.item)
    where = f"item {title!r} of vault {ref.vault!r}"
    sections = {
        section.get("id"): section.get("label") or section.get("id") for section in full_item.get("sections") or []
    }
    fields = full_item.get("fields") or []
    if ref.section:
        section_ids = _matching(ref.section, sections.items(), lambda entry: (entry[0], entry[1]))
        if not section_ids:
            named = [label for label in sections.values() if label]
            raise OnePasswordNotFoundError(
                f"{ref}: section {ref.section!r} not found in {where}; its sections are: {_labels(named)}"
            )
        ids = {entry[0] for entry in section_ids}
        fields = [field for field in fields if (field.get("section") or {}).get("id") in ids]
    matches = _matching(ref.field, fields, lambda field: (field.get("id"), field.get("label")))
    if not matches:
        raise OnePasswordNotFoundError(
            f"{ref}: field {ref.field_path!r} not found in {where}; its fields are: "
            f"{_labels(_connect_labels(full_item, sections))}"
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


def _matching(name, entries, keys):
    """The entries one of whose `keys` is `name`: exact matches if any, else case-insensitive ones."""
    entries = list(entries)
    exact = [entry for entry in entries if name in keys(entry)]
    if exact:
        return exact
    folded = name.casefold()
    return [entry for entry in entries if any(key and key.casefold() == folded for key in keys(entry))]


def _connect_labels(full_item, sections):
    labels = []
    for field in full_item.get("fields") or []:
        label = field.get("label") or field.get("id")
        section = sections.get((field.get("section") or {}).get("id"))
        labels.append(f"{section}/{label}" if section else label)
    return labels


def normalize_connect_host(host):
    """The Connect server's base URL without a trailing slash or ``/v1`` (both are accepted)."""
    if not isinstance(host, str) or not host.strip():
        raise OnePasswordConfigError(
            "the connect backend needs the Connect server's URL: set connect_host or OP_CONNECT_HOST"
        )
    host = host.strip().rstrip("/")
    if host.endswith("/v1"):
        host = host[: -len("/v1")]
    if not host.startswith(("http://", "https://")):
        raise OnePasswordConfigError(f"connect_host must be an http:// or https:// URL, got {host!r}")
    return host


_CLIENTS = {}
_CLIENTS_LOCK = threading.Lock()


def _fingerprint(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def onepassword_client(
    backend="sdk",
    service_account_token=None,
    connect_host=None,
    connect_token=None,
    validate_certs=True,
    retries=5,
    retry_delay=1.0,
    retry_max_delay=30.0,
    timeout=30.0,
):
    """The client for these credentials, made once per process and reused (see module docstring).

    The arguments are the options of ONEPASSWORD_ARG_SPEC; retry and timeout settings apply to the
    returned client from now on.
    """
    policy = RetryPolicy(retries=retries, delay=retry_delay, max_delay=retry_max_delay)
    # Tokens may come in as text-like objects (vaulted or templated values): use them as plain text.
    service_account_token, connect_token = (
        str(token) if token is not None else None for token in (service_account_token, connect_token)
    )
    if backend == "sdk":
        if not service_account_token:
            raise OnePasswordConfigError(
                "the sdk backend needs a service account token: set service_account_token or OP_SERVICE_ACCOUNT_TOKEN"
            )
        if not HAS_ONEPASSWORD_SDK:
            raise OnePasswordConfigError(MISSING_SDK_MESSAGE)
        key = ("sdk", _fingerprint(service_account_token))
    elif backend == "connect":
        connect_host = normalize_connect_host(connect_host)
        if not connect_token:
            raise OnePasswordConfigError(
                "the connect backend needs a Connect token: set connect_token or OP_CONNECT_TOKEN"
            )
        key = ("connect", connect_host, _fingerprint(connect_token), bool(validate_certs))
    else:
        raise OnePasswordConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    # A forked process (Ansible runs each task in one) must not share its parent's SDK client or loop.
    key = (os.getpid(), *key)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            if backend == "sdk":
                client = SdkClient(service_account_token, policy, timeout)
            else:
                client = ConnectClient(connect_host, connect_token, policy, timeout, validate_certs=validate_certs)
            _CLIENTS[key] = client
        else:
            client.configure(policy, timeout)
    return client


def client_from_params(params):
    """`onepassword_client` for a dict holding (at least) the options of ONEPASSWORD_ARG_SPEC."""
    return onepassword_client(**{name: params[name] for name in ONEPASSWORD_ARG_SPEC if params.get(name) is not None})


def clear_clients():
    """Close and forget every cached client of this process (at exit, and between tests)."""
    with _CLIENTS_LOCK:
        clients = list(_CLIENTS.values())
        _CLIENTS.clear()
    for client in clients:
        client.close()


atexit.register(clear_clients)
