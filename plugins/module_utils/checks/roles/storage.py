# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The values homelab.mlflow.storage checks: the claim's name and size, and Longhorn's recurring jobs."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.names import is_dns_label, is_label_name
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.quantity import is_size
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.schedule import is_cron
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import Problem, as_int, as_json, as_text

# Longhorn runs each job as a CronJob of the same name, whose name is at most 52 characters.
RECURRING_JOB_NAME_LENGTH = 52


def problems(values) -> list[Problem]:
    found = []
    name = values["storage_artifacts_pvc_name"]
    # A DNS label of up to 253 characters: no dots, as the claim's name goes into other names.
    if not is_dns_label(name, max_length=253):
        found.append(
            Problem(
                "storage_artifacts_pvc_name",
                f"storage_artifacts_pvc_name is {as_json(name)}, which is not a valid PersistentVolumeClaim name: use "
                "lower-case letters, digits and '-', starting and ending with a letter or digit, such as "
                "'mlflow-artifacts'.",
            )
        )
    size = values["storage_artifacts_size"]
    if not is_size(size):
        found.append(
            Problem(
                "storage_artifacts_size",
                f"storage_artifacts_size is {as_json(size)}, which is not a usable size: use a positive Kubernetes "
                "quantity with a binary or decimal suffix, such as '50Gi', '500Mi' or '1Ti'.",
            )
        )
    found += _recurring_job_problems(values)
    return found


def _recurring_job_problems(values) -> list[Problem]:
    found = []
    jobs = values["storage_recurring_jobs"]
    names = [job.get("name") for job in jobs]
    if len({as_json(name) for name in names}) != len(names):
        found.append(
            Problem(
                "storage_recurring_jobs",
                f"storage_recurring_jobs names {as_json(names)}: each job needs a name of its own.",
            )
        )
    groups = values["storage_recurring_job_groups"]
    if not all(is_label_name(group) for group in groups):
        found.append(
            Problem(
                "storage_recurring_job_groups",
                f"storage_recurring_job_groups is {as_json(groups)}: each group becomes part of a label key, so use "
                "letters, digits, '-', '_' and '.', at most 63 characters, starting and ending with a letter or digit.",
            )
        )
    prefix = values["storage_recurring_job_prefix"] if jobs else ""
    for job in jobs:
        recurring_job = f"{prefix}{job.get('name')}"
        retain, concurrency = job.get("retain", 7), job.get("concurrency", 1)
        if (
            is_dns_label(recurring_job, max_length=RECURRING_JOB_NAME_LENGTH)
            and is_cron(job.get("cron"))
            and as_int(retain) >= 1
            and as_int(concurrency) >= 1
        ):
            continue
        found.append(
            Problem(
                "storage_recurring_jobs",
                f"storage_recurring_jobs has the job {as_json(job.get('name'))} with cron {as_json(job.get('cron'))}, "
                f"retain {as_text(retain)} and concurrency {as_text(concurrency)}. Its RecurringJob "
                f"{as_json(recurring_job)} must be a DNS-1123 label of at most 52 characters (lower-case letters, "
                "digits and '-'); cron has five fields (minute hour day-of-month month day-of-week), such as "
                "'0 3 * * *', each within its range; retain and concurrency are at least 1.",
            )
        )
    return found
