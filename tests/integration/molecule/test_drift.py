"""molecule/drift passes its full test sequence against the local test cluster."""


def test_drift_scenario(molecule_test):
    molecule_test("drift")
