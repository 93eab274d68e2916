"""plugins/module_utils/authentik.py: the Authentik client and the blueprint operations, run
in-process against the fake Authentik API (tests/fakes/authentik/), which holds every request
and response to Authentik's OpenAPI document.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from fake_authentik import TEST_TOKEN as TOKEN
from fake_authentik import FakeAuthentik

REPO = Path(__file__).resolve().parents[4]


# The fixtures fake_authentik (a fresh fake per test) and authentik_contract.
pytest_plugins = ["fake_authentik_fixtures"]

# Loaded from its file: putting the checkout's .collections on sys.path would reorder the
# ansible_collections namespace for every other test of the session.
MODULE_UTILS = REPO / "plugins" / "module_utils" / "authentik.py"
_spec = importlib.util.spec_from_file_location("homelab_mlflow_module_utils_authentik", MODULE_UTILS)
authentik = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(authentik)
AuthentikError = authentik.AuthentikError

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


class RecordingSleep:
    """Stands in for time.sleep: records the pauses and sleeps only a little."""

    def __init__(self):
        self.pauses = []

    def __call__(self, seconds):
        self.pauses.append(seconds)


def client_for(fake, token=TOKEN, **options):
    options.setdefault("retry_delay", 0.01)
    options.setdefault("request_timeout", 5.0)
    return authentik.AuthentikClient(fake.url, token, **options)


def present(client, name="mlflow", content=BLUEPRINT, **options):
    return authentik.ensure_blueprint_present(client, name, content, **{**FAST_WAIT, **options})


# -- content --------------------------------------------------------------------------------------


def test_content_is_normalized_deterministically_with_authentiks_tags_kept():
    normalized = authentik.normalize_blueprint_content(BLUEPRINT)

    assert authentik.normalize_blueprint_content(normalized) == normalized
    assert "    mode: !Context mode\n" in normalized
    assert "!Find [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]" in normalized
    assert "    skip_path_regex: |\n      ^/health$\n      ^/static/\n" in normalized
    # Keys keep the order they were given in.
    assert normalized.index("version") < normalized.index("metadata") < normalized.index("entries")


def test_content_as_a_dictionary_or_as_text_is_the_same_blueprint():
    as_dict = {"version": 1, "metadata": {"name": "g"}, "entries": [{"model": "authentik_core.group"}]}
    as_text = "version: 1\nmetadata: {name: g}\nentries: [{model: authentik_core.group}]\n"

    assert authentik.normalize_blueprint_content(as_dict) == authentik.normalize_blueprint_content(as_text)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("version: 1\nentries: [", "content is not valid YAML"),
        ("- a list", "content must be a blueprint"),
        (42, "content must be YAML text or a dictionary"),
    ],
)
def test_content_that_is_no_blueprint_is_refused_before_asking_authentik(content, message):
    with pytest.raises(AuthentikError, match=message):
        authentik.normalize_blueprint_content(content)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("https://auth.example.com", "https://auth.example.com/api/v3"),
        ("https://auth.example.com/", "https://auth.example.com/api/v3"),
        ("https://auth.example.com/api/v3/", "https://auth.example.com/api/v3"),
        ("http://10.0.0.5:9000", "http://10.0.0.5:9000/api/v3"),
    ],
)
def test_api_url_adds_the_api_path(host, expected):
    assert authentik.api_url(host) == expected


def test_a_host_that_is_no_url_is_refused():
    with pytest.raises(AuthentikError, match="host must be an http"):
        authentik.api_url("auth.example.com")


def test_authentik_client_loads_lazily_what_is_used():
    # A fresh interpreter: importing the client must not build all of authentik-client's APIs.
    probe = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('m', {str(MODULE_UTILS)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "import authentik_client\n"
        "print(m.HAS_AUTHENTIK_CLIENT, 'authentik_client.api.core_api' in sys.modules)\n"
        "print(authentik_client.CoreApi.__name__, authentik_client.models.BlueprintInstance.__name__)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120)

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["True False", "CoreApi BlueprintInstance"]


# -- blueprint instances -----------------------------------------------------------------------


def test_creates_applies_and_waits_against_fake_authentik_api(fake_authentik):
    result = present(client_for(fake_authentik), context={"host": "mlflow.example.org"})

    stored = fake_authentik.blueprint("mlflow")
    assert result["changed"] is True
    assert result["applied"] is True
    assert result["blueprint"]["status"] == "successful"
    assert result["blueprint"]["pk"] == stored["pk"]
    assert stored["content"] == authentik.normalize_blueprint_content(BLUEPRINT)
    assert stored["context"] == {"host": "mlflow.example.org"}
    assert stored["last_applied_hash"] == hashlib.sha512(stored["content"].encode()).hexdigest()
    assert result["diff"]["before"] == ""
    assert "host: mlflow.example.org" in result["diff"]["after"]


def test_a_second_run_changes_nothing_and_writes_nothing_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)
    present(client)
    writes_before = len(fake_authentik.writes())

    again = present(client)

    assert again["changed"] is False
    assert again["applied"] is False
    assert len(fake_authentik.writes()) == writes_before
    assert again["diff"]["before"] == again["diff"]["after"]


@pytest.mark.parametrize(
    "change",
    [
        {"content": BLUEPRINT.replace("^/static/", "^/assets/")},
        {"context": {"mode": "proxy"}},
    ],
    ids=["content", "context"],
)
def test_a_change_updates_and_applies_again_against_fake_authentik_api(fake_authentik, change):
    client = client_for(fake_authentik)
    first = present(client)

    changed = present(client, **change)

    methods = [(r["method"], r["path"].rsplit("/", 2)[-2]) for r in fake_authentik.writes()]
    assert changed["changed"] is True
    assert changed["applied"] is True
    assert changed["blueprint"]["last_applied"] > first["blueprint"]["last_applied"]
    assert methods[-2:] == [("PUT", first["blueprint"]["pk"]), ("POST", "apply")]
    assert changed["diff"]["before"] != changed["diff"]["after"]


def test_a_disabled_blueprint_is_stored_but_not_applied_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)
    present(client)
    writes = len(fake_authentik.writes())

    disabled = present(client, enabled=False)
    again = present(client, enabled=False)

    assert disabled["changed"] is True
    assert disabled["applied"] is False
    assert fake_authentik.blueprint("mlflow")["enabled"] is False
    assert again["changed"] is False
    assert [r["method"] for r in fake_authentik.writes()[writes:]] == ["PUT"]


def test_check_mode_reports_but_writes_nothing_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)

    new = present(client, check_mode=True)
    present(client)
    writes = len(fake_authentik.writes())
    changed = present(client, context={"mode": "proxy"}, check_mode=True)
    removed = authentik.ensure_blueprint_absent(client, "mlflow", check_mode=True)

    assert (new["changed"], new["applied"]) == (True, True)
    assert (changed["changed"], changed["applied"]) == (True, True)
    assert removed["changed"] is True
    assert len(fake_authentik.writes()) == writes
    assert fake_authentik.blueprint("mlflow")["context"] == {}


def test_apply_always_applies_an_unchanged_blueprint_without_reporting_a_change_against_fake_authentik_api(
    fake_authentik,
):
    client = client_for(fake_authentik)
    first = present(client)

    again = present(client, apply="always")

    assert again["changed"] is False
    assert again["applied"] is True
    assert again["blueprint"]["last_applied"] > first["blueprint"]["last_applied"]


def test_a_failed_apply_fails_with_authentiks_log_lines_against_fake_authentik_api(fake_authentik):
    with pytest.raises(AuthentikError) as failure:
        present(client_for(fake_authentik), context={"mode": "sideways"})

    error = failure.value
    assert "Authentik could not apply blueprint 'mlflow': status error" in error.message
    assert "'sideways' is not one of ['proxy', 'forward_single', 'forward_domain']" in error.message
    assert "error: Blueprint validation failed" in error.message
    assert error.log[-1] == "error: Blueprint validation failed"
    assert error.blueprint.status.value == "error"


def test_a_failed_apply_is_retried_on_the_next_run_and_then_counts_as_a_change_against_fake_authentik_api(
    fake_authentik,
):
    client = client_for(fake_authentik)
    fake_authentik.fail_next_apply(["Entry invalid: Serializer errors {'name': ['already exists']}"])
    with pytest.raises(AuthentikError, match="already exists"):
        present(client)

    # Nothing changed in the options, but Authentik never applied this content: apply it.
    second = present(client)
    third = present(client)

    assert (second["changed"], second["applied"], second["blueprint"]["status"]) == (True, True, "successful")
    assert (third["changed"], third["applied"]) == (False, False)


def test_content_authentik_refuses_fails_with_its_validation_messages_against_fake_authentik_api(fake_authentik):
    content = "version: 1\nentries:\n  - model: authentik_core.nothing\n    identifiers: {name: x}\n"

    with pytest.raises(AuthentikError) as failure:
        present(client_for(fake_authentik), content=content)

    assert "refused the request to create blueprint instance 'mlflow' (HTTP 400)" in failure.value.message
    assert "content: Failed to validate blueprint" in failure.value.log
    assert "unknown model 'authentik_core.nothing'" in failure.value.message


def test_absent_deletes_and_then_changes_nothing_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)
    present(client)

    removed = authentik.ensure_blueprint_absent(client, "mlflow")
    again = authentik.ensure_blueprint_absent(client, "mlflow")

    assert removed["changed"] is True
    assert "name: mlflow" in removed["diff"]["before"]
    assert removed["diff"]["after"] == ""
    assert again["changed"] is False
    assert fake_authentik.blueprint("mlflow") is None


def test_waiting_ends_with_the_timeout_when_the_worker_is_slow_against_fake_authentik_api(fake_authentik):
    fake_authentik.apply_delay = 5.0

    with pytest.raises(AuthentikError, match=r"did not finish applying blueprint 'mlflow' within 0.3 s"):
        present(client_for(fake_authentik), wait_timeout=0.3)


def test_without_wait_the_apply_is_only_queued_against_fake_authentik_api(fake_authentik):
    fake_authentik.apply_delay = 5.0

    result = present(client_for(fake_authentik), wait=False)

    assert result["applied"] is True
    assert result["blueprint"]["status"] == "unknown"


def test_a_token_that_may_not_see_tasks_still_detects_the_end_of_an_apply_against_fake_authentik_api(
    authentik_contract,
):
    with FakeAuthentik(token=TOKEN, tokens_without_tasks=(NO_TASKS,), contract=authentik_contract) as fake:
        client = client_for(fake, token=NO_TASKS)
        applied = present(client)
        with pytest.raises(AuthentikError) as failure:
            present(client, context={"mode": "sideways"})

    assert applied["blueprint"]["status"] == "successful"
    assert "status error" in failure.value.message
    assert "not readable with this token" in failure.value.message
    assert fake.violations == []


# -- errors and retries -------------------------------------------------------------------------------


def test_a_refused_token_says_so_against_fake_authentik_api(fake_authentik):
    with pytest.raises(AuthentikError) as failure:
        client_for(fake_authentik, token=WRONG).check_access()

    assert failure.value.status == 403
    assert f"Authentik at {fake_authentik.url.split('//')[1]} refused the API token" in failure.value.message
    assert "Token invalid/expired" in failure.value.message
    assert WRONG not in failure.value.message


def test_a_401_from_a_proxy_in_front_of_authentik_reads_as_a_refused_token_against_fake_authentik_api(
    fake_authentik,
):
    # Authentik itself answers 403; a reverse proxy that checks tokens may answer 401.
    fake_authentik.inject(status=401, count=1)

    with pytest.raises(AuthentikError, match=r"refused the API token \(HTTP 401: Injected fault: HTTP 401\)"):
        client_for(fake_authentik).check_access()

    assert len(fake_authentik.requests) == 1


def test_a_token_without_permission_says_what_it_may_not_do_against_fake_authentik_api(authentik_contract):
    with FakeAuthentik(token=TOKEN, read_only_tokens=(READER,), contract=authentik_contract) as fake:
        with pytest.raises(AuthentikError) as failure:
            present(client_for(fake, token=READER))

    assert "the token's user may not create blueprint instance 'mlflow'" in failure.value.message
    assert "You do not have permission" in failure.value.message


def test_an_unreachable_host_is_named_after_the_retries():
    sleep = RecordingSleep()
    client = authentik.AuthentikClient("http://127.0.0.1:9", TOKEN, retries=2, retry_delay=0.5, sleep=sleep)

    with pytest.raises(AuthentikError) as failure:
        client.find_blueprint("mlflow")

    assert "cannot reach Authentik at 127.0.0.1:9 to find blueprint instance 'mlflow' (3 tries)" in str(failure.value)
    assert "Connection refused" in str(failure.value)
    assert sleep.pauses == [0.5, 1.0]


def test_5xx_answers_are_retried_with_exponential_backoff_against_fake_authentik_api(fake_authentik):
    sleep = RecordingSleep()
    fake_authentik.inject(status=500, count=2)
    fake_authentik.inject(status=502, count=1)

    result = present(client_for(fake_authentik, retry_delay=0.25, sleep=sleep))

    assert result["blueprint"]["status"] == "successful"
    assert sleep.pauses[:3] == [0.25, 0.5, 1.0]
    assert [r["status"] for r in fake_authentik.requests[:4]] == [500, 500, 502, 200]


def test_429_waits_as_long_as_retry_after_asks_within_the_limit_against_fake_authentik_api(fake_authentik):
    sleep = RecordingSleep()
    fake_authentik.inject(status=429, count=1, retry_after=7)
    fake_authentik.inject(status=429, count=1, retry_after=3600)

    client_for(fake_authentik, retry_delay=0.1, sleep=sleep).check_access()

    assert sleep.pauses == [7.0, authentik.MAX_RETRY_DELAY]


def test_retries_end_with_the_last_answer_against_fake_authentik_api(fake_authentik):
    fake_authentik.inject(status=503, count=10)

    with pytest.raises(AuthentikError, match=r"kept failing the request to list blueprint instances \(3 tries"):
        client_for(fake_authentik, retries=2, sleep=RecordingSleep()).check_access()


def test_a_request_that_hangs_is_retried_after_the_timeout_against_fake_authentik_api(fake_authentik):
    fake_authentik.hang(count=1, seconds=2.0)

    client_for(fake_authentik, request_timeout=0.2).check_access()

    assert [r["injected"] for r in fake_authentik.requests] == [True, False]


def test_a_create_that_timed_out_but_went_through_is_not_duplicated_against_fake_authentik_api(fake_authentik):
    client = client_for(fake_authentik)
    content = authentik.normalize_blueprint_content(BLUEPRINT)
    first = client.create_blueprint("mlflow", content, {}, True)
    # The retry of such a create is refused as a duplicate name: the instance is there to use.
    again = client.create_blueprint("mlflow", content, {}, True)

    assert again.pk == first.pk


# -- outposts ---------------------------------------------------------------------------------------


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

    result = authentik.ensure_outpost_provider(
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
        authentik.ensure_outpost_provider(
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


# -- TLS --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A CA and a server certificate for 127.0.0.1 it signed, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, issuer, public_key, signing_key, ca):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("fake CA", "fake CA", ca_key.public_key(), ca_key, ca=True)
    server_cert = certificate("127.0.0.1", "fake CA", server_key.public_key(), ca_key, ca=False)
    paths = {name: folder / f"{name}.pem" for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def test_tls_is_verified_against_ca_path_against_fake_authentik_api(authentik_contract, tls_files):
    tls = (str(tls_files["cert"]), str(tls_files["key"]))
    with FakeAuthentik(token=TOKEN, contract=authentik_contract, tls=tls) as fake:
        with pytest.raises(AuthentikError) as untrusted:
            authentik.AuthentikClient(fake.url, TOKEN, retries=0).check_access()
        authentik.AuthentikClient(fake.url, TOKEN, ca_path=str(tls_files["ca"])).check_access()
        authentik.AuthentikClient(fake.url, TOKEN, validate_certs=False).check_access()

    assert fake.url.startswith("https://")
    assert "TLS connection to Authentik at 127.0.0.1:" in untrusted.value.message
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.value.message
    assert "Set ca_path" in untrusted.value.message
    assert fake.violations == []
