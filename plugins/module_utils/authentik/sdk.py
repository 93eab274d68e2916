# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""authentik-client, imported once and fast: the classes the rest of this package uses.

`HAS_AUTHENTIK_CLIENT` says whether the package is installed (`AUTHENTIK_CLIENT_IMPORT_ERROR`
why not); modules and actions check it before they build a client.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import traceback


def _import_lazily(name, subpackages=("api", "models")):
    """Import the installed package `name` without running the __init__.py of it and its subpackages.

    authentik-client's __init__ files import every API class and all ~900 models, and pydantic
    builds validators for each at import time: 15 s and more on every module run. Registered
    here instead, the package and its `api` and `models` subpackages load a name on first access
    (PEP 562 module __getattr__), found in the `from ... import ...` lines of their __init__.py.
    A layout this does not understand gets the plain import. ImportError when not installed.
    """
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ImportError(f"No module named {name!r}")
    packages = (name, *(f"{name}.{child}" for child in subpackages))
    try:
        modules = [
            _lazy_module(package, os.path.join(spec.submodule_search_locations[0], *package.split(".")[1:]))
            for package in packages
        ]
    except (OSError, TypeError, ValueError):
        importlib.import_module(name)
        return
    for module in modules:
        sys.modules[module.__name__] = module
        if "." in module.__name__:
            parent, child = module.__name__.rsplit(".", 1)
            setattr(sys.modules[parent], child, module)


def _lazy_module(package, directory):
    init = os.path.join(directory, "__init__.py")
    with open(init, encoding="utf-8") as source:
        text = source.read()
    exports = {
        (alias or attribute): (module, attribute)
        for module, attribute, alias in re.findall(
            r"^from ([\w.]+) import (\w+)(?: as (\w+))?[ \t]*$", text, flags=re.MULTILINE
        )
    }
    if not exports:
        raise ValueError(f"no imports to load lazily in {init}")
    spec = importlib.util.spec_from_file_location(package, init, submodule_search_locations=[directory])
    module = importlib.util.module_from_spec(spec)

    def __getattr__(attribute):
        if attribute not in exports:
            raise AttributeError(f"module {package!r} has no attribute {attribute!r}")
        source, original = exports[attribute]
        value = getattr(importlib.import_module(source), original)
        setattr(module, attribute, value)
        return value

    module.__getattr__ = __getattr__
    return module


try:
    _import_lazily("authentik_client")
    import urllib3
    from authentik_client.api.managed_api import ManagedApi
    from authentik_client.api.tasks_api import TasksApi
    from authentik_client.api_client import ApiClient
    from authentik_client.configuration import Configuration
    from authentik_client.exceptions import ApiException
    from authentik_client.models.blueprint_instance_request import BlueprintInstanceRequest

    HAS_AUTHENTIK_CLIENT = True
    AUTHENTIK_CLIENT_IMPORT_ERROR = None
except ImportError:
    HAS_AUTHENTIK_CLIENT = False
    AUTHENTIK_CLIENT_IMPORT_ERROR = traceback.format_exc()

# What the rest of the package uses, as sdk.<name> (defined only when HAS_AUTHENTIK_CLIENT).
__all__ = [
    "AUTHENTIK_CLIENT_IMPORT_ERROR",
    "HAS_AUTHENTIK_CLIENT",
    "ApiClient",
    "ApiException",
    "BlueprintInstanceRequest",
    "Configuration",
    "ManagedApi",
    "TasksApi",
    "load_read_apis",
    "urllib3",
]

# The APIs the read-only checks use beyond the blueprint's: loaded on first use by a module, which
# needs none of them; loaded at once by the action plugins (see load_read_apis).
READ_APIS = ("authentik_client.api.core_api", "authentik_client.api.providers_api", "authentik_client.api.outposts_api")


def load_read_apis():
    """Import the API classes of READ_APIS now.

    An action plugin calls this when it is loaded, which Ansible does once, in its main process,
    before it forks a worker per task and target: every worker then finds them imported. Imported
    in each worker instead, they would cost about a second of CPU per task and target (pydantic
    builds a validator for each of their methods).
    """
    if HAS_AUTHENTIK_CLIENT:
        for name in READ_APIS:
            importlib.import_module(name)
