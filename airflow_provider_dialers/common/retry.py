"""What is transient, and when a resend is safe: the one error classifier of every hook."""

from __future__ import annotations

import email.utils
import ssl
import time
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from airflow_provider_dialers.errors import DialerTLSError

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
# The server declined to process the request at all: resending is safe even when not idempotent.
NOT_PROCESSED_STATUSES = frozenset({429, 503})


class Retryable(Exception):
    """One attempt failed transiently and may be retried (internal to the hook's retry loop)."""

    def __init__(self, description: str, retry_after: float | None = None, processed: bool = False):
        super().__init__(description)
        self.description = description
        self.retry_after = retry_after
        self.processed = processed


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def never_sent(exc: requests.RequestException) -> bool:
    """Whether the request certainly never reached the server (so resending cannot duplicate)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind a ``requests`` error, if that is its cause.

    ``requests`` wraps it as ``SSLError(MaxRetryError(reason=SSLError(SSLCertVerificationError)))``;
    other TLS failures (a handshake cut short by a reset or an EOF) are connection errors, retried
    like any other.
    """
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo and len(seen) < 32:  # bounded walk over args / reason / cause / context
        current = todo.pop()
        if id(current) in seen or not isinstance(current, BaseException):
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        todo.extend([getattr(current, "reason", None), current.__cause__, current.__context__, *current.args])
    return None


def tls_error(cert_error: ssl.SSLCertVerificationError, url: str, vendor: str) -> DialerTLSError:
    """The error for a certificate this worker cannot verify, naming the fix."""
    reason = getattr(cert_error, "verify_message", None) or str(cert_error)
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return DialerTLSError(
        f"TLS certificate verification failed for {host}: {reason}. The server's certificate is not "
        "signed by a CA this worker trusts (or does not cover this host name). If the dialer uses a "
        "private or self-signed CA, set the connection extra 'verify' to the path of that CA bundle "
        "(PEM file); turning verification off ('verify': false) is for throw-away test servers only. "
        "Not retried: the certificate will not change between attempts.",
        vendor=vendor,
    )
