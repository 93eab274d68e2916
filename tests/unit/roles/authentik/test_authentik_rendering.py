"""The authentik role's blueprint, rendered for every variant and held to Authentik's blueprint schema.

Every case is a host of one ansible-playbook run (playbooks/render.yml) that renders the role's
templates with its defaults and vars and the case's variables; no cluster and no Authentik are
needed. Each rendered blueprint must pass what the fake Authentik API checks before it applies
one (tools/standins/authentik/authentik_blueprints.py: Authentik's blueprint JSON schema, with its
YAML tags), and its entries must apply to the fake's store with Authentik's default flows
(authentik_entries.py): every !Find finds its flow, every !KeyOf its entry. The role's preflight
runs the same way (playbooks/preflight.yml), a host per bad input.
"""

from __future__ import annotations

import authentik_blueprints
import pytest
import yaml
from ansible_runs import unexpected_failures
from authentik_entries import Importer, seed_flows
from role_playbooks import HOST, NAMESPACE, render, run_playbook, write_inventory

# The names the role derives from the external host when none are given.
DERIVED = "mlflow-mlflow-example-com"
PROXY = "authentik_providers_proxy.proxyprovider"
APPLICATION = "authentik_core.application"
OUTPOST = "authentik_outposts.outpost"
SERVICE_CONNECTION_PK = "5c1f6c2e-0000-4000-8000-000000000001"

CASES = {
    "proxy_dedicated": {},
    "proxy_dedicated_skip": {"authentik_skip_path_regex": "^/health$\n^/static-files/.*\n"},
    "forward_dedicated": {"authentik_provider_mode": "forward_single"},
    "forward_dedicated_skip": {"authentik_provider_mode": "forward_single", "authentik_skip_path_regex": "^/health$"},
    "proxy_embedded": {"authentik_outpost": "embedded"},
    "proxy_embedded_skip": {"authentik_outpost": "embedded", "authentik_skip_path_regex": "^/health$"},
    "forward_embedded": {"authentik_outpost": "embedded", "authentik_provider_mode": "forward_single"},
    "forward_shared_skip": {
        "authentik_outpost": "homelab-proxy",
        "authentik_provider_mode": "forward_single",
        "authentik_skip_path_regex": "^/health$",
    },
    "host_with_api_path": {"authentik_host": "https://auth.example.com/api/v3/"},
    "custom": {
        "authentik_host": "https://auth.example.com/",
        "authentik_provider_name": 'MLflow (team "ml")',
        "authentik_application_slug": "ml_flow-2",
        "authentik_application_name": "MLflow: tracking",
        "authentik_application_group": "Data",
        "authentik_intercept_header_auth": False,
        "authentik_authorization_flow_slug": "default-provider-authorization-explicit-consent",
        "authentik_dedicated_outpost_name": "mlflow-outpost",
        "authentik_outpost_namespace": "sso",
        "authentik_outpost_service_connection": "",
        "authentik_outpost_config_extra": {"kubernetes_replicas": 2},
        "mlflow_gateway_name": "edge",
        "mlflow_gateway_namespace": "gateways",
        "mlflow_cluster_domain": "homelab.internal",
    },
}


@pytest.fixture(scope="module")
def rendered(repo_root, tmp_path_factory) -> dict[str, dict[str, str]]:
    """case -> {'blueprint': text, 'configmap': text}, all rendered in one run."""
    work = tmp_path_factory.mktemp("authentik-render")
    render(repo_root, "authentik", work, CASES, mlflow_external_host=HOST)
    return {
        case: {
            "blueprint": (work / f"{case}.blueprint.yaml").read_text(),
            "configmap": (work / f"{case}.blueprint-configmap.yaml").read_text(),
        }
        for case in CASES
    }


def entries(text: str) -> dict[str, dict]:
    """The blueprint's entries by model (each model appears once)."""
    data = authentik_blueprints.parse(text)
    found = {entry["model"]: entry for entry in data["entries"]}
    assert len(found) == len(data["entries"]), "one entry per model"
    return found


def tag(value) -> tuple:
    assert isinstance(value, authentik_blueprints.Tag), f"{value!r} is no tagged value"
    return value.tag, value.value


def applied(text: str) -> dict[str, dict]:
    """The store after applying the blueprint to one with Authentik's default flows and service connection."""
    tables = {
        "flows": seed_flows(),
        "service_connections": {
            SERVICE_CONNECTION_PK: {"pk": SERVICE_CONNECTION_PK, "name": "Local Kubernetes Cluster"}
        },
        "providers": {},
        "applications": {},
        "outposts": {},
    }
    data = authentik_blueprints.parse(text)
    importer = Importer(tables, {})
    importer.apply(data["entries"])
    return importer.tables


@pytest.mark.parametrize("case", CASES)
def test_every_variant_passes_authentiks_blueprint_schema(rendered, case):
    assert authentik_blueprints.problems(rendered[case]["blueprint"]) == []


@pytest.mark.parametrize("case", CASES)
def test_every_variant_applies_with_authentiks_default_flows(rendered, case):
    tables = applied(rendered[case]["blueprint"])

    (provider,) = tables["providers"].values()
    (application,) = tables["applications"].values()
    flows = {flow["pk"]: flow["slug"] for flow in tables["flows"].values()}
    variables = CASES[case]
    assert application["provider"] == provider["pk"]
    assert flows[provider["authorization_flow"]] == variables.get(
        "authentik_authorization_flow_slug", "default-provider-authorization-implicit-consent"
    )
    assert flows[provider["invalidation_flow"]] == "default-provider-invalidation-flow"
    assert flows[provider["authentication_flow"]] == "default-authentication-flow"
    outposts = list(tables["outposts"].values())
    if variables.get("authentik_outpost", "dedicated") == "dedicated":
        assert [outpost["providers"] for outpost in outposts] == [[provider["pk"]]]
    else:
        assert outposts == []


def test_the_default_blueprint_says_what_the_role_promises(rendered):
    found = entries(rendered["proxy_dedicated"]["blueprint"])

    assert list(found) == [PROXY, APPLICATION, OUTPOST]
    provider = found[PROXY]
    assert provider["id"] == "mlflow-provider"
    assert provider["identifiers"] == {"name": DERIVED}
    attrs = provider["attrs"]
    assert attrs["mode"] == "proxy"
    assert attrs["external_host"] == f"https://{HOST}"
    # The Service of homelab.mlflow.mlflow, on its port 80.
    assert attrs["internal_host"] == f"http://mlflow.{NAMESPACE}.svc.cluster.local"
    assert attrs["intercept_header_auth"] is True
    assert attrs["skip_path_regex"] == ""
    assert tag(attrs["authorization_flow"]) == (
        "!Find",
        ["authentik_flows.flow", ["slug", "default-provider-authorization-implicit-consent"]],
    )
    assert tag(attrs["invalidation_flow"]) == (
        "!Find",
        ["authentik_flows.flow", ["slug", "default-provider-invalidation-flow"]],
    )
    assert tag(attrs["authentication_flow"]) == (
        "!Find",
        ["authentik_flows.flow", ["slug", "default-authentication-flow"]],
    )

    application = found[APPLICATION]
    assert application["identifiers"] == {"slug": DERIVED}
    assert {key: value for key, value in application["attrs"].items() if key != "provider"} == {
        "name": "MLflow",
        "slug": DERIVED,
        "group": "",
        "meta_launch_url": f"https://{HOST}",
    }
    assert tag(application["attrs"]["provider"]) == ("!KeyOf", "mlflow-provider")

    outpost = found[OUTPOST]["attrs"]
    assert outpost["name"] == DERIVED
    assert outpost["type"] == "proxy"
    assert [tag(item) for item in outpost["providers"]] == [("!KeyOf", "mlflow-provider")]
    assert tag(outpost["service_connection"]) == (
        "!Find",
        ["authentik_outposts.kubernetesserviceconnection", ["name", "Local Kubernetes Cluster"]],
    )
    assert outpost["config"] == {
        "kubernetes_namespace": "authentik",
        "kubernetes_disabled_components": ["ingress", "traefik middleware"],
        "kubernetes_httproute_parent_refs": [
            {
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "name": "main-gateway",
                "namespace": "cilium-system",
            }
        ],
    }


def test_forward_single_has_no_internal_host(rendered):
    attrs = entries(rendered["forward_dedicated"]["blueprint"])[PROXY]["attrs"]

    assert attrs["mode"] == "forward_single"
    assert "internal_host" not in attrs


@pytest.mark.parametrize("case", ["proxy_embedded", "proxy_embedded_skip", "forward_embedded", "forward_shared_skip"])
def test_a_shared_outpost_is_left_out_of_the_blueprint(rendered, case):
    """A blueprint's list attribute replaces the outpost's providers: a shared one is changed through the API."""
    assert list(entries(rendered[case]["blueprint"])) == [PROXY, APPLICATION]


def test_skip_path_regex_keeps_its_lines(rendered):
    attrs = entries(rendered["proxy_dedicated_skip"]["blueprint"])[PROXY]["attrs"]

    assert attrs["skip_path_regex"] == "^/health$\n^/static-files/.*\n"


def test_every_setting_reaches_the_blueprint_quoted_safely(rendered):
    found = entries(rendered["custom"]["blueprint"])

    provider = found[PROXY]["attrs"]
    assert provider["name"] == 'MLflow (team "ml")'
    assert provider["intercept_header_auth"] is False
    assert provider["internal_host"] == f"http://mlflow.{NAMESPACE}.svc.homelab.internal"
    assert tag(provider["authorization_flow"])[1][1][1] == "default-provider-authorization-explicit-consent"
    application = found[APPLICATION]["attrs"]
    assert (application["name"], application["slug"], application["group"]) == ("MLflow: tracking", "ml_flow-2", "Data")
    outpost = found[OUTPOST]["attrs"]
    assert outpost["name"] == "mlflow-outpost"
    assert "service_connection" not in outpost
    assert outpost["config"]["authentik_host"] == "https://auth.example.com/"
    assert outpost["config"]["kubernetes_namespace"] == "sso"
    assert outpost["config"]["kubernetes_replicas"] == 2
    assert outpost["config"]["kubernetes_httproute_parent_refs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "edge", "namespace": "gateways"}
    ]


def test_a_host_given_with_the_api_path_gives_the_outpost_authentiks_base_url(rendered):
    outpost = entries(rendered["host_with_api_path"]["blueprint"])[OUTPOST]["attrs"]

    assert outpost["config"]["authentik_host"] == "https://auth.example.com/"


@pytest.mark.parametrize("case", ["proxy_dedicated", "forward_shared_skip"])
def test_the_configmap_holds_the_same_blueprint_for_the_sidecar(rendered, case):
    configmap = yaml.safe_load(rendered[case]["configmap"])

    assert configmap["kind"] == "ConfigMap"
    assert configmap["metadata"]["namespace"] == "authentik"
    assert configmap["metadata"]["labels"]["authentik_blueprint"] == "true"
    assert configmap["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "homelab.mlflow"
    assert configmap["metadata"]["name"] == f"{DERIVED}-blueprint"
    assert configmap["data"] == {f"{DERIVED}.yaml": rendered[case]["blueprint"]}


# --- preflight --------------------------------------------------------------------------------------

APIS = {"gateway.networking.k8s.io/v1": {"HTTPRoute": {}}}
# Good input that reaches no API: the checks of this test all run before the first request.
GOOD = {"cluster_preflight_cluster_info": {"apis": APIS}, "mlflow_httproute_enabled": False}
API = {"authentik_host": "https://authentik.example.com", "authentik_token": "not-a-real-token-0123"}
BAD_INPUT = {
    "no_token": (
        {"authentik_host": "https://authentik.example.com"},
        ["authentik_token is empty", "authentik_delivery is api"],
    ),
    "no_host": ({"authentik_token": "x"}, ["authentik_host is", "http:// or https:// URL"]),
    "host_no_url": ({**API, "authentik_host": "authentik.example.com"}, ['authentik_host is "authentik.example.com"']),
    "shared_without_api": (
        {"authentik_delivery": "configmap", "authentik_outpost": "embedded"},
        ["authentik_host is", "http:// or https:// URL"],
    ),
    "bad_mode": (
        {**API, "authentik_provider_mode": "forward_domain"},
        ["authentik_provider_mode", "proxy, forward_single"],
    ),
    "bad_delivery": ({**API, "authentik_delivery": "helm"}, ["authentik_delivery", "api, configmap"]),
    "bad_slug": ({**API, "authentik_application_slug": "ML flow"}, ['authentik_application_slug is "ML flow"', "slug"]),
    "bad_flow_slug": (
        {**API, "authentik_authorization_flow_slug": "default provider"},
        ['authentik_authorization_flow_slug is "default provider"'],
    ),
    "bad_external_host": ({**API, "mlflow_external_host": "https://mlflow.example.com"}, ["mlflow_external_host is"]),
    "bad_launch_url": (
        {**API, "authentik_application_launch_url": "mlflow"},
        ['authentik_application_launch_url is "mlflow"'],
    ),
    "bad_namespace": (
        {**API, "authentik_outpost_namespace": "Authentik"},
        ['authentik_outpost_namespace is "Authentik"'],
    ),
    "empty_outpost": ({**API, "authentik_outpost": ""}, ["authentik_outpost is", "dedicated", "embedded"]),
    "empty_skip_line": ({**API, "authentik_skip_path_regex": "^/health$\n\n^/x"}, ["authentik_skip_path_regex is"]),
    "route_past_authentik": (
        {**API, "mlflow_httproute_enabled": True},
        ["mlflow_httproute_enabled is true", "Set mlflow_httproute_enabled to false"],
    ),
    "no_gateway_api": (
        {**API, "cluster_preflight_cluster_info": {"apis": {}}},
        ["authentik_verify_httproute is true, but the cluster has no Gateway API HTTPRoute"],
    ),
}


def test_preflight_names_the_variable_of_bad_input(repo_root, tmp_path):
    hosts = {name: {**GOOD, **host_vars} for name, (host_vars, _expected) in BAD_INPUT.items()}
    inventory = write_inventory(tmp_path / "hosts.yml", hosts, mlflow_external_host=HOST)

    result = run_playbook(repo_root, "authentik", "preflight.yml", inventory)

    wrong = unexpected_failures(result.stdout, {host: expected for host, (_host_vars, expected) in BAD_INPUT.items()})
    assert wrong == {}, result.stdout[-8000:]
    # The token never shows, not even in a failure.
    assert API["authentik_token"] not in result.stdout + result.stderr
