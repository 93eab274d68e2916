"""What the networkpolicy role's tests (unit and integration) expect of it by name."""

from __future__ import annotations

# The policies the role makes with its defaults, in the order it makes them.
DEFAULT_POLICIES = [
    "mlflow-default-deny",
    "mlflow-dns-egress",
    "mlflow-gateway-to-server-ingress",
    "mlflow-outpost-to-server-ingress",
    "mlflow-server-to-database-ingress",
    "mlflow-server-to-database-egress",
    "mlflow-db-upgrade-to-database-ingress",
    "mlflow-db-upgrade-to-database-egress",
    "mlflow-operator-to-database-ingress",
    "mlflow-database-to-api-server-egress",
]
