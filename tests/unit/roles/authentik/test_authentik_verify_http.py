"""The role's HTTP checks (authentik_verify_http) against a stand-in of Authentik's proxy outpost.

The stand-in answers as an outpost does: a request without a session or credentials is redirected
to the outpost's start path, which redirects to Authentik's authorization endpoint; a request with
HTTP Basic and the right app password reaches MLflow's API. Each case is a host of one
ansible-playbook run of the role's verify with its other checks off (no API, no cluster).
"""

from __future__ import annotations

import base64

import pytest
from ansible_runs import failure_messages
from local_http import QuietHandler, serving
from role_playbooks import HOST, run_playbook, write_inventory

AUTHENTIK = "https://authentik.example.com"
USER, APP_PASSWORD = "alice", "app-password-0123456789"  # made up, accepted by the stand-in only


class Outpost(QuietHandler):
    """Paths under /open/ answer without a login, as a proxy that is not Authentik's would."""

    def do_GET(self):
        if self.path.startswith("/open/"):
            return self.answer_json(200, {"experiments": []})
        expected = "Basic " + base64.b64encode(f"{USER}:{APP_PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") == expected and self.path.startswith("/api/2.0/mlflow/"):
            return self.answer_json(200, {"experiments": [{"experiment_id": "0", "name": "Default"}]})
        if self.path.startswith("/outpost.goauthentik.io/start"):
            return self._redirect(f"{AUTHENTIK}/application/o/authorize/?client_id=mlflow&state=x")
        host = self.headers["Host"]
        return self._redirect(f"http://{host}/outpost.goauthentik.io/start?rd=http://{host}{self.path}")

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def outpost():
    with serving(Outpost) as url:
        yield url


def test_the_redirect_to_authentik_and_the_api_login_are_checked(repo_root, tmp_path, outpost):
    common = {
        "authentik_host": AUTHENTIK,
        "authentik_verify_httproute": False,
        "authentik_verify_url": outpost,
        "authentik_verify_username": USER,
    }
    hosts = {
        "good": {**common, "authentik_verify_password": APP_PASSWORD},
        "redirect_only": {**common, "authentik_verify_username": ""},
        "wrong_password": {**common, "authentik_verify_password": "not-the-app-password"},
        "no_login": {**common, "authentik_verify_url": f"{outpost}/open", "authentik_verify_username": ""},
        "other_authentik": {**common, "authentik_host": "https://sso.example.org", "authentik_verify_username": ""},
    }
    inventory = write_inventory(tmp_path / "hosts.yml", hosts, mlflow_external_host=HOST)

    result = run_playbook(repo_root, "authentik", "verify_http.yml", inventory)

    messages = {host: " ".join(found) for host, found in failure_messages(result.stdout).items()}
    assert sorted(messages) == ["no_login", "other_authentik", "wrong_password"], result.stdout[-6000:]
    assert "answered 302 to HTTP Basic with authentik_verify_username alice" in messages["wrong_password"]
    assert "answered 200" in messages["no_login"]
    assert "must be redirected to Authentik" in messages["no_login"]
    assert "sending to https://authentik.example.com/application/o/authorize/" in messages["other_authentik"]
    assert "(https://sso.example.org)" in messages["other_authentik"]
    assert APP_PASSWORD not in result.stdout
    assert "not-the-app-password" not in result.stdout
    assert "changed=0" in result.stdout
