"""plugins/module_utils/preflight/volumes.py."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import volumes


@pytest.mark.parametrize(
    ("wanted", "live", "shrinks", "grows"),
    [
        ("10Gi", "20Gi", True, False),
        ("20Gi", "20Gi", False, False),
        ("21474836480", "20Gi", False, False),
        ("30Gi", "20Gi", False, True),
        ("10Gi", "2e10", False, False),  # another notation: left to the API server
        ("10Gi", "", False, False),
    ],
)
def test_sizes_compare_in_bytes(wanted, live, shrinks, grows):
    assert volumes.shrinks(wanted, live) is shrinks
    assert volumes.grows(wanted, live) is grows


def test_expansion_is_what_the_class_allows():
    assert volumes.allows_expansion({"allowVolumeExpansion": True})
    assert not volumes.allows_expansion({})
    assert not volumes.allows_expansion(None)
