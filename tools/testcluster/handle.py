"""A handle on one local test cluster, for the pytest fixture, molecule and the benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys

from audit import AuditLog
from testcluster import FAKE_AUTHENTIK_TOKEN, HERE, Layout, running


class TestCluster:
    __test__ = False  # not a pytest test class

    def __init__(self, layout: Layout | None = None, env: dict | None = None):
        self.env = {**os.environ, **(env or {})}
        self.layout = layout or Layout.from_env(self.env)
        self.audit = AuditLog(self.layout.audit_log)

    def private(self, state_dir, port_offset: int) -> TestCluster:
        """Another cluster beside this one: its own state directory and ports (port base + offset)."""
        return TestCluster(
            env={
                "HOMELAB_TESTCLUSTER_DIR": str(state_dir),
                "HOMELAB_TESTCLUSTER_PORT_BASE": str(self.layout.port_base + port_offset),
            }
        )

    kubeconfig = property(lambda self: self.layout.kubeconfig)
    server = property(lambda self: self.layout.server)
    state = property(lambda self: self.layout.state)
    kubectl_path = property(lambda self: self.layout.state / "bin" / "kubectl")

    def _cli(self, command: str) -> None:
        # A separate process, so the cluster's processes are not our children (no zombies when
        # they stop, and they outlive this interpreter when asked to).
        # Not our stdin either: a Go program among its children may leave a shared stdin non-blocking,
        # which every later ansible program of this process refuses.
        subprocess.run(
            [sys.executable, str(HERE / "testcluster.py"), command], stdin=subprocess.DEVNULL, env=self.env, check=True
        )

    def is_running(self) -> bool:
        return running(self.layout)

    def up(self) -> bool:
        """Start it unless running; True when this call started it.

        On a running cluster, `testcluster.py up` still starts the stand-ins and the fake servers
        (1Password Connect, Authentik) that do not run, such as one added since the cluster started.
        """
        if self.is_running():
            self._cli("up")
            return False
        self._cli("up")
        return True

    def record_starter(self, starter: str) -> None:
        """Note who started the cluster (a test run's id), so that the same one stops it."""
        (self.state / "started-by").write_text(starter)

    def started_by(self) -> str | None:
        path = self.state / "started-by"
        return path.read_text() if path.is_file() else None

    def authentik_settings(self) -> dict:
        """What inventories/local sets for the fake Authentik API this cluster runs, for inventories
        written by tests and benchmarks: its URL and token, a blueprint, provider, application and
        outpost named after the namespace (one Authentik serves every namespace here), the outpost's
        route as the way in, and no HTTP check (no outpost runs)."""
        per_namespace = "mlflow-{{ mlflow_namespace }}"
        return {
            "authentik_host": self.layout.authentik_url,
            "authentik_token": FAKE_AUTHENTIK_TOKEN,
            "authentik_blueprint_name": per_namespace,
            "authentik_provider_name": per_namespace,
            "authentik_application_slug": per_namespace,
            "authentik_dedicated_outpost_name": per_namespace,
            "mlflow_httproute_enabled": False,
            "authentik_verify_http": False,
        }

    def down(self) -> None:
        self._cli("down")

    def restart_apiserver(self) -> None:
        """Stop the API server and start it again (a fault): clients see refused connections meanwhile."""
        self._cli("restart-apiserver")

    def kubectl(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.kubectl_path), f"--kubeconfig={self.kubeconfig}", *args],
            **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}),
            capture_output=True,
            text=True,
            check=check,
        )

    def api_client(self):
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def pids(self) -> dict[str, int]:
        from procs import Processes

        return {name: pid for name, (pid, _executable) in Processes(self.state).recorded().items()}
