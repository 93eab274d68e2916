"""plugins/module_utils/kube/managed_fields.py: the fields a manager owns, from managedFields as the API
server writes them (FieldsV1, taken from a Deployment of the local test cluster, trimmed)."""

from __future__ import annotations

import importlib

managed_fields = importlib.import_module("ansible_collections.homelab.mlflow.plugins.module_utils.kube.managed_fields")

LIVE = {
    "metadata": {
        "name": "mlflow",
        "labels": {"app": "mlflow"},
        "managedFields": [
            {
                "manager": "homelab.mlflow",
                "operation": "Apply",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {
                        "f:template": {
                            "f:spec": {
                                "f:containers": {
                                    'k:{"name":"mlflow"}': {".": {}, "f:name": {}, "f:args": {}, "f:env": {}}
                                }
                            }
                        }
                    },
                },
            },
            {
                "manager": "kubectl-edit",
                "operation": "Update",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"mlflow"}': {"f:image": {}}}}}}
                },
            },
            {
                "manager": "autoscaler",
                "operation": "Update",
                "subresource": "scale",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:replicas": {}}},
            },
        ],
    },
    "spec": {
        "replicas": 4,
        "template": {
            "spec": {
                "containers": [
                    {"name": "mlflow", "image": "m:2", "args": ["--workers=1"], "env": [{"name": "A", "value": "1"}]}
                ]
            }
        },
    },
}


def test_the_fields_of_a_manager_are_listed_with_list_entries_by_their_keys():
    assert managed_fields.owned_fields(LIVE, "autoscaler") == [["spec", "replicas"]]
    assert managed_fields.owned_fields(LIVE, "kubectl-edit") == [
        ["spec", "template", "spec", "containers", {"name": "mlflow"}, "image"]
    ]
    assert managed_fields.owned_fields(LIVE, "nobody") == []
    assert managed_fields.owned_fields(None, "autoscaler") == []


def test_whether_a_manager_owns_a_field_or_a_whole_value_holding_it():
    container = ["spec", "template", "spec", "containers", "name=mlflow"]

    assert managed_fields.owns(LIVE, "homelab.mlflow", ["metadata", "labels", "app"])
    assert managed_fields.owns(LIVE, "homelab.mlflow", [*container, "args"])
    # A value inside an atomic list or map the manager owns whole.
    assert managed_fields.owns(LIVE, "homelab.mlflow", [*container, "env", "0", "value"])
    assert not managed_fields.owns(LIVE, "homelab.mlflow", [*container, "image"])
    assert not managed_fields.owns(LIVE, "homelab.mlflow", ["spec", "replicas"])
    assert managed_fields.owns(LIVE, "autoscaler", ["spec", "replicas"])
