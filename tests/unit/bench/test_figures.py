"""bench/figures.py: medians of repetitions, ratios to the floor, the Markdown table."""

from __future__ import annotations

import figures


def run(seconds, total, writes=0, changed=0):
    return {"seconds": seconds, "changed": changed, "requests": {"total": total, "writes": writes, "cluster_wide": 1}}


def test_median_of_odd_and_even_counts_and_of_none():
    assert figures.median([3, 1, 2]) == 2
    assert figures.median([1, 2, 3, 10]) == 2.5
    assert figures.median([]) is None


def test_ratio_rounds_and_refuses_a_missing_or_zero_floor():
    assert figures.ratio(10, 4) == 2.5
    assert figures.ratio(None, 4) is None
    assert figures.ratio(10, 0) is None


def test_summarize_runs_takes_medians():
    found = figures.summarize_runs([run(10, 100, 3), run(30, 90, 1), run(20, 120, 2)])
    assert found == {
        "runs": 3,
        "seconds": 20,
        "requests": 100,
        "writes": 2,
        "cluster_wide_requests": 1,
        "changed": 0,
        "tasks": None,
        "breakdown": None,
    }


def timing(start, apply_seconds, waited, other):
    return {
        "start_seconds": start,
        "task_seconds_by_action": {"homelab.mlflow.k8s_apply": apply_seconds, "homelab.mlflow.role_values": other},
        "wait_seconds": waited,
        "engine_requests": {"GET": 10, "PATCH": 2},
    }


def test_the_breakdown_splits_a_runs_time_into_start_kubernetes_work_waits_and_other_tasks():
    runs = [dict(run(10, 100), timing=timing(2, 5, 3, 1), tasks_per_target=30)]
    found = figures.summarize_runs(runs)
    assert found["tasks"] == 30
    assert found["breakdown"] == {
        "start": 2,
        "kubernetes_tasks": 2,
        "waits": 3,
        "other_tasks": 1,
        "engine_requests": 12,
        "total": 10,
    }
    scale = {"targets": 1, "medians": {"noop": found}, "ratios": {}}
    assert "| 1 | noop | 10 | 2 | 2 | 3 | 1 | 30 |" in figures.breakdown_table([scale])


def test_ratios_pair_each_phase_with_its_floor():
    medians = {
        "noop": figures.summarize_runs([run(30, 60)]),
        "floor_noop": figures.summarize_runs([run(1.5, 12)]),
        "first": figures.summarize_runs([run(100, 200)]),
    }
    assert figures.ratios(medians) == {"noop": {"seconds": 20.0, "requests": 5.0}}


def test_markdown_has_a_row_per_phase_and_the_growth_table():
    scales = []
    for targets in (1, 5):
        medians = {"noop": figures.summarize_runs([run(10 * targets, 50 * targets)])}
        medians["floor_noop"] = figures.summarize_runs([run(1, 10 * targets)])
        scales.append({"targets": targets, "medians": medians, "ratios": figures.ratios(medians)})
    meta = {
        "label": "t",
        "date": "d",
        "commit": "c",
        "cpus": 2,
        "load_average": 1,
        "ansible_core": "2",
        "kubernetes_core": "6",
        "repeat": 1,
    }
    text = figures.markdown({"meta": meta, "scales": scales})
    assert "| no-op converge (site.yml again) | 50 | 50.0x | 250 | 5.0x | 0 | 1 | 0 |" in text
    assert "| 5 | 50 | 10.0 | 250 | 50.0 |" in text
