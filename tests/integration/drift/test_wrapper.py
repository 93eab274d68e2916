"""bin/homelab-mlflow-drift: the command line it gives ansible-playbook, the callback it enables,
and the exit code it makes of ansible-playbook's and the report's. ansible-playbook is replaced by a
stand-in that records how it was called and writes the report a run would; no cluster is needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
WRAPPER = REPO / "bin" / "homelab-mlflow-drift"

# Records its arguments and environment, writes the report of this run (unless told not to, or
# told to write another run's) and exits with the code it is given.
FAKE_ANSIBLE_PLAYBOOK = """\
import json, os, sys
from pathlib import Path
Path(os.environ["FAKE_CALLS"]).write_text(json.dumps({"argv": sys.argv[1:], "env": dict(os.environ)}))
report = os.environ.get("FAKE_REPORT_EXIT")
if report:
    folder = Path(os.environ["HOMELAB_MLFLOW_DRIFT_REPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    run_id = os.environ.get("FAKE_RUN_ID") or os.environ["HOMELAB_MLFLOW_DRIFT_RUN_ID"]
    (folder / "drift-report.json").write_text(json.dumps({"run_id": run_id, "exit_code": int(report)}))
sys.exit(int(os.environ.get("FAKE_RC", "0")))
"""


@pytest.fixture
def wrapper(tmp_path):
    fake = tmp_path / "ansible-playbook"
    fake.write_text(f"#!{sys.executable}\n{FAKE_ANSIBLE_PLAYBOOK}")
    fake.chmod(0o755)
    calls = tmp_path / "calls.json"

    def run(*args: str, **env: str) -> tuple[int, dict]:
        full_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("HOMELAB_MLFLOW_DRIFT_", "ANSIBLE_CALLBACKS"))
        }
        full_env.update({"HOMELAB_MLFLOW_ANSIBLE_PLAYBOOK": str(fake), "FAKE_CALLS": str(calls), **env})
        done = subprocess.run(
            [sys.executable, str(WRAPPER), *args],
            cwd=tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.returncode, json.loads(calls.read_text()) if calls.exists() else {}

    return run


def test_detect_is_check_mode_with_diff_and_enables_the_callback(wrapper, tmp_path):
    code, call = wrapper("-i", "inventories/mine", "--limit", "staging", FAKE_REPORT_EXIT="0")

    assert code == 0
    assert call["argv"] == [
        str(REPO / "playbooks" / "drift.yml"),
        "--diff",
        "--check",
        "--extra-vars",
        "drift_correct=false",
        "-i",
        "inventories/mine",
        "--limit",
        "staging",
    ]
    assert call["env"]["ANSIBLE_CALLBACKS_ENABLED"] == "homelab.mlflow.drift_report"
    assert call["env"]["HOMELAB_MLFLOW_DRIFT_REPORT_DIR"] == "drift-report"
    assert len(call["env"]["HOMELAB_MLFLOW_DRIFT_RUN_ID"]) == 32
    assert (tmp_path / "drift-report" / "drift-report.json").exists()


def test_correct_applies_and_keeps_callbacks_already_enabled(wrapper, tmp_path):
    code, call = wrapper(
        "correct",
        "--report-dir",
        str(tmp_path / "reports"),
        FAKE_REPORT_EXIT="0",
        ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
    )

    assert code == 0
    assert call["argv"][1:] == ["--diff", "--extra-vars", "drift_correct=true"]
    assert call["env"]["ANSIBLE_CALLBACKS_ENABLED"] == "ansible.posix.profile_tasks,homelab.mlflow.drift_report"
    assert call["env"]["HOMELAB_MLFLOW_DRIFT_REPORT_DIR"] == str(tmp_path / "reports")


@pytest.mark.parametrize(
    ("playbook_rc", "report_exit", "expected"),
    [
        (0, "0", 0),  # in sync
        (0, "3", 3),  # drift found
        (2, "3", 3),  # the API server refused an object's desired state: drift that needs a person
        (2, "2", 2),  # a task failed
        (2, "0", 2),  # a failure the report did not see stands
        (4, "2", 4),  # unreachable: ansible-playbook's code stands
        (99, "3", 99),  # interrupted
        (0, "", 1),  # no report: the callback was not loaded
        (5, "", 5),  # bad options, no report
    ],
)
def test_exit_codes(wrapper, playbook_rc, report_exit, expected):
    code, _call = wrapper("detect", FAKE_RC=str(playbook_rc), FAKE_REPORT_EXIT=report_exit)

    assert code == expected


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--report-dir"], "--report-dir needs a folder"),
        (["--history-configmap"], "--history-configmap needs NAMESPACE/NAME"),
        (["--history-configmap", "no-namespace"], "--history-configmap is NAMESPACE/NAME, not 'no-namespace'"),
        (["--metrics-textfile="], "--metrics-textfile needs a file"),
        (["--pushgateway"], "--pushgateway needs the Pushgateway's URL"),
    ],
)
def test_the_wrappers_own_options_need_their_values(wrapper, tmp_path, args, said):
    done = subprocess.run(
        [sys.executable, str(WRAPPER), "detect", *args],
        cwd=tmp_path,
        env={**os.environ, "HOMELAB_MLFLOW_ANSIBLE_PLAYBOOK": str(tmp_path / "ansible-playbook")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    assert said in done.stderr
    assert not (tmp_path / "calls.json").exists()  # ansible-playbook never ran


def test_a_report_of_another_run_is_not_taken_for_this_ones(wrapper):
    code, _call = wrapper("detect", FAKE_REPORT_EXIT="0", FAKE_RUN_ID="an-earlier-run")

    assert code == 1


def test_listing_tasks_runs_nothing_and_needs_no_report(wrapper):
    code, call = wrapper("detect", "--list-tasks")

    assert code == 0
    assert "--list-tasks" in call["argv"]


@pytest.fixture
def checkout_copy(tmp_path):
    """The wrapper in a checkout of its own, run by a Python without Ansible beside it, PATH without Ansible."""
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "homelab-mlflow-drift"
    script.write_text(WRAPPER.read_text())
    env = {"PATH": "/usr/bin:/bin", "FAKE_CALLS": str(tmp_path / "calls.json"), "HOME": str(tmp_path)}

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["/usr/bin/python3", str(script), "detect"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return tmp_path, run


def test_the_checkouts_venv_is_found_when_the_python_running_it_has_no_ansible(checkout_copy):
    checkout, run = checkout_copy
    venv_bin = checkout / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    fake = venv_bin / "ansible-playbook"
    fake.write_text(f"#!{sys.executable}\n{FAKE_ANSIBLE_PLAYBOOK}")
    fake.chmod(0o755)

    done = run()

    # Called, with the collection's playbook (by name: this copy of the checkout has no playbooks/).
    assert json.loads((checkout / "calls.json").read_text())["argv"][:2] == ["homelab.mlflow.drift", "--diff"]
    assert done.returncode == 1  # the stand-in wrote no report
    assert "no drift report of this run" in done.stderr


def test_without_any_ansible_playbook_one_line_says_how_to_get_one(checkout_copy):
    checkout, run = checkout_copy

    done = run()

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "run `make setup` in the checkout" in done.stderr
    assert "HOMELAB_MLFLOW_ANSIBLE_PLAYBOOK" in done.stderr
    assert not (checkout / "calls.json").exists()
