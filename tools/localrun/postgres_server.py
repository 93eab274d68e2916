"""A real, throw-away PostgreSQL server for tests and local runs.

Debian's PostgreSQL binaries (`/usr/lib/postgresql/<major>/bin`, the newest installed, or
$HOMELAB_POSTGRES_BIN) run a fresh cluster in a temporary directory, listening on a free port of
127.0.0.1 and on a private Unix socket. Clients connecting over TCP must give their password
(scram-sha-256), as against a real deployment; the superuser connects over the socket.
PostgreSQL refuses to run as root, so as root the server runs as `nobody`.
`create_database` gives each user of the server its own login role and database. `start_standby` adds a
hot standby of a server (`pg_basebackup -R`, streaming replication), as CloudNativePG's replicas are.

A server may also listen on another address and accept clients of more networks (`start(host=...,
client_networks=...)`), and keep its data: `shut_down()` stops it cleanly and leaves the data
directory, which a later `start()` on the same root resumes.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
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


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
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
        """A login role with this password (through standard input, as in set_password), owning a new database
        of that name."""
        self.psql(
            f"SET log_min_error_statement = panic;\n{psql_set('password', password)}\n"
            'CREATE ROLE :"user" LOGIN PASSWORD :\'password\';\nCREATE DATABASE :"database" OWNER :"user";\n',
            variables={"user": user, "database": database},
        )

    def set_password(self, user: str, password: str) -> None:
        """A new password for a role. The password goes through psql's standard input, never its command
        line, and a failing statement is not logged (it would hold the password)."""
        self.psql(
            f"SET log_min_error_statement = panic;\n{psql_set('password', password)}\n"
            "ALTER ROLE :\"user\" PASSWORD :'password';\n",
            variables={"user": user},
        )

    def role_exists(self, user: str) -> bool:
        found = self.psql("SELECT count(*) FROM pg_roles WHERE rolname = :'user';", variables={"user": user})
        return found.strip() == "1"

    def drop_database(self, user: str, database: str) -> None:
        self.psql(
            'DROP DATABASE IF EXISTS :"database" WITH (FORCE);\nDROP ROLE IF EXISTS :"user";\n',
            variables={"user": user, "database": database},
        )

    def tables(self, database: str) -> set[str]:
        return set(self.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public';", database=database).split())

    def shut_down(self) -> None:
        """Stop the server cleanly (fast shutdown: clients are disconnected) and keep its data directory."""
        run_checked(self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        if self.socket_dir.parent != self.data_dir.parent:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def stop(self) -> None:
        """Stop the server at once (nothing in it has to survive) and remove its files."""
        subprocess.run(
            [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def psql_set(name: str, value: str) -> str:
    """A psql `\\set` of a variable to a value that may hold any character (quotes and backslashes escaped)."""
    quoted = value.replace("\\", "\\\\").replace("'", "''").replace("\n", "\\n")
    return f"\\set {name} '{quoted}'"


def run_checked(server_args: tuple[str, ...], *args: str) -> None:
    result = subprocess.run([*server_args, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:1])} failed:\n{result.stdout}\n{result.stderr}")


def server_user() -> pwd.struct_passwd | None:
    """Who runs the server: `nobody` as root (PostgreSQL refuses root), else the caller (None)."""
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else None


def _run_as(owner: pwd.struct_passwd | None) -> tuple[str, ...]:
    return ("runuser", "-u", owner.pw_name, "--") if owner else ()


def shut_down_data_dir(data_dir: Path) -> None:
    """Stop cleanly whatever server runs on this data directory, such as one whose start was interrupted."""
    run_checked(_run_as(server_user()), str(postgres_bin() / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop")


def _prepare(root: Path | None, host: str, socket_dir: Path | None, resume: bool = False) -> PostgresServer:
    """A server's directories (owned by the server's user) and port; nothing runs yet. With `resume`,
    the data directory may exist already."""
    bin_dir = postgres_bin()
    # Under /tmp rather than a test's tmp_path: an unprivileged server user must reach it.
    root = root or Path(tempfile.mkdtemp(prefix="homelab-postgres-"))
    root.mkdir(parents=True, exist_ok=True)
    owner = server_user()
    run_as = _run_as(owner)
    # A socket's path has at most 107 bytes: a deep root takes a short socket_dir (such as a mkdtemp).
    data_dir, socket_dir = root / "data", socket_dir or root / "socket"
    data_dir.mkdir(mode=0o700, exist_ok=resume)
    socket_dir.mkdir(mode=0o700, exist_ok=True)
    if owner:
        for path in (root, data_dir, socket_dir):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    return PostgresServer(bin_dir, data_dir, socket_dir, host, free_port(host), run_as)


def _allow_clients(server: PostgresServer, networks: Iterable[str]) -> None:
    """Password (scram-sha-256) logins over TCP from these networks (CIDRs), beside initdb's loopback lines."""
    lines = "".join(f"host all all {network} scram-sha-256\n" for network in networks)
    if lines:
        with (server.data_dir / "pg_hba.conf").open("a") as hba:
            hba.write(lines)


def _run(server: PostgresServer, *extra_options: str) -> None:
    """Start the server in its data directory, its log next to it (server.log)."""
    options = [
        "-c",
        f"listen_addresses={server.host}",
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


def start(
    root: Path | None = None,
    *,
    host: str = "127.0.0.1",
    client_networks: Iterable[str] = (),
    socket_dir: Path | None = None,
) -> PostgresServer:
    """Initialise and start a server in `root` (a new temporary directory by default), listening on `host`
    and taking password logins from `client_networks` too. A root that holds a server's data already is
    resumed: started again on a free port, its data, roles and pg_hba.conf as they were."""
    resume = root is not None and (root / "data" / "PG_VERSION").is_file()
    server = _prepare(root, host, socket_dir, resume=resume)
    if resume:
        _run(server)
        return server
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
    _allow_clients(server, [f"{host}/32", *client_networks] if host != "127.0.0.1" else client_networks)
    _run(server)
    return server


def start_standby(
    primary: PostgresServer, root: Path | None = None, *, socket_dir: Path | None = None
) -> PostgresServer:
    """A hot standby of `primary`: a base backup that streams the primary's WAL from then on (read-only),
    listening on the primary's address and taking the logins the primary takes (its pg_hba.conf).

    It logs every statement (log_statement=all), so a test can tell which queries it served."""
    server = _prepare(root, primary.host, socket_dir)
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
        "--checkpoint=fast",  # not the next scheduled checkpoint, minutes away
        "-R",
    )
    _run(server, "-c", "hot_standby=on", "-c", "log_statement=all")
    return server
