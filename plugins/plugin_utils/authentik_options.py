# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The argument spec of the actions that read the cluster and ask Authentik only when they are told where it is."""

from __future__ import annotations

import copy

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.options import AUTHENTIK_COMMON_ARGS
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.task import CONNECTION_SPEC


def authentik_if_given_spec(**options: dict) -> dict:
    """Authentik's connection options with host and token optional (empty: Authentik is not asked), as the
    doc fragment homelab.mlflow.authentik.if_given documents them, the engine's connection options, and the
    action's own options."""
    spec = copy.deepcopy(AUTHENTIK_COMMON_ARGS)
    for name in ("host", "token"):
        spec[name].update(required=False, default="")
    spec.update(copy.deepcopy(CONNECTION_SPEC))
    spec.update(copy.deepcopy(options))
    return spec
