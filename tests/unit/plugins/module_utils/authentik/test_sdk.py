"""plugins/module_utils/authentik/sdk.py: authentik-client imported lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[5] / "plugins"


def test_authentik_client_loads_lazily_what_is_used():
    # A fresh interpreter: importing the client must not build all of authentik-client's APIs.
    probe = (
        "import sys, types\n"
        # The collection's plugins importable under their collection name, as tests/unit/conftest.py does.
        "plugins = types.ModuleType('ansible_collections.homelab.mlflow.plugins')\n"
        f"plugins.__path__ = [{str(PLUGINS)!r}]\n"
        "sys.modules[plugins.__name__] = plugins\n"
        "from ansible_collections.homelab.mlflow.plugins.module_utils.authentik import client as m\n"
        "import authentik_client\n"
        "print(m.sdk.HAS_AUTHENTIK_CLIENT, 'authentik_client.api.core_api' in sys.modules)\n"
        "print(authentik_client.CoreApi.__name__, authentik_client.models.BlueprintInstance.__name__)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120)

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["True False", "CoreApi BlueprintInstance"]
