"""The provider's errors and the secret registry that redacts their texts.

A light module (the standard library and Airflow's SDK only), so operators and sensors can catch and
raise these errors without loading ``requests``, ``tenacity`` or ``HttpHook`` when a DAG file is
parsed. ``airflow_provider_dialers.hooks.base`` re-exports every name here, as the same objects.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from airflow_provider_dialers.compat import AirflowException, AirflowFailException

log = logging.getLogger(__name__)

__all__ = [
    "REDACTED",
    "DialerAuthError",
    "DialerConfigurationError",
    "DialerEmergencyActiveError",
    "DialerError",
    "DialerNotSupportedError",
    "DialerPermanentError",
    "DialerRequestError",
    "DialerResponseError",
    "DialerTLSError",
    "DialerTransientError",
    "DialerValidationError",
    "redact",
    "register_secret",
]

# --------------------------------------------------------------------------------------------
# Secrets: every credential and derived credential is registered once, masked in Airflow's
# logs (mask_secret) and redacted from any text this package builds (error messages).
# --------------------------------------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
# Shorter values are not redacted from free text (they would shred ordinary words). Passwords that
# short are refused by any real dialer anyway.
_MIN_REDACT_LEN = 4
# Airflow's secrets masker skips values shorter than [logging] min_length_masked_secret (5 by
# default) and logs "Skipping masking for a secret as it's too short" when handed one: such values
# are redacted here but never handed to it.
_AIRFLOW_MIN_MASK_LEN = 5
REDACTED = "***"


def masker_min_length() -> int:
    """The shortest value Airflow's secrets masker masks (``[logging] min_length_masked_secret``)."""
    try:
        from airflow.configuration import conf

        return conf.getint("logging", "min_length_masked_secret", fallback=_AIRFLOW_MIN_MASK_LEN)
    except Exception:  # no readable configuration: Airflow's own default
        return _AIRFLOW_MIN_MASK_LEN


def register_secret(value: Any, name: str | None = None) -> None:
    """Mask ``value`` in Airflow's logs and redact it from this package's error texts.

    :param value: the secret (a credential, or one derived from it: token, session id ...).
    :param name: what it is, for the reader only. It is not passed to Airflow's masker, which would
        then mask the value only under a name it deems sensitive (``ameyo_session_id`` is not).
    """
    if value is None:
        return
    text = str(value)
    if len(text) < _MIN_REDACT_LEN:
        return
    with _SECRETS_LOCK:
        if text in _SECRETS:
            return
        _SECRETS.add(text)
    if len(text) < masker_min_length():
        return  # Airflow's masker would skip it, logging "too short"; redact() still covers it
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(text)
    except Exception:  # masking is best effort outside a task; redaction still applies
        log.debug("mask_secret unavailable; relying on redaction only")


def this_connection(text: str, conn_id: str) -> str:
    """``text`` speaking of "this connection" where it names connection ``conn_id``.

    :param text: a message about the connection, e.g. for the UI's Test button, which tests a
        connection under a temporary random id that would mean nothing to the user.
    :param conn_id: the id to take out, wherever it is quoted (``'id'``, ``"id"``, ```id```).
    """
    quoted = "|".join(re.escape(f"{quote}{conn_id}{quote}") for quote in "'\"`")
    named = rf"\b(?:the )?connection (?:id )?(?:{quoted})"
    text = re.sub(named, "this connection", text, flags=re.IGNORECASE)
    return re.sub(quoted, "this connection", text)


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` with ``***`` (longest first)."""
    if not text:
        return text
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


# --------------------------------------------------------------------------------------------
# Errors: one small hierarchy. Every message is redacted when the error is built.
# --------------------------------------------------------------------------------------------


class DialerError(AirflowException):
    """Base of every error this provider raises. Its text never holds a registered secret."""

    def __init__(self, message: str, *, vendor: str | None = None) -> None:
        self.vendor = vendor
        text = f"{vendor}: {message}" if vendor else message
        super().__init__(redact(text))


class DialerPermanentError(DialerError, AirflowFailException):
    """An error a retry cannot fix: the vendor cannot do it, the input or the configuration is wrong,
    the credentials are refused, the certificate cannot be trusted. It is an ``AirflowFailException``,
    so a task raising it fails at once instead of using its retries on the same outcome."""


class DialerAuthError(DialerPermanentError):
    """Login failed, or the dialer rejected a fresh credential (wrong login/password/API key)."""


class DialerRequestError(DialerError):
    """The dialer answered and refused the request (validation error, unknown id, server error).

    :ivar status_code: HTTP status of the answer (200 for vendors that report errors in the body).
    :ivar vendor_code: the vendor's own error code or result string, when it gives one.
    :ivar vendor_message: the vendor's own error text, redacted.
    """

    def __init__(
        self,
        message: str,
        *,
        vendor: str | None = None,
        status_code: int | None = None,
        vendor_code: str | None = None,
        vendor_message: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.vendor_code = vendor_code
        self.vendor_message = redact(vendor_message) if vendor_message else vendor_message
        super().__init__(message, vendor=vendor)


class DialerTransientError(DialerError):
    """Transient failures (connection errors, timeouts, 429/502/503/504) outlasted the retries,
    or a request that may already have been processed was not re-sent.

    :ivar may_have_been_processed: True when the server may have acted on the request (the
        caller must reconcile before sending it again); False when it certainly did not.
    """

    def __init__(self, message: str, *, vendor: str | None = None, may_have_been_processed: bool) -> None:
        self.may_have_been_processed = may_have_been_processed
        super().__init__(message, vendor=vendor)


class DialerResponseError(DialerError):
    """The dialer's answer could not be understood (HTML page, ``null``, truncated JSON, XML ...)."""


class DialerNotSupportedError(DialerPermanentError):
    """The vendor's API has no way to do what was asked."""


class DialerTLSError(DialerPermanentError):
    """The dialer's TLS certificate could not be verified (unknown or self-signed CA, expired
    certificate, a host name the certificate does not cover), or the connection's ``verify`` extra
    names a CA bundle that does not exist.

    Never retried: the certificate will not change between attempts, and sending credentials to a
    server that cannot prove who it is would be the leak TLS exists to prevent. The message says
    how to fix it: point the connection extra ``verify`` at the CA bundle (PEM) that signed the
    server's certificate.
    """


class DialerConfigurationError(DialerPermanentError):
    """The connection or the task is set up in a way that cannot work (an extra with a bad value, an
    option the vendor cannot honour). Raised before anything is sent; the message names the fix.
    A retry cannot fix it."""


class DialerEmergencyActiveError(DialerPermanentError):
    """A global emergency stop is on for the connection (recorded by ``GlobalEmergencyOperator``):
    campaigns are not started until it ends, unless the task says ``override_emergency=True``."""


class DialerValidationError(DialerPermanentError):
    """Input refused before anything was sent (e.g. a campaign spec missing a required field).

    :ivar field: the offending field, as the caller named it.
    """

    def __init__(self, field: str, reason: str, *, vendor: str | None = None) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}", vendor=vendor)
