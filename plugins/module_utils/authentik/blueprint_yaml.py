# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""YAML with Authentik's blueprint tags (`!KeyOf`, `!Find`, `!Context`, `!Format`, ...).

Safe loading refuses tags it does not know; these loaders keep them instead, so blueprint YAML
parses anywhere the collection reads it:

- `BlueprintLoader` keeps each tag as a `TaggedValue`, which `BlueprintDumper` writes back as it was.
- `PlainTagLoader` turns each tag into plain data (`"!Context mode"`, `{"!Find": [...]}`), for
  readers that compare or print the document as JSON (a drift report).

Depends on PyYAML only (`HAS_YAML` says whether it is there).
"""

from __future__ import annotations

import traceback

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
    YAMLError = yaml.YAMLError
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core on the controller
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

    class YAMLError(Exception):
        """Stands in for yaml.YAMLError where PyYAML is missing (nothing raises it then)."""


class TaggedValue:
    """A value with one of Authentik's custom YAML tags (`!Find`, `!KeyOf`, `!Context`, ...), kept as written."""

    __slots__ = ("tag", "value")

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value

    def __eq__(self, other):
        return isinstance(other, TaggedValue) and (self.tag, self.value) == (other.tag, other.value)

    def __hash__(self):
        return hash(self.tag)

    def __repr__(self):
        return f"TaggedValue({self.tag!r}, {self.value!r})"


def dump_blueprint_yaml(data):
    """`data` as block-style YAML, keys in their order, tags kept (see BlueprintDumper)."""
    return yaml.dump(
        data, Dumper=BlueprintDumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=1000
    )


def load_tagged(text):
    """Parse YAML text with its tags kept as TaggedValue (BlueprintLoader); YAMLError when it is not YAML."""
    return yaml.load(text, Loader=BlueprintLoader)  # noqa: S506 - a SafeLoader subclass


def load_plain(text):
    """Parse YAML text with its tags as plain data (PlainTagLoader); YAMLError when it is not YAML."""
    return yaml.load(text, Loader=PlainTagLoader)  # noqa: S506 - a SafeLoader subclass


if HAS_YAML:

    class BlueprintLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        """Safe loading that keeps Authentik's custom tags instead of refusing them."""

    class PlainTagLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        """Safe loading with Authentik's custom tags kept as plain values: `"!Tag scalar"` or `{"!Tag": data}`."""

    class BlueprintDumper(yaml.SafeDumper):
        """Block-style YAML with multi-line strings as literal blocks and the custom tags kept."""

        def choose_scalar_style(self):
            # `!Context mode` rather than `!Context 'mode'`: PyYAML quotes every scalar with a tag
            # of its own, although a plain one reads back the same.
            if self.analysis is None:
                self.analysis = self.analyze_scalar(self.event.value)
            if (
                not self.event.style
                and (self.event.tag or "").startswith("!")
                and not self.analysis.empty
                and not self.analysis.multiline
                and (self.analysis.allow_flow_plain if self.flow_level else self.analysis.allow_block_plain)
            ):
                return ""
            return super().choose_scalar_style()

    def _construct_tagged(loader, tag_suffix, node):
        tag = "!" + tag_suffix
        if isinstance(node, yaml.ScalarNode):
            return TaggedValue(tag, loader.construct_scalar(node))
        if isinstance(node, yaml.SequenceNode):
            return TaggedValue(tag, loader.construct_sequence(node, deep=True))
        return TaggedValue(tag, loader.construct_mapping(node, deep=True))

    def _construct_plain(loader, tag_suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return f"!{tag_suffix} {loader.construct_scalar(node)}".rstrip()
        if isinstance(node, yaml.SequenceNode):
            return {f"!{tag_suffix}": loader.construct_sequence(node, deep=True)}
        return {f"!{tag_suffix}": loader.construct_mapping(node, deep=True)}

    def _represent_tagged(dumper, data):
        if isinstance(data.value, list):
            # `!Find [model, [field, value]]` reads best on one line, as Authentik's docs write it.
            return dumper.represent_sequence(data.tag, data.value, flow_style=True)
        if isinstance(data.value, dict):
            return dumper.represent_mapping(data.tag, data.value)
        return dumper.represent_scalar(data.tag, "" if data.value is None else str(data.value))

    def _represent_str(dumper, data):
        if "\n" in data:
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", data)

    BlueprintLoader.add_multi_constructor("!", _construct_tagged)
    PlainTagLoader.add_multi_constructor("!", _construct_plain)
    BlueprintDumper.add_representer(TaggedValue, _represent_tagged)
    BlueprintDumper.add_representer(str, _represent_str)
