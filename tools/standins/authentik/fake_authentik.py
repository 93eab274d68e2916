"""A fake Authentik API: the part of /api/v3 that homelab.mlflow uses, held to Authentik's OpenAPI document.

Serves blueprint instances (list, create, read, update, partial update, delete, apply), the
tasks API (list, read) that reports the background apply, outposts (list, read, partial
update, delete), proxy providers (list, read, delete) and applications (list, read, delete). Like Authentik it:

- authenticates `Authorization: Bearer <token>` and answers 403 with Authentik's details (a
  refused token: "Token invalid/expired"; a token without the permission: "You do not have
  permission to perform this action."); Authentik never answers 401 (Django REST framework turns
  it into 403 when the authentication class sends no WWW-Authenticate header);
- validates blueprint content when it is written (with the stored context, or none on create)
  and refuses it with 400 `{"content": ["Failed to validate blueprint", "- ..."]}`;
- applies a blueprint in the background: `POST .../apply/` queues a task
  (`authentik.blueprints.v1.tasks.apply_blueprint`, related to the instance) and answers with the
  instance as it was; the task then validates the content with the instance's context and
  sets `status` (`successful`, or `error` with the problems as the task's log lines), saving the
  instance a moment before the task's log is written and the task is done, as Authentik's worker does;
- stamps `last_applied` on every save of an instance (the model field is `auto_now`) and sets
  `last_applied_hash` (sha512 of the content) after a successful apply;
- applies a blueprint's entries to its own store (proxy providers, applications, outposts),
  resolving `!Find` against Authentik's default flows (seeded with their real slugs and
  designations) and the Kubernetes service connection, and `!KeyOf` against earlier entries: an
  entry that fails leaves nothing of the blueprint behind (authentik_entries.py);
- with a kubeconfig, stands in for Authentik's outpost controller: every outpost that has a
  service connection and `kubernetes_httproute_parent_refs` in its config gets an HTTPRoute in
  its `kubernetes_namespace` for the external hosts of its providers (authentik_routes.py).

How content is judged: authentik_blueprints.py. Every request and every response is checked
against the OpenAPI document (authentik_openapi.py); what does not match is recorded in
`violations` (and the request is answered 400), and the pytest fixture fails the test on any.
Requests are always checked; two kinds of responses cannot be, as the document does not describe
them: injected faults (500, 429, a hang: they stand for a proxy or an outage in front of
Authentik) and 404 answers (which drf-spectacular leaves out of the document; their body is
checked against its GenericError schema by hand).

Fault injection: `inject(status, count)`, `hang(count, seconds)`, `fail_next_apply(log_lines)`.
`requests` records every request (method, path, query, body, status, injected).

Run it alone, as a long-running server (with the HTTPRoutes written to a cluster):
`python tools/standins/authentik/fake_authentik.py --port 9000 --token secret --kubeconfig KUBECONFIG`.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import signal
import ssl
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import authentik_blueprints
from authentik_entries import EntryError, Importer, new_application, new_provider, seed_flows
from authentik_openapi import API_PREFIX, DEFAULT_VERSION, Contract

# The API token a fake accepts unless told otherwise; made up, accepted by the fake only.
TEST_TOKEN = "fake-authentik-token-0123456789abcdef"  # noqa: S105
APPLY_ACTOR = "authentik.blueprints.v1.tasks.apply_blueprint"
REFUSED = "Token invalid/expired"
NO_CREDENTIALS = "Authentication credentials were not provided."
NO_PERMISSION = "You do not have permission to perform this action."
EMBEDDED_OUTPOST = "authentik Embedded Outpost"
WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


class FakeAuthentik:
    """The fake's state and its HTTP server (start() / stop(), or use it as a context manager)."""

    def __init__(
        self,
        token: str = TEST_TOKEN,
        read_only_tokens: tuple[str, ...] = (),
        tokens_without_tasks: tuple[str, ...] = (),
        contract: Contract | None = None,
        version: str = DEFAULT_VERSION,
        apply_delay: float = 0.05,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[str, str] | None = None,
        kubeconfig: str | None = None,
    ):
        self.token = token
        self.read_only_tokens = set(read_only_tokens)
        self.tokens_without_tasks = set(tokens_without_tasks)
        self.contract = contract or Contract(version)
        self.apply_delay = apply_delay
        self.lock = threading.RLock()
        self.blueprints: dict[str, dict] = {}
        self.tasks: dict[str, dict] = {}
        self.outposts: dict[str, dict] = {}
        self.providers: dict[int, dict] = {}
        self.applications: dict[str, dict] = {}
        self.flows: dict[str, dict] = seed_flows()
        self.requests: list[dict] = []
        self.violations: list[str] = []
        self._faults: list[dict] = []
        self._apply_failures: list[list[str]] = []
        self._last_stamp = datetime(2000, 1, 1, tzinfo=UTC)
        self._released = threading.Event()
        self._timers: list[threading.Timer] = []
        # Outposts that Authentik deploys itself have a service connection (the embedded one too).
        self.service_connection = {
            "pk": str(uuid.uuid4()),
            "name": "Local Kubernetes Cluster",
            "local": True,
            "component": "ak-service-connection-kubernetes-form",
            "verbose_name": "Kubernetes Service-Connection",
            "verbose_name_plural": "Kubernetes Service-Connections",
            "meta_model_name": "authentik_outposts.kubernetesserviceconnection",
        }
        self.service_connections = {self.service_connection["pk"]: self.service_connection}
        self.routes = None
        if kubeconfig:
            from authentik_routes import RouteController

            self.routes = RouteController(kubeconfig)
        self.add_outpost(EMBEDDED_OUTPOST, managed="goauthentik.io/outposts/embedded")

        self.server = ThreadingHTTPServer((host, port), _handler_for(self))
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        # A short poll interval makes stop() quick: tests start and stop a fake each.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-authentik", daemon=True
        )

    # -- life cycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, as users give it to the modules (without /api/v3)."""
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def start(self) -> FakeAuthentik:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        for timer in self._timers:
            timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeAuthentik:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- fault injection and inspection ---------------------------------------------------------

    def inject(self, status: int = 500, count: int = 1, path: str | None = None, retry_after: float | None = None):
        """Answer the next `count` requests (to paths containing `path`) with `status`."""
        with self.lock:
            fault = {"kind": "status", "status": status, "count": count, "path": path, "retry": retry_after}
            self._faults.append(fault)

    def hang(self, count: int = 1, seconds: float = 5.0, path: str | None = None):
        """Hold the next `count` requests for `seconds`, then drop the connection unanswered."""
        with self.lock:
            self._faults.append({"kind": "hang", "count": count, "path": path, "seconds": seconds})

    def fail_next_apply(self, log_lines: list[str]):
        """Make the next apply fail with these log lines (errors only Authentik's database would reveal)."""
        with self.lock:
            self._apply_failures.append(list(log_lines))

    def violation_report(self) -> str | None:
        """What violated Authentik's OpenAPI document so far, as one message (None: nothing did)."""
        if not self.violations:
            return None
        return (
            "the fake Authentik API saw requests or responses that violate Authentik "
            f"{self.contract.version}'s OpenAPI document:\n" + "\n".join(self.violations)
        )

    def writes(self) -> list[dict]:
        """The recorded requests that would change something."""
        return [request for request in self.requests if request["method"] in WRITE_METHODS]

    def blueprint(self, name: str) -> dict | None:
        with self.lock:
            return next((copy.deepcopy(b) for b in self.blueprints.values() if b["name"] == name), None)

    def add_blueprint(self, name: str, content: str, context: dict | None = None) -> str:
        """An instance as if created and applied successfully through the API; returns its pk."""
        with self.lock:
            status, created = self.create_blueprint({}, {"name": name, "content": content, "context": context or {}})
            if status != 201:
                raise ValueError(f"Authentik would refuse this blueprint: {created}")
            blueprint = self.blueprints[created["pk"]]
            blueprint["status"] = "successful"
            blueprint["last_applied_hash"] = hashlib.sha512(content.encode()).hexdigest()
            blueprint["last_applied"] = self._stamp()
            return created["pk"]

    def add_provider(self, name: str, external_host: str = "", **fields) -> int:
        """A proxy provider (Authentik's defaults, the default flows) as if created; returns its pk."""
        with self.lock:
            pk = max(self.providers, default=0) + 1
            self.providers[pk] = new_provider(pk, name, self.flows, external_host=external_host, **fields)
            return pk

    def add_application(self, slug: str, name: str, provider: int | None = None, **fields) -> str:
        """An application (of `provider`) as if created; returns its pk."""
        with self.lock:
            pk = str(uuid.uuid4())
            self.applications[pk] = new_application(pk, slug, name, provider=provider, **fields)
            return pk

    def add_outpost(
        self, name: str, providers: list[int] | None = None, managed: str | None = None, config: dict | None = None
    ) -> str:
        with self.lock:
            pk = str(uuid.uuid4())
            self.outposts[pk] = {
                "pk": pk,
                "name": name,
                "type": "proxy",
                "providers": list(providers or []),
                "service_connection": self.service_connection["pk"],
                "config": {"authentik_host": "https://authentik.fake/", **(config or {})},
                "managed": managed,
            }
            self._sync_routes()
            return pk

    def provider(self, name: str) -> dict | None:
        with self.lock:
            return next((copy.deepcopy(p) for p in self.providers.values() if p["name"] == name), None)

    def application(self, slug: str) -> dict | None:
        with self.lock:
            return next((copy.deepcopy(a) for a in self.applications.values() if a["slug"] == slug), None)

    def flow(self, slug: str) -> dict | None:
        with self.lock:
            return next((copy.deepcopy(f) for f in self.flows.values() if f["slug"] == slug), None)

    def _tables(self) -> dict[str, dict]:
        return {
            "flows": self.flows,
            "service_connections": self.service_connections,
            "providers": self.providers,
            "applications": self.applications,
            "outposts": self.outposts,
        }

    def remove_routes(self) -> None:
        """Delete the HTTPRoutes written for the outposts (when a kubeconfig was given)."""
        with self.lock:
            if self.routes is not None:
                self.routes.remove_all()

    def _sync_routes(self) -> None:
        if self.routes is not None:
            self.routes.sync(self.outposts, self.providers)

    def outpost(self, name: str) -> dict | None:
        with self.lock:
            return next((copy.deepcopy(o) for o in self.outposts.values() if o["name"] == name), None)

    # -- request handling (called by the handler threads) -----------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict, body: bytes):
        """Answer one request: (status, payload, extra headers), or None to drop the connection."""
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        record = {"method": method, "path": path, "query": query, "body": _json_or_none(body), "injected": False}
        with self.lock:
            self.requests.append(record)

        problems = self.contract.request_errors(method, path, query, headers, body)
        if problems:
            self._violation(f"request {method} {raw_path}: " + "; ".join(problems))
            return self._answer(record, 400, {"non_field_errors": problems}, check=None)

        fault = self._take_fault(path)
        if fault is not None:
            record["injected"] = True
            if fault["kind"] == "hang":
                record["status"] = None
                self._released.wait(fault["seconds"])
                return None
            extra = {"Retry-After": f"{fault['retry']:g}"} if fault["retry"] is not None else {}
            record["status"] = fault["status"]
            return fault["status"], _encode({"detail": f"Injected fault: HTTP {fault['status']}"}), extra

        denied = self._authenticate(method, path, headers)
        if denied:
            return self._answer(record, 403, {"detail": denied}, check=(method, path, query, headers, body))

        status, payload = self._route(method, path, query, _json_or_none(body))
        return self._answer(record, status, payload, check=(method, path, query, headers, body))

    def _answer(self, record, status, payload, check):
        data = _encode(payload) if payload is not None else b""
        record["status"] = status
        if check is not None:
            if status == 404:
                problems = self.contract.generic_error_errors(data)
            else:
                problems = self.contract.response_errors(*check, status=status, payload=data)
            if problems:
                self._violation(f"response {status} to {record['method']} {record['path']}: " + "; ".join(problems))
        return status, data, {}

    def _violation(self, message: str) -> None:
        with self.lock:
            self.violations.append(message)
        print(f"fake Authentik API: OpenAPI violation: {message}", file=sys.stderr)

    def _take_fault(self, path: str):
        with self.lock:
            for fault in self._faults:
                if fault["count"] > 0 and (fault["path"] is None or fault["path"] in path):
                    fault["count"] -= 1
                    return dict(fault)
        return None

    def _authenticate(self, method: str, path: str, headers: dict) -> str | None:
        header = headers.get("Authorization", "")
        if not header.strip():
            return NO_CREDENTIALS
        scheme, _space, credentials = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return "Unsupported authentication type"
        if not credentials:
            return "Malformed header"
        if credentials == self.token:
            return None
        if credentials in self.read_only_tokens:
            return NO_PERMISSION if method in WRITE_METHODS else None
        if credentials in self.tokens_without_tasks:
            return NO_PERMISSION if path.startswith(f"{API_PREFIX}/tasks/") else None
        return REFUSED

    def _route(self, method: str, path: str, query: dict, body):
        for pattern, methods in ROUTES:
            match = re.fullmatch(API_PREFIX + pattern, path)
            if match and method in methods:
                with self.lock:
                    return getattr(self, methods[method])(query, body, *match.groups())
        return 404, {"detail": "Not found."}

    # -- blueprint instances ----------------------------------------------------------------------

    def _stamp(self) -> datetime:
        """A save time, later than every earlier one (auto_now on a fast machine may repeat)."""
        now = datetime.now(UTC)
        if now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return now

    def _blueprint_json(self, blueprint: dict) -> dict:
        shown = copy.deepcopy(blueprint)
        shown["last_applied"] = blueprint["last_applied"].isoformat()
        return shown

    def list_blueprints(self, query, _body):
        items = sorted(self.blueprints.values(), key=lambda b: b["name"])
        if "name" in query:
            items = [b for b in items if b["name"] == query["name"][0]]
        if "path" in query:
            items = [b for b in items if b["path"] == query["path"][0]]
        if "search" in query:
            term = query["search"][0].lower()
            items = [b for b in items if term in b["name"].lower() or term in b["path"].lower()]
        return _page(query, [self._blueprint_json(b) for b in items])

    def _blueprint_problems(self, body: dict, instance: dict | None) -> dict | None:
        errors: dict[str, list[str]] = {}
        name = body.get("name")
        if name is not None and any(b["name"] == name and b is not instance for b in self.blueprints.values()):
            errors["name"] = ["blueprint instance with this name already exists."]
        path = body.get("path", "")
        if path:
            errors["path"] = ["Blueprint file does not exist"]
        content = body.get("content", "")
        if content:
            # As Authentik: validated with the stored context (none when creating).
            found = authentik_blueprints.problems(content, instance["context"] if instance else {})
            if found:
                errors["content"] = ["Failed to validate blueprint", *[f"- {line}" for line in found]]
        # Authentik's serializer asks this of partial updates too: a PATCH without content fails.
        if not errors and not path and not content:
            errors["non_field_errors"] = ["Either path or content must be set."]
        return errors or None

    def create_blueprint(self, _query, body):
        errors = self._blueprint_problems(body, None)
        if errors:
            return 400, errors
        pk = str(uuid.uuid4())
        self.blueprints[pk] = {
            "pk": pk,
            "name": body["name"],
            "path": body.get("path", ""),
            "context": body.get("context", {}),
            "last_applied": self._stamp(),
            "last_applied_hash": "",
            "status": "unknown",
            "enabled": body.get("enabled", True),
            "managed_models": [],
            "metadata": {},
            "content": body.get("content", ""),
        }
        return 201, self._blueprint_json(self.blueprints[pk])

    def get_blueprint(self, _query, _body, pk):
        blueprint = self.blueprints.get(pk)
        if blueprint is None:
            return 404, {"detail": "No BlueprintInstance matches the given query."}
        return 200, self._blueprint_json(blueprint)

    def update_blueprint(self, _query, body, pk):
        blueprint = self.blueprints.get(pk)
        if blueprint is None:
            return 404, {"detail": "No BlueprintInstance matches the given query."}
        errors = self._blueprint_problems(body, blueprint)
        if errors:
            return 400, errors
        # As Django REST framework: fields left out keep their values (a PUT requires only name).
        for field in ("name", "path", "context", "enabled", "content"):
            if field in body:
                blueprint[field] = body[field]
        blueprint["last_applied"] = self._stamp()
        return 200, self._blueprint_json(blueprint)

    def patch_blueprint(self, query, body, pk):
        return self.update_blueprint(query, body or {}, pk)

    def delete_blueprint(self, _query, _body, pk):
        if self.blueprints.pop(pk, None) is None:
            return 404, {"detail": "No BlueprintInstance matches the given query."}
        return 204, None

    def apply_blueprint(self, _query, _body, pk):
        blueprint = self.blueprints.get(pk)
        if blueprint is None:
            return 404, {"detail": "No BlueprintInstance matches the given query."}
        message_id = str(uuid.uuid4())
        self.tasks[message_id] = {
            "message_id": message_id,
            "queue_name": "default",
            "actor_name": APPLY_ACTOR,
            "state": "queued",
            "mtime": self._stamp().isoformat(),
            "retries": 0,
            "eta": None,
            "rel_obj_app_label": "authentik_blueprints",
            "rel_obj_model": "blueprintinstance",
            "rel_obj_id": pk,
            "uid": pk,
            "logs": [],
            "previous_logs": [],
            "aggregated_status": "queued",
            "description": "Apply single blueprint.",
        }
        timer = threading.Timer(self.apply_delay, self._run_apply, args=(message_id, pk))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()
        return 200, self._blueprint_json(blueprint)

    def _run_apply(self, message_id: str, pk: str) -> None:
        """The background task: what Authentik's worker does with a queued apply."""
        with self.lock:
            task = self.tasks[message_id]
            blueprint = self.blueprints.get(pk)
            logs: list[tuple[str, str]] = []
            if blueprint is None:
                logs.append(("warning", f"Could not find blueprint {pk}, skipping"))
            elif not blueprint["enabled"]:
                task["uid"] = _slug(blueprint["name"])
                logs.append(("info", f"Blueprint {blueprint['name']} is disabled, skipping"))
            else:
                task["uid"] = _slug(blueprint["name"])
                failures = self._apply_failures.pop(0) if self._apply_failures else None
                found = failures or authentik_blueprints.problems(blueprint["content"], blueprint["context"])
                try:
                    data = authentik_blueprints.parse(blueprint["content"])
                except ValueError:
                    data = {}
                if isinstance(data.get("metadata"), dict) and "name" in data["metadata"]:
                    blueprint["metadata"] = {
                        "name": str(data["metadata"]["name"]),
                        "labels": data["metadata"].get("labels") or {},
                    }
                if not found:
                    found = self._apply_entries(data, blueprint["context"])
                if found:
                    blueprint["status"] = "error"
                    logs.extend(("warning", line) for line in found)
                    logs.append(("error", "Blueprint validation failed"))
                else:
                    blueprint["status"] = "successful"
                    blueprint["last_applied_hash"] = hashlib.sha512(blueprint["content"].encode()).hexdigest()
                    blueprint["managed_models"] = authentik_blueprints.model_names(data)
                blueprint["last_applied"] = self._stamp()
            task["state"] = task["aggregated_status"] = "running"
            task["mtime"] = self._stamp().isoformat()
        # As in Authentik, the instance is saved before the task's log is written and it is done.
        timer = threading.Timer(self.apply_delay, self._finish_task, args=(message_id, logs))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _apply_entries(self, data: dict, instance_context: dict) -> list[str]:
        """Store what the entries say, all or nothing; the problems, as log lines."""
        own_context = data.get("context") if isinstance(data.get("context"), dict) else {}
        importer = Importer(self._tables(), {})
        context = {**importer.resolve(own_context), **(instance_context or {})}
        importer.context = context
        entries = data.get("entries") or []
        if isinstance(entries, dict):
            entries = [entry for group in entries.values() for entry in (group or [])]
        try:
            importer.apply(entries)
        except EntryError as exc:
            return [str(exc)]
        for name, table in importer.tables.items():
            current = getattr(self, name)
            current.clear()
            current.update(table)
        self._sync_routes()
        return []

    def _finish_task(self, message_id: str, logs: list[tuple[str, str]]) -> None:
        with self.lock:
            task = self.tasks[message_id]
            task["logs"] = [_log_event(level, event) for level, event in logs]
            task["state"] = "done"
            levels = {level for level, _event in logs}
            task["aggregated_status"] = "error" if "error" in levels else "warning" if "warning" in levels else "done"
            task["mtime"] = self._stamp().isoformat()

    # -- tasks --------------------------------------------------------------------------------------

    def list_tasks(self, query, _body):
        filters = {
            "actor_name": "actor_name",
            "queue_name": "queue_name",
            "rel_obj_content_type__app_label": "rel_obj_app_label",
            "rel_obj_content_type__model": "rel_obj_model",
            "rel_obj_id": "rel_obj_id",
            "state": "state",
        }
        items = list(self.tasks.values())
        for parameter, field in filters.items():
            if parameter in query:
                items = [t for t in items if t[field] == query[parameter][0]]
        if "aggregated_status" in query:
            items = [t for t in items if t["aggregated_status"] in query["aggregated_status"]]
        descending = query.get("ordering", ["-mtime"])[0].startswith("-")
        items.sort(key=lambda t: t["mtime"], reverse=descending)
        return _page(query, copy.deepcopy(items))

    def get_task(self, _query, _body, message_id):
        task = self.tasks.get(message_id)
        if task is None:
            return 404, {"detail": "No Task matches the given query."}
        return 200, copy.deepcopy(task)

    # -- outposts -----------------------------------------------------------------------------------

    def _outpost_json(self, outpost: dict) -> dict:
        shown = copy.deepcopy(outpost)
        shown["providers_obj"] = [self._provider_json(pk) for pk in outpost["providers"] if pk in self.providers]
        # The document says null only through `nullable` beside an allOf, which OpenAPI 3.0.3
        # does not let through: every outpost of the fake has the service connection.
        shown["service_connection_obj"] = copy.deepcopy(self.service_connection)
        shown["refresh_interval_s"] = 300
        shown["token_identifier"] = f"ak-outpost-{outpost['pk']}-api"
        return shown

    def _provider_json(self, pk: int) -> dict:
        """A provider as the Provider schema shows it (in outposts and applications)."""
        provider = self.providers[pk]
        application = next((a for a in self.applications.values() if a["provider"] == pk), None)
        return {
            "pk": pk,
            "name": provider["name"],
            "authentication_flow": provider["authentication_flow"],
            "authorization_flow": provider["authorization_flow"],
            "invalidation_flow": provider["invalidation_flow"],
            "property_mappings": list(provider["property_mappings"]),
            "component": "ak-provider-proxy-form",
            "assigned_application_slug": application["slug"] if application else None,
            "assigned_application_name": application["name"] if application else None,
            "assigned_backchannel_application_slug": None,
            "assigned_backchannel_application_name": None,
            "verbose_name": "Proxy Provider",
            "verbose_name_plural": "Proxy Providers",
            "meta_model_name": "authentik_providers_proxy.proxyprovider",
        }

    def _proxy_provider_json(self, pk: int) -> dict:
        """A provider as the ProxyProvider schema shows it."""
        provider = self.providers[pk]
        shown = self._provider_json(pk)
        for field in (
            "client_id",
            "internal_host",
            "external_host",
            "internal_host_ssl_validation",
            "certificate",
            "skip_path_regex",
            "basic_auth_enabled",
            "basic_auth_password_attribute",
            "basic_auth_user_attribute",
            "mode",
            "intercept_header_auth",
            "cookie_domain",
            "jwt_federation_sources",
            "jwt_federation_providers",
            "access_token_validity",
            "refresh_token_validity",
        ):
            shown[field] = copy.deepcopy(provider[field])
        callback = (
            provider["external_host"].rstrip("/") + "/outpost.goauthentik.io/callback?X-authentik-auth-callback=true"
        )
        shown["redirect_uris"] = [{"matching_mode": "strict", "url": callback, "redirect_uri_type": "authorization"}]
        shown["outpost_set"] = [f"Outpost {o['name']}" for o in self.outposts.values() if pk in o["providers"]]
        return shown

    def list_proxy_providers(self, query, _body):
        items = sorted(self.providers.values(), key=lambda p: p["pk"])
        for parameter, field in (
            ("name__iexact", "name"),
            ("external_host__iexact", "external_host"),
            ("mode__iexact", "mode"),
            ("internal_host__iexact", "internal_host"),
        ):
            if parameter in query:
                items = [p for p in items if str(p[field]).lower() == query[parameter][0].lower()]
        if "application__isnull" in query:
            assigned = {a["provider"] for a in self.applications.values()}
            wanted = query["application__isnull"][0] == "true"
            items = [p for p in items if (p["pk"] not in assigned) == wanted]
        if "search" in query:
            items = [p for p in items if query["search"][0].lower() in p["name"].lower()]
        return _page(query, [self._proxy_provider_json(p["pk"]) for p in items])

    def get_proxy_provider(self, _query, _body, pk):
        if int(pk) not in self.providers:
            return 404, {"detail": "No ProxyProvider matches the given query."}
        return 200, self._proxy_provider_json(int(pk))

    def delete_proxy_provider(self, _query, _body, pk):
        # As in Authentik: the application keeps existing without a provider (SET_NULL), and every
        # outpost stops serving it.
        if self.providers.pop(int(pk), None) is None:
            return 404, {"detail": "No ProxyProvider matches the given query."}
        for application in self.applications.values():
            if application["provider"] == int(pk):
                application["provider"] = None
        for outpost in self.outposts.values():
            outpost["providers"] = [p for p in outpost["providers"] if p != int(pk)]
        self._sync_routes()
        return 204, None

    # -- applications ---------------------------------------------------------------------------------

    def _application_json(self, application: dict) -> dict:
        shown = copy.deepcopy(application)
        provider = application["provider"]
        # As for outposts' service connection: the document says null only through `nullable` beside
        # an allOf, which OpenAPI 3.0.3 does not let through; the fake's applications all have one.
        shown["provider_obj"] = self._provider_json(provider) if provider in self.providers else None
        shown["backchannel_providers_obj"] = []
        external = self.providers[provider]["external_host"] if provider in self.providers else ""
        shown["launch_url"] = application["meta_launch_url"] or external or None
        shown["meta_icon_url"] = None
        shown["meta_icon_themed_urls"] = {"light": None, "dark": None}
        return shown

    def list_applications(self, query, _body):
        items = sorted(self.applications.values(), key=lambda a: a["name"])
        for parameter in ("slug", "name", "group", "meta_launch_url"):
            if parameter in query:
                items = [a for a in items if a[parameter] == query[parameter][0]]
        if "search" in query:
            term = query["search"][0].lower()
            items = [a for a in items if term in a["name"].lower() or term in a["slug"].lower()]
        return _page(query, [self._application_json(a) for a in items])

    def get_application(self, _query, _body, slug):
        application = next((a for a in self.applications.values() if a["slug"] == slug), None)
        if application is None:
            return 404, {"detail": "No Application matches the given query."}
        return 200, self._application_json(application)

    def delete_application(self, _query, _body, slug):
        pk = next((pk for pk, a in self.applications.items() if a["slug"] == slug), None)
        if pk is None:
            return 404, {"detail": "No Application matches the given query."}
        del self.applications[pk]
        return 204, None

    def list_outposts(self, query, _body):
        items = sorted(self.outposts.values(), key=lambda o: o["name"])
        if "name__iexact" in query:
            items = [o for o in items if o["name"].lower() == query["name__iexact"][0].lower()]
        if "name__icontains" in query:
            items = [o for o in items if query["name__icontains"][0].lower() in o["name"].lower()]
        if "managed__iexact" in query:
            items = [o for o in items if (o["managed"] or "").lower() == query["managed__iexact"][0].lower()]
        if "providers_by_pk" in query:
            wanted = {int(pk) for pk in query["providers_by_pk"]}
            items = [o for o in items if wanted & set(o["providers"])]
        if "providers__isnull" in query:
            empty = query["providers__isnull"][0] == "true"
            items = [o for o in items if (not o["providers"]) == empty]
        return _page(query, [self._outpost_json(o) for o in items])

    def get_outpost(self, _query, _body, pk):
        outpost = self.outposts.get(pk)
        if outpost is None:
            return 404, {"detail": "No Outpost matches the given query."}
        return 200, self._outpost_json(outpost)

    def patch_outpost(self, _query, body, pk):
        outpost = self.outposts.get(pk)
        if outpost is None:
            return 404, {"detail": "No Outpost matches the given query."}
        body = body or {}
        unknown = [p for p in body.get("providers", []) if p not in self.providers]
        if unknown:
            return 400, {"providers": [f'Invalid pk "{unknown[0]}" - object does not exist.']}
        for field in ("name", "type", "providers", "config", "managed", "service_connection"):
            if field in body:
                outpost[field] = body[field]
        self._sync_routes()
        return 200, self._outpost_json(outpost)

    def delete_outpost(self, _query, _body, pk):
        # Authentik's outpost controller removes what it deployed for the outpost (its route).
        if self.outposts.pop(pk, None) is None:
            return 404, {"detail": "No Outpost matches the given query."}
        self._sync_routes()
        return 204, None


# Paths under /api/v3 and the method names that answer them, per HTTP method.
_UUID = r"([0-9a-fA-F-]{36})"
ROUTES = (
    (r"/managed/blueprints/", {"GET": "list_blueprints", "POST": "create_blueprint"}),
    (
        rf"/managed/blueprints/{_UUID}/",
        {"GET": "get_blueprint", "PUT": "update_blueprint", "PATCH": "patch_blueprint", "DELETE": "delete_blueprint"},
    ),
    (rf"/managed/blueprints/{_UUID}/apply/", {"POST": "apply_blueprint"}),
    (r"/tasks/tasks/", {"GET": "list_tasks"}),
    (rf"/tasks/tasks/{_UUID}/", {"GET": "get_task"}),
    (r"/outposts/instances/", {"GET": "list_outposts"}),
    (rf"/outposts/instances/{_UUID}/", {"GET": "get_outpost", "PATCH": "patch_outpost", "DELETE": "delete_outpost"}),
    (r"/providers/proxy/", {"GET": "list_proxy_providers"}),
    (r"/providers/proxy/([0-9]+)/", {"GET": "get_proxy_provider", "DELETE": "delete_proxy_provider"}),
    (r"/core/applications/", {"GET": "list_applications"}),
    (r"/core/applications/([-a-zA-Z0-9_]+)/", {"GET": "get_application", "DELETE": "delete_application"}),
)


def _page(query: dict, items: list) -> tuple[int, dict]:
    """Authentik's pagination envelope around one page of items."""
    try:
        page = max(1, int(query.get("page", ["1"])[0]))
        size = max(1, int(query.get("page_size", ["20"])[0]))
    except ValueError:
        return 400, {"non_field_errors": ["Invalid page."]}
    total_pages = max(1, -(-len(items) // size))
    start = (page - 1) * size
    shown = items[start : start + size]
    pagination = {
        "next": page + 1 if page < total_pages else 0,
        "previous": page - 1 if page > 1 else 0,
        "count": len(items),
        "current": page,
        "total_pages": total_pages,
        "start_index": start + 1 if shown else 0,
        "end_index": start + len(shown),
    }
    return 200, {"pagination": pagination, "results": shown, "autocomplete": {}}


def _log_event(level: str, event: str) -> dict:
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "log_level": level,
        "logger": "authentik.blueprints.v1.importer",
        "event": event,
        "attributes": {},
    }


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _json_or_none(body: bytes):
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _encode(payload) -> bytes:
    return json.dumps(payload).encode()


def _handler_for(fake: FakeAuthentik):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake-authentik"

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = fake.handle(self.command, self.path, dict(self.headers.items()), body)
            if answer is None:
                self.close_connection = True
                return
            status, data, extra = answer
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            if data:
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format, *args):  # noqa: A002 - the signature of the method it overrides
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--token", default=TEST_TOKEN, help="the API token it accepts")
    parser.add_argument("--version", default=DEFAULT_VERSION, help="the Authentik release whose OpenAPI document holds")
    parser.add_argument("--apply-delay", type=float, default=0.5, help="seconds a queued apply waits for the worker")
    parser.add_argument(
        "--kubeconfig", help="a cluster to write the outposts' HTTPRoutes to, as Authentik's outpost controller does"
    )
    args = parser.parse_args(argv)
    fake = FakeAuthentik(
        token=args.token,
        version=args.version,
        apply_delay=args.apply_delay,
        host=args.host,
        port=args.port,
        kubeconfig=args.kubeconfig,
    )
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(0))
    fake.start()
    print(f"fake Authentik API (OpenAPI of {args.version}) at {fake.url}{API_PREFIX}/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        fake.stop()
    return 1 if fake.violations else 0


if __name__ == "__main__":
    sys.exit(main())
