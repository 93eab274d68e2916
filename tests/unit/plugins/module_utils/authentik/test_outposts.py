"""plugins/module_utils/authentik/outposts.py (and the outpost endpoints it calls): a provider added to
an existing outpost, run in-process against the fake Authentik API (tools/standins/authentik/).
"""

from __future__ import annotations

import pytest
from authentik_client_testing import client_for

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.outposts import ensure_outpost_provider


def test_a_provider_joins_an_outpost_and_the_others_stay_against_fake_authentik_api(fake_authentik):
    grafana, mlflow = fake_authentik.add_provider("grafana"), fake_authentik.add_provider("mlflow")
    fake_authentik.add_outpost("shared", providers=[grafana])
    client = client_for(fake_authentik)

    would, _preview = client.add_outpost_provider("Shared", mlflow, check_mode=True)
    writes = len(fake_authentik.writes())
    changed, outpost = client.add_outpost_provider("shared", mlflow)
    unchanged, _same = client.add_outpost_provider("shared", mlflow)

    assert would is True
    assert writes == 0
    assert (changed, unchanged) == (True, False)
    assert outpost.providers == [grafana, mlflow]
    assert client.outpost_providers("shared") == [grafana, mlflow]
    assert fake_authentik.outpost("shared")["providers"] == [grafana, mlflow]


def test_the_embedded_outpost_is_found_by_name_against_fake_authentik_api(fake_authentik):
    provider = fake_authentik.add_provider("mlflow")

    changed, outpost = client_for(fake_authentik).add_outpost_provider("authentik Embedded Outpost", provider)

    assert changed is True
    assert outpost.managed == "goauthentik.io/outposts/embedded"


def test_a_provider_that_appears_later_joins_the_outpost_within_the_wait_against_fake_authentik_api(fake_authentik):
    fake_authentik.add_outpost("shared", providers=[])
    client = client_for(fake_authentik)
    now = [0.0]
    added = []

    def sleep(seconds):
        # Authentik's sidecar applies the blueprint while the task waits.
        now[0] += seconds
        if not added:
            added.append(fake_authentik.add_provider("mlflow"))

    result = ensure_outpost_provider(
        client, "shared", "mlflow", wait_timeout=60, interval=5, clock=lambda: now[0], sleep=sleep
    )

    assert result["changed"] is True
    assert now[0] == 5
    assert fake_authentik.outpost("shared")["providers"] == added


def test_a_provider_that_never_appears_fails_after_the_wait_against_fake_authentik_api(fake_authentik):
    fake_authentik.add_outpost("shared", providers=[])
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(AuthentikError, match="has no proxy provider named 'mlflow'"):
        ensure_outpost_provider(
            client_for(fake_authentik),
            "shared",
            "mlflow",
            wait_timeout=12,
            interval=5,
            clock=lambda: now[0],
            sleep=sleep,
        )
    assert now[0] == 12


def test_a_missing_outpost_is_an_error_against_fake_authentik_api(fake_authentik):
    with pytest.raises(AuthentikError, match="has no outpost named 'nowhere'"):
        client_for(fake_authentik).add_outpost_provider("nowhere", 1)
