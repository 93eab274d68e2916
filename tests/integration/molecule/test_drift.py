"""molecule/drift passes its full test sequence against the local test cluster, on its simulated node
and on its real node (where the scenario also runs its CronJob once in the cluster)."""


def test_drift_scenario(molecule_test):
    molecule_test("drift")


def test_drift_scenario_on_the_real_node(molecule_test_on_real_node):
    molecule_test_on_real_node("drift")
