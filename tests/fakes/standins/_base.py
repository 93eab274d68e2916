"""Shared plumbing of the test cluster's stand-in controllers.

A stand-in replaces an operator that cannot run here (no container runtime, no network). It
does the small part of the operator's job that this collection relies on, through the real API
server, and nothing more. `tools/testcluster/testcluster.py up` starts every
`tests/fakes/standins/*.py` (not starting with `_`) with `--kubeconfig`, and `down` stops it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException


def connect(description: str) -> client.ApiClient:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--kubeconfig", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return config.new_client_from_config(config_file=args.kubeconfig)


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
