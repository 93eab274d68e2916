"""molecule/testcluster passes its full test sequence against the local test cluster."""


def test_testcluster_scenario(molecule_test):
    molecule_test("testcluster")
