"""The extra command-line arguments each stand-in is started with, beyond `--kubeconfig`.

The Longhorn stand-in keeps its volumes as directories under `<state>/volumes`. Given a node IP (a
node whose kubelet runs pods for real), the CloudNativePG stand-in runs real PostgreSQL servers for
every Cluster, listening on that IP, their data under `<state>/postgres`; without one it runs none.
HOMELAB_TESTCLUSTER_POSTGRES_LISTEN=<IP> asks for the servers without a real node (127.0.0.1 for
tests that connect from the host).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

POSTGRES_LISTEN_ENV = "HOMELAB_TESTCLUSTER_POSTGRES_LISTEN"


class HasState(Protocol):
    state: Path


def standin_args(layout: HasState, script_stem: str, node_ip: str | None) -> list[str]:
    if script_stem == "longhorn_provisioner":
        return [f"--volumes-dir={layout.state / 'volumes'}"]
    listen = node_ip or os.environ.get(POSTGRES_LISTEN_ENV)
    if script_stem == "cnpg_operator" and listen:
        return [f"--postgres-listen={listen}", f"--postgres-dir={layout.state / 'postgres'}"]
    return []
