"""Shared plumbing of the test cluster's stand-in controllers.

A stand-in replaces an operator that cannot run here (no container runtime, no network). It
does the small part of the operator's job that this collection relies on, through the real API
server, and nothing more. `tools/testcluster/testcluster.py up` starts every
`tools/standins/operators/*.py` (not starting with `_`) with `--kubeconfig`, and `down` stops it.
"""

from __future__ import annotations

import argparse
import logging
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

# Longest pause before a failed sync is tried again.
MAX_RETRY_SECONDS = 30


class KeyedWorker:
    """Watch events feed object keys (namespace, name) into one queue and one worker syncs them in
    turn, so a controller's syncs never overlap; a burst of events for one object makes one sync,
    and a failed sync is retried with backoff (a missing ServiceAccount or a slow API server is
    usually transient). Subclasses define sync(namespace, name)."""

    def __init__(self, log: logging.Logger):
        self.log = log
        self.queue: queue.Queue[tuple[str, str]] = queue.Queue()
        self.pending: set[tuple[str, str]] = set()
        self.failures: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()

    def sync(self, namespace: str, name: str) -> None:
        raise NotImplementedError

    def enqueue(self, key: tuple[str, str]) -> None:
        with self.lock:
            if key in self.pending:
                return
            self.pending.add(key)
        self.queue.put(key)

    def work_forever(self) -> None:
        while True:
            key = self.queue.get()
            with self.lock:
                self.pending.discard(key)
            try:
                self.sync(*key)
                self.failures.pop(key, None)
            except Exception as err:  # noqa: BLE001 - a controller retries, like the operator
                self.retry_later(key, err)

    def retry_later(self, key: tuple[str, str], err: Exception) -> None:
        failures = self.failures[key] = self.failures.get(key, 0) + 1
        delay = min(2**failures, MAX_RETRY_SECONDS)
        reason = f"{err.status} {err.reason}" if isinstance(err, ApiException) else str(err)
        self.log.warning("sync %s/%s failed (%s); retrying in %ss", *key, reason, delay)
        timer = threading.Timer(delay, self.enqueue, args=(key,))
        timer.daemon = True
        timer.start()


def start(
    description: str, add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
) -> tuple[client.ApiClient, argparse.Namespace]:
    """Parse the command line (`--kubeconfig` and what add_arguments adds), set up logging and SIGTERM
    (a clean exit: `finally` blocks run), and connect; returns the client and the parsed arguments."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--kubeconfig", required=True)
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return config.new_client_from_config(config_file=args.kubeconfig), args


def connect(description: str) -> client.ApiClient:
    return start(description)[0]


def reconcile_forever(name: str, list_func: Callable, handle: Callable[[str, dict], None], **kwargs) -> None:
    """Watch a resource and call handle(event_type, object) for every event, forever.

    Re-lists on start and after every watch expiry, so no event is missed for good; handle()
    must be idempotent. Objects are passed as plain dicts (the API's JSON), errors are logged.
    """
    log = logging.getLogger(name)
    while True:
        try:
            stream = watch.Watch().stream(list_func, timeout_seconds=300, **kwargs)
            for event in stream:
                try:
                    handle(event["type"], event["raw_object"])
                except ApiException as err:
                    log.warning("%s %s: %s %s", event["type"], _ident(event["raw_object"]), err.status, err.reason)
        except ApiException as err:
            log.warning("watch failed: %s %s; retrying", err.status, err.reason)
            time.sleep(1)
        except Exception:
            log.exception("watch loop error; retrying")
            time.sleep(1)


def _ident(obj: dict) -> str:
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
