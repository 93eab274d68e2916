"""plugins/module_utils/drift/blueprint_yaml.py: a text diff side as data, application tags kept as values."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.drift.blueprint_yaml import text_document
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import ABSENT


def test_yaml_with_tags_is_data_with_the_tags_kept():
    text = "mode: !Context mode\nflow: !Find [authentik_flows.flow, [slug, default]]\nplain: 1\n"

    assert text_document(text) == {
        "mode": "!Context mode",
        "flow": {"!Find": ["authentik_flows.flow", ["slug", "default"]]},
        "plain": 1,
    }


def test_an_empty_side_is_absent_and_text_that_is_no_yaml_stays_text():
    assert text_document("") is ABSENT
    assert text_document("a: [unclosed") == "a: [unclosed"
