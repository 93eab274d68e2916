"""homelab.mlflow.authentik_outpost_provider run by ansible-playbook against the fake Authentik API
(tools/standins/authentik/), which holds every request and response to Authentik's OpenAPI document.

Each ansible-playbook run costs seconds, so one run covers several cases where it can.
"""

from __future__ import annotations

import json

from authentik_module_plays import authentik_play
from fake_authentik import EMBEDDED_OUTPOST
from fake_authentik import TEST_TOKEN as TOKEN


def play(tasks: str) -> str:
    return authentik_play("Authentik outpost provider", tasks)


ADD = play(
    """\
    - name: Would add the provider
      homelab.mlflow.authentik_outpost_provider:
        outpost: homelab proxy
        provider: mlflow
      check_mode: true
      register: preview

    - name: Add the provider
      homelab.mlflow.authentik_outpost_provider:
        outpost: homelab proxy
        provider: mlflow
      diff: true
      register: added

    - name: Add it again
      homelab.mlflow.authentik_outpost_provider:
        outpost: Homelab Proxy
        provider: mlflow
      register: again

    - name: Changes as expected
      ansible.builtin.assert:
        that:
          - preview is changed
          - preview.outpost.provider_names == ['grafana', 'mlflow']
          - added is changed
          - added.outpost.providers == [grafana_pk, mlflow_pk]
          - added.provider.name == 'mlflow'
          - added.provider.external_host == 'https://mlflow.example.com'
          - again is not changed
          - again.outpost.provider_names == ['grafana', 'mlflow']
"""
)

FAILURES = play(
    """\
    - name: An outpost Authentik does not have
      homelab.mlflow.authentik_outpost_provider:
        outpost: nowhere
        provider: mlflow
      register: no_outpost
      ignore_errors: true

    - name: A provider Authentik does not have
      homelab.mlflow.authentik_outpost_provider:
        outpost: authentik Embedded Outpost
        provider: not-yet
      register: no_provider
      ignore_errors: true

    - name: A provider a blueprint would create earlier in a check-mode run
      homelab.mlflow.authentik_outpost_provider:
        outpost: authentik Embedded Outpost
        provider: not-yet
      check_mode: true
      register: not_yet

    - name: Failures as expected
      ansible.builtin.assert:
        that:
          - no_outpost is failed
          - no_provider is failed
          - not_yet is changed
          - not_yet.provider == {}
"""
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def extra_vars(fake, **more):
    return json.dumps({"authentik_url": fake.url, "authentik_token": TOKEN, **more})


def test_adds_the_provider_and_keeps_the_others_against_fake_authentik_api(
    fake_authentik, run_ansible, play_recap, tmp_path
):
    grafana = fake_authentik.add_provider("grafana", external_host="https://grafana.example.com")
    mlflow = fake_authentik.add_provider("mlflow", external_host="https://mlflow.example.com")
    outpost = fake_authentik.add_outpost("Homelab Proxy", providers=[grafana])

    run = run_ansible(
        "ansible-playbook",
        write(tmp_path, "add.yml", ADD),
        "--diff",
        "-e",
        extra_vars(fake_authentik, grafana_pk=grafana, mlflow_pk=mlflow),
    )

    assert run.returncode == 0, run.stdout
    assert play_recap(run.stdout, "localhost")["changed"] == 2
    # One write: the outpost's list, read and extended.
    assert [(r["method"], r["path"], r["body"]) for r in fake_authentik.writes()] == [
        ("PATCH", f"/api/v3/outposts/instances/{outpost}/", {"providers": [grafana, mlflow]})
    ]
    assert fake_authentik.outpost("Homelab Proxy")["providers"] == [grafana, mlflow]
    # The diff names the providers before and after.
    assert "+++ after: Authentik outpost Homelab Proxy" in run.stdout
    assert "+- mlflow" in run.stdout


def test_failures_are_explained_and_the_token_never_shows_against_fake_authentik_api(
    fake_authentik, run_ansible, play_recap, tmp_path
):
    run = run_ansible(
        "ansible-playbook", write(tmp_path, "failures.yml", FAILURES), "-vvv", "-e", extra_vars(fake_authentik)
    )

    assert run.returncode == 0, run.stdout
    assert play_recap(run.stdout, "localhost")["ignored"] == 2
    assert fake_authentik.writes() == []
    assert fake_authentik.outpost(EMBEDDED_OUTPOST)["providers"] == []
    assert "has no outpost named 'nowhere'" in run.stdout
    assert "has no proxy provider named 'not-yet' to add to outpost 'authentik Embedded Outpost'" in run.stdout
    assert TOKEN not in run.output
