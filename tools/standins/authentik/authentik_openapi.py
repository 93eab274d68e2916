"""Authentik's upstream OpenAPI document as a contract that the fake Authentik API is held to.

The document is read at run time from the shared schema folder (`$HOMELAB_SHARED_SCHEMAS`, else
`../shared/schemas` beside the checkout): `authentik/<version>/schema.yml`, as published with
that Authentik release. Nothing of it is copied into the collection.

Only the operations the fake serves are kept (with every component they reference), which makes
openapi-core's set-up fast; a request for any other path is reported as a violation. Schemas are
strict about properties: a request or response property the document does not define is a
violation (OpenAPI would allow it, but a fake that invents fields proves nothing).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

REPO = Path(__file__).resolve().parents[3]
# The newest Authentik release whose OpenAPI document the shared schema folder holds.
DEFAULT_VERSION = "2026.5.6"
SERVER_URL = "http://authentik.fake"
API_PREFIX = "/api/v3"

# The operations the fake serves, by path (as the OpenAPI document writes them).
SERVED_PATHS = (
    "/managed/blueprints/",
    "/managed/blueprints/{instance_uuid}/",
    "/managed/blueprints/{instance_uuid}/apply/",
    "/tasks/tasks/",
    "/tasks/tasks/{message_id}/",
    "/outposts/instances/",
    "/outposts/instances/{uuid}/",
    "/providers/proxy/",
    "/providers/proxy/{id}/",
    "/core/applications/",
    "/core/applications/{slug}/",
)


class SchemasMissing(RuntimeError):
    """The shared schema folder (or the Authentik version asked for) is not there."""


def schemas_dir() -> Path:
    return Path(os.environ.get("HOMELAB_SHARED_SCHEMAS", REPO.parent / "shared" / "schemas")) / "authentik"


def _refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def prune(document: dict, paths: tuple[str, ...]) -> dict:
    """The document with only `paths` and the components they reference, directly or not."""
    pruned = {key: value for key, value in document.items() if key not in ("paths", "components")}
    pruned["paths"] = {path: document["paths"][path] for path in paths}
    components: dict[str, dict] = {"securitySchemes": document["components"]["securitySchemes"]}
    pending: set[str] = set()
    _refs(pruned["paths"], pending)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _hash, _components, section, name = ref.split("/")
        component = document["components"][section][name]
        components.setdefault(section, {})[name] = component
        _refs(component, pending)
    pruned["components"] = components
    return pruned


class Contract:
    """Validates requests to and responses from the fake against one Authentik version's document."""

    def __init__(self, version: str = DEFAULT_VERSION):
        source = schemas_dir() / version / "schema.yml"
        if not source.is_file():
            raise SchemasMissing(
                f"{source} is missing: the fake Authentik API is validated against Authentik's OpenAPI document "
                "from the shared schema folder (set HOMELAB_SHARED_SCHEMAS to the folder that holds authentik/)"
            )
        # The C loader when PyYAML has it: the document is 1.7 MB, three times faster to read.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(source.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
        self.version = version
        self.source = source
        self.all_paths = frozenset(document["paths"])
        self.components = document["components"]["schemas"]
        pruned = prune(document, SERVED_PATHS)
        # The upstream document is taken as valid; checking it again costs seconds every run.
        config = Config(spec_validator_cls=None, additional_properties_default_policy="forbid")
        self.api = OpenAPI.from_dict(pruned, config=config)

    def _api_path(self, path: str) -> str:
        return path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path

    def _mock_request(self, method, path, query, headers, body) -> MockRequest:
        return MockRequest(
            SERVER_URL,
            method.lower(),
            path,
            args=[(key, value) for key, values in query.items() for value in values],
            headers=headers,
            data=body or None,
            content_type=headers.get("Content-Type", "application/json") if body else "application/json",
        )

    def request_errors(self, method: str, path: str, query: dict, headers: dict, body: bytes) -> list[str]:
        """What is wrong with a request, per the document (empty when nothing is)."""
        if not path.startswith(API_PREFIX + "/"):
            return [f"{path} is not under {API_PREFIX}/"]
        if not self._matches_served_path(self._api_path(path)):
            where = "served by Authentik but not by this fake" if self._matches_any(path) else "not in Authentik's API"
            return [f"the path is {where} ({self.source})"]
        try:
            self.api.validate_request(self._mock_request(method, path, query, headers, body))
        except Exception as exc:  # noqa: BLE001 - every openapi-core error is a violation to report
            return [_describe(exc)]
        return []

    def response_errors(
        self, method: str, path: str, query: dict, headers: dict, body: bytes, status: int, payload: bytes
    ) -> list[str]:
        """What is wrong with a response to a request, per the document (empty when nothing is)."""
        request = self._mock_request(method, path, query, headers, body)
        response = MockResponse(payload, status_code=status, content_type="application/json")
        try:
            self.api.validate_response(request, response)
        except Exception as exc:  # noqa: BLE001 - every openapi-core error is a violation to report
            return [_describe(exc)]
        return []

    def generic_error_errors(self, payload: bytes) -> list[str]:
        """Checks an answer the document leaves out (404) against its GenericError schema by hand."""
        try:
            body = json.loads(payload)
        except ValueError as exc:
            return [f"not JSON: {exc}"]
        required = self.components["GenericError"]["required"]
        allowed = set(self.components["GenericError"]["properties"])
        problems = [f"missing {key!r}" for key in required if key not in body]
        problems += [f"unknown property {key!r}" for key in body if key not in allowed]
        return problems

    def _matches_served_path(self, api_path: str) -> bool:
        return any(_match(template, api_path) for template in SERVED_PATHS)

    def _matches_any(self, path: str) -> bool:
        return any(_match(template, self._api_path(path)) for template in self.all_paths)


def _match(template: str, path: str) -> bool:
    parts, wanted = template.strip("/").split("/"), path.strip("/").split("/")
    return len(parts) == len(wanted) and all(
        part == got or (part.startswith("{") and part.endswith("}") and got)
        for part, got in zip(parts, wanted, strict=True)
    )


def _describe(exc: BaseException) -> str:
    """openapi-core's error with the schema errors it wraps (which say what exactly is wrong)."""
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        details = getattr(cause, "schema_errors", None)
        if details:
            parts.extend(f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in details)
        elif str(cause) not in parts[0]:
            parts.append(str(cause))
        cause = cause.__cause__
    return "; ".join(parts)
