"""What the tests of the Authentik client (plugins/module_utils/authentik/) share: a blueprint that
uses Authentik's tags, blueprints owned by a deployment, tokens the fake Authentik refuses or accepts
for some things only, a client for a fake, and a sleep that records its pauses."""

from __future__ import annotations

from fake_authentik import TEST_TOKEN as TOKEN

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.blueprints import ensure_blueprint_present
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.client import AuthentikClient

BLUEPRINT = """\
version: 1
metadata:
  name: mlflow
context:
  mode: forward_single
entries:
  - model: authentik_providers_proxy.proxyprovider
    identifiers: {name: mlflow}
    attrs:
      name: mlflow
      mode: !Context mode
      external_host: !Format ["https://%s", !Context [host, mlflow.example.com]]
      authorization_flow: !Find [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]
      skip_path_regex: |
        ^/health$
        ^/static/
"""
# Tokens the fake refuses, or accepts for some things only.
WRONG = "not-the-fake-token"
READER = "reader-0123456789"
NO_TASKS = "no-tasks-0123456789"
FAST_WAIT = {"wait_timeout": 10.0, "wait_sleep": 0.02}


def owned_blueprint(name: str, owner: str, entries: str) -> str:
    """A blueprint `name` labelled as the deployment `owner`'s (as the authentik role labels its own),
    with `entries` (the YAML list of its entries, indented as under `entries:`)."""
    return (
        f"version: 1\nmetadata:\n  name: {name}\n  labels:\n    homelab.mlflow/deployment: {owner}\nentries:\n{entries}"
    )


class RecordingSleep:
    """Stands in for time.sleep: records the pauses and does not sleep."""

    def __init__(self):
        self.pauses = []

    def __call__(self, seconds):
        self.pauses.append(seconds)


def client_for(fake, token=TOKEN, **options):
    """An AuthentikClient for a fake Authentik, retrying fast."""
    options.setdefault("retry_delay", 0.01)
    options.setdefault("request_timeout", 5.0)
    return AuthentikClient(fake.url, token, **options)


def present(client, name="mlflow", content=BLUEPRINT, **options):
    """ensure_blueprint_present with BLUEPRINT, waiting briefly."""
    return ensure_blueprint_present(client, name, content, **{**FAST_WAIT, **options})
