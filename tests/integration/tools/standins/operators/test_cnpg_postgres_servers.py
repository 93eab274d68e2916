"""The CloudNativePG stand-in's servers (tools/standins/operators/_cnpg_postgres.py) when it exits: none is left
running, not even one whose start was interrupted before it was recorded."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[5] / "tools" / "standins" / "operators"))

from _cnpg_postgres import Servers
from postgres_server import start


@pytest.fixture
def root():
    # Not under pytest's tmp_path (mode 0700): the servers' unprivileged user must reach it.
    path = Path(tempfile.mkdtemp(prefix="homelab-cnpg-servers-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def running(server) -> bool:
    status = subprocess.run(
        [*server.run_as, str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir), "status"],
        capture_output=True,
        check=False,
    )
    return status.returncode == 0


def test_stop_all_stops_a_server_it_never_recorded_and_keeps_its_data(root):
    servers = Servers("127.0.0.1", root)
    unrecorded = start(servers.instance_dir("ns", "pg-1"))
    assert running(unrecorded)

    servers.stop_all()

    assert not running(unrecorded)
    assert (unrecorded.data_dir / "PG_VERSION").is_file()
