# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The values homelab.mlflow.namespace checks: the PodSecurity version, and labels that leave PodSecurity alone."""

from __future__ import annotations

import re

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import Problem, as_json

_POD_SECURITY_VERSION = re.compile(r"latest|v1\.[0-9]+")
_POD_SECURITY_LABEL = "pod-security.kubernetes.io/"


def problems(values) -> list[Problem]:
    found = []
    version = values["namespace_pod_security_version"]
    if not isinstance(version, str) or not _POD_SECURITY_VERSION.fullmatch(version):
        found.append(
            Problem(
                "namespace_pod_security_version",
                f"namespace_pod_security_version is {as_json(version)}: use 'latest' or a Kubernetes minor version "
                "such as 'v1.36'.",
            )
        )
    overridden = [str(key) for key in values["namespace_extra_labels"] if str(key).startswith(_POD_SECURITY_LABEL)]
    if overridden:
        found.append(
            Problem(
                "namespace_extra_labels",
                f"namespace_extra_labels sets {', '.join(overridden)}: the PodSecurity labels come from "
                "namespace_pod_security_level and namespace_pod_security_version.",
            )
        )
    return found
