# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The values homelab.mlflow.postgres checks: the Cluster's names, image, size and resources, the
credentials' source, and the backup settings whenever backups can run.

The database password is a secret: only whether it is set, and whether it is empty, is looked at.
"""

from __future__ import annotations

import os.path
import re

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import resources
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.images import is_digest, is_version_tagged
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.names import (
    is_dns_1035_label,
    is_dns_label,
    is_label_key,
    is_postgres_identifier,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.quantity import is_size
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.schedule import is_cron
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import (
    Problem,
    as_bool,
    as_int,
    as_json,
    as_text,
)

# CloudNativePG derives longer names (Services, PVCs, Jobs) from the Cluster's.
CLUSTER_NAME_LENGTH = 50
BACKUP_CREDENTIALS_KEYS = ("s3Credentials", "azureCredentials", "googleCredentials")
_OBJECT_STORE_URL = re.compile(r"[a-z0-9]+://\S+")
# (credentials source, what is missing, variable, environment variable, more) of the 1Password connection.
ONEPASSWORD_SETTINGS = (
    (
        "onepassword_sdk",
        "the 1Password service account token",
        "onepassword_service_account_token",
        "OP_SERVICE_ACCOUNT_TOKEN",
        "A service account with read access to vault {vault} has one "
        "(https://developer.1password.com/docs/service-accounts/); or use postgres_credentials_source "
        "onepassword_connect with a Connect server.",
    ),
    (
        "onepassword_connect",
        "the URL of the 1Password Connect server",
        "onepassword_connect_host",
        "OP_CONNECT_HOST",
        "For example http://onepassword-connect.onepassword.svc:8080.",
    ),
    (
        "onepassword_connect",
        "the 1Password Connect token",
        "onepassword_connect_token",
        "OP_CONNECT_TOKEN",
        "Connect issues tokens per integration, each limited to some vaults; one that may read vault {vault} is "
        "needed.",
    ),
)


def problems(values, environ=None) -> list[Problem]:
    """Every problem of the role's values; `environ` is the controller's environment (1Password settings)."""
    return (
        _cluster_problems(values)
        + _onepassword_problems(values)
        + _backup_problems(values)
        + _password_problems(values, os.environ if environ is None else environ)
    )


def _cluster_problems(values) -> list[Problem]:
    found = []
    name = values["postgres_cluster_name"]
    if not is_dns_1035_label(name, max_length=CLUSTER_NAME_LENGTH):
        found.append(
            Problem(
                "postgres_cluster_name",
                f"postgres_cluster_name is {as_json(name)}: CloudNativePG needs a DNS-1035 label of at most 50 "
                "characters (lower-case letters, digits and '-', starting with a letter and ending with a letter or "
                "digit), such as 'mlflow-postgres'.",
            )
        )
    secret = values["postgres_credentials_secret"]
    if not is_dns_label(secret, max_length=253):
        found.append(
            Problem(
                "postgres_credentials_secret",
                f"postgres_credentials_secret is {as_json(secret)}, which is not a valid Secret name: use lower-case "
                "letters, digits and '-', starting and ending with a letter or digit.",
            )
        )
    database, owner = values["postgres_database"], values["postgres_owner"]
    if not is_postgres_identifier(database):
        found.append(
            Problem(
                "postgres_database",
                f"postgres_database is {as_json(database)}: use a lower-case PostgreSQL identifier (letters, digits "
                "and '_', starting with a letter or '_', at most 63 characters), such as 'mlflow'.",
            )
        )
    if not is_postgres_identifier(owner) or owner == "postgres":
        found.append(
            Problem(
                "postgres_owner",
                f"postgres_owner is {as_json(owner)}: use a lower-case PostgreSQL identifier (letters, digits and '_', "
                "starting with a letter or '_', at most 63 characters) other than the superuser 'postgres', such as "
                "'mlflow'.",
            )
        )
    instances = values["postgres_instances"]
    if as_int(instances) < 1:
        found.append(
            Problem(
                "postgres_instances",
                f"postgres_instances is {as_text(instances)}: a cluster has at least 1 instance (the primary); use 2 "
                "or 3 for replicas that can take over.",
            )
        )
    found += _image_problems(values)
    key = values["postgres_pod_anti_affinity_topology_key"]
    if not is_label_key(key):
        found.append(
            Problem(
                "postgres_pod_anti_affinity_topology_key",
                f"postgres_pod_anti_affinity_topology_key is {as_json(key)}: use a node label key such as "
                "'kubernetes.io/hostname' or 'topology.kubernetes.io/zone'.",
            )
        )
    size = values["postgres_storage_size"]
    if not is_size(size):
        found.append(
            Problem(
                "postgres_storage_size",
                f"postgres_storage_size is {as_json(size)}, which is not a usable size: use a positive Kubernetes "
                "quantity with a binary or decimal suffix, such as '20Gi', '500Mi' or '100G'.",
            )
        )
    found += _resources_problems(values["postgres_resources"])
    username = values["postgres_username"]
    if values["postgres_credentials_source"] == "variables" and username != owner:
        found.append(
            Problem(
                "postgres_username",
                f"postgres_username is {as_json(username)} but postgres_owner is {as_json(owner)}: the credentials "
                "Secret holds the password of the database owner that initdb creates, so postgres_username must "
                "equal postgres_owner.",
            )
        )
    return found


def _image_problems(values) -> list[Problem]:
    found = []
    image, digest = values["postgres_image"], values["postgres_image_digest"]
    if not is_version_tagged(image):
        found.append(
            Problem(
                "postgres_image",
                f"postgres_image is {as_json(image)}: name a PostgreSQL operand image by a tag that starts with its "
                "version, and optionally a digest, such as 'ghcr.io/cloudnative-pg/postgresql:17.6'.",
            )
        )
    if digest and not (is_digest(digest) and "@" not in str(image)):
        found.append(
            Problem(
                "postgres_image_digest",
                f"postgres_image_digest is {as_json(digest)}: leave it empty, or give the digest of postgres_image as "
                "'sha256:' and 64 lower-case hexadecimal digits, as 'skopeo inspect' or 'crane digest' print it (and "
                "postgres_image without a digest of its own, such as 'ghcr.io/cloudnative-pg/postgresql:17.6').",
            )
        )
    return found


def _resources_problems(limits) -> list[Problem]:
    if not resources.are_quantities(limits, positive=False):
        return [
            Problem(
                "postgres_resources",
                f"postgres_resources is {as_json(limits)}: give 'requests' and 'limits', each a mapping of resource "
                "names to Kubernetes quantities, such as "
                '{"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}}.',
            )
        ]
    # A pod without a memory limit can take a node's memory; the posture check requires one.
    if not resources.is_bounded(limits):
        return [
            Problem(
                "postgres_resources",
                f"postgres_resources is {as_json(limits)}: set a positive memory limit (limits.memory, such as "
                "'512Mi', best equal to requests.memory); a CPU limit is optional.",
            )
        ]
    return []


def _onepassword_problems(values) -> list[Problem]:
    source = values["postgres_credentials_source"]
    if not str(source).startswith("onepassword_"):
        return []
    found = []
    vault, item = values["postgres_onepassword_vault"], values["postgres_onepassword_item"]
    if not str(vault).strip() or "/" in str(vault):
        found.append(
            Problem(
                "postgres_onepassword_vault",
                f"postgres_onepassword_vault is {as_json(vault)}: with postgres_credentials_source {source}, name the "
                "1Password vault that holds the credentials item, by its name or its ID, such as 'Secrets' (a name "
                "holding '/' cannot be used: give the vault's ID).",
            )
        )
    if not str(item).strip() or "/" in str(item):
        found.append(
            Problem(
                "postgres_onepassword_item",
                f"postgres_onepassword_item is {as_json(item)}: with postgres_credentials_source {source}, name the "
                "1Password item that holds the owner's credentials, by its title or its ID, such as 'mlflow-secrets' "
                "(a title holding '/' cannot be used: give the item's ID).",
            )
        )
    timeout, retries = values["postgres_onepassword_timeout"], values["postgres_onepassword_retries"]
    if as_int(timeout) < 1 or not 0 <= as_int(retries) <= 10:
        found.append(
            Problem(
                "postgres_onepassword_timeout",
                f"postgres_onepassword_timeout is {as_text(timeout)} and postgres_onepassword_retries is "
                f"{as_text(retries)}: use a timeout of at least 1 second and from 0 to 10 retries.",
            )
        )
    username_field = values["postgres_onepassword_username_field"]
    password_field = values["postgres_onepassword_password_field"]
    fields = f"{as_json(username_field)} and {as_json(password_field)}"
    if source in values["postgres_onepassword_backends"] and (
        not str(username_field).strip() or not str(password_field).strip() or username_field == password_field
    ):
        found.append(
            Problem(
                "postgres_onepassword_username_field",
                f"postgres_onepassword_username_field and postgres_onepassword_password_field are {fields}: name two "
                f"different fields of item {as_text(item)}, each by its label or ID, or as section/field, such as "
                "'username' and 'password'.",
            )
        )
    if source == "onepassword_operator" and (username_field, password_field) != ("username", "password"):
        found.append(
            Problem(
                "postgres_onepassword_username_field",
                f"postgres_onepassword_username_field and postgres_onepassword_password_field are {fields}, but with "
                "postgres_credentials_source onepassword_operator the 1Password operator names each key of the Secret "
                "after a field's label, and MLflow and CloudNativePG read the keys username and password: label the "
                "item's fields 'username' and 'password' and leave both variables at their defaults, or use the "
                "source onepassword_connect or onepassword_sdk, which read any two fields.",
            )
        )
    return found


def backups_possible(values) -> bool:
    """Backups can run when scheduled, and on demand (kubectl cnpg backup, a Backup object) once the Cluster
    has a backup configuration or a backup plugin: their settings are checked then too."""
    return (
        as_bool(values["postgres_scheduled_backup_enabled"])
        or len(values["postgres_backup_configuration"]) > 0
        or (values["postgres_backup_method"] == "plugin" and len(values["postgres_backup_plugin_configuration"]) > 0)
    )


def _backup_problems(values) -> list[Problem]:
    found = []
    scheduled = as_bool(values["postgres_scheduled_backup_enabled"])
    schedule = values["postgres_backup_schedule"]
    # CloudNativePG reads six fields, seconds first.
    if scheduled and not is_cron(schedule, seconds=True, macros=True, every=True):
        found.append(
            Problem(
                "postgres_backup_schedule",
                f"postgres_backup_schedule is {as_json(schedule)}: CloudNativePG reads six cron fields, seconds first "
                "(second minute hour day-of-month month day-of-week), each within its range, such as '0 0 3 * * *' "
                "for 03:00:00 every day; the five-field form of a Kubernetes CronJob would be read as starting with "
                "seconds.",
            )
        )
    method = values["postgres_backup_method"]
    configuration = values["postgres_backup_configuration"]
    possible = backups_possible(values)
    if possible and method != "plugin" and method not in configuration:
        how = (
            "postgres_scheduled_backup_enabled is true"
            if scheduled
            else "on demand, as postgres_backup_configuration is set"
        )
        found.append(
            Problem(
                "postgres_backup_configuration",
                f"Backups can run ({how}) with postgres_backup_method {method}, but postgres_backup_configuration (the "
                f"Cluster's spec.backup) has no '{method}' section: set, for example, postgres_backup_configuration: "
                '{"volumeSnapshot": {"className": "longhorn-snapshot"}} for volume snapshots, or a barmanObjectStore '
                "section for an object store (and postgres_backup_method to match).",
            )
        )
    store = configuration.get("barmanObjectStore")
    if store is not None:
        store = store if isinstance(store, dict) else {}
        destination = store.get("destinationPath", "unset")
        credentials = [key for key in store if key in BACKUP_CREDENTIALS_KEYS]
        if not (isinstance(destination, str) and _OBJECT_STORE_URL.fullmatch(destination) and credentials):
            found.append(
                Problem(
                    "postgres_backup_configuration",
                    "postgres_backup_configuration.barmanObjectStore needs destinationPath, the object store's URL "
                    "(such as s3://backups/mlflow), and its credentials: one of "
                    f"{', '.join(BACKUP_CREDENTIALS_KEYS)} (for example s3Credentials with accessKeyId and "
                    "secretAccessKey, each a secretKeyRef, or inheritFromIAMRole: true); it has destinationPath "
                    f"{as_json(destination)} and the keys {as_json(list(store))}.",
                )
            )
    plugin = values["postgres_backup_plugin_configuration"].get("name", "unset")
    plugins = [entry.get("name", "") for entry in values["postgres_plugins"]]
    if possible and method == "plugin" and plugin not in plugins:
        found.append(
            Problem(
                "postgres_backup_plugin_configuration",
                "postgres_backup_method is plugin, so postgres_backup_plugin_configuration.name must name a plugin of "
                f"postgres_plugins (the Cluster's spec.plugins); it is {as_json(plugin)} and postgres_plugins names "
                f"{as_json(plugins)}.",
            )
        )
    return found


def _password_problems(values, environ) -> list[Problem]:
    source = values["postgres_credentials_source"]
    if source == "variables":
        return _variables_password_problems(values)
    vault = as_text(values["postgres_onepassword_vault"])
    found = []
    # Only whether each setting is there is looked at, never a value.
    for wanted_source, what, variable, environment, more in ONEPASSWORD_SETTINGS:
        if wanted_source != source or str(values.get(variable) or "") or environ.get(environment, ""):
            continue
        found.append(
            Problem(
                variable,
                f"postgres_credentials_source is {source}, but {what} is not set: set {variable} (keep it in an "
                "Ansible Vault file, as inventories/example does with its secrets) or the environment variable "
                f"{environment} of the controller. {more.format(vault=vault)}",
            )
        )
    return found


def _variables_password_problems(values) -> list[Problem]:
    has_password, password_file = "postgres_password" in values, values.get("postgres_password_file")
    if not has_password and "postgres_password_file" not in values:
        return [
            Problem(
                "postgres_password",
                "postgres_credentials_source is variables, but neither postgres_password nor postgres_password_file "
                "is set: set postgres_password (keep it in an Ansible Vault file, see inventories/example), or set "
                "postgres_password_file to a file on the controller that holds it (it is created with a random "
                "password when missing).",
            )
        ]
    if not has_password and not os.path.isabs(os.path.expanduser(str(password_file))):
        return [
            Problem(
                "postgres_password_file",
                f"postgres_password_file is {as_json(password_file)}: give an absolute path on the controller ('~' is "
                'allowed), for example "{{ inventory_dir }}/../../.secrets/local/postgres_password".',
            )
        ]
    # The password itself is a secret: only its length is looked at.
    if has_password and len(str(values["postgres_password"])) == 0:
        return [
            Problem(
                "postgres_password",
                "postgres_password is set but empty: give the database owner a password, or leave postgres_password "
                "unset and set postgres_password_file to have one generated and kept on the controller.",
            )
        ]
    return []
