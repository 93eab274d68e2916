"""plugins/module_utils/authentik/blueprint_content.py: blueprint content parsed, normalized and refused."""

from __future__ import annotations

import pytest
from authentik_client_testing import BLUEPRINT

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_content import (
    normalize_blueprint_content,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError


def test_content_is_normalized_deterministically_with_authentiks_tags_kept():
    normalized = normalize_blueprint_content(BLUEPRINT)

    assert normalize_blueprint_content(normalized) == normalized
    assert "    mode: !Context mode\n" in normalized
    assert "!Find [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]" in normalized
    assert "    skip_path_regex: |\n      ^/health$\n      ^/static/\n" in normalized
    # Keys keep the order they were given in.
    assert normalized.index("version") < normalized.index("metadata") < normalized.index("entries")


def test_content_as_a_dictionary_or_as_text_is_the_same_blueprint():
    as_dict = {"version": 1, "metadata": {"name": "g"}, "entries": [{"model": "authentik_core.group"}]}
    as_text = "version: 1\nmetadata: {name: g}\nentries: [{model: authentik_core.group}]\n"

    assert normalize_blueprint_content(as_dict) == normalize_blueprint_content(as_text)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("version: 1\nentries: [", "content is not valid YAML"),
        ("- a list", "content must be a blueprint"),
        (42, "content must be YAML text or a dictionary"),
    ],
)
def test_content_that_is_no_blueprint_is_refused_before_asking_authentik(content, message):
    with pytest.raises(AuthentikError, match=message):
        normalize_blueprint_content(content)
