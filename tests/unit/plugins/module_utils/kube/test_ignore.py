"""plugins/module_utils/kube/ignore.py: ignore rules validated before any request; the fields that rules and
other field managers leave to the cluster left out of what is applied (or, where the collection still owns
them, applied as the cluster holds them), and counted."""

from __future__ import annotations

import copy
import importlib
import re
from pathlib import Path

import pytest

ignore = importlib.import_module("ansible_collections.homelab.mlflow.plugins.module_utils.kube.ignore")

REPO = Path(__file__).resolve().parents[5]
MLFLOW = "homelab.mlflow.mlflow"
CONTAINER = "/spec/template/spec/containers/name=mlflow"


def deployment(replicas=1, image="m:1", home="/home/mlflow", labels=None):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "mlflow", "namespace": "ns", "labels": labels or {"app.kubernetes.io/name": "mlflow"}},
        "spec": {
            "replicas": replicas,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "mlflow", "image": image, "env": [{"name": "HOME", "value": home}, {"name": "X"}]}
                    ]
                }
            },
        },
    }


def live(obj, *records):
    found = copy.deepcopy(obj)
    found["metadata"]["managedFields"] = [
        {"manager": manager, "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": fields}
        for manager, fields in records
    ]
    return found


OURS_REPLICAS = ("homelab.mlflow", {"f:spec": {"f:replicas": {}}})


def rules(*items):
    return ignore.parse_rules(list(items))


def test_a_field_of_a_rule_that_someone_else_changed_is_left_out_and_counted():
    declared = deployment(replicas=1)
    found = live(deployment(replicas=5), ("kubectl-scale", {"f:spec": {"f:replicas": {}}}))

    applied, left = ignore.leave_to_others(
        declared, found, rules({"kind": "Deployment", "name": "mlflow", "json_pointers": ["/spec/replicas"]})
    )

    assert "replicas" not in applied["spec"]
    assert declared["spec"]["replicas"] == 1  # the declaration itself is left as it is
    assert [(f.path, f.expected, f.found, f.ignored_by) for f in left.fields] == [
        ("spec.replicas", 1, 5, "homelab_mlflow_ignore_rules[0]: /spec/replicas")
    ]
    assert left.rules_matched == ["homelab_mlflow_ignore_rules[0]"]


def test_a_field_the_collection_still_owns_is_applied_as_the_cluster_holds_it():
    # Left out, the API server would remove a field whose only owner stops applying it.
    applied, left = ignore.leave_to_others(
        deployment(replicas=2),
        live(deployment(replicas=3), OURS_REPLICAS),
        rules({"kind": "Deployment", "json_pointers": ["/spec/replicas"]}),
    )

    assert applied["spec"]["replicas"] == 3
    assert [f.path for f in left.fields] == ["spec.replicas"]


def test_a_field_that_holds_is_applied_as_declared_and_not_counted():
    applied, left = ignore.leave_to_others(
        deployment(), live(deployment()), rules({"kind": "Deployment", "json_pointers": ["/spec/replicas"]})
    )

    assert applied == deployment()
    assert left.fields == []
    assert left.rules_matched == ["homelab_mlflow_ignore_rules[0]"]


def test_a_list_entry_is_named_by_its_key():
    declared = deployment(home="/home/mlflow")
    found = live(deployment(home="/root"))

    applied, left = ignore.leave_to_others(
        declared, found, rules({"kind": "Deployment", "json_pointers": [f"{CONTAINER}/env/name=HOME"]})
    )

    assert applied["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "X"}]
    assert [f.path for f in left.fields] == ["spec.template.spec.containers[name=mlflow].env[name=HOME]"]


@pytest.mark.parametrize(
    ("rule", "selected"),
    [
        ({"kind": "Deployment", "labels": {"app.kubernetes.io/name": "mlflow"}}, True),
        ({"kind": "Deployment", "labels": {"app.kubernetes.io/name": "other"}}, False),
        ({"kind": "Deployment", "name": "other"}, False),
        ({"kind": "Service"}, False),
        ({"kind": "Deployment", "role": "mlflow"}, True),
        ({"kind": "Deployment", "role": "homelab.mlflow.mlflow"}, True),
        ({"kind": "Deployment", "role": "postgres"}, False),
    ],
)
def test_a_rule_selects_objects_by_kind_name_labels_and_role(rule, selected):
    (parsed,) = rules(dict(rule, json_pointers=["/spec/replicas"]))

    assert parsed.selects(deployment(), MLFLOW) is selected


def test_a_rule_whose_pointers_name_nothing_has_not_matched():
    _applied, left = ignore.leave_to_others(
        deployment(), live(deployment()), rules({"kind": "Deployment", "json_pointers": ["/spec/paused"]})
    )

    assert left.rules_matched == []


def test_an_object_not_there_yet_is_made_as_declared():
    applied, left = ignore.leave_to_others(
        deployment(), None, rules({"kind": "Deployment", "json_pointers": ["/spec/replicas"]})
    )

    assert applied == deployment()
    assert (left.fields, left.rules_matched) == ([], ["homelab_mlflow_ignore_rules[0]"])


def test_the_fields_of_other_field_managers_are_theirs():
    found = live(
        deployment(replicas=4, image="m:2"),
        ("autoscaler", {"f:spec": {"f:replicas": {}}}),
        (
            "kubectl-edit",
            {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"mlflow"}': {"f:image": {}}}}}}},
        ),
    )

    applied, left = ignore.leave_to_others(deployment(), found, [], MLFLOW, ["autoscaler"])

    assert "replicas" not in applied["spec"]
    assert applied["spec"]["template"]["spec"]["containers"][0]["image"] == "m:1"  # kubectl-edit is not listed
    assert [(f.path, f.ignored_by) for f in left.fields] == [("spec.replicas", "field manager autoscaler")]


def test_the_values_of_a_secret_left_alone_are_not_shown():
    declared = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"token": "bmV3"}}
    found = live({**declared, "data": {"token": "b2xk"}})

    _applied, left = ignore.leave_to_others(
        declared, found, rules({"kind": "Secret", "json_pointers": ["/data/token"]})
    )

    (item,) = left.fields
    assert item.to_json() == {
        "path": "data.token",
        "change": "changed",
        "redacted": True,
        "ignored_by": "homelab_mlflow_ignore_rules[0]: /data/token",
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("nope", "a list of rules"),
        (["nope"], r"homelab_mlflow_ignore_rules\[0\]: a rule is a mapping"),
        ([{"kind": "Deploymnet", "json_pointers": ["/spec"]}], r"rules\[0\]: kind 'Deploymnet' is none"),
        ([{"kind": "Deployment"}], "json_pointers is a list of at least one"),
        ([{"kind": "Deployment", "json_pointers": ["spec/replicas"]}], "starts with '/'"),
        ([{"kind": "Deployment", "json_pointers": ["/metadata/name"]}], "names the object itself"),
        ([{"kind": "Deployment", "json_pointers": ["/spec"], "nmae": "x"}], "unknown keys nmae"),
        ([{"kind": "Deployment", "json_pointers": ["/spec"], "role": "web"}], "role 'web' is none"),
        ([{"kind": "Deployment", "json_pointers": ["/spec"], "labels": {"a": 1}}], "labels maps label keys"),
        (
            [
                {"kind": "Deployment", "json_pointers": ["/spec"]},
                {"description": "hand", "kind": "Job", "json_pointers": ["x"]},
            ],
            r"homelab_mlflow_ignore_rules\[1\] \(hand\): 'x' is no JSON pointer",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_the_rule_and_what_is_allowed(raw, message):
    with pytest.raises(ignore.RuleError, match=message):
        ignore.parse_rules(raw)


@pytest.mark.parametrize(
    ("raw", "message"), [("x", "a list of field manager names"), (["homelab.mlflow"], "the collection's own")]
)
def test_bad_field_managers_are_refused(raw, message):
    with pytest.raises(ignore.RuleError, match=message):
        ignore.parse_managers(raw)


def test_every_kind_and_role_of_the_collection_can_be_named():
    kinds = set()
    for template in REPO.glob("roles/*/templates/*.j2"):
        kinds.update(re.findall(r"^kind: ([A-Za-z]+)$", template.read_text(), re.MULTILINE))

    assert kinds <= set(ignore.KINDS)
    assert set(ignore.ROLES) == {path.name for path in (REPO / "roles").iterdir() if path.is_dir()}
