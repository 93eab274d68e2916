# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which names a deployment's SSO objects have in Authentik, and whose they are.

Two deployments behind one Authentik must never share a blueprint, provider, application or
outpost: the second would rewrite the first's external host and break its login. Names not given
are derived from the deployment's external host, which is unique to it. A deployment made when
every name defaulted to `mlflow` keeps those names (its blueprint shows it: the provider answers
on the same external URL), so an upgrade neither duplicates nor orphans anything. An object that
another deployment's blueprint manages is a conflict, reported with the variable to set.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprint_content import load_blueprint_content
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError

# The names every deployment had before names were derived from the external host.
LEGACY_NAMES = {
    "blueprint": "mlflow",
    "provider": "mlflow",
    "application_slug": "mlflow",
    "outpost": "mlflow",
    "configmap": "mlflow-authentik-blueprint",
}
# The variable that sets each name.
VARIABLES = {
    "blueprint": "authentik_blueprint_name",
    "provider": "authentik_provider_name",
    "application_slug": "authentik_application_slug",
    "outpost": "authentik_dedicated_outpost_name",
    "configmap": "authentik_blueprint_configmap_name",
}
# Authentik's slugs are at most 50 characters; the ConfigMap name adds a suffix to the same base.
MAX_SLUG = 50
CONFIGMAP_SUFFIX = "-blueprint"

PROVIDER_MODEL = "authentik_providers_proxy.proxyprovider"
APPLICATION_MODEL = "authentik_core.application"
OUTPOST_MODEL = "authentik_outposts.outpost"
# What identifies each of our objects in a blueprint entry: (model, identifier field, name key).
IDENTITIES = (
    (PROVIDER_MODEL, "name", "provider"),
    (APPLICATION_MODEL, "slug", "application_slug"),
    (OUTPOST_MODEL, "name", "outpost"),
)
WHAT = {"provider": "proxy provider", "application_slug": "application", "outpost": "outpost"}
# The blueprint's metadata label that names the deployment which wrote it.
OWNER_LABEL = "homelab.mlflow/deployment"


def derived_base(external_host):
    """`mlflow-` and the external host as a slug, at most 50 characters (a hash keeps long ones apart)."""
    slug = re.sub(r"[^a-z0-9]+", "-", external_host.lower()).strip("-")
    base = f"mlflow-{slug}"
    if len(base) > MAX_SLUG:
        digest = hashlib.sha256(external_host.encode("utf-8")).hexdigest()[:8]
        base = f"{base[: MAX_SLUG - 9].rstrip('-')}-{digest}"
    return base


def derived_names(external_host):
    base = derived_base(external_host)
    names = dict.fromkeys(("blueprint", "provider", "application_slug", "outpost"), base)
    names["configmap"] = base + CONFIGMAP_SUFFIX
    return names


def blueprint_identities(content):
    """What a blueprint declares: {name key: identifier} of its SSO objects, the provider's external
    host and the deployment that wrote it (its OWNER_LABEL; None for blueprints written before it)."""
    try:
        data = load_blueprint_content(content)
    except AuthentikError:
        return {}, None, None
    labels = (data.get("metadata") or {}).get("labels") or {}
    found, external_host = {}, None
    for entry in data.get("entries") or []:
        if not isinstance(entry, dict):
            continue
        identifiers = entry.get("identifiers") or {}
        for model, field, key in IDENTITIES:
            if entry.get("model") == model and isinstance(identifiers.get(field), str):
                found[key] = identifiers[field]
                if model == PROVIDER_MODEL:
                    external_host = (entry.get("attrs") or {}).get("external_host")
    return found, external_host, labels.get(OWNER_LABEL)


def _same_url(one, other):
    return isinstance(one, str) and isinstance(other, str) and one.rstrip("/") == other.rstrip("/")


def is_ours(url, owner_label, external_url, owner):
    """A blueprint is this deployment's when it carries its owner label; one from before the label
    existed, when its provider answers on this deployment's external URL."""
    if owner_label is not None:
        return owner_label == owner
    return _same_url(url, external_url)


def resolve_names(given, external_host, owner, blueprints, dedicated_outpost=True):
    """The names to use and the conflicts with other deployments' blueprints.

    given: {name key: the variable's value, empty to derive}; owner: this deployment's identity
    (OWNER_LABEL); blueprints: [{"name", "content"}] of every blueprint instance Authentik has.
    Returns (names, adopted, conflicts): `adopted` says the names are this deployment's former
    defaults, kept.
    """
    external_url = f"https://{external_host}"
    names = {key: value for key, value in given.items() if value}
    adopted = False
    unset = [key for key in LEGACY_NAMES if key not in names]
    if unset:
        fallback = derived_names(external_host)
        legacy = next((b for b in blueprints if b.get("name") == LEGACY_NAMES["blueprint"]), None)
        if legacy is not None and "blueprint" in unset:
            identities, url, owner_label = blueprint_identities(legacy.get("content"))
            if is_ours(url, owner_label, external_url, owner):
                # This deployment's own blueprint from before: keep every name it used.
                adopted = True
                fallback = {**LEGACY_NAMES, **identities}
        for key in unset:
            names[key] = fallback[key]
    return names, adopted, conflicts_with_others(names, external_url, owner, blueprints, dedicated_outpost)


def conflicts_with_others(names, external_url, owner, blueprints, dedicated_outpost=True):
    """One message per object that another deployment's blueprint manages."""
    conflicts = []
    for blueprint in blueprints:
        identities, url, owner_label = blueprint_identities(blueprint.get("content"))
        if not identities:
            continue  # not an SSO blueprint of this collection's kind
        ours = is_ours(url, owner_label, external_url, owner)
        whose = owner_label or (f"the deployment of MLflow at {url}" if url else "another deployment")
        owner_text = f"blueprint {blueprint.get('name')!r} of {whose}"
        if blueprint.get("name") == names["blueprint"]:
            if not ours:
                conflicts.append(
                    f"the name {names['blueprint']!r} is taken by the {owner_text}: set {VARIABLES['blueprint']} "
                    "to a name of its own"
                )
            continue
        if ours:
            continue
        for key, identifier in identities.items():
            if key == "outpost" and not dedicated_outpost:
                continue
            if identifier == names[key]:
                conflicts.append(
                    f"the {WHAT[key]} {identifier!r} is managed by the {owner_text}: set {VARIABLES[key]} "
                    "to a name of its own"
                )
    return conflicts
