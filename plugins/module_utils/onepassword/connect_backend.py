# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``connect`` backend: the REST API of a 1Password Connect server.

Standard library and ``ansible.module_utils.urls`` only. Each item is fetched once
(``GET .../items/{id}``) and every requested field picked from that answer; vault and item IDs
are looked up once per name.
"""

from __future__ import annotations

import json
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.urls import Request, make_context

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.client import OnePasswordClient
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.connect_items import (
    ID_PATTERN,
    field_value,
    scim_string,
    single_id,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordAuthError,
    OnePasswordConfigError,
    OnePasswordError,
    OnePasswordNotFoundError,
    raise_problems,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.sdk_backend import (
    INTEGRATION_NAME,
    INTEGRATION_VERSION,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.retry import Transient, retry_after_seconds

USER_AGENT = f"{INTEGRATION_NAME}/{INTEGRATION_VERSION}"


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
                    values[ref] = field_value(full, ref)
                except OnePasswordError as err:
                    problems.append((type(err), str(err)))
        raise_problems(problems)
        return values

    def _vault_id(self, vault):
        if ID_PATTERN.match(vault):
            return vault
        if vault not in self._vault_ids:
            found = self._get(
                "/v1/vaults", {"filter": f'name eq "{scim_string(vault)}"'}, what=f"looking up vault {vault!r}"
            )
            self._vault_ids[vault] = single_id(
                vault,
                found,
                "name",
                not_found=f"vault {vault!r} not found, or the Connect token may not read it",
                ambiguous=f"more than one vault is named {vault!r}: use the vault's ID",
            )
        return self._vault_ids[vault]

    def _item_id(self, vault, vault_id, item):
        if ID_PATTERN.match(item):
            return item
        key = (vault_id, item)
        if key not in self._item_ids:
            try:
                found = self._get(
                    f"/v1/vaults/{vault_id}/items",
                    {"filter": f'title eq "{scim_string(item)}"'},
                    what=f"looking up item {item!r} in vault {vault!r}",
                )
            except OnePasswordNotFoundError:
                raise OnePasswordNotFoundError(
                    f"vault {vault!r} not found, or the Connect token may not read it"
                ) from None
            self._item_ids[key] = single_id(
                item,
                found,
                "title",
                not_found=f"item {item!r} not found in vault {vault!r}",
                ambiguous=f"more than one item in vault {vault!r} is titled {item!r}: use the item's ID",
            )
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
                raise Transient(f"no answer from {self.host} within {self.timeout:g} seconds") from None
            except URLError as err:
                reason = err.reason
                if isinstance(reason, TimeoutError):
                    raise Transient(f"no answer from {self.host} within {self.timeout:g} seconds") from None
                if isinstance(reason, (ConnectionError, HTTPException)):
                    raise Transient(f"connection to {self.host} failed: {self._redact(str(reason))}") from None
                raise OnePasswordError(
                    f"{what}: cannot reach 1Password Connect at {self.host}: {self._redact(str(reason))}"
                ) from None
            except (ConnectionError, HTTPException) as err:
                raise Transient(
                    f"connection to {self.host} failed: {self._redact(str(err)) or type(err).__name__}"
                ) from None
            if not parse:
                return body
            try:
                return json.loads(body)
            except ValueError:
                raise OnePasswordError(f"{what}: {self.host} answered with something other than JSON") from None

        return self._retrying(
            attempt,
            what,
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
            return Transient(detail, rate_limited=True, retry_after=retry_after_seconds(err.headers))
        if status >= 500:
            return Transient(detail, retry_after=retry_after_seconds(err.headers) if status == 503 else None)
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
