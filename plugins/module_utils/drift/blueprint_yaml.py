# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Text diff sides read as data: YAML or JSON, with application tags (Authentik's !Find, !Context, ...)
kept as plain values by the Authentik client's loader, so a blueprint's diff compares field by field."""

from __future__ import annotations

from typing import Any

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_yaml import YAMLError, load_plain
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import ABSENT


def text_document(text: str) -> Any:
    """A text diff side as data, when it is YAML or JSON (as homelab.mlflow.authentik_blueprint's is)."""
    if text == "":
        return ABSENT
    try:
        return load_plain(text)
    except YAMLError:
        return text
