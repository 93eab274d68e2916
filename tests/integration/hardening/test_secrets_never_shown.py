"""Secrets never show: every playbook, at -vvv, with distinctive secret values from every source
that works here, and none of them (plain or base64) anywhere a person or a log could read them.

Three deployment targets in one inventory, each with the database password from another source:
an inventory variable (postgres_password), a file on the controller (postgres_password_file), and
a 1Password Connect server (the fake of tools/standins/onepassword_connect, serving a password of this
test's own). playbooks/site.yml (with --diff), playbooks/verify.yml and a drift detect run through
bin/homelab-mlflow-drift run at -vvv; their output, the drift report, and every file left in the
runs' temporary directories are searched for each secret and the Connect token.
"""

from __future__ import annotations

import base64
import copy
import sys
import uuid
from pathlib import Path

import pytest
from ansible_runs import VENV_BIN, ansible_env, run_captured, site_settings, write_inventory
from kube_namespaces import delete_namespaces
from kubernetes import client
from onepassword_connect.server import FakeConnectServer, load_data
from testcluster import FAKE_CONNECT_DATA

REPO = Path(__file__).resolve().parents[3]


RUN = uuid.uuid4().hex[:8]
# Letters, digits and '-' only: the same in a URL (MLflow's backend store URI) as in plain text.
SECRETS = {
    "variables": f"Zq7-vars-{RUN}-secret-Xk2",
    "file": f"Wv4-file-{RUN}-secret-Jm8",
    "connect": f"Hp3-connect-{RUN}-secret-Rt6",
}


def connect_data() -> tuple[dict, str]:
    """The fake Connect server's data with the credentials item's password made this test's own, and its token."""
    data = copy.deepcopy(load_data(FAKE_CONNECT_DATA))
    for vault in data["vaults"]:
        for item in vault["items"]:
            if vault["name"] == "Secrets" and item["title"] == "mlflow-secrets":
                for field in item["fields"]:
                    if field["label"] == "password":
                        field["value"] = SECRETS["connect"]
    return data, data["tokens"][0]["token"]


def base64_forms(secret: str) -> list[str]:
    """The secret in base64 at each of the three byte offsets it can have inside a longer value
    (such as a URI that holds it): the characters that depend on the secret's bytes alone."""
    forms = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret.encode()).decode()
        start = -(-offset * 8 // 6)
        forms.append(encoded[start : start + len(secret) * 8 // 6 - 2])
    return forms


def forms(secret: str) -> list[str]:
    return [secret, *base64_forms(secret)]


@pytest.fixture(scope="module")
def runs(testcluster, k8s, tmp_path_factory):
    work = tmp_path_factory.mktemp("secrets")
    password_file = work / "postgres_password"
    password_file.write_text(SECRETS["file"] + "\n")
    password_file.chmod(0o600)
    data, token = connect_data()
    hosts = {
        "variables": {"mlflow_namespace": f"sec-vars-{RUN}", "postgres_password": SECRETS["variables"]},
        "file": {"mlflow_namespace": f"sec-file-{RUN}", "postgres_password_file": str(password_file)},
        "connect": {"mlflow_namespace": f"sec-connect-{RUN}", "postgres_credentials_source": "onepassword_connect"},
    }
    inventory = write_inventory(work / "inventory.yml", testcluster, hosts, **site_settings(testcluster))
    temp = {name: work / name for name in ("local-tmp", "remote-tmp", "drift-report")}
    for directory in temp.values():
        directory.mkdir()
    outputs = {}
    with FakeConnectServer(data) as server:
        env = ansible_env(
            REPO,
            drop_prefixes=("OP_",),
            ANSIBLE_LOCAL_TEMP=str(temp["local-tmp"]),
            ANSIBLE_REMOTE_TEMP=str(temp["remote-tmp"]),
            OP_CONNECT_HOST=server.url,
            OP_CONNECT_TOKEN=token,
        )
        commands = {
            "site": [str(VENV_BIN / "ansible-playbook"), "playbooks/site.yml", "--diff"],
            "verify": [str(VENV_BIN / "ansible-playbook"), "playbooks/verify.yml"],
            "drift": [sys.executable, "bin/homelab-mlflow-drift", "detect", "--report-dir", str(temp["drift-report"])],
        }
        try:
            for name, command in commands.items():
                outputs[name] = run_captured([*command, "-i", str(inventory), "-vvv"], REPO, env, timeout=1800)
                (work / f"{name}.out").write_text(outputs[name].stdout + outputs[name].stderr)
            server.check()
            yield {"outputs": outputs, "temp": temp, "token": token, "hosts": hosts}
        finally:
            delete_namespaces(k8s, (host["mlflow_namespace"] for host in hosts.values()))


def test_every_run_worked_and_each_source_reached_its_secret(runs, k8s):
    """A run that failed early would prove little: every playbook ran through."""
    outputs = runs["outputs"]
    for name in ("site", "verify", "drift"):
        assert outputs[name].returncode == 0, f"{name}: {outputs[name].stdout[-4000:]}"
    assert {path.name for path in runs["temp"]["drift-report"].iterdir()} >= {"drift-report.json", "drift-report.md"}
    for source, host in runs["hosts"].items():
        secret = client.CoreV1Api(k8s).read_namespaced_secret("mlflow-secrets", host["mlflow_namespace"])
        assert base64.b64decode(secret.data["password"]).decode() == SECRETS[source]


def test_secrets_never_shown(runs):
    texts = {
        f"{name} {stream}": getattr(result, stream)
        for name, result in runs["outputs"].items()
        for stream in ("stdout", "stderr")
    }
    for directory in runs["temp"].values():
        for path in directory.rglob("*"):
            if path.is_file():
                texts[str(path)] = path.read_text(errors="replace")
    leaks = [
        f"{source} secret in {where}"
        for source, secret in [*SECRETS.items(), ("connect token", runs["token"])]
        for form in forms(secret)
        for where, text in texts.items()
        if form in text
    ]

    assert texts["site stdout"]  # something to search
    assert leaks == []
