"""What the tests of the 1Password client (plugins/module_utils/onepassword/) share: a made-up service
account token, fast retry settings, the references every backend refuses alike, a Connect client for
the fake Connect server, and the check that a text holds no secret."""

from __future__ import annotations

from onepassword_connect.fixtures import HOMELAB_ONLY_TOKEN, TOKEN, example_secret_values

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.clients import onepassword_client
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import (
    OnePasswordError,
    OnePasswordNotFoundError,
)

SDK_TOKEN = "-".join(("ops", "fake", "service", "account", "token"))
SECRETS = example_secret_values()
FAST = {"retry_delay": 0.001, "retry_max_delay": 0.01}
# References of the fake's data that every backend refuses alike: (reference, error, message pattern).
REFUSED_ALIKE = [
    ("op://Nope/mlflow-postgres/username", OnePasswordNotFoundError, "vault 'Nope' not found"),
    ("op://Homelab/nope/username", OnePasswordNotFoundError, "item 'nope' not found in vault 'Homelab'"),
    ("op://Homelab/duplicate/token", OnePasswordError, "more than one item in vault 'Homelab' is titled 'duplicate'"),
    ("op://Homelab/mlflow-postgres/host", OnePasswordError, "more than one field .* matches 'host'"),
]


def connect_client(server, token=TOKEN, **options):
    """The (cached) Connect client for the fake Connect server `server`, retrying fast."""
    return onepassword_client("connect", connect_host=server.url, connect_token=token, **{**FAST, **options})


def assert_no_secret(text):
    """Fail when `text` holds a value of the fake's items or one of the tokens."""
    for secret in (*SECRETS, TOKEN, HOMELAB_ONLY_TOKEN, SDK_TOKEN):
        assert secret not in text
