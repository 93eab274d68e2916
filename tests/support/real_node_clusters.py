"""Private test clusters with the real node (HOMELAB_TESTCLUSTER_REAL_NODE=1), one at a time per machine.

The real node is host-wide (its CNI bridge, kube-proxy's iptables rules, the pods' cgroups), so only
one runs per machine: a test module that wants one waits here, on a machine-wide lock, until no other
test module of the run holds one, and holds the lock until its cluster is down again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from handle import TestCluster
from testcluster import Layout

# Beside the session's cluster: its port base + this, unless HOMELAB_TESTCLUSTER_REAL_NODE_PORT_BASE says.
REAL_NODE_PORT_OFFSET = 3000
MACHINE_LOCK = Path("/run/homelab-mlflow-real-node-tests.lock")


def unable_reason() -> str | None:
    """Why this machine cannot run a real node, if it cannot."""
    if os.geteuid() != 0:
        return "the real node needs root (containerd, runc, network namespaces, iptables)"
    controllers = Path("/proc/cgroups").read_text() if Path("/proc/cgroups").exists() else ""
    if not all(f"\n{name}\t" in controllers for name in ("memory", "pids", "cpu")):
        return "the real node needs cgroups (memory, pids, cpu controllers)"
    return None


def real_node_env(state: Path) -> dict[str, str]:
    """The environment of a private cluster with the real node in `state`: for TestCluster, molecule, ansible."""
    session = Layout.from_env()
    port_base = os.environ.get(
        "HOMELAB_TESTCLUSTER_REAL_NODE_PORT_BASE", str(session.port_base + REAL_NODE_PORT_OFFSET)
    )
    return {
        "HOMELAB_TESTCLUSTER_DIR": str(state),
        "HOMELAB_TESTCLUSTER_PORT_BASE": port_base,
        "HOMELAB_TESTCLUSTER_REAL_NODE": "1",
    }


@contextlib.contextmanager
def real_node_cluster() -> Iterator[TestCluster]:
    """A running private cluster with the real node; down again, its state removed and the lock released after.

    Skips, saying why, where the machine cannot run one (no root, no cgroups).
    """
    reason = unable_reason()
    if reason:
        pytest.skip(reason)
    with MACHINE_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test module's real node first
        # Not under pytest's tmp_path (mode 0700): the database servers' unprivileged user must reach their data.
        root = Path(tempfile.mkdtemp(prefix="homelab-real-node-"))
        root.chmod(0o755)
        cluster = TestCluster(env=real_node_env(root / "cluster"))
        try:
            cluster.up()
            yield cluster
        finally:
            cluster.down()
            shutil.rmtree(root, ignore_errors=True)
