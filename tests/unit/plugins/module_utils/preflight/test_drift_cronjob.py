"""plugins/module_utils/preflight/drift_cronjob.py."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import drift_cronjob
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.cluster import Cluster


def test_the_cluster_preflight_must_have_run_when_enabled(cluster_of):
    unknown = Cluster(None, lambda: None)

    assert drift_cronjob.check({"drift_cronjob_enabled": False}, unknown).problems == []
    assert drift_cronjob.check({"drift_cronjob_enabled": True}, cluster_of()).problems == []
    (problem,) = drift_cronjob.check({"drift_cronjob_enabled": "yes"}, unknown).problems
    assert problem.variable == "cluster_preflight_cluster_info"
    assert "run that role first in the same play" in problem.message
