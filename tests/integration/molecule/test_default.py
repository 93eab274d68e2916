"""molecule/default passes its full test sequence against the local test cluster, on its simulated node
and on its real node (where the kubelet runs MLflow from the images built here)."""


def test_default_scenario(molecule_test):
    molecule_test("default")


def test_default_scenario_on_the_real_node(molecule_test_on_real_node):
    molecule_test_on_real_node("default")
