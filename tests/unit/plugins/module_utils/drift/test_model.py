"""plugins/module_utils/drift/model.py: an object's state and whether it can be corrected; a target's status;
which objects one change of credentials explains."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.drift.model import (
    FieldDrift,
    ObjectDrift,
    TargetReport,
    credential_rotation,
)

SECRET = {"api_version": "v1", "kind": "Secret", "namespace": "ns", "name": "creds"}
DEPLOYMENT = {"api_version": "apps/v1", "kind": "Deployment", "namespace": "ns", "name": "mlflow"}
CHECKSUM = 'spec.template.metadata.annotations["checksum/backend-store"]'


def test_an_object_is_found_corrected_or_not_corrected():
    found = ObjectDrift("r", "t", "modified", DEPLOYMENT)
    corrected = ObjectDrift("r", "t", "modified", DEPLOYMENT, corrected=True)
    refused = ObjectDrift("r", "t", "refused", DEPLOYMENT, attempted=True)

    assert [item.state for item in (found, corrected, refused)] == ["found", "corrected", "not_corrected"]
    assert [item.correctable for item in (found, corrected, refused)] == [True, True, False]


@pytest.mark.parametrize(
    ("mode", "drift", "errors", "status"),
    [
        ("detect", [], [], "in_sync"),
        ("detect", [ObjectDrift("r", "t", "modified", DEPLOYMENT)], [], "drift"),
        ("correct", [ObjectDrift("r", "t", "modified", DEPLOYMENT)], [], "corrected"),
        ("correct", [ObjectDrift("r", "t", "refused", DEPLOYMENT)], [], "drift"),
        ("correct", [], [{"role": "r", "task": "t", "message": "m"}], "failed"),
    ],
)
def test_a_targets_status(mode, drift, errors, status):
    assert TargetReport("local", drift=drift, errors=errors).status(mode) == status


def test_new_secret_values_with_the_rollout_they_cause_are_one_rotation():
    secret = ObjectDrift("r", "t", "modified", SECRET, [FieldDrift("data.password", "(set)", "(set)", redacted=True)])
    rollout = ObjectDrift("r", "t", "modified", DEPLOYMENT, [FieldDrift(CHECKSUM, "b", "a")])
    other = ObjectDrift("r", "t", "modified", DEPLOYMENT, [FieldDrift("spec.replicas", 1, 2)])

    assert credential_rotation([secret, rollout, other]) == [secret, rollout]
    assert credential_rotation([secret, other]) == []
    assert credential_rotation([rollout]) == []


def test_new_values_of_a_key_that_is_no_identifier_are_part_of_the_rotation():
    secret = ObjectDrift("r", "t", "modified", SECRET, [FieldDrift("data.password", "(set)", "(set)", redacted=True)])
    inventory = ObjectDrift(
        "r", "t", "modified", {**SECRET, "name": "inventory"}, [FieldDrift('data["hosts.yml"]', "(set)", "(set)")]
    )
    rollout = ObjectDrift("r", "t", "modified", DEPLOYMENT, [FieldDrift(CHECKSUM, "b", "a")])

    assert credential_rotation([secret, inventory, rollout]) == [secret, inventory, rollout]
