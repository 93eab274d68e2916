"""A real, throw-away PostgreSQL server for tests and local runs.

Debian's PostgreSQL binaries (`/usr/lib/postgresql/<major>/bin`, the newest installed, or
$HOMELAB_POSTGRES_BIN) run a fresh cluster in a temporary directory, listening on a free port of
127.0.0.1 and on a private Unix socket. Clients connecting over TCP must give their password
(scram-sha-256), as against a real deployment; the superuser connects over the socket.
PostgreSQL refuses to run as root, so as root the server runs as `nobody`.
`create_database` gives each user of the server its own login role and database. `start_standby` adds a
hot standby of a server (`pg_basebackup -R`, streaming replication), as CloudNativePG's replicas are.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

POSTGRES_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "postgres"
# Settings for a disposable server: nothing here has to survive a crash.
SERVER_OPTIONS = ("-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off")


def postgres_bin() -> Path:
    """The bin directory of the newest installed PostgreSQL major version."""
    if configured := os.environ.get("HOMELAB_POSTGRES_BIN"):
        return Path(configured)
    majors = sorted(
        (p for p in POSTGRES_ROOT.glob("*/bin") if (p / "postgres").is_file()), key=lambda p: int(p.parent.name)
    )
    if not majors:
        raise RuntimeError(f"no PostgreSQL server under {POSTGRES_ROOT}: install Debian's postgresql package")
    return majors[-1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server: TCP at host:port for clients, `psql` over the socket for the test itself."""

    bin_dir: Path
    data_dir: Path
    socket_dir: Path
    host: str
    port: int
    run_as: tuple[str, ...]

    @property
    def log(self) -> Path:
        return self.data_dir.parent / "server.log"

    def replayed(self, primary: PostgresServer, timeout: float = 30) -> None:
        """Wait until this standby has replayed everything the primary has written so far."""
        target = primary.psql("SELECT pg_current_wal_lsn();").strip()
        deadline = time.monotonic() + timeout
        while self.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn;").strip() != "t":
            if time.monotonic() > deadline:
                raise RuntimeError(f"the standby did not replay the primary's WAL up to {target} in {timeout} s")
            time.sleep(0.2)

    def psql(self, script: str, *, database: str = "postgres", variables: dict[str, str] | None = None) -> str:
        """Run an SQL script as the superuser; `:'name'` and `:"name"` quote `variables` safely."""
        args = [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        for name, value in (variables or {}).items():
            args += ["-v", f"{name}={value}"]
        args += ["-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, "-d", database, "-f", "-"]
        result = subprocess.run(args, input=script, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, user: str, password: str, database: str) -> None:
        """A login role with this password, owning a new database of that name."""
        self.psql(
            'CREATE ROLE :"user" LOGIN PASSWORD :\'password\';\nCREATE DATABASE :"database" OWNER :"user";\n',
            variables={"user": user, "password": password, "database": database},
        )

    def drop_database(self, user: str, database: str) -> None:
        self.psql(
            'DROP DATABASE IF EXISTS :"database" WITH (FORCE);\nDROP ROLE IF EXISTS :"user";\n',
            variables={"user": user, "database": database},
        )

    def tables(self, database: str) -> set[str]:
        return set(self.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public';", database=database).split())

    def stop(self) -> None:
        """Stop the server at once (nothing in it has to survive) and remove its files."""
        subprocess.run(
            [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def run_checked(server_args: tuple[str, ...], *args: str) -> None:
    result = subprocess.run([*server_args, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:1])} failed:\n{result.stdout}\n{result.stderr}")


def _prepare(root: Path | None) -> PostgresServer:
    """A server's directories (owned by the server's user) and port; nothing runs yet."""
    bin_dir = postgres_bin()
    # Under /tmp rather than a test's tmp_path: an unprivileged server user must reach it.
    root = root or Path(tempfile.mkdtemp(prefix="homelab-postgres-"))
    root.mkdir(parents=True, exist_ok=True)
    owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    run_as: tuple[str, ...] = ("runuser", "-u", owner.pw_name, "--") if owner else ()
    data_dir, socket_dir = root / "data", root / "socket"
    data_dir.mkdir(mode=0o700)
    socket_dir.mkdir(mode=0o700)
    if owner:
        for path in (root, data_dir, socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    return PostgresServer(bin_dir, data_dir, socket_dir, "127.0.0.1", free_port(), run_as)


def _run(server: PostgresServer, *extra_options: str) -> None:
    """Start the server in its data directory, its log next to it (server.log)."""
    options = [
        "-c",
        "listen_addresses=127.0.0.1",
        "-p",
        str(server.port),
        "-k",
        str(server.socket_dir),
        *SERVER_OPTIONS,
        *extra_options,
    ]
    run_checked(
        server.run_as,
        str(server.bin_dir / "pg_ctl"),
        "-D",
        str(server.data_dir),
        "-l",
        str(server.log),
        "-w",
        "-t",
        "60",
        "-o",
        " ".join(options),
        "start",
    )


def start(root: Path | None = None) -> PostgresServer:
    """Initialise and start a server in `root` (a new temporary directory by default)."""
    server = _prepare(root)
    run_checked(
        server.run_as,
        str(server.bin_dir / "initdb"),
        "-D",
        str(server.data_dir),
        "-U",
        SUPERUSER,
        "-E",
        "UTF8",
        "--no-locale",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--no-instructions",
    )
    _run(server)
    return server


def start_standby(primary: PostgresServer, root: Path | None = None) -> PostgresServer:
    """A hot standby of `primary`: a base backup that streams the primary's WAL from then on (read-only).

    It logs every statement (log_statement=all), so a test can tell which queries it served."""
    server = _prepare(root)
    run_checked(
        server.run_as,
        str(server.bin_dir / "pg_basebackup"),
        "-D",
        str(server.data_dir),
        "-h",
        str(primary.socket_dir),
        "-p",
        str(primary.port),
        "-U",
        SUPERUSER,
        "-X",
        "stream",
        "-R",
    )
    _run(server, "-c", "hot_standby=on", "-c", "log_statement=all")
    return server
