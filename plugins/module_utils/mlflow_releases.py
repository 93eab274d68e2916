# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which MLflow release's schema migration has completed in a namespace, and whether a release may run there.

`mlflow db upgrade` only goes forward: a server older than the newest migration that completed does not know
the schema and cannot migrate it back. The record of a completed migration is the role's migration Job, one per
release, labelled with the release and kept once complete.
"""

from __future__ import annotations

import re

# The labels of the role's migration Jobs (roles/mlflow/templates/db-upgrade-job.yaml.j2).
MIGRATION_JOB_SELECTOR = "app.kubernetes.io/name=mlflow,app.kubernetes.io/component=db-upgrade"
VERSION_LABEL = "app.kubernetes.io/version"

# PEP 440 as MLflow tags its releases: 3.17.2, 3.10.0rc0, 3.1.0.dev0, 2.9.2.post1.
_RELEASE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)(?:\.?(dev|a|b|rc|post)\.?([0-9]*))?")
# Where a suffix sorts against the plain release: dev < a < b < rc < (release) < post.
_SUFFIX_ORDER = {"dev": -4, "a": -3, "b": -2, "rc": -1, None: 0, "post": 1}


def release_key(version: str) -> tuple[int, ...] | None:
    """A key that sorts releases as pip does, or None for a version that is no MLflow release."""
    match = _RELEASE.fullmatch(str(version).strip().lower())
    if match is None:
        return None
    major, minor, patch, suffix, number = match.groups()
    return (int(major), int(minor), int(patch), _SUFFIX_ORDER[suffix], int(number or 0))


def _complete(job: dict) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Complete" and str(c.get("status")) == "True" for c in conditions)


def migrated_releases(jobs: list[dict]) -> list[str]:
    """The releases whose migration Job completed, oldest first; Jobs without a release label are not counted."""
    versions = {((job.get("metadata") or {}).get("labels") or {}).get(VERSION_LABEL) for job in jobs if _complete(job)}
    known = [version for version in versions if version and release_key(version) is not None]
    return sorted(known, key=release_key)


def newest_migrated(jobs: list[dict]) -> str | None:
    """The newest release whose migration completed: the schema the database has now."""
    releases = migrated_releases(jobs)
    return releases[-1] if releases else None


def is_downgrade(wanted: str, migrated: str | None) -> bool:
    """Whether `wanted` is older than the schema a completed migration left (never, on a first install)."""
    wanted_key, migrated_key = release_key(wanted), release_key(migrated) if migrated else None
    return wanted_key is not None and migrated_key is not None and wanted_key < migrated_key


def is_upgrade(wanted: str, migrated: str | None) -> bool:
    """Whether `wanted` migrates a schema an older release left; a first install or a re-run is none."""
    wanted_key, migrated_key = release_key(wanted), release_key(migrated) if migrated else None
    return wanted_key is not None and migrated_key is not None and wanted_key > migrated_key
