"""What the tests of the CloudNativePG stand-in share: a `Cluster` named `pg`, created, read and waited for."""

from __future__ import annotations

from ansible_runs import eventually

GROUP, VERSION, PLURAL = "postgresql.cnpg.io", "v1", "clusters"
HEALTHY = "Cluster in healthy state"


def create_cluster(
    custom, namespace: str, instances: int = 1, initdb: dict | None = None, affinity: dict | None = None
) -> dict:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Cluster",
        "metadata": {"name": "pg"},
        "spec": {
            "instances": instances,
            "imageName": "ghcr.io/cloudnative-pg/postgresql:17.5",
            "storage": {"size": "1Gi", "storageClass": "longhorn"},
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
            "bootstrap": {"initdb": initdb or {"database": "mlflow", "owner": "mlflow"}},
            **({"affinity": affinity} if affinity else {}),
        },
    }
    return custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def read_status(custom, namespace: str) -> dict:
    return custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "pg").get("status", {})


def patch_cluster(custom, namespace: str, patch: dict) -> None:
    custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "pg", patch)


def wait_healthy(custom, namespace: str, instances: int) -> dict:
    def healthy():
        status = read_status(custom, namespace)
        ready = status.get("readyInstances") == status.get("instances") == instances
        return status if ready and status.get("phase") == HEALTHY else None

    return eventually(healthy, what=f"Cluster pg healthy with {instances} ready instance(s)")
