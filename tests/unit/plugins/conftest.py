"""Every plugin test starts and ends without cached 1Password clients, and may use the fake Connect
server (fixtures fake_connect and fake_connect_server)."""

from __future__ import annotations

import pytest
from onepassword_connect.fixtures import (  # noqa: F401  # pylint: disable=unused-import
    fake_connect_fixture,
    fake_connect_server_fixture,
)

from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.clients import clear_clients


@pytest.fixture(autouse=True)
def _fresh_clients():
    clear_clients()
    yield
    clear_clients()
