"""Integration tests run against the local test cluster (a real kube-apiserver built from upstream).

The session-scoped `testcluster` fixture starts it when it is not running, and the test run stops
it at its end if one of its processes started it (tests/conftest.py); a cluster started beforehand
(`make cluster-up`) is reused and left running. Set HOMELAB_TESTCLUSTER_KEEP=1 to keep a cluster the
run started. With pytest-xdist, the workers share one cluster: the first to need it starts it.
"""

from __future__ import annotations

import fcntl
import os

import pytest
from handle import TestCluster

from .conftest_postgres import postgres_server  # noqa: F401  # pylint: disable=unused-import


@pytest.fixture(scope="session")
def testcluster():
    cluster = TestCluster()
    lock_path = cluster.state.parent / f"{cluster.state.name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process starts it; the others wait and find it running
        if cluster.up():
            # Whoever ends the test run stops it (tests/conftest.py), after every worker is done.
            cluster.record_starter(os.environ.get("HOMELAB_TEST_RUN", ""))
    return cluster


@pytest.fixture(scope="session")
def k8s(testcluster):
    """An API client authenticated as the cluster's admin user."""
    return testcluster.api_client()
