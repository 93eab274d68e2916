"""plugins/lookup/onepassword.py: what its terms and options mean, and Ansible running it against the
fake 1Password Connect server of tools/standins/onepassword_connect."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleLookupError
from ansible_runs import DEBUG_ON_CONTROLLER
from onepassword_client_testing import FAST
from onepassword_connect.fixtures import TOKEN, example_secret_values

from ansible_collections.homelab.mlflow.plugins.lookup import onepassword as lookup
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.errors import OnePasswordError
from ansible_collections.homelab.mlflow.plugins.module_utils.onepassword.options import ONEPASSWORD_ARG_SPEC


def options(server, **extra):
    """The lookup's options as `run` hands them on: every option, defaults where not set."""
    values = {name: spec.get("default") for name, spec in ONEPASSWORD_ARG_SPEC.items()}
    values.update(vault=None, item=None, fields=None, backend="connect", connect_host=server.url, connect_token=TOKEN)
    values.update(FAST)
    values.update(extra)
    return values


@pytest.mark.parametrize(
    ("terms", "kwargs", "expected"),
    [
        (["op://Homelab/db/password"], {}, ["op://Homelab/db/password"]),
        (["op://A/x/f", "op://B/y/s/g"], {}, ["op://A/x/f", "op://B/y/s/g"]),
        (
            ["username", "conn/host"],
            {"vault": "Homelab", "item": "db"},
            ["op://Homelab/db/username", "op://Homelab/db/conn/host"],
        ),
        ([], {"vault": "Homelab", "item": "db", "fields": ["password"]}, ["op://Homelab/db/password"]),
    ],
)
def test_terms_are_references_or_with_vault_and_item_field_names(terms, kwargs, expected):
    assert [str(ref) for ref in lookup.lookup_references(terms, **kwargs)] == expected


@pytest.mark.parametrize(
    ("terms", "kwargs", "message"),
    [
        ([], {}, "nothing to read"),
        (["password"], {}, "is not a 1Password secret reference"),
        (["op://A/x/f"], {"vault": "A"}, "vault and item go together"),
        (["a"], {"vault": "A", "item": "x", "fields": ["b"]}, "either as terms or as fields="),
        ([], {"fields": ["b"]}, "fields= needs vault= and item="),
        ([], {"vault": "A", "item": "x"}, "name the fields of item 'x'"),
        (["op://A/x/f"], {"vault": "A", "item": "x"}, "the terms are field names, not references"),
    ],
)
def test_terms_and_options_that_do_not_fit_together_are_refused(terms, kwargs, message):
    with pytest.raises((AnsibleLookupError, OnePasswordError), match=message):
        lookup.lookup_references(terms, **kwargs)


def test_lookup_against_fake_connect_server_returns_values_in_order(fake_connect):
    values = lookup.lookup_values(
        [
            "op://Homelab/mlflow-s3/secret access key",
            "op://Homelab/mlflow-postgres/password",
            "op://Homelab/mlflow-postgres/username",
        ],
        options(fake_connect),
    )

    assert values == ["fake-S3-Secret-d41d8c", "fake-Pg-Passw0rd-7f3a9c", "mlflow"]
    assert len(fake_connect.item_reads()) == 2, "one read per item"


def test_lookup_against_fake_connect_server_reads_fields_of_one_item(fake_connect):
    values = lookup.lookup_values(
        [], options(fake_connect, vault="Homelab", item="mlflow-postgres", fields=["connection/port", "username"])
    )

    assert values == ["5432", "mlflow"]


def test_lookup_against_fake_connect_server_fails_with_the_clients_message_only(fake_connect):
    with pytest.raises(AnsibleLookupError, match="field 'pasword' not found in item 'mlflow-postgres'") as failure:
        lookup.lookup_values(["op://Homelab/mlflow-postgres/pasword"], options(fake_connect))

    assert failure.value.__cause__ is None
    for secret in (*example_secret_values(), TOKEN):
        assert secret not in str(failure.value)


def test_lookup_says_which_option_is_missing():
    with pytest.raises(AnsibleLookupError, match="service_account_token or OP_SERVICE_ACCOUNT_TOKEN"):
        lookup.lookup_values(["op://Homelab/db/password"], {"backend": "sdk"})


# Ansible itself: options from keywords, variables and the environment; docs.


def test_ansible_runs_the_lookup_against_fake_connect_server(fake_connect, run_ansible):
    expression = (
        "{{ query('homelab.mlflow.onepassword', 'op://Homelab/mlflow-postgres/connection/host', "
        "'op://Homelab/mlflow-postgres/username', 'op://Homelab/mlflow-s3/access key id', retry_delay=0.001) }}"
    )
    run = run_ansible(
        *DEBUG_ON_CONTROLLER,
        json.dumps({"msg": expression}),
        # The backend from a variable, the server and the token from the environment.
        "-e",
        "onepassword_backend=connect",
        env={"OP_CONNECT_HOST": fake_connect.url, "OP_CONNECT_TOKEN": TOKEN},
    )

    assert run.returncode == 0, run.stdout
    # In order, as the YAML result format (ansible.cfg) prints a list.
    assert "- mlflow-postgres-rw.mlflow.svc\n    - mlflow\n    - fake-AKIA-000000000000\n" in run.stdout
    assert len(fake_connect.item_reads()) == 2


def test_ansible_shows_a_lookup_failure_without_secrets_at_vvv_against_fake_connect_server(fake_connect, run_ansible):
    expression = "{{ lookup('homelab.mlflow.onepassword', 'op://Homelab/mlflow-postgres/pasword', backend='connect') }}"
    run = run_ansible(
        *DEBUG_ON_CONTROLLER,
        json.dumps({"msg": expression}),
        "-vvv",
        env={"OP_CONNECT_HOST": fake_connect.url, "OP_CONNECT_TOKEN": TOKEN},
    )

    assert run.returncode != 0
    assert "field 'pasword' not found in item 'mlflow-postgres' of vault 'Homelab'" in run.stdout
    for secret in (*example_secret_values(), TOKEN):
        assert secret not in run.output


def test_a_failing_reference_names_its_variable_and_file_against_fake_connect_server(
    fake_connect, run_ansible, tmp_path
):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n"
        "  hosts:\n"
        "    target:\n"
        "      ansible_connection: local\n"
        "      postgres_password: \"{{ lookup('homelab.mlflow.onepassword', 'op://Homelab/mlflow-postgres/pasword', "
        "backend='connect', retry_delay=0.001) }}\"\n"
    )
    run = run_ansible(
        "ansible",
        "target",
        "-i",
        str(inventory),
        "-m",
        "ansible.builtin.debug",
        "-a",
        "msg={{ postgres_password | length }}",
        env={"OP_CONNECT_HOST": fake_connect.url, "OP_CONNECT_TOKEN": TOKEN},
    )

    assert run.returncode != 0
    message = " ".join(run.stdout.replace("''", "'").split())
    assert f"postgres_password ({inventory}:5): reading op://Homelab/mlflow-postgres/pasword:" in message
    assert "field 'pasword' not found in item 'mlflow-postgres'" in message
    for secret in (*example_secret_values(), TOKEN):
        assert secret not in run.output


def test_lookup_documents_the_shared_connection_options(run_ansible):
    doc = run_ansible("ansible-doc", "-t", "lookup", "--json", "homelab.mlflow.onepassword")

    assert doc.returncode == 0, doc.stdout
    documented = json.loads(doc.stdout)["homelab.mlflow.onepassword"]["doc"]["options"]
    assert set(documented) == {*ONEPASSWORD_ARG_SPEC, "_terms", "vault", "item", "fields"}
    for name, spec in ONEPASSWORD_ARG_SPEC.items():
        assert documented[name]["type"] == spec["type"]
        assert documented[name].get("default") == spec.get("default")
        fallback = spec.get("fallback")
        if fallback:
            assert [entry["name"] for entry in documented[name]["env"]] == fallback[1]
