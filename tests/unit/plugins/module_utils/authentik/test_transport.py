"""plugins/module_utils/authentik/transport.py and errors.py: the connection, its retries and what its
errors say, run in-process against the fake Authentik API (tools/standins/authentik/).
"""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from authentik_client_testing import READER, WRONG, RecordingSleep, client_for, present
from fake_authentik import TEST_TOKEN as TOKEN

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.client import AuthentikClient
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.transport import MAX_RETRY_DELAY, api_url


def doubling_with_jitter(pauses, first):
    """Whether pause n (0, 1, ...) lies between half and all of first * 2**n: the retry policy's backoff."""
    return all(first * 2**n / 2 <= pause <= first * 2**n for n, pause in enumerate(pauses)) and len(pauses) > 0


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
    assert api_url(host) == expected


def test_a_host_that_is_no_url_is_refused():
    with pytest.raises(AuthentikError, match="host must be an http"):
        api_url("auth.example.com")


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


def test_a_token_without_permission_says_what_it_may_not_do_against_fake_authentik_api(start_fake_authentik):
    fake = start_fake_authentik(read_only_tokens=(READER,))
    with pytest.raises(AuthentikError) as failure:
        present(client_for(fake, token=READER))

    assert "the token's user may not create blueprint instance 'mlflow'" in failure.value.message
    assert "You do not have permission" in failure.value.message


def test_an_unreachable_host_is_named_after_the_retries():
    sleep = RecordingSleep()
    client = AuthentikClient("http://127.0.0.1:9", TOKEN, retries=2, retry_delay=0.5, sleep=sleep)

    with pytest.raises(AuthentikError) as failure:
        client.find_blueprint("mlflow")

    assert "cannot reach Authentik at 127.0.0.1:9 to find blueprint instance 'mlflow' (3 tries)" in str(failure.value)
    assert "Connection refused" in str(failure.value)
    assert doubling_with_jitter(sleep.pauses, first=0.5)


def test_5xx_answers_are_retried_with_exponential_backoff_against_fake_authentik_api(fake_authentik):
    sleep = RecordingSleep()
    fake_authentik.inject(status=500, count=2)
    fake_authentik.inject(status=502, count=1)

    result = present(client_for(fake_authentik, retry_delay=0.25, sleep=sleep))

    assert result["blueprint"]["status"] == "successful"
    assert doubling_with_jitter(sleep.pauses[:3], first=0.25)
    assert [r["status"] for r in fake_authentik.requests[:4]] == [500, 500, 502, 200]


def test_429_waits_as_long_as_retry_after_asks_within_the_limit_against_fake_authentik_api(fake_authentik):
    sleep = RecordingSleep()
    fake_authentik.inject(status=429, count=1, retry_after=7)
    fake_authentik.inject(status=429, count=1, retry_after=3600)

    client_for(fake_authentik, retry_delay=0.1, sleep=sleep).check_access()

    assert sleep.pauses == [7.0, MAX_RETRY_DELAY]


def test_retries_end_with_the_last_answer_against_fake_authentik_api(fake_authentik):
    fake_authentik.inject(status=503, count=10)

    with pytest.raises(AuthentikError, match=r"kept failing the request to list blueprint instances \(3 tries"):
        client_for(fake_authentik, retries=2, sleep=RecordingSleep()).check_access()


def test_a_request_that_hangs_is_retried_after_the_timeout_against_fake_authentik_api(fake_authentik):
    fake_authentik.hang(count=1, seconds=2.0)

    client_for(fake_authentik, request_timeout=0.2).check_access()

    assert [r["injected"] for r in fake_authentik.requests] == [True, False]


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


def test_tls_is_verified_against_ca_path_against_fake_authentik_api(start_fake_authentik, tls_files):
    tls = (str(tls_files["cert"]), str(tls_files["key"]))
    fake = start_fake_authentik(tls=tls)
    with pytest.raises(AuthentikError) as untrusted:
        AuthentikClient(fake.url, TOKEN, retries=0).check_access()
    AuthentikClient(fake.url, TOKEN, ca_path=str(tls_files["ca"])).check_access()
    AuthentikClient(fake.url, TOKEN, validate_certs=False).check_access()

    assert fake.url.startswith("https://")
    assert "TLS connection to Authentik at 127.0.0.1:" in untrusted.value.message
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.value.message
    assert "Set ca_path" in untrusted.value.message
    assert fake.violations == []
