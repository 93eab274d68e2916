"""Reading the audit log: requests from a mark on, by user, with dry runs not counted as writes."""

from __future__ import annotations

import json

from audit import AuditLog


def _event(verb, user, resource="secrets", name="s", uri="/api/v1/namespaces/ns/secrets/s", stage="ResponseComplete"):
    return (
        json.dumps(
            {
                "stage": stage,
                "verb": verb,
                "user": {"username": user},
                "requestURI": uri,
                "objectRef": {"resource": resource, "namespace": "ns", "name": name, "apiVersion": "v1"},
                "responseStatus": {"code": 200},
            }
        )
        + "\n"
    )


def test_writes_since_a_mark_for_one_user(tmp_path):
    log = AuditLog(tmp_path / "audit.log")
    assert log.mark() == 0
    log.path.write_text(_event("create", "admin"))
    mark = log.mark()
    with open(log.path, "a") as f:
        f.write(_event("get", "admin"))
        f.write(_event("patch", "admin", uri="/api/v1/namespaces/ns/secrets/s?dryRun=All"))
        f.write(_event("patch", "admin", stage="ResponseStarted"))
        f.write(_event("delete", "system:kube-controller-manager"))
        f.write(_event("update", "admin", resource="deployments", name="d"))

    assert [(r.verb, r.resource) for r in log.requests(mark, user="admin")] == [
        ("get", "/secrets"),
        ("patch", "/secrets"),
        ("update", "/deployments"),
    ]
    assert [(r.verb, r.name) for r in log.writes(mark, user="admin")] == [("update", "d")]
    assert len(log.writes(mark)) == 2
    assert [r.verb for r in log.requests(mark, namespace="ns")] == ["get", "patch", "delete", "update"]
    assert log.requests(mark, namespace="other") == []
