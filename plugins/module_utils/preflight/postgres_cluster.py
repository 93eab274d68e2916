# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes a running CloudNativePG Cluster cannot take: smaller volumes, another StorageClass, volumes that
cannot grow, another database or owner (initdb runs once), an older PostgreSQL major version."""

from __future__ import annotations

import re

from ansible_collections.homelab.mlflow.plugins.module_utils.preflight import volumes
from ansible_collections.homelab.mlflow.plugins.module_utils.preflight.outcome import Outcome

# The major version is the tag's leading number (a registry's port is not a tag).
_MAJOR = re.compile(r":([0-9]+)[^:/]*$")


def major_version(image: str) -> str:
    """PostgreSQL's major version from an image's tag ('' when the tag does not start with one); a digest is
    dropped first."""
    match = _MAJOR.search(re.sub(r"@.*$", "", str(image or "")))
    return match.group(1) if match else ""


def check_existing(values, live: dict, storage_class: dict | None, outcome: Outcome) -> None:
    spec = live.get("spec") or {}
    storage = spec.get("storage") or {}
    live_size, live_class = str(storage.get("size", "")), storage.get("storageClass") or ""
    initdb = (spec.get("bootstrap") or {}).get("initdb") or {}
    size, class_name = values["postgres_storage_size"], values["postgres_storage_class"]
    where = f"cluster {values['postgres_cluster_name']} in namespace {values['mlflow_namespace']}"
    if volumes.shrinks(size, live_size):
        outcome.add(
            "postgres_storage_size",
            f"postgres_storage_size is {size}, but the existing {where} has {live_size} volumes, and volumes cannot "
            f"shrink (CloudNativePG refuses it; a PVC only grows). Set postgres_storage_size to {live_size} or more. "
            "To move to smaller volumes, create a new cluster (another postgres_cluster_name) from a backup of this "
            "one, switch MLflow to it, and only then remove the old one yourself: this role never deletes a database "
            "cluster.",
        )
    if live_class not in ("", class_name):
        outcome.add(
            "postgres_storage_class",
            f"postgres_storage_class is {class_name}, but the existing {where} keeps its data on StorageClass "
            f"{live_class}; a new class would only apply to new instances' volumes, leaving the cluster split. Keep "
            f"postgres_storage_class {live_class}; to move the data, create a new cluster (another "
            "postgres_cluster_name) on the new class from a backup of this one and switch MLflow to it.",
        )
    if volumes.grows(size, live_size) and not volumes.allows_expansion(storage_class):
        outcome.add(
            "postgres_storage_size",
            f"postgres_storage_size is {size}, larger than the {live_size} of the existing {where}, but StorageClass "
            f"{class_name} does not allow volume expansion (allowVolumeExpansion), so the volumes cannot grow. Keep "
            f"postgres_storage_size at {live_size}, or allow expansion on the StorageClass if its provisioner "
            "supports it.",
        )
    database, owner = values["postgres_database"], values["postgres_owner"]
    if initdb.get("database", database) != database or initdb.get("owner", owner) != owner:
        outcome.add(
            "postgres_database",
            f"postgres_database/postgres_owner are {database}/{owner}, but the existing {where} was bootstrapped "
            f"with {initdb.get('database', '?')}/{initdb.get('owner', '?')}; initdb runs only once, so the change "
            "would not create them and MLflow would connect to a database that does not exist. Keep the values the "
            "cluster was created with.",
        )
    image = values["postgres_image"]
    live_major, wanted_major = major_version(spec.get("imageName", "")), major_version(image)
    if live_major and wanted_major and int(wanted_major) < int(live_major):
        outcome.add(
            "postgres_image",
            f"postgres_image is {image}, PostgreSQL {wanted_major}, but the existing {where} runs PostgreSQL "
            f"{live_major} ({spec.get('imageName')}): its data cannot go back to an older major version. Use a "
            f"PostgreSQL {live_major} (or later) image.",
        )
