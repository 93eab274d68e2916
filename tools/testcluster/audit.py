"""Read the test cluster's audit log: who sent which request, from a marked point on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass(frozen=True)
class Request:
    verb: str
    user: str
    resource: str  # "group/resource" ("" group for the core API), "" for non-resource URLs
    namespace: str
    name: str
    uri: str
    code: int
    dry_run: bool

    def concerns(self, namespace: str) -> bool:
        return self.namespace == namespace or (self.resource == "/namespaces" and self.name == namespace)

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS and not self.dry_run


class AuditLog:
    def __init__(self, path: Path):
        self.path = Path(path)

    def mark(self) -> int:
        """A position to read from later: everything logged after this call."""
        return self.path.stat().st_size if self.path.exists() else 0

    def requests(self, since: int = 0, user: str | None = None, namespace: str | None = None) -> list[Request]:
        """Completed requests after `since`, optionally of one user and about one namespace
        (objects in it, or the namespace object itself)."""
        found = []
        with open(self.path, "rb") as log:
            log.seek(since)
            for line in log:
                event = json.loads(line)
                if event.get("stage") != "ResponseComplete":
                    continue
                request = _request(event)
                if (user is None or request.user == user) and (namespace is None or request.concerns(namespace)):
                    found.append(request)
        return found

    def writes(self, since: int = 0, user: str | None = None, namespace: str | None = None) -> list[Request]:
        return [r for r in self.requests(since, user, namespace) if r.is_write]


def _request(event: dict) -> Request:
    ref = event.get("objectRef") or {}
    resource = ref.get("resource", "")
    if resource:
        resource = f"{ref.get('apiGroup', '')}/{resource}"
        if ref.get("subresource"):
            resource += f"/{ref['subresource']}"
    return Request(
        verb=event.get("verb", ""),
        user=event.get("user", {}).get("username", ""),
        resource=resource,
        namespace=ref.get("namespace", ""),
        name=ref.get("name", ""),
        uri=event.get("requestURI", ""),
        code=event.get("responseStatus", {}).get("code", 0),
        dry_run="dryRun=All" in event.get("requestURI", ""),
    )
