"""Behaviour of roles/cluster_preflight, mostly through `ansible-playbook site.yml`, without a cluster.

Each failure must come from the preflight, before any other task, and name the variable that
fixes it. The answering case uses a small HTTP stand-in for the API server's discovery
endpoints, which is all the preflight asks of a cluster.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml
from local_http import QuietHandler, serving

PREFLIGHT_TASK = "TASK [homelab.mlflow.cluster_preflight : "
# Every check against the cluster is this one task.
CONNECT_TASK = "Connect to the API server and read its version and APIs]"
# A credential that must never reach the output, at any verbosity.
TOKEN = secrets.token_hex(16)

# What a server without aggregated discovery answers: version, core API and API groups.
DISCOVERY = {
    "/version": {"major": "1", "minor": "36", "gitVersion": "v1.36.3", "platform": "linux/amd64"},
    "/api": {"kind": "APIVersions", "versions": ["v1"]},
    "/api/v1": {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {
                "name": "namespaces",
                "singularName": "namespace",
                "namespaced": False,
                "kind": "Namespace",
                "verbs": ["get"],
            }
        ],
    },
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
}


def write_kubeconfig(path: Path, server: str, *, contexts: tuple[str, ...] = ("test",), current: str | None = "test"):
    """A kubeconfig whose contexts all lead to `server`, authenticated by TOKEN."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test-cluster", "cluster": {"server": server}}],
        "users": [{"name": "test-user", "user": {"token": TOKEN}}],
        "contexts": [{"name": name, "context": {"cluster": "test-cluster", "user": "test-user"}} for name in contexts],
    }
    if current is not None:
        config["current-context"] = current
    path.write_text(yaml.safe_dump(config))
    return path


def failed_task(stdout: str) -> str:
    """The task the run failed in: the header before the last `fatal:` (rescued ones come earlier)."""
    head = stdout[: stdout.rindex("fatal: [")]
    return head[head.rindex("TASK [") :].splitlines()[0].rstrip(" *")


def connect_failure(result) -> str:
    """The output, folded into one line, of a run that must have failed in preflight's connection check."""
    assert result.returncode != 0
    assert failed_task(result.stdout) == PREFLIGHT_TASK + CONNECT_TASK
    return one_line(result.stdout)


def one_line(stdout: str) -> str:
    """The output with line breaks folded, so messages wrapped by the yaml result format match."""
    return " ".join(stdout.split())


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nothing else takes it), never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def api_server() -> Iterator[Callable[[int], str]]:
    """Start a stand-in API server that answers every request with `status`; returns its URL."""
    with ExitStack() as servers:

        def start(status: int = 200) -> str:
            class Handler(QuietHandler):
                def do_GET(self) -> None:
                    document = DISCOVERY.get(self.path.split("?")[0])
                    code = status if document else 404
                    if code != 200:
                        document = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code}
                    self.answer_json(code, document)

            return servers.enter_context(serving(Handler))

        yield start


def test_local_inventory_points_at_the_test_clusters_kubeconfig(run_ansible, repo_root):
    result = run_ansible("ansible", "local", "-m", "ansible.builtin.debug", "-a", "var=mlflow_kubeconfig")

    assert result.returncode == 0, result.stdout
    assert f"mlflow_kubeconfig: {repo_root / '.testcluster' / 'kubeconfig'}" in result.stdout


def test_missing_kubeconfig_fails_in_preflight_naming_variable_and_remedy(run_ansible, tmp_path):
    state_dir = tmp_path / "testcluster"  # the local inventory's kubeconfig, never written

    result = run_ansible("ansible-playbook", "site.yml", env={"HOMELAB_TESTCLUSTER_DIR": str(state_dir)})

    message = connect_failure(result)
    assert f"mlflow_kubeconfig is {state_dir / 'kubeconfig'}, which does not exist" in message
    assert "`make cluster-up`" in message
    assert "inventories/example" in message


def test_closed_api_port_fails_in_preflight_naming_server(run_ansible, tmp_path, closed_port):
    server = f"https://127.0.0.1:{closed_port}"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server)

    result = run_ansible(
        "ansible-playbook",
        "site.yml",
        "-e",
        f"mlflow_kubeconfig={kubeconfig}",
        "-e",
        "cluster_preflight_connect_timeout=1",
    )

    message = connect_failure(result)
    assert f"The Kubernetes API server {server} (context test of mlflow_kubeconfig {kubeconfig})" in message
    assert f"accepted no connection on 127.0.0.1:{closed_port} within 1 s" in message
    assert "`make cluster-status`" in message


def test_unknown_context_fails_listing_the_kubeconfigs_contexts(run_ansible, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:6443", contexts=("blue", "green"))

    result = run_ansible(
        "ansible-playbook", "site.yml", "-e", f"mlflow_kubeconfig={kubeconfig}", "-e", "mlflow_kube_context=red"
    )

    message = connect_failure(result)
    assert f'mlflow_kube_context is "red", but {kubeconfig} (mlflow_kubeconfig) has no such context' in message
    assert "set mlflow_kube_context to one of blue, green" in message


def test_kubeconfig_without_current_context_asks_for_mlflow_kube_context(run_ansible, tmp_path):
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:6443", current=None)

    result = run_ansible("ansible-playbook", "site.yml", "-e", f"mlflow_kubeconfig={kubeconfig}")

    message = connect_failure(result)
    assert "mlflow_kube_context is not set (host local): set mlflow_kube_context to one of test" in message


def test_invalid_namespace_fails_before_the_cluster_is_contacted(run_ansible, tmp_path):
    result = run_ansible("ansible-playbook", "site.yml", "-e", "mlflow_namespace=ML_flow")

    assert result.returncode != 0
    assert failed_task(result.stdout) == "TASK [Check the values of every role]"
    assert 'mlflow_namespace is "ML_flow", which is not a valid namespace name' in one_line(result.stdout)
    assert "Look for the kubeconfig file" not in result.output


def test_unset_kubeconfig_without_client_defaults_names_mlflow_kubeconfig(run_ansible, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "bare": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                            # Good values, so that the run gets as far as the cluster.
                            "postgres_password": "unused",
                            "mlflow_external_host": "mlflow.example.com",
                            "authentik_host": "https://authentik.example.com",
                            "authentik_token": "unused",
                            "mlflow_httproute_enabled": False,
                        }
                    }
                }
            }
        )
    )
    # No kubeconfig anywhere the Kubernetes client looks by default.
    env = {"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "absent")}

    result = run_ansible("ansible-playbook", "site.yml", "-i", str(inventory), env=env)

    message = connect_failure(result)
    assert "mlflow_kubeconfig is not set for host bare" in message
    assert "Set mlflow_kubeconfig (and mlflow_kube_context) in the inventory" in message


def test_rejecting_api_server_fails_naming_server_and_credentials(run_ansible, tmp_path, api_server):
    server = api_server(401)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server)

    result = run_ansible("ansible-playbook", "site.yml", "-e", f"mlflow_kubeconfig={kubeconfig}")

    message = connect_failure(result)
    assert f"The Kubernetes API server {server} (context test of mlflow_kubeconfig {kubeconfig})" in message
    assert "did not answer (host local): " in message
    assert "Unauthorized" in message
    assert "credentials and CA certificate" in message


def test_answering_api_server_passes_and_reports_target_without_leaking_credentials(run_ansible, tmp_path, api_server):
    server = api_server()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server)
    # The role alone: site.yml goes on to write to the cluster, which the stand-in does not serve.
    playbook = tmp_path / "preflight.yml"
    play = {"name": "Preflight", "hosts": "all", "gather_facts": False, "roles": ["homelab.mlflow.cluster_preflight"]}
    playbook.write_text(yaml.safe_dump([play]))

    result = run_ansible(
        "ansible-playbook",
        str(playbook),
        "-vvv",
        "-e",
        f"mlflow_kubeconfig={kubeconfig}",
        "-e",
        "mlflow_namespace=ml-team",
    )

    assert result.returncode == 0, result.stdout
    assert f"Kubernetes v1.36.3 at {server} answers; target namespace ml-team." in one_line(result.stdout)
    assert TOKEN not in result.output


def test_preflight_runs_whatever_tags_are_selected(run_ansible, tmp_path):
    state_dir = tmp_path / "testcluster"

    result = run_ansible(
        "ansible-playbook", "site.yml", "--tags", "some-role", env={"HOMELAB_TESTCLUSTER_DIR": str(state_dir)}
    )

    connect_failure(result)
