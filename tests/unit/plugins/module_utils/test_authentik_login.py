from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik_login import (
    Answer,
    basic_auth_problem,
    follows_to_start,
    login_url,
    redirect_problem,
)

BASE = "https://mlflow.example.com"
AUTHORIZE = "https://auth.example.com/application/o/authorize/?client_id=x"
START = Answer(302, f"{BASE}/outpost.goauthentik.io/start?rd=x")


def test_the_outpost_start_path_is_followed_to_authentik():
    assert follows_to_start(START)
    assert login_url(START, Answer(302, AUTHORIZE)) == AUTHORIZE
    assert (
        redirect_problem(BASE, START, Answer(302, AUTHORIZE), "mlflow.example.com", "https://auth.example.com") is None
    )


def test_a_direct_redirect_to_authentik_passes_without_a_known_host():
    direct = Answer(302, AUTHORIZE)
    assert not follows_to_start(direct)
    assert redirect_problem(BASE, direct, None, "mlflow.example.com", "") is None


def test_an_open_url_is_refused():
    problem = redirect_problem(BASE, Answer(200), None, "mlflow.example.com", "https://auth.example.com")
    assert problem.startswith(f"{BASE}/ (authentik_verify_url) answered 200: a request without login must be")
    assert "redirected to Authentik (https://auth.example.com)." in problem


def test_another_authentik_is_refused_and_named():
    problem = redirect_problem(BASE, START, Answer(302, AUTHORIZE), "mlflow.example.com", "https://sso.example.org")
    assert f"sending to {AUTHORIZE}" in problem
    assert "(https://sso.example.org)" in problem


def test_a_redirect_back_to_mlflow_is_refused():
    back = Answer(302, f"{BASE}/login")
    assert redirect_problem(BASE, back, None, "mlflow.example.com", "") is not None


def test_no_answer_says_why():
    problem = redirect_problem(BASE, Answer(None, error="URLError: refused"), None, "mlflow.example.com", "")
    assert "answered nothing URLError: refused:" in problem


def test_the_api_client_must_get_mlflows_json():
    assert basic_auth_problem(BASE, Answer(200, json={"experiments": []}), "alice") is None
    problem = basic_auth_problem(BASE, Answer(302, "x"), "alice")
    assert "answered 302 to HTTP Basic with authentik_verify_username alice" in problem
    assert basic_auth_problem(BASE, Answer(200, json=None), "alice") is not None
