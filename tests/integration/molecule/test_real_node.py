"""molecule's `default` scenario on the test cluster's real node: the kubelet runs the migration Job and
MLflow's pods from the images built here, verify goes through MLflow's Service.

The scenario runs against a private cluster with the real node (tests/support/real_node_clusters.py),
which the module starts and stops.
"""

import pytest
from real_node_clusters import real_node_cluster, real_node_env


@pytest.fixture(scope="module")
def node_cluster():
    with real_node_cluster() as cluster:
        yield cluster


def test_default_scenario_on_the_real_node(molecule_test, node_cluster, tmp_path):
    # Its own molecule state: the scenario may run on the simulated node at the same time (test_default.py).
    molecule_test("default", env={**real_node_env(node_cluster.state), "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path)})
