"""plugins/modules/onepassword_item_info.py (and its action): reads fields, in check mode too, and no
secret value or token ever reaches the output, at -vvv, against the fake 1Password Connect server
of tools/standins/onepassword_connect."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from onepassword_client_testing import FAST
from onepassword_connect.fixtures import TOKEN, example_secret_values

from ansible_collections.homelab.mlflow.plugins.doc_fragments import onepassword as fragment
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.options import ONEPASSWORD_ARG_SPEC
from ansible_collections.homelab.mlflow.plugins.modules import onepassword_item_info as module

SECRETS = example_secret_values()


def run_module(args, capsys):
    """Run the module's main() in this process: (exit code, its JSON result)."""
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def connect_args(server, **args):
    return {"backend": "connect", "connect_host": server.url, "connect_token": TOKEN, **FAST, **args}


def test_module_against_fake_connect_server_returns_fields_by_label(fake_connect, capsys):
    code, result = run_module(
        connect_args(
            fake_connect, vault="Homelab", item="mlflow-postgres", fields=["username", "password", "connection/host"]
        ),
        capsys,
    )

    assert code == 0
    assert result["changed"] is False
    assert result["fields"] == {
        "username": "mlflow",
        "password": "fake-Pg-Passw0rd-7f3a9c",
        "connection/host": "mlflow-postgres-rw.mlflow.svc",
    }
    assert len(fake_connect.item_reads()) == 1
    assert "NO_LOG" in result["invocation"]["module_args"]["connect_token"]


def test_module_against_fake_connect_server_returns_references_by_reference(fake_connect, capsys):
    references = ["op://Homelab/mlflow-s3/secret access key", "op://Homelab/mlflow-postgres/replication/password"]

    code, result = run_module(connect_args(fake_connect, references=references), capsys)

    assert code == 0
    assert result["fields"] == dict(
        zip(references, ["fake-S3-Secret-d41d8c", "fake-Repl-Passw0rd-2b8e41"], strict=True)
    )


def test_module_against_fake_connect_server_reads_in_check_mode(fake_connect, capsys):
    args = connect_args(
        fake_connect, vault="Homelab", item="mlflow-postgres", fields=["username"], _ansible_check_mode=True
    )

    code, result = run_module(args, capsys)

    assert (code, result["changed"], result["fields"]) == (0, False, {"username": "mlflow"})


def test_module_against_fake_connect_server_fails_naming_the_missing_field(fake_connect, capsys):
    code, result = run_module(
        connect_args(fake_connect, vault="Homelab", item="mlflow-postgres", fields=["pasword"]), capsys
    )

    assert code == 1
    assert "field 'pasword' not found in item 'mlflow-postgres' of vault 'Homelab'; its fields are:" in result["msg"]
    assert "exception" not in result
    for secret in (*SECRETS, TOKEN):
        assert secret not in json.dumps(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"vault": "Homelab"}, "parameters are required together: vault, item, fields"),
        ({"references": ["op://a/b/c"], "vault": "a"}, "parameters are mutually exclusive: references|vault"),
        ({}, "one of the following is required: references, vault"),
        ({"references": []}, "name at least one field"),
        ({"references": ["a/b/c"]}, "is not a 1Password secret reference"),
        ({"backend": "sdk", "service_account_token": None, "references": ["op://a/b/c"]}, "OP_SERVICE_ACCOUNT_TOKEN"),
    ],
)
def test_module_refuses_arguments_that_cannot_work(args, message, capsys, monkeypatch):
    monkeypatch.delenv("OP_SERVICE_ACCOUNT_TOKEN", raising=False)
    base = {"backend": "connect", "connect_host": "http://127.0.0.1:9", "connect_token": TOKEN}

    code, result = run_module({**base, **args}, capsys)

    assert code == 1
    assert message in result["msg"]


def test_module_says_to_install_the_sdk_when_it_is_missing(capsys, monkeypatch):
    monkeypatch.setattr(module, "HAS_ONEPASSWORD_SDK", False)

    code, result = run_module({"references": ["op://a/b/c"], "service_account_token": "x"}, capsys)

    assert code == 1
    assert "Failed to import the required Python library (onepassword-sdk)" in result["msg"]


def test_module_takes_the_connect_settings_from_the_environment_against_fake_connect_server(
    fake_connect, capsys, monkeypatch
):
    monkeypatch.setenv("OP_CONNECT_HOST", fake_connect.url)
    monkeypatch.setenv("OP_CONNECT_TOKEN", TOKEN)

    code, result = run_module({"backend": "connect", "references": ["op://Homelab/mlflow-postgres/username"]}, capsys)

    assert (code, result["fields"]) == (0, {"op://Homelab/mlflow-postgres/username": "mlflow"})


# ansible-playbook, as a person runs it: nothing secret in the output at -vvv.

PLAYBOOK = """
- name: Read 1Password items
  hosts: local
  gather_facts: false
  tasks:
    - name: Read fields of one item
      homelab.mlflow.onepassword_item_info:
        backend: connect
        vault: Homelab
        item: mlflow-postgres
        fields: [username, password, connection/host]
        retry_delay: 0.001
      register: postgres
    - name: Read references of two items, in check mode
      homelab.mlflow.onepassword_item_info:
        backend: connect
        references:
          - op://Homelab/mlflow-postgres/replication/password
          - op://Homelab/mlflow-s3/secret access key
        retry_delay: 0.001
      check_mode: true
      register: several
    - name: The values are in the registered variables (compared by digest, so that no value is printed)
      ansible.builtin.assert:
        that:
          - postgres.fields.username == 'mlflow'
          - (postgres.fields.password | hash('sha256')) == '{password}'
          - (several.fields['op://Homelab/mlflow-s3/secret access key'] | hash('sha256')) == '{s3}'
        quiet: true
    - name: A missing field fails, naming it
      homelab.mlflow.onepassword_item_info:
        backend: connect
        vault: Homelab
        item: mlflow-postgres
        fields: [pasword]
        retry_delay: 0.001
      ignore_errors: true
      register: missing
    - name: The failure is visible
      ansible.builtin.assert:
        that:
          - missing is failed
          - "'its fields are' in missing.msg"
        quiet: true
"""


def _digest(value):
    return hashlib.sha256(value.encode()).hexdigest()


def test_playbook_against_fake_connect_server_never_prints_a_secret_at_vvv(
    fake_connect, run_ansible, play_recap, tmp_path
):
    playbook = tmp_path / "read.yml"
    playbook.write_text(
        PLAYBOOK.format(password=_digest("fake-Pg-Passw0rd-7f3a9c"), s3=_digest("fake-S3-Secret-d41d8c"))
    )

    run = run_ansible(
        "ansible-playbook",
        str(playbook),
        "-vvv",
        "--diff",
        env={"OP_CONNECT_HOST": fake_connect.url, "OP_CONNECT_TOKEN": TOKEN},
    )

    assert run.returncode == 0, run.stdout
    assert play_recap(run.stdout) == {
        "ok": 5,
        "changed": 0,
        "unreachable": 0,
        "failed": 0,
        "skipped": 0,
        "rescued": 0,
        "ignored": 1,
    }
    assert run.stdout.count("censored: 'the output has been hidden") == 2
    assert "field 'pasword' not found in item 'mlflow-postgres'" in run.stdout
    for secret in (*SECRETS, TOKEN):
        assert secret not in run.output
    # One item read per item and module run: mlflow-postgres, then mlflow-postgres and mlflow-s3,
    # then mlflow-postgres again for the failing read.
    assert len(fake_connect.item_reads()) == 4


# Documentation: one fragment, the same options as the argument spec.


def test_doc_fragment_documents_exactly_the_argument_spec():
    documented = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)["options"]
    sources = yaml.safe_load(fragment.ModuleDocFragment.PLUGIN_SOURCES)["options"]

    assert set(documented) == set(ONEPASSWORD_ARG_SPEC)
    for name, spec in ONEPASSWORD_ARG_SPEC.items():
        assert documented[name]["type"] == spec["type"], name
        assert documented[name].get("default") == spec.get("default"), name
        assert documented[name].get("choices") == spec.get("choices"), name
        fallback = spec.get("fallback")
        if fallback:
            assert fallback[1][0] in " ".join(documented[name]["description"]), name
            assert [entry["name"] for entry in sources[name]["env"]] == fallback[1], name
    assert {name for name, spec in ONEPASSWORD_ARG_SPEC.items() if spec.get("no_log")} == {
        "service_account_token",
        "connect_token",
    }


def test_ansible_doc_shows_the_module(run_ansible):
    doc = run_ansible("ansible-doc", "--json", "homelab.mlflow.onepassword_item_info")

    assert doc.returncode == 0, doc.stdout
    described = json.loads(doc.stdout)["homelab.mlflow.onepassword_item_info"]
    assert set(described["doc"]["options"]) == {*ONEPASSWORD_ARG_SPEC, "vault", "item", "fields", "references"}
    assert described["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert "fields" in described["return"]
    assert described["examples"]
