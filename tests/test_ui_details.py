"""What an operator sees in Airflow's UI: task logs without the masker's "too short" warning, derived
secrets masked in logs, and Test-button messages that speak of "this connection"."""

from __future__ import annotations

import importlib
import logging
import os

import pytest

from airflow_provider_dialers.errors import DialerAuthError, register_secret, this_connection
from airflow_provider_dialers.hooks.ameyo import AmeyoHook
from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook
from airflow_provider_dialers.hooks.maxcontact import MaxContactHook
from airflow_provider_dialers.hooks.sinch import SinchObiHook
from tests.support import FAST

#: Where Airflow 3.3 keeps its secrets masker: the task SDK's, and the core's copy.
MASKER_MODULES = ("airflow.sdk._shared.secrets_masker.secrets_masker", "airflow._shared.secrets_masker.secrets_masker")
TOO_SHORT = "Skipping masking for a secret as it's too short"
#: What Airflow's connection-test endpoint names the connection under test (get_random_string()).
TRANSIENT_ID = "e9d719y1"
#: An ECM connection's extras with no string Airflow's masker would call too short (see
#: docs/hooks.md: Airflow itself warns at lookup for a connection whose extras hold one).
QUIET_ECM_EXTRAS = {"api_version": None, "timeout": 5.0}


@pytest.fixture
def masker_warnings(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> list[str]:
    """The "too short" warnings Airflow's secrets masker logs meanwhile. The masker logs it once per
    process, so the flag that remembers it is cleared first (on each masker class loaded: the
    SDK's, and the core's where it is a separate copy)."""
    reset = 0
    for module_name in MASKER_MODULES:
        try:
            masker_cls = importlib.import_module(module_name).SecretsMasker
        except ImportError:
            continue
        monkeypatch.setattr(masker_cls, "_has_warned_short_secret", False)
        reset += 1
    assert reset, "no SecretsMasker found"
    caplog.set_level(logging.WARNING)

    class Warnings(list):
        def collect(self) -> list[str]:
            self[:] = [record.getMessage() for record in caplog.records if TOO_SHORT in record.getMessage()]
            return self

    return Warnings()


def airflow_masked(text: str) -> str:
    """``text`` as Airflow's secrets masker writes it into a task log."""
    from airflow.sdk.log import redact

    return redact(text)


def test_the_masker_warning_is_what_this_fixture_sees(masker_warnings):
    from airflow.sdk.log import mask_secret

    mask_secret("abcd")  # Airflow's own call with a short value: the warning the fixture must see
    assert masker_warnings.collect() != []


def test_a_short_secret_is_redacted_from_errors_without_a_masker_warning(masker_warnings):
    register_secret("k9Zq", "ecm_token")  # 4 characters: under Airflow's floor of 5
    error = DialerAuthError("the server echoed k9Zq back", vendor="ExpertFlow ECM")
    assert "k9Zq" not in str(error) and "***" in str(error)
    assert masker_warnings.collect() == []


def test_an_ecm_task_meeting_a_short_database_password_logs_no_masker_warning(
    sandbox, ecm, make_connection, masker_warnings
):
    """ECM's preference settings answer carries the dialer's database password: a 4-character one is
    redacted from this package's texts, and never handed to Airflow's masker (which would log
    "too short")."""
    (settings,) = ecm.preferences.values()
    settings["password"] = "pw12"
    conn_id = make_connection("ecm_quiet", "expertflow_ecm", extra=QUIET_ECM_EXTRAS)
    with ExpertflowEcmHook(conn_id, retry_policy=FAST) as hook:
        assert hook.get_preference_settings()["password"] == "pw12"
        assert hook.test_connection()[0]
    assert masker_warnings.collect() == []
    assert "pw12" not in str(DialerAuthError("the database refused pw12", vendor="ExpertFlow ECM"))


def test_connection_extras_with_sensitive_names_are_still_masked_in_logs(sandbox, make_connection):
    api_key = "key-for-the-masker-7f3a91"
    conn_id = make_connection("sinch_keyed", "sinch_obi", extra={"api_key": api_key, "timezone": "UTC"})
    hook = SinchObiHook(conn_id, retry_policy=FAST)
    assert hook.extra("api_key") == api_key  # read through the connection's extra_dejson
    assert airflow_masked(f"sent x-api-key {api_key}") == "sent x-api-key ***"


@pytest.mark.parametrize(
    ("hook_cls", "conn_id"),
    [(SinchObiHook, "sinch_obi_default"), (AmeyoHook, "ameyo_default")],
    ids=["sinch-basic-credential", "ameyo-session-id"],
)
def test_derived_secrets_are_masked_in_logs_whatever_their_name(sandbox, hook_cls, conn_id):
    """Airflow masks a value given with a name only when the name is a sensitive one;
    ``sinch_basic_auth`` and ``ameyo_session_id`` are not."""
    with hook_cls(conn_id, retry_policy=FAST) as hook:
        credential, _ = hook.auth.current()
        secret = credential.value.removeprefix("Basic ")
        assert len(secret) >= 5
        assert secret not in airflow_masked(f"credential {secret} in a log line")


def test_the_test_button_messages_say_this_connection(sandbox, make_connection):
    """As Airflow's ``POST /api/v2/connections/test`` does it: the form's fields under a random id."""
    from airflow.models.connection import Connection

    conn = Connection(conn_id=TRANSIENT_ID, conn_type="expertflow_ecm", host=sandbox.url,
                      login="admin", password="not-the-password")
    os.environ[f"AIRFLOW_CONN_{TRANSIENT_ID.upper()}"] = conn.get_uri()
    try:
        ok, message = conn.test_connection()
    finally:
        os.environ.pop(f"AIRFLOW_CONN_{TRANSIENT_ID.upper()}")
    assert not ok
    assert message.startswith("Authentication failed: ")
    assert "this connection" in message and TRANSIENT_ID not in message


@pytest.mark.parametrize("hook_cls", [ExpertflowEcmHook, MaxContactHook, SinchObiHook, AmeyoHook],
                         ids=lambda cls: cls.conn_type)
@pytest.mark.parametrize("missing", ["login", "password"])
def test_every_vendors_test_button_names_no_connection_id(sandbox, make_connection, hook_cls, missing):
    conn_id = make_connection(TRANSIENT_ID, hook_cls.conn_type, **{missing: None})
    ok, message = hook_cls(conn_id, retry_policy=FAST).test_connection()
    assert not ok, message
    assert TRANSIENT_ID not in message, message


def test_this_connection_rewrites_only_the_quoted_id():
    text = ("ExpertFlow ECM: connection 'ecm' needs a login; The conn_id `ecm` isn't defined; "
            'id "ecm" unknown; the ecm release 13.2')
    assert this_connection(text, "ecm") == (
        "ExpertFlow ECM: this connection needs a login; The conn_id this connection isn't defined; "
        "id this connection unknown; the ecm release 13.2"
    )
