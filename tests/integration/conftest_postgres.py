"""A real, throw-away PostgreSQL server for integration tests (session fixture `postgres_server`).

tools/localrun/postgres_server.py runs it (Debian's PostgreSQL); fixtures import it from
tests/integration/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from postgres_server import PostgresServer, start


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start()
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
        yield server
    finally:
        server.stop()
