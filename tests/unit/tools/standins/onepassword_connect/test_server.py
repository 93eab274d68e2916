"""tools/standins/onepassword_connect: the fake Connect server serves its data, injects faults, and
rejects every request and response that breaks the upstream Connect OpenAPI document."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from onepassword_connect import EXAMPLE_DATA, FakeConnectServer, fake_id, load_data, spec_path
from onepassword_connect.fixtures import (  # noqa: F401  # pylint: disable=unused-import
    HOMELAB_ONLY_TOKEN,
    TOKEN,
    fake_connect_fixture,
    fake_connect_server_fixture,
)

FAKES = Path(__file__).resolve().parents[5] / "tools" / "standins"


HOMELAB = fake_id("vault", "Homelab")
INFRASTRUCTURE = fake_id("vault", "Infrastructure")
POSTGRES = fake_id("item", HOMELAB, "mlflow-postgres")
AUTHENTIK = fake_id("item", INFRASTRUCTURE, "authentik")


def get(server, path, token=TOKEN, query=None, method="GET"):
    """One request to the fake server: (status, headers, parsed JSON or text)."""
    if query:
        path += "?" + "&".join(f"{key}={quote(value)}" for key, value in query.items())
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        body = response.read().decode()
        kind = response.getheader("Content-Type", "")
        return response.status, response, json.loads(body) if "json" in kind else body
    finally:
        connection.close()


def test_fake_connect_server_lists_vaults_and_filters_them_by_name(fake_connect):
    status, _response, vaults = get(fake_connect, "/v1/vaults")
    filtered = get(fake_connect, "/v1/vaults", query={"filter": 'name eq "Homelab"'})[2]

    assert status == 200
    assert {vault["name"] for vault in vaults} == {"Homelab", "Infrastructure"}
    assert [vault["id"] for vault in filtered] == [HOMELAB]
    assert re.fullmatch(r"[0-9a-z]{26}", HOMELAB)


def test_fake_connect_server_lists_items_without_their_fields_and_filters_them_by_title(fake_connect):
    items = get(fake_connect, f"/v1/vaults/{HOMELAB}/items")[2]
    filtered = get(fake_connect, f"/v1/vaults/{HOMELAB}/items", query={"filter": 'title eq "mlflow-postgres"'})[2]
    quoted_filter = r'title eq "quoted \"title\" \\ backslash"'
    quoted = get(fake_connect, f"/v1/vaults/{INFRASTRUCTURE}/items", query={"filter": quoted_filter})[2]

    assert {item["title"] for item in items} == {"mlflow-postgres", "mlflow-s3", "duplicate"}
    assert all("fields" not in item for item in items)
    assert [item["id"] for item in filtered] == [POSTGRES]
    assert [item["title"] for item in quoted] == ['quoted "title" \\ backslash']


def test_fake_connect_server_returns_a_full_item_with_sections(fake_connect):
    status, _response, item = get(fake_connect, f"/v1/vaults/{HOMELAB}/items/{POSTGRES}")

    assert status == 200
    sections = {section["id"]: section["label"] for section in item["sections"]}
    labels = [
        (sections.get(field.get("section", {}).get("id")), field["label"], field["value"]) for field in item["fields"]
    ]
    assert (None, "password", "fake-Pg-Passw0rd-7f3a9c") in labels
    assert ("connection", "host", "mlflow-postgres-rw.mlflow.svc") in labels
    assert item["vault"] == {"id": HOMELAB}


def test_fake_connect_server_answers_heartbeat_and_health_without_a_token(fake_connect):
    assert get(fake_connect, "/heartbeat", token=None)[::2] == (200, ".")
    status, _response, health = get(fake_connect, "/health", token=None)
    assert status == 200
    assert health["name"] == "1Password Connect API"


def test_fake_connect_server_refuses_an_unknown_token(fake_connect):
    status, _response, body = get(fake_connect, "/v1/vaults", token=TOKEN + "-wrong")

    assert (status, body["status"]) == (401, 401)


def test_fake_connect_server_limits_a_token_to_its_vaults(fake_connect):
    vaults = get(fake_connect, "/v1/vaults", token=HOMELAB_ONLY_TOKEN)[2]
    items = get(fake_connect, f"/v1/vaults/{INFRASTRUCTURE}/items", token=HOMELAB_ONLY_TOKEN)[0]
    item = get(fake_connect, f"/v1/vaults/{INFRASTRUCTURE}/items/{AUTHENTIK}", token=HOMELAB_ONLY_TOKEN)[0]

    assert [vault["name"] for vault in vaults] == ["Homelab"]
    # Connect's document allows 404 (no 403) for the item list, and 403 for one item.
    assert (items, item) == (404, 403)


def test_fake_connect_server_answers_404_for_unknown_vaults_and_items(fake_connect):
    assert get(fake_connect, f"/v1/vaults/{fake_id('nope')}/items")[0] == 404
    assert get(fake_connect, f"/v1/vaults/{HOMELAB}/items/{fake_id('nope')}")[0] == 404


def test_fake_connect_server_counts_the_requests_it_serves(fake_connect):
    get(fake_connect, "/v1/vaults")
    get(fake_connect, f"/v1/vaults/{HOMELAB}/items/{POSTGRES}")
    get(fake_connect, f"/v1/vaults/{HOMELAB}/items/{POSTGRES}")

    assert fake_connect.count(path="/v1/vaults") == 1
    assert fake_connect.item_reads() == [f"/v1/vaults/{HOMELAB}/items/{POSTGRES}"] * 2
    assert fake_connect.requests[0].query == {}


def test_fake_connect_server_injects_server_errors_then_recovers(fake_connect):
    fake_connect.fail_next(2, status=500)

    statuses = [get(fake_connect, "/v1/vaults")[0] for _attempt in range(3)]

    assert statuses == [500, 500, 200]
    assert [request.injected for request in fake_connect.requests] == [True, True, False]


def test_fake_connect_server_injects_rate_limiting_with_retry_after(fake_connect):
    fake_connect.rate_limit_next(1, retry_after=7)

    status, response, body = get(fake_connect, "/v1/vaults")

    assert (status, response.getheader("Retry-After"), body["status"]) == (429, "7", 429)
    assert get(fake_connect, "/v1/vaults")[0] == 200


def test_fake_connect_server_injects_faults_only_under_a_path(fake_connect):
    fake_connect.fail_next(1, status=503, path_prefix="/v1/vaults/")

    assert get(fake_connect, "/v1/vaults")[0] == 200
    assert get(fake_connect, f"/v1/vaults/{HOMELAB}/items")[0] == 503


def test_fake_connect_server_drops_connections_on_demand(fake_connect):
    fake_connect.drop_next(1)

    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        get(fake_connect, "/v1/vaults")
    assert get(fake_connect, "/v1/vaults")[0] == 200


def test_fake_connect_server_hangs_on_demand(fake_connect):
    fake_connect.hang_next(1, seconds=0.3)

    started = time.monotonic()
    status = get(fake_connect, "/v1/vaults")[0]
    hung = time.monotonic() - started
    started = time.monotonic()
    get(fake_connect, "/v1/vaults")
    normal = time.monotonic() - started

    assert status == 200
    assert hung >= 0.3 > normal


def test_fake_connect_server_loads_the_upstream_document_from_the_shared_schemas():
    assert spec_path().name == "connect-api-spec.yaml"
    assert spec_path().is_file(), "the shared schemas must be beside the checkout"
    # The document itself is never copied into the project.
    repo = FAKES.parent.parent
    copies = [path for folder in ("tests", "plugins") for path in (repo / folder).rglob("connect-api-spec*")]
    assert copies == []


# Breaking the document: each of these must end up in `violations`, and check() must fail.


def _violations(server):
    with pytest.raises(AssertionError, match="violates the Connect OpenAPI document") as failure:
        server.check()
    # Start over so that the fixture's own check after the test passes.
    server.load(load_data(EXAMPLE_DATA))
    return str(failure.value)


def test_fake_connect_server_rejects_a_request_without_a_token(fake_connect):
    status = get(fake_connect, "/v1/vaults", token=None)[0]

    assert status == 401
    assert "GET /v1/vaults: request: SecurityValidationError" in _violations(fake_connect)


def test_fake_connect_server_rejects_a_vault_id_the_document_does_not_allow(fake_connect):
    get(fake_connect, "/v1/vaults/Homelab/items")

    report = _violations(fake_connect)
    assert "GET /v1/vaults/Homelab/items: request: InvalidParameter" in report
    assert "vaultUuid" in report


def test_fake_connect_server_rejects_an_unsupported_filter(fake_connect):
    status = get(fake_connect, "/v1/vaults", query={"filter": 'name co "Home"'})[0]

    report = _violations(fake_connect)
    assert status == 400
    assert "filter 'name co \"Home\"' is not supported" in report
    # A 400 answer is not in the document for this operation either.
    assert "response 400" in report


def test_fake_connect_server_rejects_paths_and_methods_it_does_not_implement(fake_connect):
    get(fake_connect, "/v1/activity")
    get(fake_connect, f"/v1/vaults/{HOMELAB}/items/{POSTGRES}", method="DELETE")

    report = _violations(fake_connect)
    assert "GET /v1/activity: not implemented by the fake server" in report
    assert f"DELETE /v1/vaults/{HOMELAB}/items/{POSTGRES}: not implemented by the fake server" in report


def test_fake_connect_server_rejects_a_response_that_breaks_the_document(fake_connect):
    data = load_data(EXAMPLE_DATA)
    data["vaults"][0]["items"][0]["category"] = "NOT_A_CATEGORY"
    data["vaults"][0]["items"][0]["fields"][0]["type"] = "NOT_A_TYPE"
    fake_connect.load(data)

    get(fake_connect, f"/v1/vaults/{HOMELAB}/items/{POSTGRES}")

    report = _violations(fake_connect)
    assert f"GET /v1/vaults/{HOMELAB}/items/{POSTGRES}: response 200: InvalidData" in report
    assert "'NOT_A_CATEGORY' is not one of" in report
    assert "'NOT_A_TYPE' is not one of" in report


def test_fake_connect_server_validates_injected_errors_as_error_responses(fake_connect):
    fake_connect.fail_next(1, status=502)
    fake_connect.rate_limit_next(1)

    assert get(fake_connect, "/v1/vaults")[2] == {"status": 502, "message": "injected by the fake server"}
    assert get(fake_connect, "/v1/vaults")[0] == 429
    fake_connect.check()


def test_fake_connect_server_refuses_items_with_the_same_id():
    data = {"vaults": [{"name": "v", "items": [{"title": "same"}, {"title": "same"}]}]}

    with pytest.raises(ValueError, match="give them id:"):
        FakeConnectServer(data)


def test_fake_connect_server_runs_as_a_script_and_reports_violations_on_exit(tmp_path):
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"tokens": [{"token": TOKEN}], "vaults": [{"name": "Only"}]}))
    script = FAKES / "onepassword_connect" / "server.py"
    process = subprocess.Popen(
        [sys.executable, str(script), "--data", str(data), "--port", "0", "--fault", "503:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        url = re.search(r"at (http://\S+)", banner).group(1)
        server = type("Server", (), {"url": url})
        first = get(server, "/v1/vaults", token=TOKEN)[0]
        second = get(server, "/v1/vaults", token=TOKEN)
        get(server, "/v1/vaults", token=None)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, errors = process.communicate(timeout=10)

    assert first == 503
    assert second[0] == 200
    assert [vault["name"] for vault in second[2]] == ["Only"]
    assert process.returncode == 1
    assert "violation: GET /v1/vaults: request: SecurityValidationError" in errors
