"""R5 Transport security: TLS verification on by default for every hook, a clear non-retried error for
a certificate that cannot be verified, the ``verify`` extra naming a CA bundle, and a timeout on
every request (no call can hang forever).

A private CA and a server certificate for 127.0.0.1 are generated with ``cryptography``; the sandbox
serves HTTPS with them on the loopback interface. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from requests.adapters import HTTPAdapter

from airflow_provider_dialers.hooks import dialer_hook_class
from airflow_provider_dialers.hooks.base import (
    DialerError,
    DialerHook,
    DialerTLSError,
    DialerTransientError,
    RetryPolicy,
)
from airflow_provider_dialers.sandbox import SANDBOX_CONNECTIONS, Sandbox
from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS
from tests.support import FAST

#: vendor key -> (connection type, the sandbox connection whose extras it copies)
VENDORS = {
    "expertflow": ("expertflow_ecm", "expertflow_ecm_default"),
    "maxcontact": ("maxcontact", "maxcontact_default"),
    "sinch": ("sinch_obi", "sinch_obi_default"),
    "ameyo": ("ameyo", "ameyo_default"),
}


# -- a private PKI: CA -> server certificate for 127.0.0.1 (IP SAN only) --------------------------------


def _write_pki(folder: Path) -> dict[str, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def ca(name: str):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return key, cert

    ca_key, ca_cert = ca("dialer sandbox test CA")
    _, other_ca_cert = ca("some other CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_cert.subject).public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = {name: folder / f"{name}.pem" for name in ("ca", "other_ca", "server", "server_key")}
    paths["ca"].write_bytes(ca_cert.public_bytes(pem))
    paths["other_ca"].write_bytes(other_ca_cert.public_bytes(pem))
    paths["server"].write_bytes(server_cert.public_bytes(pem))
    paths["server_key"].write_bytes(server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    return paths


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    return _write_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_sandbox(pki) -> Iterator[Sandbox]:
    with Sandbox(tls=(str(pki["server"]), str(pki["server_key"])), tls_ca=str(pki["ca"])) as server:
        yield server


@pytest.fixture
def connections(monkeypatch):
    """``connections(url, **extra)`` -> {vendor: conn_id}: the four vendors' sandbox connections at ``url``.

    No ``verify`` or ``timeout`` extra unless given: the hooks' defaults apply.
    """
    counter = iter(range(1000))

    def define(url: str, **extra) -> dict[str, str]:
        ids = {}
        n = next(counter)
        for vendor, (conn_type, template) in VENDORS.items():
            conn_id = f"r5_{vendor}_{n}"
            creds = DEFAULT_CREDENTIALS[vendor]
            conn = {"conn_type": conn_type, "host": url, "login": creds["login"], "password": creds["password"],
                    "extra": {**SANDBOX_CONNECTIONS[template][2], **extra}}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
            ids[vendor] = conn_id
        return ids

    return define


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """Every HTTP request a hook hands to its session's adapter: url and the timeout it carries."""
    records: list[dict] = []
    original = HTTPAdapter.send

    def send(adapter, request, **kwargs):
        if "/_sandbox/" not in request.url:  # the test's own admin calls are not the hooks'
            records.append({"url": request.url, "timeout": kwargs.get("timeout")})
        return original(adapter, request, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return records


def _hook(vendor: str, conn_id: str, **kwargs) -> DialerHook:
    hook = dialer_hook_class(VENDORS[vendor][0])(conn_id, retry_policy=kwargs.pop("retry_policy", FAST), **kwargs)
    hook.sleep = lambda seconds: hook.__dict__.setdefault("_slept", []).append(seconds)
    return hook


# -- TLS -------------------------------------------------------------------------------------------------


def test_tls_verification_is_on_by_default_and_an_unknown_ca_is_refused_clearly_without_retries(
        tls_sandbox, connections, sent, reliability_report):
    conn_ids = connections(tls_sandbox.url)  # no 'verify' extra
    for vendor, conn_id in conn_ids.items():
        hook = _hook(vendor, conn_id)
        assert hook.verify is True, vendor
        assert hook.get_conn().verify is True, vendor
        before = len(sent)
        with pytest.raises(DialerTLSError) as caught:
            hook.list_campaigns()
        message = str(caught.value)
        assert "TLS certificate verification failed for 127.0.0.1:" in message, message
        assert "extra 'verify'" in message and "CA bundle" in message, message
        assert not isinstance(caught.value, DialerTransientError)
        # one attempt, no retry, no backoff: a certificate does not change between attempts
        assert len(sent) - before == 1, (vendor, sent[before:])
        assert hook.__dict__.get("_slept", []) == [], vendor
        hook.close()

        ok, reason = _hook(vendor, conn_id).test_connection()
        assert ok is False and "TLS certificate verification failed" in reason and "'verify'" in reason, reason

    # not one request (so not one credential) reached the server's application
    assert tls_sandbox.core.request_log() == []
    assert sum(tls_sandbox.core.credentials.logins.values()) == 0
    reliability_report("R5 TLS, default verify (unknown CA)", vendors=len(conn_ids), refused=len(conn_ids),
                       attempts_per_refusal=1, retries=0, requests_reaching_server=0)


def test_the_verify_extra_naming_the_ca_bundle_makes_every_hook_work(tls_sandbox, pki, connections, sent,
                                                                     reliability_report):
    conn_ids = connections(tls_sandbox.url, verify=str(pki["ca"]))
    tls_sandbox.core.reset()
    campaigns = {}
    for vendor, conn_id in conn_ids.items():
        ok, message = _hook(vendor, conn_id).test_connection()
        assert ok is True, (vendor, message)
        with _hook(vendor, conn_id) as hook:
            assert hook.verify == str(pki["ca"])
            campaigns[vendor] = len(hook.list_campaigns())
        assert campaigns[vendor] > 0, vendor
    assert all(record["url"].startswith("https://127.0.0.1:") for record in sent)
    served = tls_sandbox.core.stats()["requests"]
    assert set(served) == set(VENDORS), served
    reliability_report("R5 TLS, verify=<CA bundle>", vendors=len(conn_ids), test_connection_ok=len(conn_ids),
                       https_requests=len(sent), campaigns_listed=sum(campaigns.values()))


def test_a_certificate_from_another_ca_or_for_another_host_name_is_refused(tls_sandbox, pki, connections):
    other_ca = connections(tls_sandbox.url, verify=str(pki["other_ca"]))
    # the certificate covers IP 127.0.0.1 only; "localhost" is the same server under another name
    wrong_name = connections(tls_sandbox.url.replace("127.0.0.1", "localhost"), verify=str(pki["ca"]))
    for vendor in VENDORS:
        with pytest.raises(DialerTLSError, match="TLS certificate verification failed") as caught:
            _hook(vendor, other_ca[vendor]).list_campaigns()
        assert "verify" in str(caught.value)
        with pytest.raises(DialerTLSError, match="(?i)hostname mismatch") as caught:
            _hook(vendor, wrong_name[vendor]).list_campaigns()
        assert "localhost" in str(caught.value)


def test_a_verify_extra_naming_a_missing_ca_bundle_is_a_clear_error(tls_sandbox, connections, tmp_path, sent):
    missing = tmp_path / "no-such-ca.pem"
    conn_ids = connections(tls_sandbox.url, verify=str(missing))
    for vendor, conn_id in conn_ids.items():
        with pytest.raises(DialerTLSError, match="'verify' names a CA bundle that does not exist") as caught:
            _hook(vendor, conn_id).list_campaigns()
        assert str(missing) in str(caught.value)
        ok, reason = _hook(vendor, conn_id).test_connection()
        assert ok is False and "does not exist" in reason, reason
    assert sent == []  # refused before anything was sent


def test_verification_can_be_turned_off_explicitly(tls_sandbox, connections):
    """``verify: false`` is honoured (for throw-away test servers): the default is the only 'on'."""
    import warnings

    from urllib3.exceptions import InsecureRequestWarning

    conn_ids = connections(tls_sandbox.url, verify=False)
    for vendor, conn_id in conn_ids.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureRequestWarning)
            with _hook(vendor, conn_id) as hook:
                assert hook.verify is False
                assert hook.list_campaigns(), vendor


# -- timeouts ------------------------------------------------------------------------------------------


def test_every_request_carries_a_timeout_30s_by_default(sandbox, sandbox_client, connections, sent,
                                                       reliability_report):
    """No ``timeout`` extra: 30 s on every request, logins, re-logins after an expiry and logouts included."""
    conn_ids = connections(sandbox.url)
    for vendor, conn_id in conn_ids.items():
        with _hook(vendor, conn_id) as hook:
            assert hook.timeout == 30.0
            hook.list_campaigns()
            sandbox_client.expire_credentials(vendor)  # the next call is rejected, re-logs in, re-sends
            hook.list_campaigns()
        assert _hook(vendor, conn_id).test_connection()[0] is True
    assert len(sent) >= 20, sent
    assert [r for r in sent if r["timeout"] != 30.0] == []
    served = sandbox_client.stats()["requests"]
    assert sum(served.values()) == len(sent)  # every request the server saw went through the spy
    logins = sandbox_client.stats()["logins"]
    # first login, re-login after the expiry (the rejected call re-sent), the Test button's own login;
    # Ameyo lists campaigns from its login answer, so its expiry shows at the Test button's login
    assert logins == {"expertflow": 3, "maxcontact": 3, "ameyo": 2}, logins
    reliability_report("R5 timeouts, default", requests_checked=len(sent), without_timeout=0, default_timeout_s=30.0,
                       logins=sum(logins.values()))


def test_an_answer_slower_than_the_timeout_fails_the_call_instead_of_hanging(sandbox, sandbox_client, connections,
                                                                           sent, reliability_report):
    """A delay fault holds every answer 6 s; with ``timeout`` 0.5 each attempt gives up, and after the
    retry policy's attempts the call fails with DialerTransientError (logins time out the same way)."""
    conn_ids = connections(sandbox.url, timeout=0.5)
    attempts = 2
    for vendor, conn_id in conn_ids.items():
        sandbox_client.add_fault(action="delay", vendor=vendor, delay=6, count=None)
        hook = _hook(vendor, conn_id, retry_policy=RetryPolicy(max_attempts=attempts, backoff_initial=0.01,
                                                               backoff_max=0.02))
        before = len(sent)
        with pytest.raises(DialerTransientError, match=f"no answer within 0.5 s .*gave up after {attempts} attempts"):
            hook.list_campaigns()
        sandbox_client.clear_faults()
        assert [r["timeout"] for r in sent[before:]] == [0.5] * attempts, vendor
        log = sandbox_client.requests(vendor=vendor)
        assert len(log) == attempts and {r["fault"] for r in log} == {"delay"}, log
        sandbox_client.clear_requests()
    reliability_report("R5 timeouts, 6 s answers vs 0.5 s timeout", vendors=len(conn_ids),
                       calls_failed_transient=len(conn_ids), attempts=attempts * len(conn_ids), hung=0)


@pytest.mark.parametrize("value", ["0", -1, "inf", "nan", "soon"])
def test_a_timeout_extra_that_could_hang_or_is_not_a_number_is_refused(sandbox, connections, sent, value):
    conn_ids = connections(sandbox.url, timeout=value)
    for vendor, conn_id in conn_ids.items():
        with pytest.raises(DialerError, match="'timeout' must be a positive, finite number of seconds"):
            _hook(vendor, conn_id).list_campaigns()
    assert sent == []
