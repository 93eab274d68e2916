"""molecule/onepassword passes its full test sequence against the local test cluster."""


def test_onepassword_scenario(molecule_test):
    molecule_test("onepassword")
