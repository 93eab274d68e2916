"""What the fake Authentik API does with the entries of a blueprint it applies: its object store.

Authentik's importer walks a blueprint's entries in order and, for each, finds the object its
`identifiers` name, then creates or updates it with its `attrs` (`state: present`), creates it only
when missing (`created`), refuses an existing one (`must_created`) or deletes it (`absent`). Tags
resolve as they go: `!KeyOf` to the primary key of an earlier entry with that `id`, `!Find` to the
primary key of the first object of a model whose fields match, `!Context` against the context,
`!Format` after its arguments. The whole blueprint is one transaction: when any entry fails,
nothing it did stays.

The fake models what homelab.mlflow's blueprints use: flows (seeded, found only), Kubernetes
service connections (found only), proxy providers, applications and outposts. Entries of other
models are accepted and not stored. Fields an entry leaves out keep their value, or get Authentik's
default on create; attributes that are lists replace the stored list, as in Authentik.
"""

from __future__ import annotations

import copy
import uuid

from authentik_blueprints import Tag

# Authentik's default flows (from its own blueprints), by slug: (designation, name, title).
DEFAULT_FLOWS = {
    "default-authentication-flow": ("authentication", "Welcome to authentik!", "Welcome to authentik!"),
    "default-invalidation-flow": ("invalidation", "Logout", "Default Invalidation Flow"),
    "default-provider-authorization-explicit-consent": (
        "authorization",
        "Authorize Application",
        "Redirecting to %(app)s",
    ),
    "default-provider-authorization-implicit-consent": (
        "authorization",
        "Authorize Application",
        "Redirecting to %(app)s",
    ),
    "default-provider-invalidation-flow": (
        "invalidation",
        "Logged out of application",
        "You've logged out of %(app)s.",
    ),
    "default-source-authentication": ("authentication", "Welcome to authentik!", "Welcome to authentik!"),
    "default-source-enrollment": ("enrollment", "Welcome to authentik! Please select a username.", "Welcome!"),
    "default-source-pre-authentication": ("stage_configuration", "Pre-Authentication", "Pre-Authentication"),
    "default-user-settings-flow": ("stage_configuration", "User settings", "Update your info"),
    "default-password-change": ("stage_configuration", "Change Password", "Change password"),
}

PROXY_PROVIDER = "authentik_providers_proxy.proxyprovider"
APPLICATION = "authentik_core.application"
OUTPOST = "authentik_outposts.outpost"
FLOW = "authentik_flows.flow"
SERVICE_CONNECTION = "authentik_outposts.kubernetesserviceconnection"
# Model -> the store's table; the primary key field of each is `pk`.
TABLES = {
    FLOW: "flows",
    SERVICE_CONNECTION: "service_connections",
    PROXY_PROVIDER: "providers",
    APPLICATION: "applications",
    OUTPOST: "outposts",
}
# Models a blueprint may find but not write through the fake.
FIND_ONLY = frozenset((FLOW, SERVICE_CONNECTION))


class EntryError(Exception):
    """An entry Authentik's importer would refuse; the message is worded like its log line."""


def seed_flows() -> dict[str, dict]:
    flows = {}
    for slug, (designation, name, title) in DEFAULT_FLOWS.items():
        pk = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://authentik.fake/flows/{slug}"))
        flows[pk] = {"pk": pk, "slug": slug, "name": name, "title": title, "designation": designation}
    return flows


def new_provider(pk: int, name: str, flows: dict[str, dict], **fields) -> dict:
    """A proxy provider with Authentik's defaults (the default flows found by slug)."""
    by_slug = {flow["slug"]: pk for pk, flow in flows.items()}
    provider = {
        "pk": pk,
        "name": name,
        "authentication_flow": None,
        "authorization_flow": by_slug.get("default-provider-authorization-implicit-consent"),
        "invalidation_flow": by_slug.get("default-provider-invalidation-flow"),
        "property_mappings": [],
        "internal_host": "",
        "external_host": "",
        "internal_host_ssl_validation": True,
        "certificate": None,
        "skip_path_regex": "",
        "basic_auth_enabled": False,
        "basic_auth_password_attribute": "",
        "basic_auth_user_attribute": "",
        "mode": "proxy",
        "intercept_header_auth": True,
        "cookie_domain": "",
        "jwt_federation_sources": [],
        "jwt_federation_providers": [],
        "access_token_validity": "hours=24",
        "refresh_token_validity": "days=30",
        "client_id": uuid.uuid4().hex,
    }
    provider.update(fields)
    return provider


def new_application(pk: str, slug: str, name: str, **fields) -> dict:
    application = {
        "pk": pk,
        "name": name,
        "slug": slug,
        "provider": None,
        "backchannel_providers": [],
        "open_in_new_tab": False,
        "meta_launch_url": "",
        "meta_icon": "",
        "meta_description": "",
        "meta_publisher": "",
        "policy_engine_mode": "any",
        "group": "",
        "meta_hide": False,
    }
    application.update(fields)
    return application


def new_outpost(pk: str, name: str, **fields) -> dict:
    outpost = {
        "pk": pk,
        "name": name,
        "type": "proxy",
        "providers": [],
        "service_connection": None,
        "config": {},
        "managed": None,
    }
    outpost.update(fields)
    return outpost


class Importer:
    """Applies one blueprint's entries to a copy of the store; `tables` holds the result."""

    def __init__(self, tables: dict[str, dict], context: dict):
        self.tables = copy.deepcopy(tables)
        self.context = context
        self.ids: dict[str, object] = {}

    def apply(self, entries: list) -> None:
        for index, entry in enumerate(entries):
            try:
                self._entry(entry)
            except EntryError as exc:
                model = entry.get("model") if isinstance(entry, dict) else None
                raise EntryError(f"Entry invalid: entries[{index}] ({model}) {exc}") from None

    # -- tags ------------------------------------------------------------------------------------

    def resolve(self, value):
        if isinstance(value, Tag):
            return self._tag(value)
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def _tag(self, tag: Tag):
        if tag.tag == "!KeyOf":
            if tag.value not in self.ids:
                raise EntryError(f"KeyOf: no entry with id {tag.value!r} before this one")
            return self.ids[tag.value]
        if tag.tag == "!Find":
            return self._find(self.resolve(tag.value))
        if tag.tag == "!Context":
            key, default = (tag.value, None) if not isinstance(tag.value, list) else [*tag.value, None][:2]
            return self.context.get(key, self.resolve(default))
        if tag.tag == "!Format":
            args = self.resolve(tag.value)
            return args[0] % tuple(args[1:])
        # Tags that read files or the environment: nothing the fake has.
        return None

    def _find(self, value):
        if not isinstance(value, list) or not value:
            raise EntryError(f"Find: expected [model, [field, value], ...], got {value!r}")
        model, *queries = value
        table = self.tables.get(TABLES.get(model, ""), {})
        for candidate in table.values():
            if all(isinstance(q, list) and len(q) == 2 and candidate.get(q[0]) == q[1] for q in queries):
                return candidate["pk"]
        return None

    # -- entries ---------------------------------------------------------------------------------

    def _entry(self, entry) -> None:
        if not isinstance(entry, dict):
            raise EntryError("an entry must be a mapping")
        model = entry.get("model")
        state = entry.get("state", "present")
        if model not in TABLES:
            # Not modelled by the fake: accepted as Authentik would, not stored.
            if "id" in entry:
                self.ids[entry["id"]] = None
            return
        if model in FIND_ONLY:
            raise EntryError(f"the fake Authentik API does not write {model} objects")
        identifiers = self.resolve(entry.get("identifiers") or {})
        attrs = self.resolve(entry.get("attrs") or {})
        if not identifiers:
            raise EntryError("identifiers: at least one identifier is required")
        table = self.tables[TABLES[model]]
        existing = next(
            (obj for obj in table.values() if all(obj.get(key) == value for key, value in identifiers.items())), None
        )
        if state == "absent":
            if existing is not None:
                self._delete(model, existing)
            return
        if existing is not None and state == "must_created":
            raise EntryError(f"state must_created: an object with {identifiers} already exists")
        if existing is not None and state == "created":
            obj = existing
        else:
            fields = {**identifiers, **attrs}
            obj = self._save(model, existing, fields)
        if "id" in entry:
            self.ids[entry["id"]] = obj["pk"]

    def _save(self, model: str, existing: dict | None, fields: dict) -> dict:
        table = self.tables[TABLES[model]]
        if model == PROXY_PROVIDER:
            if existing is None:
                name = fields.get("name")
                if not name:
                    raise EntryError("name: This field is required.")
                existing = new_provider(max(table, default=0) + 1, name, self.tables["flows"])
            self._check_flows(fields)
            if fields.get("mode", existing["mode"]) not in ("proxy", "forward_single", "forward_domain"):
                raise EntryError(f"mode: {fields['mode']!r} is not a valid choice.")
        elif model == APPLICATION:
            if existing is None:
                if not fields.get("slug") or not fields.get("name"):
                    raise EntryError("name, slug: This field is required.")
                existing = new_application(str(uuid.uuid4()), fields["slug"], fields["name"])
            provider = fields.get("provider", existing["provider"])
            if provider is not None and provider not in self.tables["providers"]:
                raise EntryError(f'provider: Invalid pk "{provider}" - object does not exist.')
            taken = [
                app["slug"]
                for app in self.tables["applications"].values()
                if app["provider"] == provider and provider is not None and app["pk"] != existing["pk"]
            ]
            if taken:
                raise EntryError(f"provider: the provider is already the provider of application {taken[0]!r}.")
        elif model == OUTPOST:
            if existing is None:
                if not fields.get("name"):
                    raise EntryError("name: This field is required.")
                existing = new_outpost(str(uuid.uuid4()), fields["name"])
            unknown = [pk for pk in fields.get("providers", []) if pk not in self.tables["providers"]]
            if unknown:
                raise EntryError(f'providers: Invalid pk "{unknown[0]}" - object does not exist.')
            connection = fields.get("service_connection")
            if connection is not None and connection not in self.tables["service_connections"]:
                raise EntryError(f'service_connection: Invalid pk "{connection}" - object does not exist.')
            if not isinstance(fields.get("config", {}), dict):
                raise EntryError("config: must be a mapping")
        obj = {**existing, **{key: value for key, value in fields.items() if key in existing}}
        table[obj["pk"]] = obj
        return obj

    def _check_flows(self, fields: dict) -> None:
        for field in ("authorization_flow", "invalidation_flow", "authentication_flow"):
            if field not in fields:
                continue
            value = fields[field]
            if value is None:
                if field == "authentication_flow":
                    continue
                raise EntryError(f"{field}: This field may not be null.")
            if value not in self.tables["flows"]:
                raise EntryError(f'{field}: Invalid pk "{value}" - object does not exist.')

    def _delete(self, model: str, obj: dict) -> None:
        del self.tables[TABLES[model]][obj["pk"]]
        if model == PROXY_PROVIDER:
            for application in self.tables["applications"].values():
                if application["provider"] == obj["pk"]:
                    application["provider"] = None
            for outpost in self.tables["outposts"].values():
                outpost["providers"] = [pk for pk in outpost["providers"] if pk != obj["pk"]]
