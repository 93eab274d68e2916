"""homelab.mlflow.authentik_blueprint run by ansible-playbook against the fake Authentik API
(tools/standins/authentik/), which holds every request and response to Authentik's OpenAPI document.

Each ansible-playbook run costs seconds, so one run covers several cases where it can.
"""

from __future__ import annotations

import json

from ansible_runs import missing_from
from authentik_client_testing import BLUEPRINT
from authentik_module_plays import authentik_play
from fake_authentik import TEST_TOKEN as TOKEN


def play(tasks: str) -> str:
    return authentik_play("Authentik blueprint", tasks, blueprint_waits=True)


CREATE_TASK = """\
    - name: Blueprint for MLflow
      homelab.mlflow.authentik_blueprint:
        name: mlflow
        content: "{{ blueprint }}"
        context:
          owner: platform
      register: created
"""

CREATE = play(
    CREATE_TASK
    + """
    - name: What the action returned
      ansible.builtin.assert:
        that:
          - created.blueprint.status == 'successful'
          - created.blueprint.enabled
          - created.blueprint.name == 'mlflow'
          - created.blueprint.pk | length == 36
          - created.log is sequence
"""
)

CHANGE_AND_REMOVE = play(
    """\
    - name: Change the content
      homelab.mlflow.authentik_blueprint:
        name: mlflow
        content: "{{ blueprint | replace('^/static/', '^/assets/') }}"
        context:
          owner: platform
      diff: true
      register: changed_content

    - name: Remove it
      homelab.mlflow.authentik_blueprint:
        name: mlflow
        state: absent
      register: removed

    - name: Remove it again
      homelab.mlflow.authentik_blueprint:
        name: mlflow
        state: absent
      register: removed_again

    - name: Changes as expected
      ansible.builtin.assert:
        that:
          - changed_content is changed
          - changed_content.applied
          - changed_content.blueprint.status == 'successful'
          - removed is changed
          - removed_again is not changed
"""
)

FAILURES = play(
    """\
        - name: Succeeds after Authentik answered 500 twice (token from AUTHENTIK_TOKEN)
          homelab.mlflow.authentik_blueprint:
            name: retried
            content: "{{ blueprint }}"
            token: "{{ omit }}"
          register: retried

        - name: A blueprint Authentik fails to apply
          homelab.mlflow.authentik_blueprint:
            name: failing
            content: "{{ blueprint }}"
            context:
              mode: sideways
          register: failing
          ignore_errors: true

        - name: A token Authentik refuses
          homelab.mlflow.authentik_blueprint:
            name: refused
            content: "{{ blueprint }}"
            token: "{{ wrong_token }}"
          register: refused
          ignore_errors: true

        - name: A host nobody answers on
          homelab.mlflow.authentik_blueprint:
            name: unreachable
            content: "{{ blueprint }}"
            host: http://127.0.0.1:9
            retries: 1
          register: unreachable
          ignore_errors: true

        - name: Failures as expected
          ansible.builtin.assert:
            that:
              - retried is changed
              - retried.blueprint.status == 'successful'
              - failing is failed
              - "failing.log[-1] == 'error: Blueprint validation failed'"
              - refused is failed
              - unreachable is failed
"""
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def extra_vars(fake, **more):
    return json.dumps({"authentik_url": fake.url, "authentik_token": TOKEN, "blueprint": BLUEPRINT, **more})


def writes_since(fake, count):
    return [(r["method"], r["path"]) for r in fake.writes()[count:]]


def test_create_then_rerun_changes_nothing_against_fake_authentik_api(
    fake_authentik, run_ansible, play_recap, tmp_path
):
    playbook = write(tmp_path, "create.yml", CREATE)

    first = run_ansible("ansible-playbook", playbook, "-e", extra_vars(fake_authentik))
    writes = len(fake_authentik.writes())
    second = run_ansible("ansible-playbook", playbook, "-e", extra_vars(fake_authentik))

    assert first.returncode == 0, first.stdout
    assert play_recap(first.stdout, "localhost")["changed"] == 1
    stored = fake_authentik.blueprint("mlflow")
    assert stored["status"] == "successful"
    assert stored["context"] == {"owner": "platform"}
    assert "mode: !Context mode" in stored["content"]
    assert second.returncode == 0, second.stdout
    assert play_recap(second.stdout, "localhost")["changed"] == 0
    # Idempotent for real: the second run only read.
    assert writes_since(fake_authentik, writes) == []


def test_check_mode_with_diff_shows_the_change_and_writes_nothing_against_fake_authentik_api(
    fake_authentik, run_ansible, play_recap, tmp_path
):
    playbook = write(tmp_path, "preview.yml", play(CREATE_TASK))

    preview = run_ansible("ansible-playbook", playbook, "--check", "--diff", "-e", extra_vars(fake_authentik))

    assert preview.returncode == 0, preview.stdout
    assert play_recap(preview.stdout, "localhost")["changed"] == 1
    assert fake_authentik.writes() == []
    assert fake_authentik.blueprint("mlflow") is None
    # The diff is readable YAML: the options and the blueprint itself, line by line.
    for line in (
        "+++ after: Authentik blueprint mlflow",
        "+name: mlflow",
        "+enabled: true",
        "+context:",
        "+  owner: platform",
        "+content:",
        "+      mode: !Context mode",
        "+      skip_path_regex: |",
        "+        ^/static/",
    ):
        assert line in preview.stdout, line


def test_change_with_diff_then_remove_against_fake_authentik_api(fake_authentik, run_ansible, play_recap, tmp_path):
    pk = fake_authentik.add_blueprint("mlflow", BLUEPRINT, {"owner": "platform"})
    writes = len(fake_authentik.writes())

    run = run_ansible(
        "ansible-playbook", write(tmp_path, "change.yml", CHANGE_AND_REMOVE), "-e", extra_vars(fake_authentik)
    )

    assert run.returncode == 0, run.stdout
    assert play_recap(run.stdout, "localhost")["changed"] == 2
    assert writes_since(fake_authentik, writes) == [
        ("PUT", f"/api/v3/managed/blueprints/{pk}/"),
        ("POST", f"/api/v3/managed/blueprints/{pk}/apply/"),
        ("DELETE", f"/api/v3/managed/blueprints/{pk}/"),
    ]
    assert "-        ^/static/" in run.stdout
    assert "+        ^/assets/" in run.stdout
    assert fake_authentik.blueprint("mlflow") is None


def test_failures_are_explained_and_the_token_never_shows_against_fake_authentik_api(
    fake_authentik, run_ansible, play_recap, tmp_path
):
    wrong = "not-the-fake-token-fedcba9876543210"
    fake_authentik.inject(status=500, count=2)

    run = run_ansible(
        "ansible-playbook",
        write(tmp_path, "failures.yml", FAILURES),
        "-vvv",
        "-e",
        extra_vars(fake_authentik, wrong_token=wrong),
        env={"AUTHENTIK_TOKEN": TOKEN},
    )

    assert run.returncode == 0, run.stdout
    assert play_recap(run.stdout, "localhost")["ignored"] == 3
    assert [r["status"] for r in fake_authentik.requests[:3]] == [500, 500, 200]
    # Authentik's own log lines, in the failure message.
    expected = [
        "Authentik could not apply blueprint 'failing': status error",
        "'sideways' is not one of ['proxy', 'forward_single', 'forward_domain']",
        "error: Blueprint validation failed",
        "refused the API token (HTTP 403: Token invalid/expired)",
        "cannot reach Authentik at 127.0.0.1:9 to find blueprint instance 'unreachable' (2 tries)",
    ]
    assert missing_from(run.stdout, expected) == []
    # Neither token, from a parameter or from the environment, even at -vvv (both were sent: see the 403 above).
    assert TOKEN not in run.output
    assert wrong not in run.output
