# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The values homelab.mlflow.mlflow checks: names, image, resources, timeouts, the server's options and
the gc schedule - what argument_specs cannot say."""

from __future__ import annotations

import re

from ansible_collections.homelab.mlflow.plugins.module_utils.checks import resources
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.images import is_digest, is_repository
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.names import (
    is_dns_label,
    is_dns_subdomain,
    is_environment_variable_name,
    is_host_name,
)
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.quantity import is_quantity
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.schedule import is_cron
from ansible_collections.homelab.mlflow.plugins.module_utils.checks.values import (
    Problem,
    as_bool,
    as_int,
    as_json,
    as_text,
)

_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+([.a-z0-9-]*)?")
_PROMETHEUS_DURATION = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+")
_AGE = re.compile(r"([0-9]+(\.[0-9]+)?[dhms])+")
_HTTP_URL = re.compile(r"https?://[^/?#]+(/[^?#]*)?")
_LIST_ITEM = re.compile(r"[^,\s]+")
# (variable, what its pods are, an example) of each pod's resources and /tmp size limit.
RESOURCES = (
    ("mlflow_resources", '{"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}'),
    (
        "mlflow_db_upgrade_resources",
        '{"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}',
    ),
    (
        "mlflow_gc_resources",
        '{"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}',
    ),
)
TMP_SIZE_LIMITS = (
    ("mlflow_tmp_size_limit", "the server's /tmp", "such as '256Mi' or '1Gi'"),
    ("mlflow_db_upgrade_tmp_size_limit", "the migration Job's /tmp", "such as '64Mi'"),
    ("mlflow_gc_tmp_size_limit", "the gc CronJob's /tmp", "such as '128Mi'"),
)
TIMEOUTS = ("mlflow_db_wait_timeout", "mlflow_db_upgrade_timeout", "mlflow_rollout_timeout")


def external_host_problem(values, more: str = "") -> list[Problem]:
    """mlflow_external_host, which homelab.mlflow.authentik checks too (with `more` said about it)."""
    host = values["mlflow_external_host"]
    if is_host_name(host):
        return []
    return [
        Problem(
            "mlflow_external_host",
            f"mlflow_external_host is {as_json(host)}: use the bare host name MLflow is reached at from outside, in "
            f"lower case and without scheme, port or path, e.g. mlflow.example.com.{more}",
        )
    ]


def problems(values) -> list[Problem]:
    return (
        external_host_problem(values)
        + _image_problems(values)
        + _pod_problems(values)
        + _autoscaler_problems(values)
        + _name_problems(values)
        + _server_problems(values)
        + _gc_problems(values)
        + _verify_problems(values)
        + _upgrade_problems(values)
    )


def _image_problems(values) -> list[Problem]:
    found = []
    # The tag is mlflow_version: the image is a repository alone, never tagged latest by accident.
    image = values["mlflow_image"]
    if not is_repository(image):
        found.append(
            Problem(
                "mlflow_image",
                f"mlflow_image is {as_json(image)}: give the image repository without tag or digest, in lower case, "
                "such as 'docker.io/burakince/mlflow' or 'registry.example.com:5000/mlflow'; the tag is "
                "mlflow_version (a release, never 'latest').",
            )
        )
    digest = values["mlflow_image_digest"]
    if digest and not is_digest(digest):
        found.append(
            Problem(
                "mlflow_image_digest",
                f"mlflow_image_digest is {as_json(digest)}: leave it empty, or give the digest of the image "
                "mlflow_image:mlflow_version as 'sha256:' and 64 lower-case hexadecimal digits, as 'skopeo inspect' or "
                "'crane digest' print it.",
            )
        )
    version = values["mlflow_version"]
    # The migration Job is named after the release: at most 63 characters.
    is_release = isinstance(version, str) and _VERSION.fullmatch(version) is not None
    if not is_release or len(values["__mlflow_db_upgrade_job_name"]) > 63:
        found.append(
            Problem(
                "mlflow_version",
                f"mlflow_version is {as_json(version)}: use an MLflow release such as 3.17.2 (it is the image tag and "
                "names the migration Job, at most 45 characters).",
            )
        )
    return found


def _pod_problems(values) -> list[Problem]:
    found = []
    replicas = values["mlflow_replicas"]
    if as_int(replicas) < 1:
        found.append(
            Problem(
                "mlflow_replicas",
                f"mlflow_replicas is {as_text(replicas)}: use 1 or more pods (more than 1 needs a ReadWriteMany "
                "artifact volume).",
            )
        )
    access_mode = values["storage_artifacts_access_mode"]
    if as_int(replicas) > 1 and access_mode != "ReadWriteMany":
        found.append(
            Problem(
                "mlflow_replicas",
                f"mlflow_replicas is {as_text(replicas)}, but the artifact volume "
                f"{as_text(values['storage_artifacts_pvc_name'])} is {as_text(access_mode)} "
                "(storage_artifacts_access_mode): only one pod can mount it. Set mlflow_replicas to 1, or give the "
                "volume a ReadWriteMany storage class and set storage_artifacts_access_mode to ReadWriteMany.",
            )
        )
    for variable, example in RESOURCES:
        value = values[variable]
        if not resources.is_bounded(value):
            found.append(
                Problem(
                    variable,
                    f"{variable} is {as_json(value)}: give 'requests' and 'limits', each a mapping of resource names "
                    f"to positive Kubernetes quantities, with at least a memory limit, such as {example}.",
                )
            )
    # /tmp of each pod is an emptyDir: its size limit is a positive Kubernetes quantity.
    for variable, what, example in TMP_SIZE_LIMITS:
        value = values[variable]
        if not is_quantity(value):
            found.append(
                Problem(
                    variable,
                    f"{variable} is {as_json(value)}: give the size limit of {what} as a positive Kubernetes quantity, "
                    f"{example}.",
                )
            )
    user = values["mlflow_run_as_user"]
    if as_int(user) <= 0:
        found.append(
            Problem(
                "mlflow_run_as_user",
                f"mlflow_run_as_user is {as_text(user)}: the pods run as non-root (PodSecurity restricted), so use "
                "the numeric ID of an unprivileged user, such as the image's (10001).",
            )
        )
    timeouts = [values[name] for name in TIMEOUTS]
    if min(as_int(timeout) for timeout in timeouts) < 1:
        found.append(
            Problem(
                "mlflow_rollout_timeout",
                "mlflow_db_wait_timeout, mlflow_db_upgrade_timeout and mlflow_rollout_timeout are "
                f"{', '.join(as_text(timeout) for timeout in timeouts[:2])} and {as_text(timeouts[2])}: each is a "
                "number of seconds, at least 1.",
            )
        )
    return found


def _autoscaler_problems(values) -> list[Problem]:
    """The autoscaler runs several pods, which all mount the artifact volume."""
    if not as_bool(values["mlflow_autoscaler_enabled"]):
        return []
    found = []
    access_mode, claim = values["storage_artifacts_access_mode"], values["storage_artifacts_pvc_name"]
    if access_mode != "ReadWriteMany":
        found.append(
            Problem(
                "mlflow_autoscaler_enabled",
                f"mlflow_autoscaler_enabled is true, but the artifact volume {as_text(claim)} "
                f"is {as_text(access_mode)} (storage_artifacts_access_mode): the autoscaler's pods all mount it. Give "
                "the volume a ReadWriteMany storage class and set storage_artifacts_access_mode to ReadWriteMany, or "
                "turn the autoscaler off.",
            )
        )
    most, least = values["mlflow_autoscaler_max_replicas"], values["mlflow_replicas"]
    if as_int(most) < as_int(least):
        found.append(
            Problem(
                "mlflow_autoscaler_max_replicas",
                f"mlflow_autoscaler_max_replicas is {as_text(most)}: the autoscaler runs between mlflow_replicas "
                f"({as_text(least)}) and this many pods, so use {as_text(least)} or more.",
            )
        )
    return found


def _name_problems(values) -> list[Problem]:
    found = []
    secrets = values["mlflow_image_pull_secrets"]
    if not all(is_dns_subdomain(str(secret)) for secret in secrets):
        found.append(
            Problem(
                "mlflow_image_pull_secrets",
                f"mlflow_image_pull_secrets is {as_json(secrets)}: list Secret names (lower-case letters, digits, '-' "
                "and '.', starting and ending with a letter or digit), such as [\"registry-credentials\"].",
            )
        )
    domain = values["mlflow_cluster_domain"]
    if not is_dns_subdomain(domain):
        found.append(
            Problem(
                "mlflow_cluster_domain",
                f"mlflow_cluster_domain is {as_json(domain)}: use the cluster's DNS domain, a host name such as "
                "'cluster.local', without a leading or trailing dot.",
            )
        )
    gateway, gateway_namespace = values["mlflow_gateway_name"], values["mlflow_gateway_namespace"]
    if as_bool(values["mlflow_httproute_enabled"]) and not (
        is_dns_subdomain(gateway) and is_dns_label(gateway_namespace)
    ):
        found.append(
            Problem(
                "mlflow_gateway_name",
                f"mlflow_gateway_name is {as_json(gateway)} and mlflow_gateway_namespace is "
                f"{as_json(gateway_namespace)}: name the Gateway of the HTTPRoute (a DNS-1123 name) and its namespace "
                "(a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters), such as "
                "'main-gateway' in 'cilium-system'.",
            )
        )
    interval = values["mlflow_servicemonitor_interval"]
    if as_bool(values["mlflow_servicemonitor_enabled"]) and not (
        isinstance(interval, str) and _PROMETHEUS_DURATION.fullmatch(interval)
    ):
        found.append(
            Problem(
                "mlflow_servicemonitor_interval",
                f"mlflow_servicemonitor_interval is {as_json(interval)}: use a Prometheus duration such as '30s', "
                "'1m' or '1m30s'.",
            )
        )
    return found


def _server_problems(values) -> list[Problem]:
    found = []
    workers = values["mlflow_server_workers"]
    if as_int(workers) < 1:
        found.append(
            Problem(
                "mlflow_server_workers",
                f"mlflow_server_workers is {as_text(workers)}: use 1 or more uvicorn workers per pod.",
            )
        )
    hosts, origins = values["mlflow_allowed_hosts_extra"], values["mlflow_cors_allowed_origins_extra"]
    if not all(_LIST_ITEM.fullmatch(str(item)) for item in [*hosts, *origins]) or "*" in hosts or "*" in origins:
        found.append(
            Problem(
                "mlflow_allowed_hosts_extra",
                "mlflow_allowed_hosts_extra and mlflow_cors_allowed_origins_extra take one host (or origin) per list "
                "item, without commas or spaces; '*' (accept all) would turn MLflow's protection off. Given: "
                f"{as_json(hosts)} and {as_json(origins)}.",
            )
        )
    reserved_options = values["__mlflow_reserved_server_options"]
    options = [str(arg).split("=", 1)[0] for arg in values["mlflow_server_extra_args"]]
    taken = [option for option in options if option in reserved_options]
    if taken:
        found.append(
            Problem(
                "mlflow_server_extra_args",
                f"mlflow_server_extra_args sets {', '.join(taken)}, which the role sets itself or which would turn off "
                "MLflow's Host and Origin checks (the backend store comes from the Secret; use "
                "mlflow_allowed_hosts_extra and mlflow_cors_allowed_origins_extra for more hosts, "
                "mlflow_workspaces_enabled for workspaces, mlflow_read_replica_enabled for read replicas).",
            )
        )
    reserved_env = values["__mlflow_reserved_env"]
    env = values["mlflow_extra_env"]
    if any(name in reserved_env or not is_environment_variable_name(name) for name in env):
        found.append(
            Problem(
                "mlflow_extra_env",
                f"mlflow_extra_env sets {as_json(list(env))}: names must be environment variable names, and "
                f"{', '.join(reserved_env)} are set by the role.",
            )
        )
    return found


def _gc_problems(values) -> list[Problem]:
    if not as_bool(values["mlflow_gc_enabled"]):
        return []
    schedule, older_than = values["mlflow_gc_schedule"], values["mlflow_gc_older_than"]
    is_age = older_than == "" or (isinstance(older_than, str) and _AGE.fullmatch(older_than) is not None)
    if is_cron(schedule, macros=True) and is_age:
        return []
    return [
        Problem(
            "mlflow_gc_schedule",
            f"mlflow_gc_schedule is {as_json(schedule)} (a cron schedule of five fields, each within its range, or "
            f"@daily and the like) and mlflow_gc_older_than is {as_json(older_than)} (empty, or a duration such as "
            "30d or 1d12h).",
        )
    ]


def _verify_problems(values) -> list[Problem]:
    url = values["mlflow_verify_url"]
    if not as_bool(values["mlflow_verify_http"]) or (isinstance(url, str) and _HTTP_URL.fullmatch(url)):
        return []
    return [
        Problem(
            "mlflow_verify_url",
            f"mlflow_verify_url is {as_json(url)}: use the base URL MLflow answers at from this controller, e.g. "
            "https://mlflow.example.com or http://mlflow.mlflow.svc.cluster.local.",
        )
    ]


def _upgrade_problems(values) -> list[Problem]:
    timeout = values["mlflow_upgrade_backup_timeout"]
    if as_int(timeout) >= 1:
        return []
    return [
        Problem(
            "mlflow_upgrade_backup_timeout",
            f"mlflow_upgrade_backup_timeout is {as_text(timeout)}: give the seconds the role waits for the backup "
            "before an upgrade, at least 1 (the default is 1800).",
        )
    ]
