"""molecule/default passes its full test sequence against the local test cluster."""


def test_default_scenario(molecule_test):
    molecule_test("default")
