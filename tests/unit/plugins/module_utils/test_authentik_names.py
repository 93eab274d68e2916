"""Names of a deployment's Authentik objects: derived, kept from before, or refused as another's."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils import authentik_names as names

UNSET = dict.fromkeys(names.LEGACY_NAMES, "")
PRODUCTION = "mlflow.example.com"
STAGING = "mlflow-staging.example.com"


def blueprint(name, external_host, identifier=None, owner=None, outpost=True):
    """Blueprint content as the role renders it (with its tags), or as it did before the owner label."""
    identifier = identifier or name
    label = f'\n    homelab.mlflow/deployment: "{owner}"' if owner else ""
    outpost_entry = (
        f"""
  - model: authentik_outposts.outpost
    identifiers: {{name: {identifier}}}
    attrs: {{providers: [!KeyOf provider]}}"""
        if outpost
        else ""
    )
    content = f"""version: 1
metadata:
  name: {name}
  labels:
    blueprints.goauthentik.io/description: MLflow{label}
entries:
  - model: authentik_providers_proxy.proxyprovider
    id: provider
    identifiers: {{name: {identifier}}}
    attrs:
      external_host: https://{external_host}
      authorization_flow: !Find [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]
  - model: authentik_core.application
    identifiers: {{slug: {identifier}}}
    attrs: {{provider: !KeyOf provider}}{outpost_entry}
"""
    return {"name": name, "content": content}


def test_names_come_from_the_external_host():
    assert names.derived_names(PRODUCTION) == {
        "blueprint": "mlflow-mlflow-example-com",
        "provider": "mlflow-mlflow-example-com",
        "application_slug": "mlflow-mlflow-example-com",
        "outpost": "mlflow-mlflow-example-com",
        "configmap": "mlflow-mlflow-example-com-blueprint",
    }


def test_a_long_host_gives_a_slug_within_authentiks_limit_and_apart_from_its_neighbour():
    one = names.derived_base("mlflow.a-rather-long-department-name.internal.example.com")
    other = names.derived_base("mlflow.a-rather-long-department-name.internal.example.org")

    assert len(one) <= 50
    assert len(other) <= 50
    assert one != other
    assert one.startswith("mlflow-mlflow-a-rather-long")


@pytest.mark.parametrize("host", ["MLflow.Example.com", "mlflow.example.com."])
def test_derived_names_are_slugs(host):
    assert names.derived_base(host) == "mlflow-mlflow-example-com"


def test_two_deployments_get_names_of_their_own():
    production = names.resolve_names(UNSET, PRODUCTION, f"mlflow at {PRODUCTION}", [])[0]
    staging = names.resolve_names(UNSET, STAGING, f"mlflow at {STAGING}", [])[0]

    assert not set(production.values()) & set(staging.values())


def test_given_names_are_kept():
    given = {**UNSET, "provider": "MLflow (team)", "application_slug": "ml"}

    chosen, adopted, conflicts = names.resolve_names(given, PRODUCTION, "mlflow at x", [])

    assert (chosen["provider"], chosen["application_slug"]) == ("MLflow (team)", "ml")
    assert chosen["blueprint"] == "mlflow-mlflow-example-com"
    assert (adopted, conflicts) == (False, [])


def test_a_deployment_made_with_the_former_defaults_keeps_its_names():
    # Written before the owner label: recognised by its provider's external host.
    former = blueprint("mlflow", PRODUCTION)

    chosen, adopted, conflicts = names.resolve_names(UNSET, PRODUCTION, f"mlflow at {PRODUCTION}", [former])

    assert chosen == names.LEGACY_NAMES
    assert (adopted, conflicts) == (True, [])


def test_the_former_defaults_of_another_deployment_are_not_adopted():
    former = blueprint("mlflow", PRODUCTION)

    chosen, adopted, conflicts = names.resolve_names(UNSET, STAGING, f"mlflow at {STAGING}", [former])

    assert chosen == names.derived_names(STAGING)
    assert (adopted, conflicts) == (False, [])


def test_a_blueprint_with_an_owner_label_is_recognised_by_it_not_by_its_host():
    moved = blueprint("mlflow", "old-name.example.com", owner=f"mlflow at {PRODUCTION}")
    neighbour = blueprint("mlflow", PRODUCTION, owner="other at mlflow.example.com")

    kept, adopted, _conflicts = names.resolve_names(UNSET, PRODUCTION, f"mlflow at {PRODUCTION}", [moved])
    not_adopted = names.resolve_names(UNSET, PRODUCTION, f"mlflow at {PRODUCTION}", [neighbour])[1]

    assert (kept["provider"], adopted) == ("mlflow", True)
    assert not_adopted is False


def test_an_object_another_deployments_blueprint_manages_is_a_conflict_naming_the_variable():
    production = blueprint("mlflow-prod", PRODUCTION, identifier="shared", owner=f"mlflow at {PRODUCTION}")
    given = {**UNSET, "provider": "shared", "application_slug": "shared", "outpost": "shared"}

    conflicts = names.resolve_names(given, STAGING, f"mlflow at {STAGING}", [production])[2]

    owner = f"blueprint 'mlflow-prod' of mlflow at {PRODUCTION}"
    assert conflicts == [
        f"the proxy provider 'shared' is managed by the {owner}: set authentik_provider_name to a name of its own",
        f"the application 'shared' is managed by the {owner}: set authentik_application_slug to a name of its own",
        f"the outpost 'shared' is managed by the {owner}: set authentik_dedicated_outpost_name to a name of its own",
    ]


def test_a_shared_outpost_is_no_conflict():
    production = blueprint("mlflow-prod", PRODUCTION, identifier="shared", owner="p")
    given = {**UNSET, "outpost": "shared"}

    conflicts = names.resolve_names(given, STAGING, "s", [production], dedicated_outpost=False)[2]

    assert conflicts == []


def test_a_blueprint_name_taken_by_another_deployment_is_a_conflict():
    production = blueprint("mlflow-sso", PRODUCTION, owner=f"mlflow at {PRODUCTION}")

    conflicts = names.resolve_names({**UNSET, "blueprint": "mlflow-sso"}, STAGING, "s", [production])[2]

    assert conflicts == [
        f"the name 'mlflow-sso' is taken by the blueprint 'mlflow-sso' of mlflow at {PRODUCTION}: "
        "set authentik_blueprint_name to a name of its own"
    ]


def test_own_blueprints_and_unrelated_ones_are_no_conflict():
    own = blueprint("mlflow-mlflow-example-com", PRODUCTION, owner=f"mlflow at {PRODUCTION}")
    unrelated = {"name": "Default - Authentication flow", "content": "entries:\n  - model: authentik_flows.flow"}
    broken = {"name": "broken", "content": "entries: [unclosed"}

    conflicts = names.resolve_names(UNSET, PRODUCTION, f"mlflow at {PRODUCTION}", [own, unrelated, broken])[2]

    assert conflicts == []
