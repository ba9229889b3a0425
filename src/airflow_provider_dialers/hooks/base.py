"""Shared mechanism of every dialer hook: session, auth lifecycle, retry, errors, secret masking.

Each vendor module (``expertflow``, ``maxcontact``, ``sinch``, ``ameyo``) subclasses
:class:`DialerHook` and :class:`CredentialAuth`; nothing here knows a vendor's name.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import random
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import requests
import tenacity
from requests.auth import AuthBase
from urllib3.exceptions import NewConnectionError

from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk.exceptions import AirflowException
from airflow_provider_dialers.capabilities import CampaignSummary, DialerCapabilities  # noqa: F401 (re-exported)



log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Secrets: every credential and derived credential is registered once, masked in Airflow's
# logs (mask_secret) and redacted from any text this package builds (error messages).
# --------------------------------------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
# Shorter values are not redacted from free text (they would shred ordinary words); Airflow's
# masker has the same floor. Passwords that short are refused by any real dialer anyway.
_MIN_REDACT_LEN = 4
REDACTED = "***"


def register_secret(value: Any, name: str | None = None) -> None:
    """Mask ``value`` in Airflow's logs and redact it from this package's error texts."""
    if value is None:
        return
    text = str(value)
    if len(text) < _MIN_REDACT_LEN:
        return
    with _SECRETS_LOCK:
        if text in _SECRETS:
            return
        _SECRETS.add(text)
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(text, name)
    except Exception:  # masking is best effort outside a task; redaction below still applies
        log.debug("mask_secret unavailable; relying on redaction only")


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


class DialerAuthError(DialerError):
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


class DialerNotSupportedError(DialerError):
    """The vendor's API has no way to do what was asked."""


class DialerTLSError(DialerError):
    """The dialer's TLS certificate could not be verified (unknown or self-signed CA, expired
    certificate, a host name the certificate does not cover), or the connection's ``verify`` extra
    names a CA bundle that does not exist.

    Never retried: the certificate will not change between attempts, and sending credentials to a
    server that cannot prove who it is would be the leak TLS exists to prevent. The message says
    how to fix it: point the connection extra ``verify`` at the CA bundle (PEM) that signed the
    server's certificate.
    """


class DialerValidationError(DialerError):
    """Input refused before anything was sent (e.g. a campaign spec missing a required field).

    :ivar field: the offending field, as the caller named it.
    """

    def __init__(self, field: str, reason: str, *, vendor: str | None = None) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}", vendor=vendor)


# --------------------------------------------------------------------------------------------
# Auth: a requests auth class that owns a credential's lifecycle.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    """A credential obtained by a login: the value sent on calls, and when to stop using it."""

    value: str
    expires_at: float | None = None  # time.monotonic() deadline; None: until the server rejects it


class CredentialAuth(AuthBase):
    """Log in once, reuse the credential on every call, re-authenticate exactly once on rejection.

    Subclasses implement :meth:`login` (returns a :class:`Credential`), :meth:`apply` (puts it
    on a prepared request) and, when the server signals rejection otherwise than with HTTP 401,
    :meth:`is_rejected`. Thread-safe: concurrent calls that all see an expired credential cause
    one login, not one per call (the credential carries a generation number).
    """

    #: Re-login this many seconds before a known expiry, so no call goes out with a dying token.
    expiry_margin: ClassVar[float] = 30.0
    #: False for schemes with nothing to renew (HTTP Basic): a rejection is final at once.
    reauthenticate: ClassVar[bool] = True

    def __init__(self, hook: DialerHook) -> None:
        self.hook = hook
        self._lock = threading.Lock()
        self._credential: Credential | None = None
        self._generation = 0
        self.login_count = 0

    # -- to implement --------------------------------------------------------------------
    def login(self) -> Credential:  # pragma: no cover - abstract
        raise NotImplementedError

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:  # pragma: no cover
        raise NotImplementedError

    def is_rejected(self, response: requests.Response) -> bool:
        """Whether the server says the credential is expired or invalid."""
        return response.status_code == 401

    def logout(self, credential: Credential) -> None:
        """End the server-side session, for schemes that have one. Default: nothing to do."""

    # -- lifecycle -----------------------------------------------------------------------
    def current(self) -> tuple[Credential, int]:
        """The credential to use now and its generation, logging in if there is none or it expired."""
        with self._lock:
            cred = self._credential
            if cred is None or (cred.expires_at is not None and time.monotonic() >= cred.expires_at):
                cred = self.login()
                self.login_count += 1
                self._credential = cred
                self._generation += 1
            return cred, self._generation

    def invalidate(self, generation: int) -> None:
        """Drop the credential of ``generation`` (a no-op if another thread already replaced it)."""
        with self._lock:
            if generation == self._generation:
                self._credential = None

    def touch(self, generation: int) -> None:
        """Record use of the credential (for schemes with an inactivity timeout)."""

    def close(self) -> None:
        """Log out if logged in; never raises (it runs on clean-up paths)."""
        with self._lock:
            cred, self._credential = self._credential, None
        if cred is not None:
            try:
                self.logout(cred)
            except Exception as exc:  # clean-up must not mask the task's own outcome
                log.warning("Logout failed: %s", redact(str(exc)))

    # -- requests hook ---------------------------------------------------------------------
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        cred, generation = self.current()
        self.apply(request, cred)
        request._dialer_generation = generation  # type: ignore[attr-defined]
        request.register_hook("response", self._on_response)
        return request

    def _on_response(self, response: requests.Response, **send_kwargs: Any) -> requests.Response:
        request = response.request
        generation = getattr(request, "_dialer_generation", 0)
        if not self.is_rejected(response):
            if response.ok:  # only an answer from the vendor itself proves the credential alive
                self.touch(generation)
            return response
        if not self.reauthenticate or getattr(request, "_dialer_reauthenticated", False):
            return response  # DialerHook.request turns a final rejection into DialerAuthError
        # The server refused the credential, so it did not act on the request: resending is safe.
        self.invalidate(generation)
        response.content  # drain so the connection can be reused
        response.close()
        retry = request.copy()
        cred, new_generation = self.current()
        self.apply(retry, cred)
        retry._dialer_generation = new_generation  # type: ignore[attr-defined]
        retry._dialer_reauthenticated = True  # type: ignore[attr-defined]
        send_kwargs.pop("stream", None)
        new_response = response.connection.send(retry, stream=False, **send_kwargs)
        new_response.history.append(response)
        new_response.request = retry
        if new_response.ok and not self.is_rejected(new_response):
            self.touch(new_generation)
        return new_response


# --------------------------------------------------------------------------------------------
# Retry policy
# --------------------------------------------------------------------------------------------

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
# The server declined to process the request at all: resending is safe even when not idempotent.
NOT_PROCESSED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: exponential backoff with jitter, ``Retry-After`` capped."""

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 20.0
    retry_after_cap: float = 60.0

    def wait_seconds(self, attempt_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt_number`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        backoff = min(self.backoff_max, self.backoff_initial * 2 ** (attempt_number - 1))
        return backoff * (0.5 + random.random() / 2)  # jitter spreads concurrent retries apart


class _Retryable(Exception):
    """Internal: one attempt failed transiently and may be retried."""

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


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request certainly never reached the server (so resending cannot duplicate)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _certificate_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
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


def _tls_error(cert_error: ssl.SSLCertVerificationError, url: str, vendor: str) -> DialerTLSError:
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


def _to_bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on", "y", "t"}


# --------------------------------------------------------------------------------------------
# The base hook
# --------------------------------------------------------------------------------------------


class DialerHook(HttpHook, DialerCapabilities):
    """Base of the four dialer hooks, built on :class:`~airflow.providers.http.hooks.http.HttpHook`.

    ``HttpHook`` parses the connection (host with or without scheme, schema, port) and builds
    the ``requests`` session; this class keeps one session for the hook's life (connection
    reuse), applies the vendor's :class:`CredentialAuth` per request, sends only the extras it
    understands (``verify``, ``timeout``, ``proxies``, ``cert``; never others as headers), and
    wraps every call in one retry policy:

    * connection errors and timeouts, and HTTP 429/502/503/504, are retried with exponential
      backoff, honouring ``Retry-After`` up to :attr:`RetryPolicy.retry_after_cap` seconds;
    * a request the server may already have processed (read timeout, reset after sending,
      502/504) is re-sent only when the caller says it is retry-safe; otherwise
      :class:`DialerTransientError` with ``may_have_been_processed=True`` is raised;
    * 4xx validation errors are never retried.

    Subclasses set ``vendor_name``, implement :meth:`build_auth`, :meth:`parse_error` and
    :meth:`_test_connection_call`, and override the :class:`DialerCapabilities` their API supports.
    """

    conn_name_attr = "conn_id"
    vendor_name: ClassVar[str] = "dialer"
    default_timeout: ClassVar[float] = 30.0
    #: Extras this hook reads (short names; ``extra__<conn_type>__<name>`` is accepted too).
    extra_fields: ClassVar[tuple[str, ...]] = ("verify", "timeout")

    def __init__(
        self,
        conn_id: str | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        # Nothing here may touch the network or the metadata DB: DAG files are parsed often.
        super().__init__(http_conn_id=conn_id or self.default_conn_name, **kwargs)
        self.conn_id = self.http_conn_id
        self.retry_policy = retry_policy or RetryPolicy()
        self._sleep = time.sleep  # replaced in tests to record waits instead of sleeping
        self._session: requests.Session | None = None
        self._auth: CredentialAuth | None = None
        self._conn = None
        self._extras: dict[str, Any] | None = None
        self._session_lock = threading.Lock()

    # -- connection ----------------------------------------------------------------------------
    @property
    def connection(self):
        """The Airflow connection, fetched once."""
        if self._conn is None:
            self._conn = super().get_connection(self.http_conn_id)
            if self._conn.password:
                register_secret(self._conn.password, "password")
        return self._conn

    @property
    def extras(self) -> dict[str, Any]:
        """The connection's extras, decoded once (each ``extra_dejson`` read re-runs the masker)."""
        if self._extras is None:
            self._extras = self.connection.extra_dejson
        return self._extras

    def extra(self, name: str, default: Any = None) -> Any:
        """An extra field by its short name, accepting the long ``extra__<type>__name`` form too."""
        extras = self.extras
        for key in (name, f"extra__{self.conn_type}__{name}"):
            value = extras.get(key)
            if value not in (None, ""):
                return value
        return default

    @property
    def timeout(self) -> float:
        """Per-request timeout in seconds (extra ``timeout``, default 30): always finite and positive,
        so no request can hang forever."""
        try:
            value = float(self.extra("timeout", self.default_timeout))
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise DialerError(
                "connection extra 'timeout' must be a positive, finite number of seconds "
                f"(default {self.default_timeout:g})",
                vendor=self.vendor_name,
            )
        return value

    @property
    def verify(self) -> bool | str:
        """TLS verification: on by default; ``false`` turns it off; a path names a CA bundle."""
        value = self.extra("verify", self.extra("verify_ssl", True))
        if isinstance(value, str) and value.strip().lower() not in {
            "1", "0", "true", "false", "yes", "no", "on", "off", "y", "n", "t", "f",
        }:
            path = os.path.expanduser(value.strip())
            if not os.path.exists(path):
                raise DialerTLSError(
                    f"connection extra 'verify' names a CA bundle that does not exist on this worker: {path}",
                    vendor=self.vendor_name,
                )
            return path  # a CA bundle file (or a directory of hashed CA certificates)
        return _to_bool(value, True)

    @property
    def server_timezone(self) -> str:
        """The dialer server's time zone (extra ``timezone``, default UTC), for APIs whose times
        carry no offset (ECM ``dialTime``, Ameyo ``callBackTime``)."""
        from airflow_provider_dialers.contacts import parse_timezone

        return parse_timezone(self.extra("timezone", "UTC")) or "UTC"

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None):
        """The hook's one ``requests.Session`` (built by ``HttpHook`` on first use, then reused)."""
        with self._session_lock:
            if self._session is None:
                self._session = super().get_conn(headers=headers, extra_options=extra_options)
            return self._session

    def get_connection(self, conn_id: str):  # type: ignore[override]
        # HttpHook.get_conn looks the connection up again; answer from the cached one.
        if conn_id == self.http_conn_id:
            return self.connection
        return super().get_connection(conn_id)

    def url_from_endpoint(self, endpoint: str | None) -> str:
        """Base URL (``host`` with scheme/port) plus the documented path, with exactly one slash."""
        if not self._base_url_initialized:
            self._set_base_url(self.connection)
        return self.base_url.rstrip("/") + "/" + (endpoint or "").lstrip("/")

    def _configure_session_from_auth(self, session, connection):
        # HttpHook would put Basic auth with the password on the session for every call; each
        # vendor has its own scheme, applied per request by build_auth()'s object instead.
        session.auth = None
        return session

    def _configure_session_from_extra(self, session, connection, extra_options):
        # HttpHook sends every unknown extra as a header (api_key, api_version, ... would leak).
        session.verify = self.verify
        proxies = self.extra("proxies")
        if isinstance(proxies, dict):
            session.proxies = proxies
        cert = self.extra("cert")
        if cert:
            session.cert = cert
        return session

    @property
    def auth(self) -> CredentialAuth:
        if self._auth is None:
            self._auth = self.build_auth()
        return self._auth

    def build_auth(self) -> CredentialAuth:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Log out (where the scheme has a session) and close the HTTP session."""
        if self._auth is not None:
            self._auth.close()
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> DialerHook:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def login_count(self) -> int:
        """How many logins this hook made (one per credential lifetime, not one per call)."""
        return self._auth.login_count if self._auth else 0

    # -- requests ------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        retry_safe: bool,
        authenticated: bool = True,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        data: Any = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (200, 201, 202, 204),
    ) -> requests.Response:
        """Send one API call with the retry policy; return the response or raise a DialerError.

        :param retry_safe: whether re-sending is harmless if the server may already have acted
            (reads, updates that set a state, writes carrying a dedupe key). Requests the server
            certainly did not process (connection refused, 429, 503, credential rejected) are
            retried regardless.
        :param authenticated: apply the vendor's credential (False for the login call itself).
        :returns: the response; ``response.dialer_replayed`` is True when an earlier attempt of this
            call may have been processed before it was re-sent.
        """
        session = self.get_conn()
        url = self.url_from_endpoint(path)
        replayed = False  # set once an attempt the server may have processed is sent again
        # Not None for the login call: requests would then fall back to ~/.netrc Basic auth and
        # overwrite the Authorization header some logins carry.
        auth = self.auth if authenticated else _no_auth
        policy = self.retry_policy

        def attempt() -> requests.Response:
            nonlocal replayed
            try:
                response = session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    data=data,
                    files=files,
                    headers=headers,
                    auth=auth,
                    timeout=self.timeout,
                    # Per request, not only on the session: requests lets REQUESTS_CA_BUNDLE /
                    # CURL_CA_BUNDLE override a session's verify, which would silently ignore the
                    # connection's CA bundle (or its verify=false).
                    verify=session.verify,
                )
            except requests.RequestException as exc:
                # requests' SSLError is a ConnectionError, but a certificate that cannot be verified
                # is no transient failure: raise at once, naming the fix. Other TLS errors (a
                # handshake or stream cut short) are connection errors like any other.
                cert_error = _certificate_failure(exc) if isinstance(exc, requests.exceptions.SSLError) else None
                if cert_error is not None:
                    raise _tls_error(cert_error, url, self.vendor_name) from None
                sent = not _never_sent(exc)
                description = f"{type(exc).__name__} on {method} {path}"
                if sent and not retry_safe:
                    raise DialerTransientError(
                        f"{description}; the server may have processed the request, so it was not "
                        "re-sent (reconcile before retrying)",
                        vendor=self.vendor_name,
                        may_have_been_processed=True,
                    ) from None
                replayed = replayed or sent
                raise _Retryable(description, processed=sent) from None
            status = response.status_code
            if status in TRANSIENT_STATUSES:
                description = f"HTTP {status} on {method} {path}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                if status not in NOT_PROCESSED_STATUSES and not retry_safe:
                    raise DialerTransientError(
                        f"{description}; the request may have been processed, so it was not re-sent",
                        vendor=self.vendor_name,
                        may_have_been_processed=True,
                    )
                processed = status not in NOT_PROCESSED_STATUSES
                replayed = replayed or processed
                raise _Retryable(description, retry_after=retry_after, processed=processed)
            return response

        def wait(retry_state: tenacity.RetryCallState) -> float:
            exc = retry_state.outcome.exception() if retry_state.outcome else None
            return policy.wait_seconds(retry_state.attempt_number, getattr(exc, "retry_after", None))

        def before_sleep(retry_state: tenacity.RetryCallState) -> None:
            exc = retry_state.outcome.exception() if retry_state.outcome else None
            self.log.warning(
                "%s: %s (attempt %d of %d); retrying in %.1fs",
                self.vendor_name,
                getattr(exc, "description", exc),
                retry_state.attempt_number,
                policy.max_attempts,
                retry_state.next_action.sleep if retry_state.next_action else 0,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.max_attempts),
            wait=wait,
            sleep=self._sleep,
            retry=tenacity.retry_if_exception_type(_Retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            response = retrying(attempt)
        except _Retryable as exc:
            raise DialerTransientError(
                f"{exc.description}; gave up after {policy.max_attempts} attempts",
                vendor=self.vendor_name,
                may_have_been_processed=exc.processed,
            ) from None
        self.log.debug("%s %s %s -> %s", self.vendor_name, method, path, response.status_code)
        # A retry-safe write re-sent after the server may have acted on it: a "duplicate" in this
        # answer can be the first attempt's own row, which callers count as accepted, not duplicate.
        response.dialer_replayed = replayed  # type: ignore[attr-defined]

        if authenticated and self.auth.is_rejected(response):
            which = "a freshly obtained credential" if self.auth.reauthenticate else "the credential"
            raise DialerAuthError(
                f"the server rejected {which} on {method} {path} (HTTP {response.status_code}); "
                "check the connection's login, password and rights",
                vendor=self.vendor_name,
            )
        if response.status_code not in ok_statuses:
            raise self.error_from_response(response, f"{method} {path}")
        return response

    def error_from_response(self, response: requests.Response, what: str) -> DialerError:
        """Turn a refused answer into :class:`DialerRequestError` carrying the vendor's code and text."""
        code, message = self.parse_error(response)
        return self.request_error(what, response.status_code, code, message)

    def parse_error(self, response: requests.Response) -> tuple[str | None, str]:
        """``(vendor code, vendor message)`` of a refused answer. Vendors override this for their
        error shape; the default is no code and the body, shortened and redacted."""
        return None, _short_text(response)

    def request_error(
        self, what: str, status_code: int, vendor_code: str | None, vendor_message: str
    ) -> DialerRequestError:
        """The one way a vendor's refusal becomes an exception (also for refusals sent with HTTP 200)."""
        detail = f"HTTP {status_code}, {vendor_code}" if vendor_code else f"HTTP {status_code}"
        return DialerRequestError(
            f"{what} refused ({detail}): {vendor_message}",
            vendor=self.vendor_name,
            status_code=status_code,
            vendor_code=vendor_code,
            vendor_message=vendor_message,
        )

    def parse_json(
        self, response: requests.Response, what: str, *, allow_null: bool = False, expect: type | None = None
    ) -> Any:
        """Decode a JSON answer or raise :class:`DialerResponseError` naming what came back.

        A literal ``null`` is an error unless ``allow_null``: no documented endpoint answers it on
        success, and treating it as "nothing" would turn a failure into a silent success.
        ``expect`` (``dict`` or ``list``) also checks the answer is a JSON object or array.
        """
        try:
            value = json.loads(response.text)
        except ValueError:
            value = _INVALID
        if value is _INVALID or (value is None and not allow_null):
            raise DialerResponseError(
                f"{what}: expected JSON but got {describe_body(response)}", vendor=self.vendor_name
            )
        if expect is not None and not isinstance(value, expect) and not (value is None and allow_null):
            kind = {dict: "a JSON object", list: "a JSON array"}.get(expect, expect.__name__)
            raise DialerResponseError(
                f"{what}: expected {kind} but got {describe_body(response)}", vendor=self.vendor_name
            )
        return value

    # -- Test button -----------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Log in and make one cheap read call: ``(True, message)`` or ``(False, clear reason)``."""
        try:
            detail = self._test_connection_call()
        except DialerAuthError as exc:
            return False, f"Authentication failed: {exc}"
        except DialerTransientError as exc:
            return False, f"Server unreachable or unavailable: {exc}"
        except DialerError as exc:
            return False, str(exc)
        except Exception as exc:  # the Test button must always get an answer, never a traceback
            return False, redact(f"{type(exc).__name__}: {exc}")
        finally:
            self.close()
        return True, f"Connection to {self.vendor_name} OK: {detail}"

    def _test_connection_call(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


_INVALID = object()


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _short_text(response: requests.Response, limit: int = 300) -> str:
    text = (response.text or "").strip().replace("\n", " ")
    return redact(text[:limit] + ("..." if len(text) > limit else ""))


def describe_body(response: requests.Response) -> str:
    """A short, redacted description of an unexpected answer body, for error messages."""
    text = (response.text or "").strip()
    content_type = response.headers.get("Content-Type", "?")
    if not text:
        return f"an empty body (HTTP {response.status_code}, {content_type})"
    if text.lower().startswith(("<!doctype html", "<html")):
        kind = "an HTML page"
    elif text.startswith("<"):
        kind = "XML"
    elif text == "null":
        kind = "the literal null"
    else:
        try:
            json.loads(text)
            kind = "a JSON body"
        except ValueError:
            kind = "unparseable text"
    return f"{kind} (HTTP {response.status_code}, {content_type}): {_short_text(response, 120)}"
