# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``sdk`` backend: the onepassword-sdk package with a service account token.

The SDK is asynchronous; each client owns one event loop and runs every SDK call on it to
completion. All references of a call are resolved in one batched ``secrets.resolve_all``: service
account tokens are rate limited (1,000 reads an hour on most plans), so reading field by field
would run out fast.
"""

from __future__ import annotations

import asyncio
import re
import traceback

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.client import OnePasswordClient
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordAuthError,
    OnePasswordConfigError,
    OnePasswordError,
    OnePasswordNotFoundError,
    labels,
    raise_problems,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.retry import Transient

try:
    import onepassword
    from onepassword.errors import RateLimitExceededException
except ImportError:
    HAS_ONEPASSWORD_SDK = False
    ONEPASSWORD_SDK_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_ONEPASSWORD_SDK = True
    ONEPASSWORD_SDK_IMPORT_ERROR = None

# How the collection introduces itself to 1Password (the SDK's integration name and version).
INTEGRATION_NAME = "homelab.mlflow"
INTEGRATION_VERSION = "0.1.0"
MISSING_SDK_MESSAGE = (
    "the sdk backend needs the Python package onepassword-sdk on the host that runs it: "
    "install it (pip install onepassword-sdk) or use backend=connect"
)

# The SDK reports most failures as a plain Exception with a message: these tell which are worth a retry.
_SDK_TRANSIENT = re.compile(
    r"timed? ?out|timeout|connection (?:reset|refused|closed|aborted)|temporar(?:y|ily)|try again|"
    r"unavailable|bad gateway|internal server error|\b50[0234]\b|error sending request",
    re.IGNORECASE,
)
_SDK_AUTH = re.compile(r"token|unauthori[sz]ed|authenticat|forbidden|\b40[13]\b|sign(?:ing)? ?in", re.IGNORECASE)


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
                raise Transient(f"rate limited: {self._redact(str(err))}", rate_limited=True) from None
            except TimeoutError:
                raise Transient(f"no answer within {self.timeout:g} seconds") from None
            except OnePasswordError:
                raise
            except Exception as err:  # noqa: BLE001 - the SDK raises bare Exceptions; sorted by their message
                message = self._redact(str(err)) or type(err).__name__
                if _SDK_TRANSIENT.search(message):
                    raise Transient(message) from None
                if _SDK_AUTH.search(message):
                    raise OnePasswordAuthError(
                        f"{what}: 1Password refused the service account token ({message}); check "
                        "service_account_token or OP_SERVICE_ACCOUNT_TOKEN"
                    ) from None
                raise OnePasswordError(f"{what}: {message}") from None

        return self._retrying(
            attempt,
            what,
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
            raise_problems(problems)
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
            known = self._field_labels(ref)
            listing = f"; its fields are: {labels(known)}" if known is not None else ""
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
        names = []
        for field in full.fields:
            section = sections.get(field.section_id) if field.section_id else None
            names.append(f"{section}/{field.title}" if section else field.title)
        return names
