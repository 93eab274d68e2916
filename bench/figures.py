# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Medians of repeated runs, ratios to the floor, and the Markdown table of the results."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

# What each measured phase is compared with: the same work done by kubectl alone.
FLOOR_OF = {"first": "floor_first", "noop": "floor_noop", "detect": "floor_detect"}
PHASES = ("first", "noop", "detect", "floor_first", "floor_noop", "floor_detect")
TITLES = {
    "first": "first converge (site.yml, fresh namespaces)",
    "noop": "no-op converge (site.yml again)",
    "detect": "drift detect (bin/homelab-mlflow-drift detect)",
    "floor_first": "floor: kubectl apply --server-side, fresh namespaces",
    "floor_noop": "floor: kubectl apply --server-side again",
    "floor_detect": "floor: kubectl diff --server-side",
}


def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def ratio(value: float | None, floor: float | None) -> float | None:
    """value / floor, rounded; None when either is missing or the floor is 0."""
    if value is None or not floor:
        return None
    return round(value / floor, 1)


def summarize_runs(runs: list[dict]) -> dict:
    """Medians over the repetitions of one phase: seconds, requests, writes, cluster-wide requests."""
    return {
        "runs": len(runs),
        "seconds": median(run["seconds"] for run in runs),
        "requests": median(run["requests"]["total"] for run in runs),
        "writes": median(run["requests"]["writes"] for run in runs),
        "cluster_wide_requests": median(run["requests"]["cluster_wide"] for run in runs),
        "changed": median(run["changed"] for run in runs if run.get("changed") is not None),
        "tasks": median(run["tasks_per_target"] for run in runs if run.get("tasks_per_target") is not None),
        "breakdown": breakdown([run["timing"] for run in runs if run.get("timing")], runs),
    }


def breakdown(timings: list[dict], runs: list[dict]) -> dict | None:
    """Medians of where an Ansible run's time went: start, tasks by kind of work, waits, the rest."""
    if not timings:
        return None
    engine = ("k8s_apply", "k8s_verify", "k8s_cluster_info")

    def spent(timing: dict, names: tuple[str, ...]) -> float:
        return sum(v for k, v in timing["task_seconds_by_action"].items() if k.rsplit(".", 1)[-1] in names)

    return {
        "start": median(t["start_seconds"] for t in timings if t.get("start_seconds") is not None),
        "kubernetes_tasks": median(spent(t, engine) - t["wait_seconds"] for t in timings),
        "waits": median(t["wait_seconds"] for t in timings),
        "other_tasks": median(sum(t["task_seconds_by_action"].values()) - spent(t, engine) for t in timings),
        "engine_requests": median(sum(t["engine_requests"].values()) for t in timings),
        "total": median(run["seconds"] for run in runs),
    }


def ratios(medians: dict[str, dict]) -> dict[str, dict]:
    """Each phase's median seconds and requests as a multiple of its floor's."""
    found = {}
    for phase, floor in FLOOR_OF.items():
        if phase in medians and floor in medians:
            found[phase] = {
                "seconds": ratio(medians[phase]["seconds"], medians[floor]["seconds"]),
                "requests": ratio(medians[phase]["requests"], medians[floor]["requests"]),
            }
    return found


def _cell(value, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        value = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return f"{value}{suffix}"


def markdown(results: dict) -> str:
    """One table per number of targets: median time and requests of each phase, and the ratios."""
    lines = [f"# Benchmark results ({results['meta']['label']})", ""]
    meta = results["meta"]
    lines.append(
        f"{meta['date']}, commit {meta['commit']}, {meta['cpus']} CPU cores "
        f"(load average {meta['load_average']} at the start), "
        f"ansible-core {meta['ansible_core']}, kubernetes.core {meta['kubernetes_core']}; medians of "
        f"{meta['repeat']} run(s). Requests: those about the targets' namespaces and objects, from the API server's "
        "audit log; cluster-wide: cluster-scoped requests in the same time window (discovery, StorageClasses, CRDs)."
    )
    lines.append("")
    for scale in results["scales"]:
        targets = scale["targets"]
        lines += [
            f"## {targets} target{'s' if targets != 1 else ''}",
            "",
            "| phase | seconds | x floor | requests | x floor | writes | cluster-wide | changed |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for phase in PHASES:
            medians = scale["medians"].get(phase)
            if medians is None:
                continue
            ratio_of = scale["ratios"].get(phase, {})
            lines.append(
                f"| {TITLES[phase]} | {_cell(medians['seconds'])} | {_cell(ratio_of.get('seconds'), 'x')} | "
                f"{_cell(medians['requests'])} | {_cell(ratio_of.get('requests'), 'x')} | {_cell(medians['writes'])} | "
                f"{_cell(medians['cluster_wide_requests'])} | {_cell(medians['changed'])} |"
            )
        lines.append("")
    lines += breakdown_table(results["scales"])
    growth = growth_table(results["scales"])
    if growth:
        lines += growth
    return "\n".join(lines)


def breakdown_table(scales: list[dict]) -> list[str]:
    """Where the time of each Ansible phase goes, and its tasks per target."""
    rows = [
        (scale["targets"], phase, scale["medians"][phase])
        for scale in scales
        for phase in ("first", "noop", "detect")
        if phase in scale["medians"] and scale["medians"][phase].get("breakdown")
    ]
    if not rows:
        return []
    lines = [
        "## Where the time goes",
        "",
        "Ansible's start: from the command to the first task (inventory, playbook, plugins). Kubernetes tasks: the",
        "collection's Kubernetes actions, their waits apart. Other tasks: value checks, HTTP checks, Authentik, debug.",
        "",
        "| targets | phase | seconds | Ansible's start | Kubernetes tasks | waits | other tasks | tasks per target |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for targets, phase, medians in rows:
        parts = medians["breakdown"]
        lines.append(
            f"| {targets} | {phase} | {_cell(parts['total'])} | {_cell(parts['start'])} | "
            f"{_cell(parts['kubernetes_tasks'])} | {_cell(parts['waits'])} | {_cell(parts['other_tasks'])} | "
            f"{_cell(medians.get('tasks'))} |"
        )
    lines.append("")
    return lines


def growth_table(scales: list[dict]) -> list[str]:
    """How the no-op converge grows with the number of targets: per run and per target."""
    rows = [scale for scale in scales if "noop" in scale["medians"]]
    if len(rows) < 2:
        return []
    lines = [
        "## Growth of the no-op converge with the number of targets",
        "",
        "| targets | seconds | seconds per target | requests | requests per target |",
        "|---:|---:|---:|---:|---:|",
    ]
    for scale in rows:
        noop = scale["medians"]["noop"]
        n = scale["targets"]
        seconds, requests = noop["seconds"], noop["requests"]
        lines.append(
            f"| {n} | {_cell(seconds)} | {_cell(seconds / n if seconds is not None else None)} | "
            f"{_cell(requests)} | {_cell(requests / n if requests is not None else None)} |"
        )
    lines.append("")
    return lines
