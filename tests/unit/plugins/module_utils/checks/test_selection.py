"""plugins/module_utils/checks/selection.py: the roles a run's --tags and --skip-tags select."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.selection import selected_roles

ROLES = ["cluster_preflight", "namespace", "postgres", "mlflow"]


@pytest.mark.parametrize(
    ("run", "skip", "expected"),
    [
        (None, None, ROLES),
        (["all"], [], ROLES),
        (["mlflow"], [], ["cluster_preflight", "mlflow"]),
        (["preflight"], [], ROLES),
        (["verify"], [], ["cluster_preflight"]),
        (["all"], ["postgres"], ["cluster_preflight", "namespace", "mlflow"]),
        (["all"], ["preflight"], ["cluster_preflight"]),
        (["all"], ["always", "preflight"], []),
    ],
)
def test_roles_follow_the_tags_their_tasks_carry(run, skip, expected):
    assert selected_roles(ROLES, run, skip) == expected
