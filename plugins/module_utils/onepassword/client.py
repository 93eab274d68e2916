# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every 1Password backend shares: reading references and items, retries, and keeping secrets out of messages."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordConfigError,
    gave_up_error,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.references import SecretReference
from ansible_collections.homelab.mlflow.plugins.module_utils.retry import RetriesExhausted


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

    def _retrying(self, attempt, what, rate_limit_hint=""):
        """`attempt()` under the client's retry policy; the error when the retries run out says why.

        `rate_limit_hint` ends that message when 1Password was still rate limiting at the last try.
        """
        try:
            return self.retry_policy.run(attempt, on_retry=self._count_retry)
        except RetriesExhausted as exhausted:
            raise gave_up_error(exhausted, what, rate_limit_hint) from None

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
