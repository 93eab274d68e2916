"""testcluster.py's checks before it starts anything."""

import shutil
import tempfile
from pathlib import Path

import pytest
from testcluster import unreachable_by_others


@pytest.fixture
def open_folder():
    """A folder others may enter, under /tmp (pytest's own tmp_path is closed to them)."""
    folder = Path(tempfile.mkdtemp(prefix="homelab-testcluster-unit-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_a_state_folder_under_a_closed_folder_is_named(open_folder):
    closed = open_folder / "home"
    (closed / "checkout").mkdir(parents=True)
    closed.chmod(0o700)
    assert unreachable_by_others(closed / "checkout" / ".testcluster") == closed


def test_a_state_folder_others_may_reach_passes(open_folder):
    (open_folder / "checkout").mkdir(mode=0o755)
    assert unreachable_by_others(open_folder / "checkout" / ".testcluster") is None
