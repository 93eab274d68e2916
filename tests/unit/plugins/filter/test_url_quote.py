"""plugins/filter/url_quote.py: urllib.parse.quote(value, safe='') semantics, and Ansible loads it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from ansible.errors import AnsibleFilterError
from ansible_runs import DEBUG_ON_CONTROLLER

# Loaded from its file: putting the checkout's .collections on sys.path would reorder the
# ansible_collections namespace for every other test of the session.
PLUGIN = Path(__file__).resolve().parents[4] / "plugins" / "filter" / "url_quote.py"
_spec = importlib.util.spec_from_file_location("homelab_mlflow_filter_url_quote", PLUGIN)
url_quote_plugin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(url_quote_plugin)
FilterModule = url_quote_plugin.FilterModule
url_quote = url_quote_plugin.url_quote

NASTY = "p@ss/w:rd#%?&=+ \"'"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mlflow", "mlflow"),
        ("", ""),
        # Unreserved characters stay as they are.
        ("a-b_c.d~e", "a-b_c.d~e"),
        (NASTY, "p%40ss%2Fw%3Ard%23%25%3F%26%3D%2B%20%22%27"),
        # Every reserved character of a URL, '/' included (Jinja's urlencode keeps '/').
        (":/?#[]@!$&'()*+,;=", "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D"),
        ("ü€", "%C3%BC%E2%82%AC"),
        ("tab\tnewline\n", "tab%09newline%0A"),
    ],
)
def test_quotes_everything_but_unreserved_characters(value, expected):
    assert url_quote(value) == expected


def test_safe_characters_stay():
    assert url_quote("experiments/a b", safe="/") == "experiments/a%20b"


def test_a_quoted_password_survives_a_database_url():
    user, password = "ml flow", NASTY
    url = f"postgresql://{url_quote(user)}:{url_quote(password)}@db.example:5432/{url_quote('my/db')}"

    parts = urlsplit(url)

    assert (parts.hostname, parts.port, parts.path) == ("db.example", 5432, "/my%2Fdb")
    assert (unquote(parts.username), unquote(parts.password)) == (user, password)


@pytest.mark.parametrize("value", [None, 123, 1.5, True, ["a"], {"a": 1}])
def test_refuses_what_is_not_text(value):
    with pytest.raises(AnsibleFilterError, match="expects a string"):
        url_quote(value)


def test_refuses_safe_that_is_not_text():
    with pytest.raises(AnsibleFilterError, match="safe must be a string"):
        url_quote("a", safe=None)


def test_filter_module_exports_it():
    assert FilterModule().filters() == {"url_quote": url_quote}


def test_ansible_runs_it_and_documents_it(run_ansible):
    # The value comes in as JSON, so Ansible sees exactly these characters.
    run = run_ansible(
        *DEBUG_ON_CONTROLLER,
        "msg={{ value | homelab.mlflow.url_quote }}",
        "-e",
        json.dumps({"value": NASTY}),
    )
    doc = run_ansible("ansible-doc", "-t", "filter", "--json", "homelab.mlflow.url_quote")

    assert run.returncode == 0, run.stdout
    assert "p%40ss%2Fw%3Ard%23%25%3F%26%3D%2B%20%22%27" in run.stdout
    assert doc.returncode == 0, doc.stdout
    documentation = json.loads(doc.stdout)["homelab.mlflow.url_quote"]
    assert documentation["doc"]["name"] == "url_quote"
    assert set(documentation["doc"]["options"]) == {"_input", "safe"}
    assert documentation["examples"]
    assert "_value" in documentation["return"]


def test_a_templated_list_is_named_by_its_builtin_type_not_ansibles_internal_one():
    from ansible._internal._datatag._tags import Origin  # pylint: disable=import-outside-toplevel

    # A list read from a file, as Ansible hands it over: an _AnsibleTaggedList.
    tagged = Origin(path="/inventory/hosts.yml", line_num=3).tag(["a"])
    assert type(tagged).__name__ != "list"

    with pytest.raises(AnsibleFilterError, match=r"expects a string, got list$"):
        url_quote(tagged)
