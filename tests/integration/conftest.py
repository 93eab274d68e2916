"""Integration tests run against the local test cluster (a real kube-apiserver built from upstream).

The session-scoped `testcluster` fixture starts it when it is not running and stops it at the end
of the session if it started it; a cluster started beforehand (`make cluster-up`) is reused and
left running. Set HOMELAB_TESTCLUSTER_KEEP=1 to keep a cluster the session started.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "testcluster"))
# Helpers shared by tests and local runs (tests/support/README.md).
sys.path.insert(0, str(REPO / "tests" / "support"))

from handle import TestCluster  # noqa: E402

from .conftest_postgres import postgres_server  # noqa: E402, F401  # pylint: disable=unused-import


@pytest.fixture(scope="session")
def testcluster():
    cluster = TestCluster()
    started = cluster.up()
    yield cluster
    if started and os.environ.get("HOMELAB_TESTCLUSTER_KEEP") != "1":
        cluster.down()


@pytest.fixture(scope="session")
def k8s(testcluster):
    """An API client authenticated as the cluster's admin user."""
    return testcluster.api_client()
