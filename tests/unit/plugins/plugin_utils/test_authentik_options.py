"""plugins/plugin_utils/authentik_options.py: the argument spec of the actions that ask Authentik only when host
and token are given, and its documentation (the doc fragment homelab.mlflow.authentik.if_given) agree."""

from __future__ import annotations

import yaml

from ansible_collections.homelab.mlflow.plugins.doc_fragments.authentik import ModuleDocFragment
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.options import AUTHENTIK_COMMON_ARGS
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC
from ansible_collections.homelab.mlflow.plugins.plugin_utils.authentik_options import authentik_if_given_spec


def test_host_and_token_are_optional_and_empty_by_default_the_rest_as_for_every_authentik_action():
    spec = authentik_if_given_spec()

    for name in ("host", "token"):
        assert spec[name]["required"] is False
        assert spec[name]["default"] == ""
    assert spec["token"]["no_log"] is True
    assert {name: spec[name] for name in AUTHENTIK_COMMON_ARGS if name not in ("host", "token")} == {
        name: option for name, option in AUTHENTIK_COMMON_ARGS.items() if name not in ("host", "token")
    }
    assert AUTHENTIK_COMMON_ARGS["host"]["required"] is True


def test_the_engines_connection_and_the_actions_own_options_are_added():
    own = {"slug": {"type": "str", "required": True}}

    spec = authentik_if_given_spec(**own)

    assert {name: spec[name] for name in CONNECTION_SPEC} == CONNECTION_SPEC
    assert spec["slug"] == own["slug"]
    spec["slug"]["required"] = False
    spec["kubeconfig"]["type"] = "str"
    assert own["slug"]["required"] is True
    assert CONNECTION_SPEC["kubeconfig"]["type"] == "path"


def test_the_doc_fragment_documents_host_and_token_as_the_spec_declares_them():
    documented = yaml.safe_load(ModuleDocFragment.IF_GIVEN)["options"]
    spec = authentik_if_given_spec()

    for name in ("host", "token"):
        assert documented[name]["type"] == spec[name]["type"]
        assert documented[name]["required"] is spec[name]["required"]
        assert documented[name]["default"] == spec[name]["default"]
