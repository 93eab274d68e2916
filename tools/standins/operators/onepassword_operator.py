"""Stand-in for the 1Password operator: turns every `OnePasswordItem` into its Secret, from 1Password Connect.

For each onepassword.com/v1 OnePasswordItem (all namespaces) it does what the real operator
(1Password/onepassword-operator) does for it, reading the item through the REST API of a
1Password Connect server, as the operator does when it runs with Connect:

- resolves ``spec.itemPath`` (``vaults/<vault>/items/<item>``, names or IDs) as the operator does:
  the vault by name (``GET /v1/vaults?filter=name eq "..."``, the oldest of several) or else as an
  ID, the item by ID or else by title (the oldest of several), then reads the item
  (``GET /v1/vaults/{vault}/items/{item}``);
- creates the Secret of the same name in the same namespace: one key per field, named after the
  field's label made a valid Secret key (a label used twice: the later field wins), the type
  given by the OnePasswordItem's top-level ``type`` (Opaque without one), its labels, the
  annotations ``operator.1password.io/item-path`` (``vaults/<vault ID>/items/<item ID>``) and
  ``operator.1password.io/item-version``, and an owner reference to the OnePasswordItem;
- updates an existing Secret of that name only when its annotations or labels differ, and never
  changes a Secret's type (``cannot change secret type: secret type is immutable``);
- adds the finalizer ``onepassword.com/finalizer.secret``, and when the OnePasswordItem is
  deleted, deletes the Secret before removing it;
- reports ``status.conditions``: ``Ready`` True, or False with the error as the message.

The Connect server is named by the environment, as for the operator: ``OP_CONNECT_HOST`` and
``OP_CONNECT_TOKEN``. ``tools/testcluster/testcluster.py up`` starts the fake Connect server
(tools/standins/onepassword_connect) with ``tools/testcluster/onepassword-connect.yaml`` and passes
both to this stand-in.

Simplified on purpose: an item is read when a OnePasswordItem is new or its spec changed
(its generation), or when its Secret is missing, not on a timer (the operator also polls
Connect for new item versions); no file attachments, no ``operator.1password.io/auto-restart``.
Every item read is logged (names only) as ``read item <vault>/<item> for <namespace>/<name>``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
from datetime import UTC, datetime
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

from _base import KeyedWorker, connect, reconcile_forever
from kubernetes import client
from kubernetes.client.exceptions import ApiException

GROUP, VERSION, PLURAL, KIND = "onepassword.com", "v1", "onepassworditems", "OnePasswordItem"
FINALIZER = "onepassword.com/finalizer.secret"
ITEM_PATH_ANNOTATION = "operator.1password.io/item-path"
ITEM_VERSION_ANNOTATION = "operator.1password.io/item-version"
CONNECT_TIMEOUT_SECONDS = 10
MERGE_PATCH = "application/merge-patch+json"

log = logging.getLogger("onepassword-operator-standin")

_ITEM_PATH = re.compile(r"vaults/(.*)/items/(.*)")
# 1Password IDs ("client UUIDs"): 26 lower-case letters and digits.
_CLIENT_UUID = re.compile(r"^[a-z0-9]{26}$")
_INVALID_KEY_CHARACTERS = re.compile(r"[^a-zA-Z0-9-._]+")
_INVALID_KEY_ENDS = re.compile(r"(^[^a-zA-Z0-9-._]+|[^a-zA-Z0-9-._]+$)")
_VALID_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_MAX_KEY_LENGTH = 253


class Waiting(Exception):
    """A OnePasswordItem cannot be turned into its Secret yet; its sync is retried later."""


class ConnectError(Exception):
    """1Password Connect could not answer as asked (the message names no secret)."""


# --- reading 1Password Connect -------------------------------------------------------------


class Connect:
    """The few read calls of the Connect API the operator makes, with urllib."""

    def __init__(self, host: str | None, token: str | None):
        self.host = (host or "").rstrip("/").removesuffix("/v1")
        self.token = token or ""

    @property
    def configured(self) -> bool:
        return self.host.startswith(("http://", "https://")) and bool(self.token)

    def _get(self, path: str, query: dict | None = None):
        url = self.host + path + (("?" + urlencode(query, quote_via=quote)) if query else "")
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        request = Request(url, headers=headers)  # noqa: S310 - an http(s) URL (see configured)
        try:
            with urlopen(request, timeout=CONNECT_TIMEOUT_SECONDS) as response:  # noqa: S310 - as above
                return json.load(response)
        except HTTPError as err:
            try:
                message = json.load(err).get("message", "")
            except (ValueError, AttributeError):
                message = ""
            raise ConnectError(f"status {err.code}: {message or err.reason}") from None
        except (URLError, OSError) as err:
            raise ConnectError(f"cannot reach 1Password Connect at {self.host}: {err}") from None

    def vaults_by_title(self, title: str) -> list[dict]:
        return self._get("/v1/vaults", {"filter": f'name eq "{_scim(title)}"'})

    def items_by_title(self, vault_id: str, title: str) -> list[dict]:
        return self._get(f"/v1/vaults/{quote(vault_id)}/items", {"filter": f'title eq "{_scim(title)}"'})

    def item(self, vault_id: str, item_id: str) -> dict:
        return self._get(f"/v1/vaults/{quote(vault_id)}/items/{quote(item_id)}")

    def item_by_path(self, path: str) -> dict:
        """The item `path` names, found as the operator finds it (GetOnePasswordItemByPath)."""
        match = _ITEM_PATH.search(path or "")
        if not match:
            raise ConnectError(
                f"{path!r} is not an acceptable path for One Password item. "
                "Must be of the format: `vaults/{vault_id}/items/{item_id}`"
            )
        vault, item = match.groups()
        try:
            vault_id = self.vault_id(vault)
        except ConnectError as err:
            raise ConnectError(f"failed to 'getVaultID' for vaultNameOrID='{vault}': {err}") from None
        if _CLIENT_UUID.match(item):
            try:
                return self.item(vault_id, item)
            except ConnectError:
                pass  # as the operator: an ID-like title is looked up by title next
        try:
            items = self.items_by_title(vault_id, item)
        except ConnectError as err:
            raise ConnectError(
                f"failed to get item for vaultID='{vault_id}' and itemNameOrID='{item}': {err}"
            ) from None
        if not items:
            raise ConnectError(
                f"failed to get item for vaultID='{vault_id}' and itemNameOrID='{item}': "
                f'no items found with identifier "{item}" in vault "{vault_id}"'
            )
        item_id = _oldest(items)["id"]
        try:
            return self.item(vault_id, item_id)
        except ConnectError as err:
            raise ConnectError(
                f"failed to get item by ID for vaultID='{vault_id}' and itemID='{item_id}': {err}"
            ) from None

    def vault_id(self, vault: str) -> str:
        try:
            vaults = self.vaults_by_title(vault)
        except ConnectError as err:
            if _CLIENT_UUID.match(vault):
                return vault
            raise ConnectError(f'failed to get vault by title "{vault}": {err}') from None
        if vaults:
            return _oldest(vaults)["id"]
        if _CLIENT_UUID.match(vault):
            return vault
        raise ConnectError(f'no vaults found with identifier "{vault}"')


def _scim(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _oldest(entries: list[dict]) -> dict:
    """The operator takes the oldest of several vaults or items with one name (the first of equals)."""
    oldest = entries[0]
    for entry in entries[1:]:
        if entry.get("createdAt", "") < oldest.get("createdAt", ""):
            oldest = entry
    return oldest


# --- what the operator makes of an item ----------------------------------------------------


def secret_key(label: str) -> str:
    """A field label as a Secret key: kept when valid, else stripped and cleaned as the operator does."""
    if label and len(label) <= _MAX_KEY_LENGTH and _VALID_KEY.match(label) and label not in (".", ".."):
        return label
    key = _INVALID_KEY_ENDS.sub("", label or "")
    key = _INVALID_KEY_CHARACTERS.sub("-", key)
    return key[:_MAX_KEY_LENGTH]


def secret_data(item: dict) -> dict[str, str]:
    """Field label (as a key) -> value, in the item's field order: a later field wins a shared key."""
    data = {}
    for url in item.get("urls") or []:
        data[secret_key(url.get("label") or "")] = url.get("href", "")
    for field in item.get("fields") or []:
        data[secret_key(field.get("label") or "")] = field.get("value") or ""
    return data


def owner_reference(resource: dict) -> dict:
    meta = resource["metadata"]
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "name": meta["name"], "uid": meta["uid"]}


def secret_for(resource: dict, item: dict) -> dict:
    """The Secret the operator makes of `item` for the OnePasswordItem `resource`."""
    meta = resource["metadata"]
    annotations = {
        ITEM_VERSION_ANNOTATION: str(item.get("version", "")),
        ITEM_PATH_ANNOTATION: f"vaults/{item['vault']['id']}/items/{item['id']}",
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": dict(meta.get("labels") or {}),
            "annotations": annotations,
            "ownerReferences": [owner_reference(resource)],
        },
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in secret_data(item).items()},
    }
    if resource.get("type"):
        secret["type"] = resource["type"]
    return secret


def ready_condition(previous: list[dict] | None, error: str | None) -> dict:
    """The Ready condition: True, or False with the error; the time moves only when the status does."""
    before = next((c for c in previous or [] if c.get("type") == "Ready"), {})
    condition = {"type": "Ready", "status": "False" if error else "True"}
    if error:
        condition["message"] = error
    condition["lastTransitionTime"] = (
        before["lastTransitionTime"]
        if before.get("status") == condition["status"] and before.get("lastTransitionTime")
        else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    return condition


def _secret_type(value: str | None) -> str:
    return value or "Opaque"  # "" and Opaque are one type to the API server


# --- the controller -----------------------------------------------------------------------


class Operator(KeyedWorker):
    """Watch events feed OnePasswordItem keys into one queue; one worker syncs them in turn."""

    def __init__(self, api: client.ApiClient, connect_client: Connect):
        super().__init__(log)
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.connect = connect_client
        # uid -> the generation whose item is in the Secret: later events of it read nothing.
        self.synced: dict[str, int] = {}

    def on_item(self, event: str, resource: dict) -> None:
        del event
        self.enqueue((resource["metadata"]["namespace"], resource["metadata"]["name"]))

    def sync(self, namespace: str, name: str) -> None:
        try:
            resource = self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        except ApiException as err:
            if err.status == 404:
                return
            raise
        meta = resource["metadata"]
        if meta.get("deletionTimestamp"):
            self.finalize(resource)
            return
        if FINALIZER not in (meta.get("finalizers") or []):
            resource = self.set_finalizers(resource, [*(meta.get("finalizers") or []), FINALIZER])
            meta = resource["metadata"]
        current = self.read_secret(namespace, name)
        in_place = current is not None and (current.metadata.labels or {}) == (meta.get("labels") or {})
        if in_place and self.synced.get(meta["uid"]) == meta.get("generation"):
            return  # this spec's item is in place: nothing to read, nothing to write
        error = None
        try:
            self.apply_item(resource, current)
        except (ConnectError, Waiting) as err:
            error = str(err)
        except ApiException as err:
            error = _api_message(err)
        self.update_status(resource, error)
        if error:
            self.synced.pop(meta["uid"], None)
            raise Waiting(error)
        self.synced[meta["uid"]] = meta.get("generation")

    def apply_item(self, resource: dict, current: client.V1Secret | None) -> None:
        """Read the item and create or update the Secret, as the operator's CreateKubernetesSecretFromItem."""
        meta = resource["metadata"]
        if not self.connect.configured:
            raise Waiting(
                "failed to retrieve item: 1Password Connect is not configured (OP_CONNECT_HOST and OP_CONNECT_TOKEN)"
            )
        path = (resource.get("spec") or {}).get("itemPath", "")
        try:
            item = self.connect.item_by_path(path)
        except ConnectError as err:
            raise ConnectError(f"failed to retrieve item: {err}") from None
        vault, title = _ITEM_PATH.search(path).groups()
        # Names only: a secret's values never reach the log.
        log.info("read item %s/%s for %s/%s", vault, title, meta["namespace"], meta["name"])
        secret = secret_for(resource, item)
        if current is None:
            self.core.create_namespaced_secret(meta["namespace"], secret)
            log.info("created Secret %s/%s", meta["namespace"], meta["name"])
            return
        if _secret_type(current.type) != _secret_type(resource.get("type")):
            raise Waiting("cannot change secret type: secret type is immutable")
        wanted = secret["metadata"]
        unchanged = (current.metadata.annotations or {}, current.metadata.labels or {})
        if unchanged == (wanted["annotations"], wanted["labels"]):
            return  # the operator rewrites a Secret only when the item's version or the labels moved
        # As the operator: the current Secret with new annotations, labels and data, replaced whole.
        current.metadata.annotations = wanted["annotations"]
        current.metadata.labels = wanted["labels"]
        current.data = secret["data"]
        self.core.replace_namespaced_secret(meta["name"], meta["namespace"], current)
        log.info("updated Secret %s/%s", meta["namespace"], meta["name"])

    def finalize(self, resource: dict) -> None:
        """A deleted OnePasswordItem: its Secret goes first, then the finalizer."""
        meta = resource["metadata"]
        if FINALIZER not in (meta.get("finalizers") or []):
            return
        try:
            self.core.delete_namespaced_secret(meta["name"], meta["namespace"])
            log.info("deleted Secret %s/%s", meta["namespace"], meta["name"])
        except ApiException as err:
            if err.status != 404:
                raise
        self.set_finalizers(resource, [f for f in meta["finalizers"] if f != FINALIZER])
        self.synced.pop(meta["uid"], None)
        log.info("released %s/%s (its Secret is gone)", meta["namespace"], meta["name"])

    def set_finalizers(self, resource: dict, finalizers: list[str]) -> dict:
        """The OnePasswordItem with `finalizers`; the resourceVersion makes a concurrent change fail the sync."""
        meta = resource["metadata"]
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}}
        return self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, meta["namespace"], PLURAL, meta["name"], patch, _content_type=MERGE_PATCH
        )

    def read_secret(self, namespace: str, name: str) -> client.V1Secret | None:
        try:
            return self.core.read_namespaced_secret(name, namespace)
        except ApiException as err:
            if err.status == 404:
                return None
            raise

    def update_status(self, resource: dict, error: str | None) -> None:
        previous = (resource.get("status") or {}).get("conditions") or []
        conditions = [ready_condition(previous, error)]
        if conditions == previous:
            return  # unchanged: no write
        meta = resource["metadata"]
        self.custom.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            meta["namespace"],
            PLURAL,
            meta["name"],
            {"status": {"conditions": conditions}},
            _content_type=MERGE_PATCH,
        )
        log.info(
            "%s/%s: Ready %s%s",
            meta["namespace"],
            meta["name"],
            conditions[0]["status"],
            f" ({error})" if error else "",
        )


def _api_message(err: ApiException) -> str:
    try:
        return json.loads(err.body).get("message") or f"{err.status} {err.reason}"
    except (TypeError, ValueError, AttributeError):
        return f"{err.status} {err.reason}"


def main() -> None:
    api = connect(__doc__)
    connect_client = Connect(os.environ.get("OP_CONNECT_HOST"), os.environ.get("OP_CONNECT_TOKEN"))
    if connect_client.configured:
        log.info("reading items from 1Password Connect at %s", connect_client.host)
    else:
        log.warning("OP_CONNECT_HOST or OP_CONNECT_TOKEN is not set: every OnePasswordItem will report not ready")
    operator = Operator(api, connect_client)
    watch = threading.Thread(
        target=reconcile_forever,
        args=("onepassworditems", operator.custom.list_cluster_custom_object, operator.on_item),
        kwargs={"group": GROUP, "version": VERSION, "plural": PLURAL},
    )
    watch.daemon = True
    watch.start()
    operator.work_forever()


if __name__ == "__main__":
    main()
