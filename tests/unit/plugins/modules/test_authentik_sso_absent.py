"""homelab.mlflow.authentik_sso_absent's operation (module_utils teardown.remove_sso) against the fake
Authentik API (tools/standins/authentik/), which holds every request and response to Authentik's
OpenAPI document."""

from __future__ import annotations

from authentik_client_testing import owned_blueprint
from fake_authentik import TEST_TOKEN as TOKEN

from ansible_collections.homelab.mlflow.plugins.module_utils import teardown
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.client import AuthentikClient

HOST = "mlflow.example.com"
OWNER = "mlflow at mlflow.example.com"
NAME = "mlflow-mlflow-example-com"
SHARED = "homelab proxy"
NAMES = {"blueprint": NAME, "provider": NAME, "application_slug": NAME, "outpost": NAME}


def blueprint(owner=OWNER, host=HOST, name=NAME):
    entries = f"""\
  - model: authentik_providers_proxy.proxyprovider
    id: p
    identifiers: {{name: {name}}}
    attrs:
      name: {name}
      mode: proxy
      external_host: https://{host}
      internal_host: http://mlflow.mlflow.svc.cluster.local
      authorization_flow: !Find [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]
      invalidation_flow: !Find [authentik_flows.flow, [slug, default-provider-invalidation-flow]]
  - model: authentik_core.application
    identifiers: {{slug: {name}}}
    attrs: {{name: MLflow, slug: {name}, provider: !KeyOf p}}
  - model: authentik_outposts.outpost
    identifiers: {{name: {name}}}
    attrs: {{name: {name}, type: proxy, providers: [!KeyOf p]}}
"""
    return owned_blueprint(name, owner, entries)


def client(fake):
    return AuthentikClient(fake.url, TOKEN, retry_delay=0.01)


def test_removes_a_dedicated_deployment_check_mode_first(fake_authentik):
    fake_authentik.add_blueprint(NAME, blueprint())
    fake_authentik.apply_blueprint({}, None, fake_authentik.blueprint(NAME)["pk"])
    _wait_applied(fake_authentik)
    assert fake_authentik.provider(NAME) is not None

    preview = teardown.remove_sso(client(fake_authentik), NAMES, HOST, OWNER, check_mode=True)
    assert preview["changed"]
    assert [(a["action"], a["object"]) for a in preview["actions"]] == [
        ("delete", "application"),
        ("delete", "provider"),
        ("delete", "outpost"),
    ]
    assert fake_authentik.provider(NAME) is not None
    assert not [r for r in fake_authentik.requests if r["method"] != "GET"]

    done = teardown.remove_sso(client(fake_authentik), NAMES, HOST, OWNER)
    assert done["changed"]
    assert fake_authentik.provider(NAME) is None
    assert fake_authentik.application(NAME) is None
    assert fake_authentik.outpost(NAME) is None

    again = teardown.remove_sso(client(fake_authentik), NAMES, HOST, OWNER)
    assert not again["changed"]


def test_a_shared_outpost_keeps_its_other_providers(fake_authentik):
    grafana = fake_authentik.add_provider("grafana", external_host="https://grafana.example.com")
    ours = fake_authentik.add_provider(NAME, external_host=f"https://{HOST}")
    fake_authentik.add_application(NAME, "MLflow", provider=ours)
    fake_authentik.add_outpost(SHARED, providers=[grafana, ours])

    names = {**NAMES, "outpost": SHARED}
    done = teardown.remove_sso(client(fake_authentik), names, HOST, OWNER, dedicated=False)
    assert [(a["action"], a["object"]) for a in done["actions"]] == [
        ("remove_provider", "outpost"),
        ("delete", "application"),
        ("delete", "provider"),
    ]
    assert fake_authentik.outpost(SHARED)["providers"] == [grafana]
    assert fake_authentik.provider("grafana") is not None


def test_another_deployments_objects_stay(fake_authentik):
    fake_authentik.add_blueprint("theirs", blueprint(owner="dev at dev.example.com", host="dev.example.com"))
    fake_authentik.apply_blueprint({}, None, fake_authentik.blueprint("theirs")["pk"])
    _wait_applied(fake_authentik)
    done = teardown.remove_sso(client(fake_authentik), NAMES, HOST, OWNER)
    assert not done["changed"]
    assert done["skipped"]
    assert fake_authentik.provider(NAME) is not None


def _wait_applied(fake, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(b["status"] == "successful" for b in fake.blueprints.values()) and fake.providers:
            return
        time.sleep(0.05)
    raise AssertionError("the fake did not apply the blueprint")
