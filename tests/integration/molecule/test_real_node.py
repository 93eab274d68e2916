"""molecule's `default` and `drift` scenarios on the test cluster's real node: the kubelet runs the
migration Job, MLflow's pods and the drift CronJob's run from the images built here.

`default` checks MLflow through its Service and finds the smoke test's run on the volume; `drift` runs
its CronJob once in the cluster and reads the report. Both run against one private cluster with the
real node (tests/support/real_node_clusters.py), which the module starts and stops. Each has molecule
state of its own: the same scenario may run on the simulated node at the same time.
"""

import pytest
from real_node_clusters import real_node_cluster, real_node_env


@pytest.fixture(scope="module")
def node_cluster():
    with real_node_cluster() as cluster:
        yield cluster


@pytest.mark.parametrize("scenario", ["default", "drift"])
def test_scenario_on_the_real_node(molecule_test, node_cluster, tmp_path, scenario):
    molecule_test(scenario, env={**real_node_env(node_cluster.state), "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path)})
