# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Text diff sides read as data: YAML or JSON, with application tags (Authentik's !Find, !Context, ...)
kept as plain values, so a blueprint's diff compares field by field."""

from __future__ import annotations

from typing import Any

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core on the controller, where this runs
    HAS_YAML = False

from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import ABSENT

if HAS_YAML:

    class _TaggedLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        """YAML with application tags (Authentik's !Find, !Context, ...) kept as plain values."""

    def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return f"!{suffix} {loader.construct_scalar(node)}".rstrip()
        if isinstance(node, yaml.SequenceNode):
            return {f"!{suffix}": loader.construct_sequence(node, deep=True)}
        return {f"!{suffix}": loader.construct_mapping(node, deep=True)}

    _TaggedLoader.add_multi_constructor("!", _tagged)


def _text_document(text: str) -> Any:
    """A text diff side as data, when it is YAML or JSON (as homelab.mlflow.authentik_blueprint's is)."""
    if text == "":
        return ABSENT
    try:
        return yaml.load(text, Loader=_TaggedLoader)  # noqa: S506  # a SafeLoader, with tags kept as values
    except yaml.YAMLError:
        return text


text_document = _text_document
