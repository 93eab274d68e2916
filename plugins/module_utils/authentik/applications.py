# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The read-only view of an application: it, its proxy provider and the outposts serving it (`application_info`)."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_state import blueprint_summary
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.summaries import (
    application_summary,
    outpost_summary,
    provider_summary,
)


def application_info(client, slug, outpost=None, blueprint=None):
    """What Authentik has for the application `slug`: it, its proxy provider, the outposts that serve
    the provider; with `outpost`, that outpost; with `blueprint`, that blueprint instance. Reads only."""
    application = client.find_application(slug)
    provider = None
    if application is not None and application.get("provider") is not None:
        provider = client.get_proxy_provider(application["provider"])
    serving = client.outposts_of_provider(provider["pk"]) if provider is not None else []
    result = {
        "exists": application is not None,
        "application": application_summary(application),
        "provider": provider_summary(provider),
        "outposts": [outpost_summary(item) for item in serving],
        "outpost": {},
        "blueprint": {},
    }
    if outpost:
        result["outpost"] = outpost_summary(client.find_outpost(outpost))
    if blueprint:
        result["blueprint"] = blueprint_summary(client.find_blueprint(blueprint))
    return result
