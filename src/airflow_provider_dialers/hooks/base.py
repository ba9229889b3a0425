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
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from requests.auth import AuthBase
from urllib3.exceptions import NewConnectionError

from airflow_provider_dialers.capabilities import CampaignSummary, DialerCapabilities  # noqa: F401 (re-exported)

# Secret registry, redaction and the error hierarchy live in the light ``errors`` module, so
# operators and sensors use them without importing this one at DAG parse; re-exported here, same
# objects, so ``from airflow_provider_dialers.hooks.base import DialerError`` keeps working.
from airflow_provider_dialers.errors import (  # noqa: F401 (re-exported)
    _MIN_REDACT_LEN,
    _SECRETS,
    _SECRETS_LOCK,
    REDACTED,
    DialerAuthError,
    DialerError,
    DialerNotSupportedError,
    DialerRequestError,
    DialerResponseError,
    DialerTLSError,
    DialerTransientError,
    DialerValidationError,
    redact,
    register_secret,
)
from airflow_provider_dialers.hooks.transport import PooledTransport, configure_session
from airflow_provider_dialers.retry_policy import RetryPolicy  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

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

    # -- applying the credential ----------------------------------------------------------
    def authorize(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Put the current credential on ``request`` (logging in first when there is none)."""
        cred, generation = self.current()
        self.apply(request, cred)
        request._dialer_generation = generation  # type: ignore[attr-defined]
        return request

    def settle(
        self,
        response: requests.Response,
        resend: Callable[[requests.PreparedRequest], requests.Response],
    ) -> requests.Response:
        """The answer to an authorized request, after the credential's part: a success proves the
        credential alive; a rejection drops it, logs in again and sends the request once more."""
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
        retry = self.authorize(request.copy())
        retry._dialer_reauthenticated = True  # type: ignore[attr-defined]
        new_response = resend(retry)
        new_response.history.append(response)
        new_response.request = retry
        if new_response.ok and not self.is_rejected(new_response):
            self.touch(retry._dialer_generation)  # type: ignore[attr-defined]
        return new_response

    # -- as a requests auth (``session.get(url, auth=hook.auth)`` in a user's own call) -------
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self.authorize(request)
        request.register_hook("response", self._on_response)
        return request

    def _on_response(self, response: requests.Response, **send_kwargs: Any) -> requests.Response:
        send_kwargs.pop("stream", None)
        return self.settle(response, lambda retry: response.connection.send(retry, stream=False, **send_kwargs))


# --------------------------------------------------------------------------------------------
# Retry policy
# --------------------------------------------------------------------------------------------

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
# The server declined to process the request at all: resending is safe even when not idempotent.
NOT_PROCESSED_STATUSES = frozenset({429, 503})


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
        self._transport: PooledTransport | None = None
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
                session = super().get_conn(headers=headers, extra_options=extra_options)
                configure_session(session, self.url_from_endpoint(""))
                self._transport = PooledTransport(session)
                self._session = session
            return self._session

    @property
    def transport(self) -> PooledTransport:
        """Sends the hook's calls over the session's keep-alive connections (see ``hooks.transport``)."""
        if self._transport is None:
            self.get_conn()
        assert self._transport is not None
        return self._transport

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
            self._transport = None

    def __enter__(self) -> DialerHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
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
        transport = self.transport
        url = self.url_from_endpoint(path)
        replayed = False  # set once an attempt the server may have processed is sent again
        policy = self.retry_policy
        timeout = self.timeout
        # Prepared once (a multipart body is read once); the credential goes on each attempt's copy.
        prepared = transport.prepare(
            method, url, params=params, json_body=json_body, data=data, files=files, headers=headers
        )

        def send(request: requests.PreparedRequest) -> requests.Response:
            # The connection's verify, explicitly: it wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.
            return transport.send(request, timeout=timeout, verify=session.verify)

        def attempt() -> requests.Response:
            nonlocal replayed
            try:
                if authenticated:
                    response = self.auth.settle(send(self.auth.authorize(prepared.copy())), send)
                else:
                    response = send(prepared)
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

        try:
            try:
                response = attempt()  # most calls succeed at once: no retry loop to set up
            except _Retryable as first_failure:
                failures = [first_failure]

                def replay_first_then_attempt() -> requests.Response:
                    # The retry loop sees the first failure as its attempt 1 (same waits and
                    # messages as if it had sent it) without sending that attempt again.
                    if failures:
                        raise failures.pop()
                    return attempt()

                response = self._retrying(policy)(replay_first_then_attempt)
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

    def _retrying(self, policy: RetryPolicy) -> tenacity.Retrying:
        """The tenacity loop for ``policy``, built once and reused (its per-call state is thread-local)."""
        key = (policy, self._sleep)
        cached = getattr(self, "_retrying_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]

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
        self._retrying_cache = (key, retrying)
        return retrying

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
