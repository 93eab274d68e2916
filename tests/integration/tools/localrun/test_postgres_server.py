"""The real PostgreSQL server of tools/localrun/postgres_server.py: another listen address and client
networks, a password set through standard input, and data kept across a clean shut-down."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from postgres_server import PostgresServer, start, start_standby

# Quotes and a backslash: they must survive psql's quoting.
PASSWORD = f"it's a \\ {secrets.token_urlsafe(8)}"


@pytest.fixture
def root():
    # Not under pytest's tmp_path (mode 0700): the server's unprivileged user must reach it.
    path = Path(tempfile.mkdtemp(prefix="homelab-postgres-test-"))
    path.chmod(0o755)
    yield path / "deep" / "instance-1"
    shutil.rmtree(path, ignore_errors=True)


def login(server: PostgresServer, password: str, sql: str = "SELECT 1;") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(server.bin_dir / "psql"), "-X", "-A", "-t", "-h", server.host, "-p", str(server.port), "-c", sql],
        env={**os.environ, "PGUSER": "owner", "PGDATABASE": "app", "PGPASSWORD": password},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_kept_server_resumes_with_its_data_and_a_new_password(root):
    server = start(root, client_networks=["10.244.0.0/16"], socket_dir=Path(tempfile.mkdtemp(prefix="pgs-")))
    try:
        server.create_database("owner", PASSWORD, "app")
        assert login(server, PASSWORD, "CREATE TABLE kept (id int);").returncode == 0
        assert "host all all 10.244.0.0/16 scram-sha-256" in (server.data_dir / "pg_hba.conf").read_text()
    finally:
        server.shut_down()
    assert (server.data_dir / "PG_VERSION").is_file()

    resumed = start(root, socket_dir=Path(tempfile.mkdtemp(prefix="pgs-")))
    try:
        assert resumed.tables("app") == {"kept"}
        assert resumed.role_exists("owner")
        assert not resumed.role_exists("nobody-else")
        resumed.set_password("owner", "new")
        assert login(resumed, "new").returncode == 0
        assert login(resumed, PASSWORD).returncode != 0
        assert PASSWORD not in resumed.log.read_text()
    finally:
        resumed.shut_down()


def test_a_standby_takes_the_primarys_logins_and_refuses_writes(root):
    primary = start(root, socket_dir=Path(tempfile.mkdtemp(prefix="pgs-")))
    standby = None
    try:
        primary.create_database("owner", PASSWORD, "app")
        standby = start_standby(primary, root.parent / "instance-2", socket_dir=Path(tempfile.mkdtemp(prefix="pgs-")))
        refused = login(standby, PASSWORD, "CREATE TABLE nope (id int);")
        assert "read-only transaction" in refused.stderr
    finally:
        if standby:
            standby.shut_down()
        primary.shut_down()
