"""plugins/module_utils/kube/apply.py: a role's object set applied, compared, removed; what it costs."""

from __future__ import annotations

import importlib

import pytest

PACKAGE = "ansible_collections.homelab.mlflow.plugins.module_utils.kube"
apply = importlib.import_module(f"{PACKAGE}.apply")
objects = importlib.import_module(f"{PACKAGE}.objects")


def config_map(value="1", name="settings"):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"key": value}}


def deployment(image="mlflow:1"):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "mlflow"},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "mlflow", "image": image}]}}},
    }


def run(kube, declared, absent=None, check_mode=False, namespace="ns"):
    return apply.apply_set(kube, kube.resources, declared, absent, namespace, check_mode)


def test_a_first_apply_creates_each_object_in_the_default_namespace(fake_kube):
    kube = fake_kube()
    outcomes = run(kube, [config_map(), deployment()])
    assert [(o.ref.label, o.action) for o in outcomes] == [
        ("ConfigMap ns/settings", "created"),
        ("Deployment ns/mlflow", "created"),
    ]
    assert "/api/v1/namespaces/ns/configmaps/settings" in kube.objects


def test_a_second_apply_changes_nothing_and_sends_one_read_per_kind(fake_kube):
    kube = fake_kube()
    run(kube, [config_map(), config_map(name="other"), deployment()])
    kube.sent.clear()
    outcomes = run(kube, [config_map(), config_map(name="other"), deployment()])
    assert {o.action for o in outcomes} == {"unchanged"}
    assert [method for method, _path in kube.sent] == ["GET", "GET"]


def test_a_changed_value_is_applied_and_reported_by_field(fake_kube):
    kube = fake_kube()
    run(kube, [deployment()])
    (outcome,) = run(kube, [deployment("mlflow:2")])
    assert outcome.action == "updated"
    assert [f.to_json() for f in outcome.fields] == [
        {
            "path": "spec.template.spec.containers[name=mlflow].image",
            "change": "changed",
            "expected": "mlflow:2",
            "found": "mlflow:1",
        }
    ]


def test_a_field_dropped_from_the_declaration_is_applied_although_the_rest_still_holds(fake_kube):
    kube = fake_kube()
    declared = config_map()
    declared["metadata"]["labels"] = {"team": "ml"}
    run(kube, [declared])
    kube.sent.clear()
    run(kube, [config_map()])
    assert ("PATCH", "/api/v1/namespaces/ns/configmaps/settings") in kube.sent


def test_a_field_changed_by_someone_else_is_taken_back(fake_kube):
    kube = fake_kube()
    run(kube, [config_map()])
    kube.objects["/api/v1/namespaces/ns/configmaps/settings"]["data"]["key"] = "edited"
    (outcome,) = run(kube, [config_map()])
    assert outcome.action == "updated"
    assert outcome.fields[0].path == "data.key"


def test_check_mode_dry_runs_and_writes_nothing(fake_kube):
    kube = fake_kube()
    run(kube, [config_map()])
    (outcome,) = run(kube, [config_map("2")], check_mode=True)
    assert outcome.action == "updated"
    assert kube.objects["/api/v1/namespaces/ns/configmaps/settings"]["data"]["key"] == "1"


def test_check_mode_into_a_namespace_that_does_not_exist_reports_creations_without_failing(fake_kube):
    kube = fake_kube(namespaces=())
    (outcome,) = run(kube, [config_map()], check_mode=True, namespace="new")
    assert outcome.action == "created"
    assert "does not exist yet" in outcome.note
    assert not kube.objects


def test_a_cluster_scoped_kind_has_no_namespace_whatever_the_default(fake_kube):
    kube = fake_kube()
    (outcome,) = run(kube, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}])
    assert outcome.ref.namespace is None
    assert "/api/v1/namespaces/ns" in kube.objects


def test_absent_objects_are_deleted_when_present_and_skipped_when_their_kind_is_not_served(fake_kube):
    kube = fake_kube()
    run(kube, [config_map(name="old")])
    gone = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old"}}
    never = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "mlflow"}}
    outcomes = run(kube, [], absent=[gone, never, dict(gone, metadata={"name": "missing"})])
    assert [o.action for o in outcomes] == ["deleted", "absent", "absent"]
    assert not kube.objects


def test_an_existing_job_is_kept_and_a_failed_one_replaced(fake_kube):
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"}, "spec": {"template": {}}}
    kube = fake_kube()
    run(kube, [job])
    changed = dict(job, spec={"template": {"x": 1}})
    assert run(kube, [changed])[0].action == "unchanged"
    path = "/apis/batch/v1/namespaces/ns/jobs/migrate"
    kube.objects[path]["status"] = {
        "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]
    }
    assert run(kube, [changed])[0].action == "replaced"
    assert kube.objects[path]["spec"] == {"template": {"x": 1}}


def test_a_refused_object_names_itself_and_says_what_was_done_before(fake_kube):
    kube = fake_kube()
    kube.refuse["/apis/apps/v1/namespaces/ns/deployments/mlflow"] = (422, "Deployment.apps is invalid")
    with pytest.raises(apply.ApplyError) as refused:
        run(kube, [config_map(), deployment()])
    assert "refused to apply Deployment ns/mlflow: Deployment.apps is invalid" in str(refused.value)
    assert [o.action for o in refused.value.outcomes] == ["created"]
    assert refused.value.status == 422


def test_a_secret_diff_hides_every_value_and_marks_the_changed_ones(fake_kube):
    kube = fake_kube()
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"user": "dQ==", "password": "cA=="},
    }
    run(kube, [secret])
    (outcome,) = run(kube, [dict(secret, data={"user": "dQ==", "password": "cTI="})])
    diff = outcome.diff()
    assert diff["before"]["data"] == {"user": "(hidden)", "password": "(hidden)"}
    assert diff["after"]["data"] == {"user": "(hidden)", "password": "(hidden, changed)"}
    assert all(f.redacted for f in outcome.fields)
    assert "cTI=" not in str(outcome.to_json())


def test_several_objects_of_a_kind_are_listed_once_and_a_single_one_is_read_by_name(fake_kube):
    kube = fake_kube()
    run(kube, [config_map(), config_map(name="other"), deployment()])
    kube.sent.clear()
    run(kube, [config_map(), config_map(name="other"), deployment()])
    assert kube.sent == [
        ("GET", "/api/v1/namespaces/ns/configmaps"),
        ("GET", "/apis/apps/v1/namespaces/ns/deployments/mlflow"),
    ]


def test_credentials_that_may_not_list_read_each_object_by_name(fake_kube):
    kube = fake_kube()
    run(kube, [config_map(), config_map(name="other")])
    kube.refuse["/api/v1/namespaces/ns/configmaps"] = (403, "forbidden")
    kube.sent.clear()
    outcomes = run(kube, [config_map(), config_map(name="other")])
    assert {o.action for o in outcomes} == {"unchanged"}
    assert [path for _method, path in kube.sent][1:] == [
        "/api/v1/namespaces/ns/configmaps/settings",
        "/api/v1/namespaces/ns/configmaps/other",
    ]


ROLE = {"app.kubernetes.io/component": "networkpolicy"}
POLICY_KINDS = [
    {"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy"},
    {"api_version": "cilium.io/v2", "kind": "CiliumNetworkPolicy"},  # not served here: skipped
]


def policy(name, labels=None):
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": dict(ROLE if labels is None else labels)},
        "spec": {"podSelector": {}},
    }


def test_prune_removes_the_sets_own_objects_it_no_longer_declares_after_applying_the_rest(fake_kube):
    kube = fake_kube()
    run(kube, [policy("deny"), policy("dns"), policy("gone"), policy("theirs", {"team": "other"})])
    prune = apply.Prune(ROLE, POLICY_KINDS)
    outcomes = apply.apply_set(
        kube, kube.resources, [policy("deny"), policy("dns"), policy("new")], [], "ns", False, prune=prune
    )
    assert [(o.ref.name, o.action) for o in outcomes] == [
        ("deny", "unchanged"),
        ("dns", "unchanged"),
        ("new", "created"),
        ("gone", "deleted"),
    ]
    assert sorted(path.rsplit("/", 1)[-1] for path in kube.objects) == ["deny", "dns", "new", "theirs"]


def test_prune_reuses_the_list_of_the_declared_objects_and_lists_by_label_otherwise(fake_kube):
    kube = fake_kube()
    run(kube, [policy("deny"), policy("dns")])
    kube.sent.clear()
    prune = apply.Prune(ROLE, POLICY_KINDS)
    apply.apply_set(kube, kube.resources, [policy("deny"), policy("dns")], [], "ns", False, prune=prune)
    assert kube.sent == [("GET", "/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies")]
    kube.sent.clear()
    outcomes = apply.apply_set(kube, kube.resources, [config_map()], [], "ns", True, prune=prune)
    assert [(o.ref.name, o.action) for o in outcomes] == [
        ("settings", "created"),
        ("deny", "deleted"),
        ("dns", "deleted"),
    ]
    assert ("GET", "/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies") in kube.sent
    # Check mode: the dry run deleted nothing.
    assert any(path.endswith("/networkpolicies/deny") for path in kube.objects)


def test_prune_without_labels_is_refused_before_anything_is_removed(fake_kube):
    kube = fake_kube()
    run(kube, [policy("deny")])
    with pytest.raises(ValueError, match="prune needs labels"):
        apply.apply_set(kube, kube.resources, [], [], "ns", False, prune=apply.Prune({}, POLICY_KINDS))
    assert any(path.endswith("/networkpolicies/deny") for path in kube.objects)


def test_objects_known_from_an_earlier_read_of_the_run_are_not_read_again_but_secrets_are(fake_kube):
    kube = fake_kube()
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "cA=="}}
    run(kube, [deployment(), secret])
    known = [
        kube.objects["/apis/apps/v1/namespaces/ns/deployments/mlflow"],
        objects.redacted(kube.objects["/api/v1/namespaces/ns/secrets/db"]),
    ]
    kube.sent.clear()
    outcomes = apply.apply_set(kube, kube.resources, [deployment(), secret], namespace="ns", known=known)
    assert {o.action for o in outcomes} == {"unchanged"}
    assert kube.sent == [("GET", "/api/v1/namespaces/ns/secrets/db")]


def test_a_known_object_that_differs_from_the_declaration_is_applied(fake_kube):
    kube = fake_kube()
    run(kube, [deployment()])
    known = [kube.objects["/apis/apps/v1/namespaces/ns/deployments/mlflow"]]
    kube.sent.clear()
    (outcome,) = apply.apply_set(kube, kube.resources, [deployment("mlflow:2")], namespace="ns", known=known)
    assert outcome.action == "updated"
    assert [method for method, _path in kube.sent] == ["PATCH"]


def test_a_field_an_ignore_rule_names_is_neither_corrected_nor_a_change(fake_kube):
    ignore = importlib.import_module(f"{PACKAGE}.ignore")
    kube = fake_kube()
    run(kube, [deployment()])
    path = "/apis/apps/v1/namespaces/ns/deployments/mlflow"
    kube.objects[path]["spec"]["replicas"] = 5
    kube.objects[path]["metadata"]["managedFields"] = [
        {
            "manager": "kubectl",
            "operation": "Update",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
        }
    ]
    rules = ignore.parse_rules([{"kind": "Deployment", "json_pointers": ["/spec/replicas"]}])

    (ignored,) = apply.apply_set(
        kube, kube.resources, [deployment()], namespace="ns", others=ignore.LeftToOthers(tuple(rules))
    )
    (corrected,) = run(kube, [deployment()])

    assert (ignored.action, ignored.fields) == ("unchanged", [])
    assert ignored.to_json()["ignored"] == [
        {
            "path": "spec.replicas",
            "change": "changed",
            "expected": 1,
            "found": 5,
            "ignored_by": "homelab_mlflow_ignore_rules[0]: /spec/replicas",
        }
    ]
    assert ignored.to_json()["rules_matched"] == ["homelab_mlflow_ignore_rules[0]"]
    # Without the rule, the apply takes the field back.
    assert corrected.action == "updated"
    assert kube.objects[path]["spec"]["replicas"] == 1
