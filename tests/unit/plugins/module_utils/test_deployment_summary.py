from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.deployment_summary import Run, summary_lines, why_not

VALUES = {
    "mlflow_namespace": "mlflow",
    "cluster_host": "https://127.0.0.1:6443",
    "postgres_cluster_name": "mlflow-postgres",
    "postgres_instances": 1,
    "postgres_image": "pg:16",
    "postgres_storage_size": "5Gi",
    "postgres_storage_class": "longhorn",
    "storage_artifacts_pvc_name": "mlflow-artifacts",
    "storage_artifacts_size": "10Gi",
    "storage_artifacts_access_mode": "ReadWriteOnce",
    "storage_artifacts_storage_class": "longhorn",
    "mlflow_version": "2.20.3",
    "mlflow_image": "mlflow:2.20.3",
    "mlflow_replicas": 1,
    "mlflow_cluster_domain": "cluster.local",
    "mlflow_external_host": "mlflow.example.com",
    "mlflow_httproute_enabled": False,
    "mlflow_gateway_name": "main-gateway",
    "mlflow_verify_http": True,
    "mlflow_verify_url": "http://mlflow.mlflow.svc.cluster.local",
    "mlflow_verify_smoke_test": True,
    "authentik_application_slug": "mlflow-x",
    "authentik_provider_mode": "proxy",
    "authentik_provider_name": "mlflow-x",
    "authentik_outpost": "dedicated",
    "authentik_dedicated_outpost_name": "mlflow-x",
    "authentik_host": "https://auth.example.com",
    "authentik_verify_http": True,
    "authentik_verify_url": "https://mlflow.example.com",
}
RESULTS = {
    "networkpolicy_verify_policies": {"policies": [{"kind": "CiliumNetworkPolicy"}] * 3},
    "postgres_verify_cluster": {"resources": [{"status": {"phase": "Cluster in healthy state"}}]},
    "storage_verify_claim": {"resources": [{"status": {"phase": "Bound"}}]},
    "authentik_verify_info": {"checked": ["api"]},
    "authentik_verify_login": {"login_url": "https://auth.example.com/x"},
}
SKIPPED = {name: {"skipped": True} for name in RESULTS}


def lines(values=None, results=None, run=None) -> dict[str, str]:
    built = summary_lines({**VALUES, **(values or {})}, RESULTS if results is None else results, run or Run())
    return {line.split(" ", 1)[0].rstrip(":"): line for line in built}


def test_a_full_run_says_what_was_verified():
    found = lines()
    assert found["Namespace"] == "Namespace mlflow (PodSecurity restricted) on https://127.0.0.1:6443"
    assert found["Network"] == ("Network policies: CiliumNetworkPolicy (3: mlflow-default-deny and the allowed flows)")
    assert found["PostgreSQL"].endswith("5Gi on longhorn; status Cluster in healthy state")
    assert found["Artifacts"] == "Artifacts: PVC mlflow-artifacts, 10Gi ReadWriteOnce on longhorn; phase Bound"
    assert found["Single"].endswith("at https://auth.example.com; objects verified")
    assert found["Login"] == "Login: https://mlflow.example.com sends a browser to Authentik"
    assert found["HTTP"] == "HTTP API checked at http://mlflow.mlflow.svc.cluster.local with a smoke run"


def test_check_mode_verifies_nothing():
    found = lines(results=SKIPPED, run=Run(check_mode=True))
    assert found["Network"] == "Network policies: not verified (check mode)"
    assert found["PostgreSQL"].endswith("status not verified (check mode)")
    assert found["Artifacts"].endswith("phase not verified (check mode)")
    assert found["Single"].endswith("objects not verified (check mode)")
    assert found["Login"] == "Login: not checked (check mode)"
    assert found["HTTP"] == "HTTP API not checked (check mode)"
    assert "verified" not in " ".join(found.values()).replace("not verified", "")


def test_tags_not_selected_are_named():
    found = lines(results={}, run=Run(run_tags=frozenset({"mlflow"})))
    assert found["PostgreSQL"].endswith("status not verified (tags not selected)")
    assert found["Single"].endswith("objects not verified (tags not selected)")
    assert found["HTTP"].startswith("HTTP API checked")


def test_the_variables_that_turn_checks_off_are_named():
    results = {**RESULTS, "authentik_verify_login": {"skipped": True}}
    found = lines({"mlflow_verify_http": False, "authentik_verify_http": False}, results)
    assert found["HTTP"] == "HTTP API not checked (mlflow_verify_http is false)"
    assert found["Login"] == "Login: not checked (authentik_verify_http is false)"


def test_skipped_tags_count():
    run = Run(skip_tags=frozenset({"verify"}))
    assert not run.selects("postgres", "verify")
    assert why_not(run, ("postgres", "verify"), None) == "tags not selected"
    assert Run(run_tags=frozenset({"tagged"})).selects("postgres")
    assert why_not(Run(), ("postgres", "verify"), None) == "skipped"
