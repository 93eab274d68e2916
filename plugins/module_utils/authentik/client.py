# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Authentik API client that homelab.mlflow's modules and plugins share.

It wraps authentik-client (the generated Python client of Authentik's API) with what every
caller needs: the connection and its retries (transport.py), and the endpoints the collection
uses (blueprint_endpoints.py, outpost_endpoints.py). `client_from_params` makes one from a
module's connection options (options.py).
"""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik import sdk
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_endpoints import BlueprintEndpoints
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.options import AUTHENTIK_COMMON_ARGS
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.outpost_endpoints import OutpostEndpoints
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.transport import AuthentikTransport


class AuthentikClient(AuthentikTransport, BlueprintEndpoints, OutpostEndpoints):
    """One Authentik API connection, with retries and readable errors around every call."""

    def __init__(self, host, token, **options):
        super().__init__(host, token, **options)
        self.managed = sdk.ManagedApi(self._api_client)
        self.tasks = sdk.TasksApi(self._api_client)
        # The other APIs load on first use (OutpostEndpoints._lazy_api).
        self._apis = {}


def client_from_params(params):
    """An AuthentikClient from a module's AUTHENTIK_COMMON_ARGS options."""
    return AuthentikClient(**{name: params[name] for name in AUTHENTIK_COMMON_ARGS})
