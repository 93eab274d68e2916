"""plugins/module_utils/onepassword/clients.py: the options, and one client per set of credentials in a process."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from onepassword_client_testing import SDK_TOKEN
from onepassword_connect.fixtures import HOMELAB_ONLY_TOKEN, TOKEN

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword import clients, sdk_backend
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.clients import (
    client_from_params,
    onepassword_client,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.connect_backend import (
    normalize_connect_host,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordConfigError,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.options import ONEPASSWORD_ARG_SPEC
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.sdk_backend import (
    INTEGRATION_NAME,
    INTEGRATION_VERSION,
)

REPO = Path(__file__).resolve().parents[5]


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
