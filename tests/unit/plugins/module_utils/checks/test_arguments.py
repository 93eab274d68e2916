"""plugins/module_utils/checks/arguments.py: a role's variables against its meta/argument_specs.yml."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import arguments


def test_every_role_of_the_collection_has_main_options():
    for role in ("cluster_preflight", "namespace", "postgres", "storage", "mlflow", "networkpolicy", "authentik"):
        assert arguments.role_options(role), role


def test_a_role_without_argument_specs_has_no_options(tmp_path):
    assert arguments.role_options("nothing", roles=str(tmp_path)) == {}


def test_types_and_choices_name_the_variable():
    options = arguments.role_options("cluster_preflight")
    problems = arguments.argument_problems("cluster_preflight", options, {"cluster_preflight_connect_timeout": "soon"})
    assert [p.variable for p in problems] == ["cluster_preflight_connect_timeout"]
    assert "int" in problems[0].message
    choices = arguments.role_options("namespace")
    (problem,) = arguments.argument_problems("namespace", choices, {"namespace_pod_security_level": "strict"})
    assert problem.variable == "namespace_pod_security_level"
    assert "restricted" in problem.message


def test_good_and_unset_values_pass():
    options = arguments.role_options("namespace")
    assert arguments.argument_problems("namespace", options, {"namespace_pod_security_level": "baseline"}) == []
    assert arguments.argument_problems("namespace", options, {}) == []
