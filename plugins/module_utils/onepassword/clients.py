# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One 1Password client per set of credentials in a process, made on first use and reused.

`onepassword_client` (and `client_from_params`, for a plugin's options) is how the module and the
lookup get a client: the ``sdk`` backend (sdk_backend.py) or the ``connect`` backend
(connect_backend.py), with the collection's retry policy (plugins/module_utils/retry.py).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import threading

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword import sdk_backend
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.connect_backend import (
    ConnectClient,
    normalize_connect_host,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import OnePasswordConfigError
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.options import BACKENDS, ONEPASSWORD_ARG_SPEC
from ansible_collections.homelab.mlflow.plugins.module_utils.retry import RetryPolicy

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
    """The client for these credentials, made once per process and reused.

    The arguments are the options of ONEPASSWORD_ARG_SPEC; retry and timeout settings apply to the
    returned client from now on.
    """
    try:
        policy = RetryPolicy(retries=retries, delay=retry_delay, max_delay=retry_max_delay)
    except ValueError as err:
        raise OnePasswordConfigError(str(err)) from None
    # Tokens may come in as text-like objects (vaulted or templated values): use them as plain text.
    service_account_token, connect_token = (
        str(token) if token is not None else None for token in (service_account_token, connect_token)
    )
    if backend == "sdk":
        if not service_account_token:
            raise OnePasswordConfigError(
                "the sdk backend needs a service account token: set service_account_token or OP_SERVICE_ACCOUNT_TOKEN"
            )
        if not sdk_backend.HAS_ONEPASSWORD_SDK:
            raise OnePasswordConfigError(sdk_backend.MISSING_SDK_MESSAGE)
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
                client = sdk_backend.SdkClient(service_account_token, policy, timeout)
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
