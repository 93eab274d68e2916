# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container image references: repositories, tags that do not move, and digests."""

from __future__ import annotations

import re

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_COMPONENT = r"[a-z0-9]+([._-]+[a-z0-9]+)*"
# A repository in lower case, without tag or digest; a registry may have a port.
_REPOSITORY = re.compile(rf"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+/{_COMPONENT})?(/{_COMPONENT})*")
_REFERENCE = re.compile(r"[^\s@]+(:[^\s:/@]+)?(@sha256:[0-9a-f]{64})?")
_TAGGED = re.compile(r".*/?[^/]+:[^:/]+")
# A tag that starts with the release's version (17.6, 17.6-bookworm), and optionally a digest.
_VERSION_TAGGED = re.compile(r"[^ @]+:[0-9][^ :/@]*(@sha256:[0-9a-f]{64})?")


def is_digest(value) -> bool:
    """A digest as 'skopeo inspect' or 'crane digest' print it: sha256: and 64 lower-case hexadecimal digits."""
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def is_repository(value) -> bool:
    """An image repository without tag or digest, in lower case (registry.example.com:5000/team/mlflow)."""
    return isinstance(value, str) and _REPOSITORY.fullmatch(value) is not None


def is_pinned(value) -> bool:
    """An image with a fixed tag or a digest: never 'latest', never no tag at all."""
    if not isinstance(value, str) or _REFERENCE.fullmatch(value) is None:
        return False
    has_digest = "@sha256:" in value
    return (has_digest or _TAGGED.fullmatch(value) is not None) and re.search(r":latest(@|$)", value) is None


def is_version_tagged(value) -> bool:
    """An image whose tag starts with a version number (postgresql:17.6), optionally with a digest."""
    return isinstance(value, str) and _VERSION_TAGGED.fullmatch(value) is not None
