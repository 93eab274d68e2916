# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pytest fixtures for the fake 1Password Connect server.

Import `fake_connect_fixture` and `fake_connect_server_fixture` into a test module; tests then ask
for `fake_connect`. It is the server (one per session, its data reloaded from example.yaml for each test);
after the test it raises if any request or response broke the Connect OpenAPI document.
"""

from __future__ import annotations

import pytest

from .server import EXAMPLE_DATA, FakeConnectServer, load_data

# The tokens of example.yaml: one reads every vault, one only the vault Homelab.
TOKEN, HOMELAB_ONLY_TOKEN = (entry["token"] for entry in load_data(EXAMPLE_DATA)["tokens"])


def example_secret_values() -> list[str]:
    """Every field value of example.yaml that is a secret (type CONCEALED), to look for in output."""
    data = load_data(EXAMPLE_DATA)
    return [
        field["value"]
        for vault in data["vaults"]
        for item in vault["items"]
        for field in item["fields"]
        if field.get("type") == "CONCEALED"
    ]


@pytest.fixture(scope="session", name="fake_connect_server")
def fake_connect_server_fixture():
    """The server of the session (started once: reading the OpenAPI document takes most of a second)."""
    with FakeConnectServer(load_data(EXAMPLE_DATA)) as server:
        yield server


@pytest.fixture(name="fake_connect")
def fake_connect_fixture(fake_connect_server):
    """The fake server with example.yaml's data and no requests, faults or violations yet."""
    fake_connect_server.load(load_data(EXAMPLE_DATA))
    yield fake_connect_server
    fake_connect_server.check()
