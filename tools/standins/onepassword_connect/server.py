#!/usr/bin/env python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A fake 1Password Connect server: the read endpoints, bearer tokens, faults on demand.

It serves vaults and items from a data file (YAML or JSON, see `example.yaml`) over HTTP on the
loopback address:

- ``GET /v1/vaults`` (with ``filter=name eq "..."``), ``GET /v1/vaults/{vaultUuid}``,
  ``GET /v1/vaults/{vaultUuid}/items`` (with ``filter=title eq "..."``),
  ``GET /v1/vaults/{vaultUuid}/items/{itemUuid}``, ``GET /heartbeat``, ``GET /health``;
- ``Authorization: Bearer <token>`` on ``/v1/``, with the tokens of the data file, each optionally
  limited to some vaults (401 for an unknown token, 403 or 404 outside its vaults, as Connect does);
- faults for the next N requests: an HTTP status (429 with Retry-After, 500, 503, ...), a hang, or
  a connection closed without an answer.

Every request and every response is validated against the upstream OpenAPI document of
1Password Connect (``connect-api-spec.yaml`` in the shared schemas, read at start), with
openapi-core. What does not conform, and any request the fake does not implement, is recorded in
`FakeConnectServer.violations`; `check()` raises on them, so a test using the server fails. The
upstream document lists no 429 or 5xx answers; the injected ones are validated against its
``ErrorResponse`` schema, the shape Connect gives every error.

Run it on its own:  python tools/standins/onepassword_connect/server.py --data FILE [--port 8080]
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_schema_validator import OAS30Validator
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

REPO_ROOT = Path(__file__).resolve().parents[3]
SPEC_RELATIVE = Path("onepassword-connect") / "connect-api-spec.yaml"
EXAMPLE_DATA = Path(__file__).resolve().parent / "example.yaml"
SERVER_NAME = "1Password Connect API"
SERVER_VERSION = "1.7.1"
TIMESTAMP = "2026-01-01T00:00:00Z"

_FILTER = re.compile(r'^\s*(?P<attribute>\w+)\s+eq\s+"(?P<value>(?:[^"\\]|\\.)*)"\s*$')
_ESCAPE = re.compile(r"\\(.)")
_ITEM_PATH = re.compile(r"/v1/vaults/[^/]+/items/[^/]+")

_SPECS: dict[Path, tuple[OpenAPI, dict]] = {}
_SPECS_LOCK = threading.Lock()


def spec_path() -> Path:
    """Where the upstream document is: $HOMELAB_SHARED_SCHEMAS or ../shared/schemas beside the checkout."""
    schemas = Path(os.environ.get("HOMELAB_SHARED_SCHEMAS", REPO_ROOT.parent / "shared" / "schemas"))
    return schemas / SPEC_RELATIVE


def load_spec(path: Path | None = None) -> tuple[OpenAPI, dict]:
    """The OpenAPI document, for openapi-core and as data (read once per process: it takes most of a second)."""
    path = Path(path or spec_path())
    with _SPECS_LOCK:
        if path not in _SPECS:
            if not path.is_file():
                raise FileNotFoundError(
                    f"the 1Password Connect OpenAPI document is not at {path}: set HOMELAB_SHARED_SCHEMAS "
                    "to the shared schemas folder"
                )
            _SPECS[path] = (OpenAPI.from_file_path(str(path)), load_data(path))
        return _SPECS[path]


def fake_id(*names: str) -> str:
    """A stable 26-character ID of lower-case letters and digits, like 1Password's, for `names`."""
    digest = hashlib.sha256("\0".join(names).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:26]


@dataclass
class Fault:
    """What the next `remaining` matching requests get instead of their answer."""

    remaining: int
    status: int | None = None
    hang_seconds: float = 0.0
    drop: bool = False
    retry_after: float | None = None
    path_prefix: str = ""


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int = 0
    injected: bool = False
    authorization: str | None = field(default=None, repr=False)


class _SpecRequest(WerkzeugOpenAPIRequest):
    """The request as openapi-core sees it: sent to the server the document names.

    The document's servers are ``http://localhost:8080/v1`` (and ``http://localhost:8080`` for
    the health endpoints); the fake listens on another port, which the document does not govern.
    """

    def __init__(self, request: Request, origin: str):
        super().__init__(request)
        self._origin = origin

    @property
    def host_url(self) -> str:
        return self._origin


class FakeConnectServer:
    """The fake server; `start()` serves it on a thread, `url` is its base URL."""

    def __init__(self, data: dict | None = None, host: str = "127.0.0.1", port: int = 0, spec: Path | None = None):
        self.spec, document = load_spec(spec)
        # Requests are checked as if sent to the document's own server (scheme, host and port).
        self._origin = re.sub(r"^(https?://[^/]+).*$", r"\1", document["servers"][0]["url"])
        self._error_schema = OAS30Validator(document["components"]["schemas"]["ErrorResponse"])
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._host, self._port = host, port
        self._server = None
        self._thread = None
        self.load(data if data is not None else load_data(EXAMPLE_DATA))

    # -- life cycle

    def start(self) -> FakeConnectServer:
        self._stopping.clear()
        self._server = make_server(self._host, self._port, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self._port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-onepassword-connect", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> FakeConnectServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    # -- state

    def load(self, data: dict) -> None:
        """Serve `data` from now on, and forget requests, faults and violations."""
        vaults, tokens = _build(data)
        with self._lock:
            self.vaults = vaults
            self.tokens = tokens
            self.requests: list[RecordedRequest] = []
            self.violations: list[str] = []
            self._faults: deque[Fault] = deque()

    def fail_next(self, count: int, status: int = 500, retry_after: float | None = None, path_prefix: str = "") -> None:
        """Answer the next `count` requests (under `path_prefix`) with `status` and an ErrorResponse."""
        with self._lock:
            self._faults.append(Fault(count, status=status, retry_after=retry_after, path_prefix=path_prefix))

    def rate_limit_next(self, count: int, retry_after: float | None = None, path_prefix: str = "") -> None:
        """Answer the next `count` requests with 429 Too Many Requests."""
        self.fail_next(count, status=429, retry_after=retry_after, path_prefix=path_prefix)

    def hang_next(self, count: int, seconds: float, path_prefix: str = "") -> None:
        """Hold the next `count` requests for `seconds` before answering them normally."""
        with self._lock:
            self._faults.append(Fault(count, hang_seconds=seconds, path_prefix=path_prefix))

    def drop_next(self, count: int, path_prefix: str = "") -> None:
        """Close the connection of the next `count` requests without answering them."""
        with self._lock:
            self._faults.append(Fault(count, drop=True, path_prefix=path_prefix))

    def count(self, method: str = "GET", path: str | None = None, prefix: str | None = None) -> int:
        """How many requests were served with `method` and exactly `path` (or under `prefix`)."""
        with self._lock:
            return sum(
                1
                for request in self.requests
                if request.method == method
                and (path is None or request.path == path)
                and (prefix is None or request.path.startswith(prefix))
            )

    def item_reads(self) -> list[str]:
        """The paths of the item reads (``GET /v1/vaults/{id}/items/{id}``) served, in order."""
        with self._lock:
            return [r.path for r in self.requests if r.method == "GET" and _ITEM_PATH.fullmatch(r.path)]

    def check(self) -> None:
        """Raise AssertionError if any request or response did not conform to the upstream document."""
        with self._lock:
            violations = list(self.violations)
        if violations:
            raise AssertionError(
                "the fake 1Password Connect server saw traffic that violates the Connect OpenAPI document:\n  "
                + "\n  ".join(violations)
            )

    # -- serving

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        record = RecordedRequest(
            request.method, request.path, dict(request.args), authorization=request.headers.get("Authorization")
        )
        with self._lock:
            self.requests.append(record)
            fault = self._take_fault(request.path)
        if fault is not None and fault.hang_seconds:
            self._stopping.wait(fault.hang_seconds)
            fault = None
        if fault is not None and fault.drop:
            # No answer, so nothing to validate: the client sees the connection closed.
            record.injected = True
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            start_response("500 Connection Dropped", [])
            return []
        if fault is not None:
            record.injected = True
            response = _error(fault.status, "injected by the fake server")
            if fault.retry_after is not None:
                response.headers["Retry-After"] = f"{fault.retry_after:g}"
        else:
            response = self._answer(request)
        record.status = response.status_code
        self._validate(request, response, injected=record.injected)
        return response(environ, start_response)

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and path.startswith(fault.path_prefix):
                fault.remaining -= 1
                taken = copy.copy(fault)
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return taken
        return None

    def _answer(self, request: Request) -> Response:
        path = request.path
        if request.method != "GET":
            self._violation(f"{request.method} {path}: not implemented by the fake server")
            return _error(405, "method not implemented by the fake server")
        if path == "/heartbeat":
            return Response(".", status=200, content_type="text/plain")
        if path == "/health":
            return _json(
                {
                    "name": SERVER_NAME,
                    "version": SERVER_VERSION,
                    "dependencies": [
                        {"service": "sync", "status": "ACTIVE"},
                        {"service": "sqlite", "status": "ACTIVE", "message": "Connected to ./1password.sqlite"},
                    ],
                }
            )
        if not path.startswith("/v1/"):
            self._violation(f"GET {path}: not implemented by the fake server")
            return _error(404, "not found")
        scope = self._authorized(request)
        if scope is None:
            return _error(401, "Invalid token signature")
        parts = path[len("/v1/") :].split("/")
        if parts == ["vaults"]:
            return self._list_vaults(request, scope)
        if len(parts) >= 2 and parts[0] == "vaults":
            vault = self.vaults.get(parts[1])
            in_scope = vault is not None and (scope is True or vault["name"] in scope)
            if len(parts) == 2:
                if vault is None:
                    return _error(404, f"vault {parts[1]} not found")
                return _json(vault["summary"]) if in_scope else _error(403, f"vault {parts[1]} is not in scope")
            if len(parts) == 3 and parts[2] == "items":
                # GetVaultItems documents no 403: Connect answers 404 for a vault out of the token's scope.
                if not in_scope:
                    return _error(404, f"vault {parts[1]} not found")
                return self._list_items(request, vault)
            if len(parts) == 4 and parts[2] == "items":
                if vault is None:
                    return _error(404, f"vault {parts[1]} not found")
                if not in_scope:
                    return _error(403, f"vault {parts[1]} is not in scope")
                item = vault["items"].get(parts[3])
                if item is None:
                    return _error(404, f"item {parts[3]} not found")
                return _json(item["full"])
        self._violation(f"GET {path}: not implemented by the fake server")
        return _error(404, "not found")

    def _authorized(self, request: Request):
        """True (every vault), the set of vault names the token may read, or None for no valid token."""
        header = request.headers.get("Authorization", "")
        scheme, _space, token = header.partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            return None
        return self.tokens[token]

    def _list_vaults(self, request: Request, scope) -> Response:
        vaults = [v for v in self.vaults.values() if scope is True or v["name"] in scope]
        wanted = self._filter(request, "name")
        if wanted is False:
            return _error(400, "unsupported filter")
        if wanted is not None:
            vaults = [v for v in vaults if v["name"] == wanted]
        return _json([v["summary"] for v in vaults])

    def _list_items(self, request: Request, vault: dict) -> Response:
        items = list(vault["items"].values())
        wanted = self._filter(request, "title")
        if wanted is False:
            return _error(400, "unsupported filter")
        if wanted is not None:
            items = [i for i in items if i["summary"]["title"] == wanted]
        return _json([i["summary"] for i in items])

    def _filter(self, request: Request, attribute: str):
        """The value of a ``<attribute> eq "..."`` filter; None without a filter, False if it is another one."""
        text = request.args.get("filter")
        if text is None:
            return None
        match = _FILTER.match(text)
        if not match or match["attribute"] != attribute:
            self._violation(f"GET {request.path}: filter {text!r} is not supported by the fake server")
            return False
        return _ESCAPE.sub(r"\1", match["value"])

    # -- validation

    def _validate(self, request: Request, response: Response, injected: bool) -> None:
        spec_request = _SpecRequest(request, self._origin)
        where = f"{request.method} {request.full_path.rstrip('?')}"
        for error in self.spec.iter_request_errors(spec_request):
            self._violation(f"{where}: request: {_describe(error)}")
        if injected:
            # The document lists no 429/5xx answers; Connect sends them as ErrorResponse documents.
            for error in self._error_schema.iter_errors(json.loads(response.get_data())):
                self._violation(f"{where}: injected {response.status_code} answer: {error.message}")
            return
        for error in self.spec.iter_response_errors(spec_request, WerkzeugOpenAPIResponse(response)):
            self._violation(f"{where}: response {response.status_code}: {_describe(error)}")

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: tests read their output."""

    def log(self, *args):
        del args


def _describe(error: Exception) -> str:
    """An openapi-core error with its causes and schema errors, on one line."""
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        for schema_error in getattr(cause, "schema_errors", None) or []:
            location = "/".join(str(p) for p in schema_error.absolute_path)
            parts.append(f"at /{location}: {schema_error.message}")
        cause = cause.__cause__
    return "; ".join(parts)


def _json(document, status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, content_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"status": status, "message": message}, status=status)


def load_data(path: Path | str) -> dict:
    """A data file (YAML or JSON: JSON is YAML)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _build(data: dict) -> tuple[dict, dict]:
    """The vaults (by ID) with Connect's Vault/Item/FullItem documents, and token → scope."""
    tokens = {}
    for entry in data.get("tokens") or []:
        scope = entry.get("vaults")
        tokens[entry["token"]] = True if scope is None else set(scope)
    vaults = {}
    for vault_data in data.get("vaults") or []:
        name = vault_data["name"]
        vault_id = vault_data.get("id") or fake_id("vault", name)
        items = {}
        for item_data in vault_data.get("items") or []:
            item = _build_item(vault_id, item_data)
            if item["summary"]["id"] in items:
                raise ValueError(f"two items of vault {name!r} have the ID {item['summary']['id']}: give them id:")
            items[item["summary"]["id"]] = item
        vaults[vault_id] = {
            "name": name,
            "items": items,
            "summary": {
                "id": vault_id,
                "name": name,
                "description": vault_data.get("description", ""),
                "attributeVersion": 1,
                "contentVersion": 1,
                "items": len(items),
                "type": vault_data.get("type", "USER_CREATED"),
                "createdAt": TIMESTAMP,
                "updatedAt": TIMESTAMP,
            },
        }
    return vaults, tokens


def _build_item(vault_id: str, data: dict) -> dict:
    title = data["title"]
    item_id = data.get("id") or fake_id("item", vault_id, title)
    summary = {
        "id": item_id,
        "title": title,
        "vault": {"id": vault_id},
        "category": data.get("category", "LOGIN"),
        "version": 1,
        "tags": list(data.get("tags") or []),
        "favorite": False,
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
    }
    sections = {}
    fields = []
    for field_data in data.get("fields") or []:
        label = field_data["label"]
        document = {
            "id": field_data.get("id") or fake_id("field", item_id, field_data.get("section") or "", label),
            "type": field_data.get("type", "STRING"),
            "label": label,
            "value": field_data.get("value", ""),
        }
        if field_data.get("purpose"):
            document["purpose"] = field_data["purpose"]
        if field_data.get("section"):
            section_label = field_data["section"]
            section_id = sections.setdefault(section_label, fake_id("section", item_id, section_label))
            document["section"] = {"id": section_id}
        fields.append(document)
    full = dict(summary, fields=fields, sections=[{"id": sid, "label": label} for label, sid in sections.items()])
    return {"summary": summary, "full": full}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--data", type=Path, default=EXAMPLE_DATA, help="vaults, items and tokens (YAML or JSON)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback by default)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free port)")
    parser.add_argument("--spec", type=Path, default=None, help="the Connect OpenAPI document")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="STATUS:COUNT",
        help="answer the first COUNT requests with STATUS (repeatable, in order), e.g. 429:2",
    )
    args = parser.parse_args(argv)
    server = FakeConnectServer(load_data(args.data), host=args.host, port=args.port, spec=args.spec)
    for fault in args.fault:
        status, _colon, count = fault.partition(":")
        server.fail_next(int(count or 1), status=int(status))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *unused: stop.set())
    server.start()
    print(f"fake 1Password Connect serving {args.data} at {server.url}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    for violation in server.violations:
        print(f"violation: {violation}", file=sys.stderr)
    return 1 if server.violations else 0


if __name__ == "__main__":
    sys.exit(main())
