"""Shared helpers for the collection's tests: run ansible-playbook from the checkout."""

from __future__ import annotations

import fcntl
import os
import subprocess
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from ansible_runs import VENV_BIN, ansible_env

REPO_ROOT = Path(__file__).resolve().parent.parent

# The fake Authentik API's fixtures (authentik_contract, start_fake_authentik, fake_authentik) for every test.
pytest_plugins = ["fake_authentik_fixtures"]


class AnsibleRun(subprocess.CompletedProcess):
    """A finished ansible program, its stdout and stderr apart."""

    @property
    def output(self) -> str:
        """Both streams: for what must appear in neither (a secret)."""
        return self.stdout + self.stderr


AnsibleRunner = Callable[..., AnsibleRun]


def pytest_configure(config):
    # One id per test run, which pytest-xdist's workers inherit with the environment.
    if not hasattr(config, "workerinput"):  # the run itself, not an xdist worker
        os.environ["HOMELAB_TEST_RUN"] = uuid.uuid4().hex


# The longest test modules (each a few full runs of the stack) first: pytest-xdist hands out test
# modules in collection order, so the short ones fill the end and the workers finish together.
LONGEST_FIRST = ("tests/integration/molecule/", "tests/integration/hardening/", "tests/integration/roles/")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the order within each group stays


@pytest.fixture(autouse=True)
def blocking_stdin():
    """Every ansible program refuses a non-blocking stdin. The test processes share theirs with the programs
    they start, and a Go program (kubectl, the real node's tools) may leave it non-blocking: made blocking
    again before each test."""
    flags = fcntl.fcntl(0, fcntl.F_GETFL)
    if flags & os.O_NONBLOCK:
        fcntl.fcntl(0, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)


def pytest_sessionfinish(session):
    """Stop the test cluster if a process of this run started it (integration tests' `testcluster`)."""
    if hasattr(session.config, "workerinput") or os.environ.get("HOMELAB_TESTCLUSTER_KEEP") == "1":
        return
    from handle import TestCluster  # pylint: disable=import-outside-toplevel

    cluster = TestCluster()
    if cluster.started_by() == os.environ["HOMELAB_TEST_RUN"]:
        cluster.down()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout, which ansible.cfg makes importable as homelab.mlflow."""
    link = REPO_ROOT / ".collections" / "ansible_collections" / "homelab" / "mlflow"
    if link.resolve() != REPO_ROOT:
        pytest.fail(f"{link} does not lead to the checkout: run `make setup` first")
    return REPO_ROOT


@pytest.fixture
def run_ansible(repo_root: Path) -> AnsibleRunner:
    """Run an ansible program (`ansible-playbook`, `ansible`, ...) of the venv in the checkout.

    It runs in the checkout (or `cwd`) with the checkout's ansible.cfg (unless `checkout_config`
    is false) and no Kubernetes settings from the caller's environment unless passed in `env`.
    Returns the finished process with its streams apart: `.stdout` holds what the program
    prints as its output (task results, `--json` documents), `.stderr` its warnings and errors,
    so that a warning never ends up in a document a test parses.
    """

    def run(
        program: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        checkout_config: bool = True,
        timeout: float = 300,
    ) -> AnsibleRun:
        full_env = ansible_env(repo_root if checkout_config else None, **(env or {}))
        done = subprocess.run(
            [str(VENV_BIN / program), *args],
            stdin=subprocess.DEVNULL,
            cwd=cwd or repo_root,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return AnsibleRun(done.args, done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def play_recap() -> Callable[..., dict[str, int]]:
    """play_recap(output, host="local"): the PLAY RECAP counters (ok, changed, ...) of one host."""
    return _play_recap


def _play_recap(output: str, host: str = "local") -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in output.splitlines():
        if line.startswith(f"{host} ") and "ok=" in line:
            for field in line.split()[2:]:
                key, _separator, value = field.partition("=")
                totals[key] = totals.get(key, 0) + int(value)
    return totals
