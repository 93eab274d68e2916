"""plugins/module_utils/authentik/blueprint_yaml.py: YAML with Authentik's blueprint tags, kept as
TaggedValue (and written back as it was) or turned into plain data."""

from __future__ import annotations

import json

import pytest
import yaml
from authentik_client_testing import BLUEPRINT

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_yaml import (
    TaggedValue,
    YAMLError,
    dump_blueprint_yaml,
    load_plain,
    load_tagged,
)


def test_tags_are_kept_as_tagged_values():
    attrs = load_tagged(BLUEPRINT)["entries"][0]["attrs"]

    assert attrs["mode"] == TaggedValue("!Context", "mode")
    assert attrs["external_host"] == TaggedValue(
        "!Format", ["https://%s", TaggedValue("!Context", ["host", "mlflow.example.com"])]
    )
    assert attrs["authorization_flow"] == TaggedValue(
        "!Find", ["authentik_flows.flow", ["slug", "default-provider-authorization-implicit-consent"]]
    )


def test_tagged_yaml_is_written_back_as_authentik_writes_it():
    text = dump_blueprint_yaml(load_tagged(BLUEPRINT))

    assert "    mode: !Context mode\n" in text
    assert "!Format ['https://%s', !Context [host, mlflow.example.com]]" in text
    assert "    skip_path_regex: |\n      ^/health$\n      ^/static/\n" in text
    assert load_tagged(text) == load_tagged(BLUEPRINT)


def test_a_mapping_under_a_tag_is_kept():
    data = load_tagged("value: !If {true: a, false: b}\n")

    assert data["value"] == TaggedValue("!If", {True: "a", False: "b"})
    assert load_tagged(dump_blueprint_yaml(data)) == data


def test_plain_loading_turns_tags_into_data_that_json_can_hold():
    attrs = load_plain(BLUEPRINT)["entries"][0]["attrs"]

    assert attrs["mode"] == "!Context mode"
    assert attrs["external_host"] == {"!Format": ["https://%s", {"!Context": ["host", "mlflow.example.com"]}]}
    assert attrs["authorization_flow"] == {
        "!Find": ["authentik_flows.flow", ["slug", "default-provider-authorization-implicit-consent"]]
    }
    assert load_plain("a: !Env\n") == {"a": "!Env"}
    assert load_plain("a: !Enumerate {x: 1}\n") == {"a": {"!Enumerate": {"x": 1}}}
    json.dumps(load_plain(BLUEPRINT))


def test_text_that_is_not_yaml_raises_yamls_error():
    assert YAMLError is yaml.YAMLError
    with pytest.raises(YAMLError):
        load_plain("a: [")
    with pytest.raises(YAMLError):
        load_tagged("a: [")


def test_the_loaders_stay_safe():
    with pytest.raises(YAMLError):
        load_tagged("!!python/object/apply:os.system ['true']\n")
    with pytest.raises(YAMLError):
        load_plain("!!python/object/apply:os.system ['true']\n")
