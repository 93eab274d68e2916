# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Authentik API client that homelab.mlflow's modules and plugins share, a module a job.

sdk: authentik-client, imported once and fast (`HAS_AUTHENTIK_CLIENT`, `load_read_apis`).
options: the connection options every Authentik module takes (`AUTHENTIK_COMMON_ARGS`).
errors: `AuthentikError`, and what Authentik's error answers say went wrong.
transport: one connection, every call retried (plugins/module_utils/retry.py) and explained.
blueprint_endpoints, outpost_endpoints: the API endpoints the collection uses.
client: `AuthentikClient` (transport and endpoints), `client_from_params`.
blueprint_yaml: YAML with Authentik's blueprint tags (`!KeyOf`, `!Find`, ...), for any loader.
blueprint_content: a blueprint parsed, normalized and hashed as Authentik hashes it.
blueprint_state, summaries: what the modules return of an instance, outpost, provider, application.
blueprints, outposts, applications: the operations of the modules (present/absent, add a provider, read).
"""

from __future__ import annotations

# Kept importable from the package itself: callers that only catch the error need no other module.
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError

__all__ = ["AuthentikError"]
