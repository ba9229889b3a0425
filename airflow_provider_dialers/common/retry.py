"""What is transient, and when a resend is safe: the one error classifier of every hook."""

from __future__ import annotations

import email.utils
import errno
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

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


#: What an SSL library says when it reads a plain-HTTP answer as a TLS record.
_NOT_TLS = ("wrong version number", "record layer failure", "packet length too long", "unknown protocol")


def _reasons(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (args, ``reason``, cause, context), breadth first, bounded."""
    seen: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo and len(seen) < 32:
        current = todo.pop(0)
        if isinstance(current, BaseException) and all(current is not known for known in seen):
            seen.append(current)
            todo.extend([getattr(current, "reason", None), current.__cause__, current.__context__, *current.args])
    return seen


def plain_http_on_tls(exc: BaseException) -> bool:
    """Whether a TLS handshake failed because the port answers plain HTTP (``https://`` on an HTTP port)."""
    return any(isinstance(reason, ssl.SSLError) and any(mark in str(reason).lower() for mark in _NOT_TLS)
               for reason in _reasons(exc))


def connection_cause(exc: requests.RequestException, timeout: float) -> str:
    """Why a request got no answer, in words a user can act on (never a credential: no URL here)."""
    reasons = _reasons(exc)
    if any(isinstance(r, NameResolutionError) for r in reasons):
        return "the host name could not be resolved (DNS): check the connection's host"
    if any(isinstance(r, ConnectionRefusedError) or getattr(r, "errno", None) == errno.ECONNREFUSED
           for r in reasons) or any("connection refused" in str(r).lower() for r in reasons):
        return "connection refused: nothing listens on that host and port (check the host, port and scheme)"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection within {timeout:g} s (a firewall, a wrong host or port, or the server is down)"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"no answer within {timeout:g} s (the connection extra 'timeout')"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed"
    if any(isinstance(r, (ConnectionResetError, BrokenPipeError)) for r in reasons) or any(
            "reset" in str(r).lower() or "aborted" in str(r).lower() or "disconnected" in str(r).lower()
            for r in reasons):
        return "the server closed the connection"
    return type(exc).__name__


def safe_origin(url: str) -> str:
    """``scheme://host:port/path`` of ``url`` without any user info, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"
