# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One connection to Authentik's API, and every call through it retried and explained.

`AuthentikTransport.call` runs an authentik-client API method under the collection's retry policy
(plugins/module_utils/retry.py): 429 and 5xx answers, timeouts and connection errors are tried
again; whatever still fails becomes an `AuthentikError` that says what went wrong.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik import sdk
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import (
    RETRY_STATUSES,
    AuthentikError,
    api_error,
    unreachable_error,
    unreadable_error,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.retry import (
    RetriesExhausted,
    RetryPolicy,
    Transient,
    retry_after_seconds,
)

API_PATH = "/api/v3"
USER_AGENT = "homelab.mlflow"
# Longest pause between two tries, whatever the backoff or a Retry-After header asks for.
MAX_RETRY_DELAY = 30.0


def api_url(host):
    """The API base URL for a host given as `https://auth.example.com` (with or without /api/v3)."""
    url = (host or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AuthentikError(f"host must be an http(s) URL such as https://authentik.example.com, got {host!r}")
    if not url.endswith(API_PATH):
        url += API_PATH
    return url


class AuthentikTransport:
    """The API client of authentik-client for one host and token, with retries and readable errors."""

    def __init__(
        self,
        host,
        token,
        validate_certs=True,
        ca_path=None,
        request_timeout=30.0,
        retries=5,
        retry_delay=1.0,
        sleep=time.sleep,
    ):
        if not sdk.HAS_AUTHENTIK_CLIENT:
            raise AuthentikError("the Python package authentik-client is required (pip install authentik-client)")
        if not token:
            raise AuthentikError("no Authentik API token: set token or the environment variable AUTHENTIK_TOKEN")
        self.api_url = api_url(host)
        self.host = urlsplit(self.api_url).netloc
        self.request_timeout = float(request_timeout)
        self.retry_policy = RetryPolicy(
            retries=max(0, int(retries)),
            delay=max(0.0, float(retry_delay)),
            max_delay=MAX_RETRY_DELAY,
            sleep=sleep,
        )
        self._sleep = sleep

        configuration = sdk.Configuration(host=self.api_url, access_token=token)
        configuration.verify_ssl = bool(validate_certs)
        configuration.ssl_ca_cert = ca_path
        # Retries are ours (bounded, with backoff and readable errors), not urllib3's.
        configuration.retries = False
        if not validate_certs:
            sdk.urllib3.disable_warnings(sdk.urllib3.exceptions.InsecureRequestWarning)
        self._api_client = sdk.ApiClient(configuration)
        self._api_client.user_agent = USER_AGENT

    def call(self, what, func, *args, **kwargs):
        """Call one API method, retrying what is worth retrying; `what` names the action in errors."""

        def attempt():
            try:
                return func(*args, _request_timeout=self.request_timeout, **kwargs)
            except sdk.ApiException as exc:
                if exc.status in RETRY_STATUSES:
                    raise Transient(
                        f"HTTP {exc.status}", retry_after=retry_after_seconds(exc.headers), cause=exc
                    ) from None
                raise api_error(self.host, what, exc, 1) from None
            except sdk.urllib3.exceptions.HTTPError as exc:
                raise Transient(str(exc), cause=exc) from None
            except ValueError as exc:
                # pydantic's ValidationError: mostly an answer the client cannot read.
                raise unreadable_error(self.host, what, exc) from None

        try:
            return self.retry_policy.run(attempt)
        except RetriesExhausted as gave_up:
            cause = gave_up.failure.cause
            if isinstance(cause, sdk.ApiException):
                raise api_error(self.host, what, cause, gave_up.attempts) from None
            raise unreachable_error(self.host, what, cause, gave_up.attempts) from None


def json_answer(method):
    """Call an API method's `_without_preload_content` variant; its answer as parsed JSON.

    Error answers raise ApiException as the plain method does, so `call` retries and explains them.
    """

    def read(*args, **kwargs):
        response = method(*args, **kwargs)
        body = response.data.decode("utf-8") if response.data else ""
        if not 200 <= response.status <= 299:
            sdk.ApiException.from_response(http_resp=response, body=body, data=None)
        try:
            return json.loads(body) if body else {}
        except ValueError as exc:
            raise ValueError(f"the answer is not JSON: {exc}") from None

    return read
