"""What the tests of the test cluster and its stand-ins share: namespaces of their own on it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from ansible_runs import eventually, unique
from kubernetes import client
from kubernetes.client.exceptions import ApiException

# PodSecurity `restricted` enforced, as site.yml labels the namespaces it creates.
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}


@contextmanager
def restricted_namespace(k8s, prefix: str) -> Iterator[str]:
    """A fresh namespace named after `prefix`, with PodSecurity `restricted` enforced, deleted afterwards."""
    core = client.CoreV1Api(k8s)
    name = unique(prefix)
    core.create_namespace({"metadata": {"name": name, "labels": RESTRICTED}})
    try:
        # Pods are refused until the ServiceAccount controller has made the namespace's default account.
        eventually(lambda: core.list_namespaced_service_account(name).items, what="default ServiceAccount")
        yield name
    finally:
        core.delete_namespace(name)


def delete_namespaces(k8s, names: Iterable[str]) -> None:
    """Deletes each of the namespaces `names` that still exists."""
    core = client.CoreV1Api(k8s)
    for name in names:
        try:
            core.delete_namespace(name)
        except ApiException as err:
            if err.status != 404:
                raise


def exists(read, *args) -> bool:
    """Whether read(*args) finds the object (False on 404)."""
    try:
        read(*args)
    except ApiException as err:
        if err.status == 404:
            return False
        raise
    return True
