# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The API requests of one measured run, read from the test cluster's audit log (JSON lines).

A run is the stretch of the log between two byte positions (taken before and after it), of one
user. Requests about the run's namespaces (objects in them, or the Namespace objects themselves)
are the run's for certain; cluster-scoped requests in the same stretch (discovery, StorageClasses,
CRDs) are counted apart, as they may also come from other clients of the same user.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass(frozen=True)
class Request:
    verb: str
    user: str
    resource: str  # "group/resource[/subresource]" ("" group for the core API), "" for non-resource URLs
    namespace: str
    name: str
    uri: str
    code: int
    dry_run: bool
    user_agent: str = ""

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS and not self.dry_run

    @property
    def key(self) -> str:
        """verb and resource, e.g. `patch apps/deployments`, `get /apis` for a non-resource URL;
        server-side dry runs are marked, as they write nothing."""
        target = self.resource or self.uri.split("?", 1)[0]
        return f"{self.verb}{' (dry run)' if self.dry_run else ''} {target}"

    def concerns(self, namespaces: Iterable[str]) -> bool:
        """About an object in one of the namespaces, or one of the Namespace objects."""
        names = set(namespaces)
        return self.namespace in names or (self.resource == "/namespaces" and self.name in names)


def parse_event(event: dict) -> Request | None:
    """The request of one audit event, or None for events other than a completed response."""
    if event.get("stage") != "ResponseComplete":
        return None
    ref = event.get("objectRef") or {}
    resource = ref.get("resource", "")
    if resource:
        resource = f"{ref.get('apiGroup', '')}/{resource}"
        if ref.get("subresource"):
            resource += f"/{ref['subresource']}"
    uri = event.get("requestURI", "")
    return Request(
        verb=event.get("verb", ""),
        user=(event.get("user") or {}).get("username", ""),
        resource=resource,
        namespace=ref.get("namespace", ""),
        name=ref.get("name", ""),
        uri=uri,
        code=(event.get("responseStatus") or {}).get("code", 0),
        dry_run="dryRun=All" in uri,
        user_agent=event.get("userAgent", ""),
    )


def parse_lines(lines: Iterable[bytes | str]) -> Iterator[Request]:
    """Requests of JSON lines; a line cut short (the log being written) is skipped."""
    for line in lines:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        request = parse_event(event)
        if request is not None:
            yield request


def read(path, start: int, end: int | None = None, user: str | None = None) -> list[Request]:
    """Completed requests logged between byte positions start and end (end of file when None)."""
    with open(path, "rb") as log:
        log.seek(start)
        data = log.read() if end is None else log.read(max(0, end - start))
    return [r for r in parse_lines(data.splitlines()) if user is None or r.user == user]


def mark(path) -> int:
    """The position the log ends at now: requests logged later are read from there."""
    with open(path, "rb") as log:
        return log.seek(0, 2)


@dataclass
class Summary:
    """The requests of one run: counted in total, by verb and resource, and per object."""

    total: int
    writes: int
    by_verb_resource: dict[str, int]
    per_object: dict[str, dict[str, int]]
    cluster_wide: int
    cluster_wide_by_verb_resource: dict[str, int]

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "writes": self.writes,
            "by_verb_resource": self.by_verb_resource,
            "per_object": self.per_object,
            "cluster_wide": self.cluster_wide,
            "cluster_wide_by_verb_resource": self.cluster_wide_by_verb_resource,
        }


def object_key(request: Request) -> str:
    """`resource name` of the object a request is about (`resource *` for a list or watch); the
    namespace is left out, so that the same object of several targets adds up."""
    return f"{request.resource or request.uri.split('?', 1)[0]} {request.name or '*'}"


def summarize(requests: Iterable[Request], namespaces: Iterable[str]) -> Summary:
    """Count the requests about the namespaces, and, apart, the cluster-scoped ones; requests
    about other namespaces (other clients of the cluster) are left out."""
    names = set(namespaces)
    own: list[Request] = []
    cluster: list[Request] = []
    for request in requests:
        if request.concerns(names):
            own.append(request)
        elif not request.namespace:
            cluster.append(request)
    per_object: dict[str, Counter] = {}
    for request in own:
        per_object.setdefault(object_key(request), Counter())[
            request.verb + (" (dry run)" if request.dry_run else "")
        ] += 1
    return Summary(
        total=len(own),
        writes=sum(1 for r in own if r.is_write),
        by_verb_resource=dict(sorted(Counter(r.key for r in own).items())),
        per_object={key: dict(sorted(counts.items())) for key, counts in sorted(per_object.items())},
        cluster_wide=len(cluster),
        cluster_wide_by_verb_resource=dict(sorted(Counter(r.key for r in cluster).items())),
    )
