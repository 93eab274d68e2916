"""homelab.mlflow.drift_report in ansible-playbook, on homelab.mlflow.authentik_blueprint in check
mode with diff against the fake Authentik API (tools/standins/authentik/): a blueprint changed,
disabled or deleted through Authentik's API is reported, field by field, and nothing is written.
"""

from __future__ import annotations

import json
import textwrap
import urllib.request

from fake_authentik import TEST_TOKEN as TOKEN

BLUEPRINT = """\
version: 1
metadata:
  name: mlflow
context:
  mode: forward_single
entries:
  - model: authentik_providers_proxy.proxyprovider
    identifiers: {name: mlflow}
    attrs:
      name: mlflow
      mode: !Context mode
      skip_path_regex: |
        ^/health$
        ^/static/
"""

# As a role applies a blueprint; the play is marked as one the callback reports on.
PLAYBOOK = textwrap.dedent(
    """\
    - name: Blueprints as the deployment wants them
      hosts: localhost
      gather_facts: false
      vars:
        drift_report: true
      module_defaults:
        homelab.mlflow.authentik_blueprint:
          host: "{{ authentik_url }}"
          token: "{{ authentik_token }}"
          wait_sleep: 0.02
          wait_timeout: 20
          retry_delay: 0.01
      tasks:
        - name: Apply the blueprint
          homelab.mlflow.authentik_blueprint:
            name: "{{ item }}"
            content: "{{ blueprint }}"
            context:
              owner: platform
          loop: [in-sync, changed, disabled, deleted]
    """
)


def authentik_api(fake, method: str, pk: str, body: dict | None = None) -> None:
    """A change made by hand, through Authentik's API."""
    request = urllib.request.Request(  # noqa: S310  # the fake's http:// URL
        f"{fake.url}/api/v3/managed/blueprints/{pk}/",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status in (200, 204)


def test_a_blueprint_changed_disabled_or_deleted_is_reported_and_nothing_is_written(
    fake_authentik, run_ansible, tmp_path
):
    pks = {
        name: fake_authentik.add_blueprint(name, BLUEPRINT, {"owner": "platform"})
        for name in ("in-sync", "changed", "disabled", "deleted")
    }
    authentik_api(fake_authentik, "PATCH", pks["changed"], {"content": BLUEPRINT.replace("^/static/", "^/assets/")})
    # Authentik asks for the content in every update, a partial one too.
    authentik_api(fake_authentik, "PATCH", pks["disabled"], {"enabled": False, "content": BLUEPRINT})
    authentik_api(fake_authentik, "DELETE", pks["deleted"])
    writes = len(fake_authentik.writes())
    playbook = tmp_path / "blueprints.yml"
    playbook.write_text(PLAYBOOK)
    report_dir = tmp_path / "report"

    run = run_ansible(
        "ansible-playbook",
        str(playbook),
        "--check",
        "--diff",
        "-e",
        json.dumps({"authentik_url": fake_authentik.url, "authentik_token": TOKEN, "blueprint": BLUEPRINT}),
        env={
            "ANSIBLE_CALLBACKS_ENABLED": "homelab.mlflow.drift_report",
            "HOMELAB_MLFLOW_DRIFT_REPORT_DIR": str(report_dir),
        },
    )

    assert run.returncode == 0, run.stdout
    assert fake_authentik.writes()[writes:] == []
    report = json.loads((report_dir / "drift-report.json").read_text())
    assert (report["mode"], report["status"], report["exit_code"]) == ("detect", "drift", 3)
    items = {item["object"]["name"]: item for item in report["targets"]["localhost"]["drift"]}
    assert set(items) == {"Authentik blueprint changed", "Authentik blueprint disabled", "Authentik blueprint deleted"}
    assert items["Authentik blueprint changed"]["fields"] == [
        {
            "path": "content.entries[0].attrs.skip_path_regex",
            "change": "changed",
            "expected": "^/health$\n^/static/\n",
            "found": "^/health$\n^/assets/\n",
        }
    ]
    assert items["Authentik blueprint disabled"]["fields"] == [
        {"path": "enabled", "change": "changed", "expected": True, "found": False}
    ]
    assert items["Authentik blueprint deleted"]["change"] == "missing"
    markdown = (report_dir / "drift-report.md").read_text()
    assert "- **Authentik blueprint disabled**: differs" in markdown
    assert "| `enabled` | `true` | `false` |" in markdown
    # The summary ends the run's output.
    assert "# Drift report: drift found" in run.stdout


def test_the_callback_stays_silent_in_plays_that_are_not_drift_runs(fake_authentik, run_ansible, tmp_path):
    playbook = tmp_path / "deploy.yml"
    playbook.write_text(PLAYBOOK.replace("drift_report: true", "drift_report: false"))
    report_dir = tmp_path / "report"

    run = run_ansible(
        "ansible-playbook",
        str(playbook),
        "--check",
        "-e",
        json.dumps({"authentik_url": fake_authentik.url, "authentik_token": TOKEN, "blueprint": BLUEPRINT}),
        env={
            "ANSIBLE_CALLBACKS_ENABLED": "homelab.mlflow.drift_report",
            "HOMELAB_MLFLOW_DRIFT_REPORT_DIR": str(report_dir),
        },
    )

    assert run.returncode == 0, run.stdout
    assert not report_dir.exists()
    assert "Drift report" not in run.output
