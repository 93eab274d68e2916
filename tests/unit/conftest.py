"""The collection's plugins importable under their collection names (ansible_collections.homelab.mlflow.plugins)
for the unit tests, straight from the checkout: its .collections is not put on sys.path, which would reorder the
ansible_collections namespace for every other test of the session."""

from __future__ import annotations

import sys
import types
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
PACKAGE = "ansible_collections.homelab.mlflow.plugins"

if PACKAGE not in sys.modules:
    # A namespace package: its folders (module_utils, action, filter, ...) are found below it on import.
    _plugins = types.ModuleType(PACKAGE)
    _plugins.__path__ = [str(PLUGINS)]
    sys.modules[PACKAGE] = _plugins
