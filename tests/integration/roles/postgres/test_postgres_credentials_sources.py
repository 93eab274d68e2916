"""The postgres role's 1Password credentials sources on the test cluster, through ansible-playbook.

- `onepassword_connect` reads the item from a fake 1Password Connect server (tools/standins/onepassword_connect,
  run in this process with the test cluster's data, tools/testcluster/onepassword-connect.yaml), which
  counts the item reads and fails the test on any request that breaks Connect's OpenAPI document;
- `onepassword_operator` has the 1Password operator stand-in make the Secret from the same data;
- `onepassword_sdk` cannot reach 1Password here: the SDK itself is tested at its `Client` boundary in
  tests/unit/plugins/module_utils; here preflight's failure without a token is.

One deployment per source (each a host of its own, in one run): converged at -vvv, then run again.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from ansible_runs import ansible_env, ansible_playbook, failure_messages, recap, unique, write_inventory
from kubernetes import client
from onepassword_connect.server import FakeConnectServer, load_data
from testcluster import FAKE_CONNECT_DATA

from .test_postgres_role import ADMIN, PLAYBOOK, SECRET, decoded, delete_namespace

GROUP, VERSION, PLURAL = "onepassword.com", "v1", "onepassworditems"
BASIC_AUTH = "kubernetes.io/basic-auth"
DATA = load_data(FAKE_CONNECT_DATA)
CONNECT_TOKEN = DATA["tokens"][0]["token"]
ITEM = {
    field["label"]: field["value"]
    for vault in DATA["vaults"]
    if vault["name"] == "Secrets"
    for item in vault["items"]
    if item["title"] == "mlflow-secrets"
    for field in item["fields"]
}
PASSWORD = ITEM["password"]


def run_playbook(repo_root: Path, inventory: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The role's playbook (as test_postgres_role runs it), with no 1Password setting but those in `env`."""
    return ansible_playbook(
        repo_root, PLAYBOOK, inventory, *args, env=ansible_env(repo_root, drop_prefixes=("OP_",), **(env or {}))
    )


def leaks(run: subprocess.CompletedProcess) -> list[str]:
    """The secrets (the password, in plain text and base64, and the Connect token) the output shows."""
    secrets = [PASSWORD, base64.b64encode(PASSWORD.encode()).decode(), CONNECT_TOKEN]
    return [secret for secret in secrets if secret in run.stdout + run.stderr]


@pytest.fixture(scope="module")
def fake_connect():
    """The fake 1Password Connect server, serving the test cluster's data; checked for violations at the end."""
    with FakeConnectServer(DATA) as server:
        yield server
        server.check()


@pytest.fixture(scope="module")
def deployments(repo_root, testcluster, k8s, fake_connect, tmp_path_factory):
    """Host `connect` (source onepassword_connect) and host `operator` (source onepassword_operator), each in
    a namespace of its own: converged at -vvv, then run again; the item reads of each run counted.

    Both get the Connect server in the environment: the operator host must not use it."""
    work = tmp_path_factory.mktemp("postgres-1password")
    hosts = {
        # The Connect URL as a variable, the token from the environment: both ways work.
        "connect": {
            "mlflow_namespace": unique("pg-1p-connect"),
            "postgres_credentials_source": "onepassword_connect",
            "onepassword_connect_host": fake_connect.url,
        },
        "operator": {
            "mlflow_namespace": unique("pg-1p-operator"),
            "postgres_credentials_source": "onepassword_operator",
        },
    }
    inventory = write_inventory(work / "hosts.yml", testcluster, hosts)
    env = {"OP_CONNECT_HOST": fake_connect.url, "OP_CONNECT_TOKEN": CONNECT_TOKEN}
    runs, reads = [], []
    try:
        for args in (["-vvv"], []):
            before = len(fake_connect.item_reads())
            runs.append(run_playbook(repo_root, inventory, *args, env=env))
            reads.append(len(fake_connect.item_reads()) - before)
        yield {"hosts": hosts, "runs": runs, "reads": reads}
    finally:
        for host in hosts.values():
            delete_namespace(k8s, host["mlflow_namespace"])


def standin_reads(testcluster, namespace: str) -> int:
    """Item reads the 1Password operator stand-in logged for `namespace` (it logs each, names only)."""
    log = (testcluster.state / "logs" / "standin-onepassword_operator.log").read_text()
    return sum(1 for line in log.splitlines() if "read item " in line and f" for {namespace}/" in line)


def test_onepassword_connect_source_with_the_fake_connect_server_writes_the_secret(deployments, k8s):
    first = deployments["runs"][0]
    namespace = deployments["hosts"]["connect"]["mlflow_namespace"]

    assert first.returncode == 0, first.stdout[-6000:]
    assert recap(first.stdout)["connect"]["changed"] > 0
    secret = client.CoreV1Api(k8s).read_namespaced_secret(SECRET, namespace)
    assert secret.type == BASIC_AUTH
    assert decoded(secret) == {"username": "mlflow", "password": PASSWORD}
    assert secret.metadata.labels["app.kubernetes.io/managed-by"] == "homelab.mlflow"
    assert secret.metadata.labels["cnpg.io/reload"] == "true"


def test_onepassword_connect_source_with_the_fake_connect_server_changes_nothing_on_a_second_run(deployments):
    second = deployments["runs"][1]

    assert second.returncode == 0, second.stdout[-6000:]
    assert recap(second.stdout)["connect"]["changed"] == 0


def test_onepassword_connect_source_reads_the_item_once_per_run_from_the_fake_connect_server(deployments):
    # Preflight reads it, apply writes the Secret from that read; the operator host reads nothing.
    assert deployments["reads"] == [1, 1]


def test_onepassword_sources_never_show_the_password_or_token_at_vvv(deployments):
    first, second = deployments["runs"]

    assert first.returncode == 0, first.stdout[-6000:]
    assert "ESTABLISH LOCAL CONNECTION" in first.stdout  # it did run at -vvv
    assert leaks(first) == []
    assert leaks(second) == []


def test_onepassword_operator_source_with_the_standin_has_the_operator_write_the_secret(deployments, k8s):
    first = deployments["runs"][0]
    namespace = deployments["hosts"]["operator"]["mlflow_namespace"]

    assert first.returncode == 0, first.stdout[-6000:]
    item = client.CustomObjectsApi(k8s).get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, SECRET)
    assert item["type"] == BASIC_AUTH
    assert item["spec"] == {"itemPath": "vaults/Secrets/items/mlflow-secrets"}
    assert item["metadata"]["labels"]["cnpg.io/reload"] == "true"
    secret = client.CoreV1Api(k8s).read_namespaced_secret(SECRET, namespace)
    assert secret.type == BASIC_AUTH
    assert decoded(secret) == ITEM  # every field of the item, under its label
    assert secret.metadata.labels == item["metadata"]["labels"]
    # The operator's: owned by the OnePasswordItem, and never written by the role.
    assert [owner.uid for owner in secret.metadata.owner_references] == [item["metadata"]["uid"]]
    assert "homelab.mlflow" not in {entry.manager for entry in secret.metadata.managed_fields}


def test_onepassword_operator_source_with_the_standin_changes_nothing_on_a_second_run(deployments, testcluster):
    second = deployments["runs"][1]
    namespace = deployments["hosts"]["operator"]["mlflow_namespace"]

    assert second.returncode == 0, second.stdout[-6000:]
    assert recap(second.stdout)["operator"]["changed"] == 0
    # The stand-in read the item once, for the first run; the second changed nothing it reads for.
    assert standin_reads(testcluster, namespace) == 1


def test_check_mode_reads_the_item_once_and_writes_nothing(repo_root, testcluster, fake_connect, tmp_path):
    hosts = {
        "connect": {
            "mlflow_namespace": unique("pg-1p-check"),
            "postgres_credentials_source": "onepassword_connect",
            "onepassword_connect_host": fake_connect.url,
            "onepassword_connect_token": CONNECT_TOKEN,
        },
        "operator": {"mlflow_namespace": unique("pg-1p-check"), "postgres_credentials_source": "onepassword_operator"},
    }
    inventory = write_inventory(tmp_path / "hosts.yml", testcluster, hosts)
    mark, before = testcluster.audit.mark(), len(fake_connect.item_reads())

    result = run_playbook(repo_root, inventory, "--check", "--diff")

    assert result.returncode == 0, result.stdout[-6000:]
    assert len(fake_connect.item_reads()) - before == 1
    connect, operator = hosts["connect"]["mlflow_namespace"], hosts["operator"]["mlflow_namespace"]
    # The Secret with its values hidden; the operator host has no Secret to write, only the OnePasswordItem.
    assert f"+++ after: Secret {connect}/mlflow-secrets" in result.stdout
    assert f"+++ after: Secret {operator}/mlflow-secrets" not in result.stdout
    assert f"+++ after: Cluster {connect}/mlflow-postgres" in result.stdout
    assert f"+++ after: OnePasswordItem {operator}/mlflow-secrets" in result.stdout
    assert f"+++ after: Cluster {operator}/mlflow-postgres" in result.stdout
    namespaces = {host["mlflow_namespace"] for host in hosts.values()}
    assert [r for r in testcluster.audit.writes(mark, user=ADMIN) if r.namespace in namespaces] == []
    assert leaks(result) == []


@pytest.fixture(scope="module")
def bad_settings(repo_root, testcluster, fake_connect, deployments, tmp_path_factory):
    """One run, a host per bad setting (all of them the controller); the Connect token only in the environment."""
    connect = {"postgres_credentials_source": "onepassword_connect", "onepassword_connect_host": fake_connect.url}
    cases = {
        "sdk_without_token": (
            {"postgres_credentials_source": "onepassword_sdk"},
            [
                "postgres_credentials_source is onepassword_sdk, but the 1Password service account token is not set",
                "onepassword_service_account_token",
                "OP_SERVICE_ACCOUNT_TOKEN",
            ],
        ),
        "connect_without_host": (
            {"postgres_credentials_source": "onepassword_connect"},
            ["the URL of the 1Password Connect server is not set", "onepassword_connect_host", "OP_CONNECT_HOST"],
        ),
        "wrong_owner": (
            {**connect, "postgres_onepassword_item": "wrong-owner"},
            ["Item wrong-owner in vault Secrets does not hold the credentials of the database owner postgres_owner"],
        ),
        "no_password_field": (
            {**connect, "postgres_onepassword_item": "no-password"},
            [
                "postgres_onepassword_item",
                "field 'password' not found in item 'no-password'",
                "its fields are: 'username'",
            ],
        ),
        "no_such_vault": (
            {**connect, "postgres_onepassword_vault": "Nope"},
            ["postgres_onepassword_vault", "vault 'Nope' not found"],
        ),
        "operator_with_other_fields": (
            {"postgres_credentials_source": "onepassword_operator", "postgres_onepassword_password_field": "secret"},
            ["postgres_onepassword_password_field are", "the 1Password operator names each key of the Secret"],
        ),
        "slash_in_item": (
            {**connect, "postgres_onepassword_item": "mlflow/secrets"},
            ['postgres_onepassword_item is "mlflow/secrets"', "give the item's ID"],
        ),
    }
    hosts = {
        name: {"mlflow_namespace": unique("pg-1p-bad"), **host_vars} for name, (host_vars, _expected) in cases.items()
    }
    # Another source where the operator owns the Secret (the operator deployment's namespace).
    hosts["variables_over_operator"] = {
        "mlflow_namespace": deployments["hosts"]["operator"]["mlflow_namespace"],
        "postgres_password": "not-the-password",
    }
    cases["variables_over_operator"] = ({}, ["has a OnePasswordItem mlflow-secrets, so the 1Password operator owns"])
    inventory = write_inventory(tmp_path_factory.mktemp("postgres-1password-bad") / "hosts.yml", testcluster, hosts)
    mark = testcluster.audit.mark()
    result = run_playbook(repo_root, inventory, "--forks", "10", env={"OP_CONNECT_TOKEN": CONNECT_TOKEN})
    namespaces = {host["mlflow_namespace"] for host in hosts.values()}
    writes = [r for r in testcluster.audit.writes(mark, user=ADMIN) if r.namespace in namespaces]
    return {"cases": cases, "result": result, "writes": writes}


def wrong_cases(bad_settings, names) -> dict:
    result = bad_settings["result"]
    counters, messages = recap(result.stdout), failure_messages(result.stdout)
    return {
        host: messages.get(host)
        for host, (_host_vars, expected) in bad_settings["cases"].items()
        if host in names
        and (counters[host]["failed"] != 1 or not any(all(e in m for e in expected) for m in messages.get(host, [])))
    }


def test_onepassword_sdk_source_without_a_token_fails_in_preflight(bad_settings):
    assert bad_settings["result"].returncode != 0
    assert wrong_cases(bad_settings, {"sdk_without_token"}) == {}, bad_settings["result"].stdout[-8000:]


def test_bad_onepassword_settings_fail_before_any_write_and_name_the_variable(bad_settings):
    assert wrong_cases(bad_settings, set(bad_settings["cases"])) == {}, bad_settings["result"].stdout[-8000:]
    assert bad_settings["writes"] == []
    assert leaks(bad_settings["result"]) == []
