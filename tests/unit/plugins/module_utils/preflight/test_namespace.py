"""plugins/module_utils/preflight/namespace.py."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import namespace


def test_a_namespace_that_does_not_exist_yet_or_is_active_is_fine(kube, cluster_of):
    assert namespace.check({"mlflow_namespace": "new"}, cluster_of()).problems == []
    kube.add("/api/v1/namespaces/ns", {"metadata": {"name": "ns"}, "status": {"phase": "Active"}})
    assert namespace.check({"mlflow_namespace": "ns"}, cluster_of()).problems == []


def test_a_namespace_being_deleted_is_refused(kube, cluster_of):
    kube.add("/api/v1/namespaces/ns", {"metadata": {"name": "ns"}, "status": {"phase": "Terminating"}})

    (problem,) = namespace.check({"mlflow_namespace": "ns"}, cluster_of()).problems

    assert problem.variable == "mlflow_namespace"
    assert "Namespace ns (mlflow_namespace) is being deleted (phase Terminating)" in problem.message
