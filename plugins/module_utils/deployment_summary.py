# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lines that sum up a run of playbooks/site.yml: what is deployed where, and what was verified.

Built from the role variables and the results the verify tasks registered; no request is sent. A
check that did not run says why (its tags were not selected, check mode, or the variable that
turns it off): nothing is called verified that was not.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECK_MODE = "check mode"
NOT_SELECTED = "tags not selected"


@dataclass(frozen=True)
class Run:
    """How the play was started: the tags asked for and skipped, and check mode."""

    run_tags: frozenset = frozenset({"all"})
    skip_tags: frozenset = frozenset()
    check_mode: bool = False

    def selects(self, *tags: str) -> bool:
        """Whether a task with these tags runs (Ansible's rules for `all`, `tagged` and skips)."""
        wanted = set(tags)
        if self.skip_tags & (wanted | {"tagged"}):
            return False
        return bool({"all", "tagged"} & self.run_tags or wanted & self.run_tags)


def why_not(run: Run, tags: tuple[str, ...], result, switch: tuple[str, bool] | None = None) -> str | None:
    """None when the check ran; otherwise why it did not.

    result: what the verify task registered (None when it did not run at all); switch: the variable
    that turns the check off, and its value.
    """
    if not run.selects(*tags):
        return NOT_SELECTED
    if run.check_mode:
        return CHECK_MODE
    if switch is not None and not switch[1]:
        return f"{switch[0]} is false"
    if not isinstance(result, dict) or result.get("skipped"):
        return "skipped"
    return None


def _outcome(value: str, reason: str | None) -> str:
    return f"not verified ({reason})" if reason else value


def summary_lines(v: dict, results: dict, run: Run) -> list[str]:
    """v: the role variables, templated; results: each verify task's registered result (or None)."""
    lines = [f"Namespace {v['mlflow_namespace']} (PodSecurity restricted) on {v.get('cluster_host') or 'the cluster'}"]

    policies = results.get("networkpolicy_verify_policies")
    reason = why_not(run, ("networkpolicy", "verify"), policies)
    if reason is None:
        found = policies.get("policies") or []
        kinds = ", ".join(dict.fromkeys(p.get("kind", "") for p in found))
        lines.append(f"Network policies: {kinds} ({len(found)}: mlflow-default-deny and the allowed flows)")
    else:
        lines.append(f"Network policies: not verified ({reason})")

    cluster = results.get("postgres_verify_cluster")
    reason = why_not(run, ("postgres", "verify"), cluster)
    phase = _first_status(cluster).get("phase") or "unknown"
    lines.append(
        f"PostgreSQL: Cluster {v['postgres_cluster_name']}, {v['postgres_instances']} instance(s) of "
        f"{v['postgres_image']}, {v['postgres_storage_size']} on {v['postgres_storage_class']}; status "
        + _outcome(phase, reason)
    )

    claim = results.get("storage_verify_claim")
    reason = why_not(run, ("storage", "verify"), claim)
    phase = _first_status(claim).get("phase") or "unknown"
    lines.append(
        f"Artifacts: PVC {v['storage_artifacts_pvc_name']}, {v['storage_artifacts_size']} "
        f"{v['storage_artifacts_access_mode']} on {v['storage_artifacts_storage_class']}; phase "
        + _outcome(phase, reason)
    )

    route = f" (HTTPRoute to {v['mlflow_gateway_name']})" if v["mlflow_httproute_enabled"] else ""
    lines.append(
        f"MLflow {v['mlflow_version']} ({v['mlflow_image']}), {v['mlflow_replicas']} replica(s): in the cluster at "
        f"http://mlflow.{v['mlflow_namespace']}.svc.{v['mlflow_cluster_domain']}, outside at "
        f"https://{v['mlflow_external_host']}{route}"
    )

    outpost = (
        f"outpost {v['authentik_dedicated_outpost_name']}"
        if v["authentik_outpost"] == "dedicated"
        else f"on the outpost {v['authentik_outpost']}"
    )
    objects = results.get("authentik_verify_info")
    reason = why_not(run, ("authentik", "verify"), objects)
    checked = (objects or {}).get("checked") or []
    if reason is None and not checked:
        reason = "no Authentik API token, no blueprint ConfigMap"
    lines.append(
        f"Single sign-on: Authentik application {v['authentik_application_slug']} ({v['authentik_provider_mode']} "
        f"provider {v['authentik_provider_name']}, {outpost}) at {v['authentik_host']}; "
        + ("objects verified" if reason is None else f"objects not verified ({reason})")
    )
    login = results.get("authentik_verify_login")
    reason = why_not(run, ("authentik", "verify"), login, ("authentik_verify_http", v["authentik_verify_http"]))
    lines.append(
        "Login: "
        + (f"not checked ({reason})" if reason else f"{v['authentik_verify_url']} sends a browser to Authentik")
    )

    # The MLflow role's HTTP check registers nothing: reaching this line means it passed if it ran.
    reason = why_not(run, ("mlflow", "verify"), {}, ("mlflow_verify_http", v["mlflow_verify_http"]))
    smoke = " with a smoke run" if v["mlflow_verify_smoke_test"] else ""
    lines.append(
        f"HTTP API not checked ({reason})" if reason else f"HTTP API checked at {v['mlflow_verify_url']}{smoke}"
    )
    return lines


def _first_status(result) -> dict:
    resources = (result or {}).get("resources") or [{}] if isinstance(result, dict) else [{}]
    return (resources[0] or {}).get("status") or {}
