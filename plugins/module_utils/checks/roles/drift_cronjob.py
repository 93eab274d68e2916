# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The values homelab.mlflow.drift_cronjob checks when the scheduled drift run is enabled."""

from __future__ import annotations

import re

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import resources
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.images import is_digest, is_pinned
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.names import is_dns_label
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.quantity import is_quantity
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.schedule import is_cron
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import (
    Problem,
    as_bool,
    as_int,
    as_json,
    as_text,
)

# A CronJob's name is at most 52 characters: its Jobs' names add 11.
CRONJOB_NAME_LENGTH = 52
# In the pod the Kubernetes client uses the job's ServiceAccount; files of the controller are not there.
CONTROLLER_ONLY_VARIABLES = ("mlflow_kubeconfig", "mlflow_kube_context", "postgres_password_file")
_IMAGE = re.compile(r"[a-z0-9]\S*")


def problems(values) -> list[Problem]:
    if not as_bool(values["drift_cronjob_enabled"]):
        return []
    return _image_problems(values) + _job_problems(values)


def _image_problems(values) -> list[Problem]:
    found = []
    image, digest = values["drift_cronjob_image"], values["drift_cronjob_image_digest"]
    if not isinstance(image, str) or not _IMAGE.fullmatch(image):
        found.append(
            Problem(
                "drift_cronjob_image",
                f"drift_cronjob_enabled is true, but drift_cronjob_image is {as_json(image)}: build the image of "
                "images/drift/Containerfile (it holds this collection), push it to a registry the cluster pulls from "
                "and set drift_cronjob_image to it, for example registry.example.com/homelab-mlflow-drift:0.1.0.",
            )
        )
    # A tag that moves (latest) or none at all would run whatever was pushed last.
    if image and not is_pinned(image):
        found.append(
            Problem(
                "drift_cronjob_image",
                f"drift_cronjob_image is {as_json(image)}: give the image with a fixed tag or a digest, never 'latest' "
                "or none, for example registry.example.com/homelab-mlflow-drift:0.1.0 (or ...@sha256:<digest>).",
            )
        )
    if digest and not (is_digest(digest) and "@" not in str(image)):
        found.append(
            Problem(
                "drift_cronjob_image_digest",
                f"drift_cronjob_image_digest is {as_json(digest)}: leave it empty, or give the digest of "
                "drift_cronjob_image as 'sha256:' and 64 lower-case hexadecimal digits, as 'skopeo inspect' or "
                "'crane digest' print it (and drift_cronjob_image without a digest of its own, such as "
                "registry.example.com/homelab-mlflow-drift:0.1.0).",
            )
        )
    return found


def _job_problems(values) -> list[Problem]:
    found = []
    limits = values["drift_cronjob_resources"]
    if not resources.is_bounded(limits):
        found.append(
            Problem(
                "drift_cronjob_resources",
                f"drift_cronjob_resources is {as_json(limits)}: give 'requests' and 'limits', each a mapping of "
                "resource names to positive Kubernetes quantities, with at least a memory limit, such as "
                '{"requests": {"cpu": "200m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}.',
            )
        )
    tmp_size = values["drift_cronjob_tmp_size_limit"]
    if not is_quantity(tmp_size):
        found.append(
            Problem(
                "drift_cronjob_tmp_size_limit",
                f"drift_cronjob_tmp_size_limit is {as_json(tmp_size)}: give the size limit of the pod's /tmp as a "
                "positive Kubernetes quantity, such as '256Mi' or '1Gi'.",
            )
        )
    name = values["drift_cronjob_name"]
    # Cluster-scoped objects carry the namespace too: their names are at most 253 characters.
    if not is_dns_label(name, max_length=CRONJOB_NAME_LENGTH) or len(values["__drift_cronjob_cluster_name"]) > 253:
        found.append(
            Problem(
                "drift_cronjob_name",
                f"drift_cronjob_name is {as_json(name)}: it names a CronJob, so use a DNS label of at most 52 "
                "characters (lower-case letters, digits and '-'), such as 'mlflow-drift'.",
            )
        )
    schedule = values["drift_cronjob_schedule"]
    if not is_cron(schedule, macros=True):
        found.append(
            Problem(
                "drift_cronjob_schedule",
                f"drift_cronjob_schedule is {as_json(schedule)}: a CronJob takes five cron fields (minute hour "
                "day-of-month month day-of-week), each within its range, such as '7 * * * *' for every hour at "
                "minute 7, or @hourly, @daily and the like.",
            )
        )
    timeout, history = values["drift_cronjob_timeout"], values["drift_cronjob_history_limit"]
    if as_int(timeout) < 60 or as_int(history) < 1:
        found.append(
            Problem(
                "drift_cronjob_timeout",
                f"drift_cronjob_timeout is {as_text(timeout)} and drift_cronjob_history_limit is {as_text(history)}: "
                "give a run at least 60 seconds, and keep at least one finished job (its log holds the report).",
            )
        )
    user = values["drift_cronjob_run_as_user"]
    if as_int(user) <= 0:
        found.append(
            Problem(
                "drift_cronjob_run_as_user",
                f"drift_cronjob_run_as_user is {as_text(user)}: the pod runs as non-root (PodSecurity restricted), so "
                "use the numeric ID of an unprivileged user, such as the image's (10001).",
            )
        )
    controller_only = [name for name in values["drift_cronjob_inventory_vars"] if name in CONTROLLER_ONLY_VARIABLES]
    if controller_only:
        found.append(
            Problem(
                "drift_cronjob_inventory_vars",
                f"drift_cronjob_inventory_vars sets {', '.join(controller_only)}: the job runs inside the cluster with "
                "its own ServiceAccount and has no files of the controller. Leave mlflow_kubeconfig and "
                "mlflow_kube_context out, and give the database password itself as postgres_password.",
            )
        )
    return found
