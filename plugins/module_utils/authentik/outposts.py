# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The operation of the `authentik_outpost_provider` module: a proxy provider added to an existing outpost."""

from __future__ import annotations

import time

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_yaml import dump_blueprint_yaml
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.summaries import (
    outpost_summary,
    provider_summary,
)


def _outpost_diff(outpost, names):
    return dump_blueprint_yaml({"outpost": outpost.name, "providers": names})


def ensure_outpost_provider(
    client, outpost, provider, check_mode=False, wait_timeout=0.0, interval=5.0, clock=time.monotonic, sleep=time.sleep
):
    """Make the outpost called `outpost` serve the proxy provider called `provider`.

    Only adds: the providers the outpost serves already stay (a shared outpost serves other
    applications). Changed only when the provider was (or, in check mode, would be) added. In
    check mode a provider that does not exist yet (its blueprint not applied) counts as added.
    A provider that is not there yet is looked for again for up to `wait_timeout` seconds: a
    blueprint that Authentik's sidecar applies (the configmap delivery) creates it in its own time.
    """
    current = client.require_outpost(outpost)
    found = client.find_proxy_provider(provider)
    deadline = clock() + (0 if check_mode else wait_timeout)
    while found is None and clock() < deadline:
        sleep(min(interval, max(0.0, deadline - clock())))
        found = client.find_proxy_provider(provider)
    before = [item.name for item in current.providers_obj or []]
    result = {"changed": False, "outpost": outpost_summary(current), "provider": provider_summary(found)}
    if found is None:
        if not check_mode:
            raise AuthentikError(
                f"Authentik at {client.host} has no proxy provider named {provider!r} to add to outpost "
                f"{current.name!r}: apply the blueprint that creates it first"
            )
        result["changed"] = True
        after = [*before, provider]
    else:
        result["changed"], updated = client.add_outpost_provider(current.name, found["pk"], check_mode=check_mode)
        after = before if not result["changed"] else [*before, found["name"]]
        result["outpost"] = outpost_summary(updated)
        if result["changed"] and check_mode:
            result["outpost"]["provider_names"] = after
    result["diff"] = {
        "before_header": f"Authentik outpost {current.name}",
        "after_header": f"Authentik outpost {current.name}",
        "before": _outpost_diff(current, before),
        "after": _outpost_diff(current, after),
    }
    return result
