"""plugins/callback/concise.py: a real ansible-playbook run on the controller prints what changed,
what failed, the messages meant to be read and the recap, and nothing of the unchanged or skipped
tasks; Ansible's own settings still turn them back on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible_runs import ansible_env, ansible_playbook, recap

REPO = Path(__file__).resolve().parents[4]

PLAYBOOK = """\
- name: Show what the concise output keeps
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Unchanged task
      ansible.builtin.command: "true"
      changed_when: false
    - name: Changed task
      ansible.builtin.command: "true"
    - name: Skipped task
      ansible.builtin.command: "true"
      when: false
    - name: A message to read
      ansible.builtin.debug:
        msg: the summary line
    - name: Failing task
      ansible.builtin.command: "false"
      ignore_errors: true
"""


@pytest.fixture(scope="module")
def playbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("concise") / "play.yml"
    path.write_text(PLAYBOOK)
    return path


def _run(playbook: Path, **env: str) -> str:
    inventory = playbook.with_name("inventory.ini")
    # The venv's interpreter runs the modules, as in inventories/local.
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    environment = ansible_env(REPO, ANSIBLE_STDOUT_CALLBACK="homelab.mlflow.concise", **env)
    run = ansible_playbook(REPO, playbook, inventory, env=environment, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_only_changes_failures_messages_and_the_recap_are_printed(playbook):
    stdout = _run(playbook)

    assert "TASK [Changed task]" in stdout
    assert "TASK [A message to read]" in stdout
    assert "the summary line" in stdout
    assert "TASK [Failing task]" in stdout
    assert "...ignoring" in stdout
    assert "Unchanged task" not in stdout
    assert "Skipped task" not in stdout
    assert recap(stdout)["localhost"] == {
        "ok": 4,
        "changed": 2,
        "unreachable": 0,
        "failed": 0,
        "skipped": 1,
        "rescued": 0,
        "ignored": 1,
    }


def test_ansible_settings_bring_back_the_unchanged_and_skipped_tasks(playbook):
    stdout = _run(playbook, ANSIBLE_DISPLAY_OK_HOSTS="true", ANSIBLE_DISPLAY_SKIPPED_HOSTS="true")

    assert "TASK [Unchanged task]" in stdout
    assert "TASK [Skipped task]" in stdout
