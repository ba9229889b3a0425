"""``DialerHook``: the base of the four dialer hooks, on ``HttpHook`` and its ``requests`` session.

One HTTP contract: every call is prepared on the hook's session (which carries the vendor's
:class:`~airflow_provider_dialers.common.auth.CredentialAuth`) and sent with
``requests.Session.send`` over the adapter ``HttpHook`` mounted, so a user's ``responses`` or
``requests-mock`` stub sees every call, the login included. Proxies are resolved once per
session. See ``docs/reliability.md`` for the retry rules.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from requests.utils import get_environ_proxies

from airflow_provider_dialers.capabilities import DialerCapabilities
from airflow_provider_dialers.common.auth import CredentialAuth, NoAuth
from airflow_provider_dialers.common.responses import parse_json, short_text
from airflow_provider_dialers.common.retry import (
    NOT_PROCESSED_STATUSES,
    TRANSIENT_STATUSES,
    Retryable,
    certificate_failure,
    connection_cause,
    never_sent,
    parse_retry_after,
    plain_http_on_tls,
    safe_origin,
    tls_error,
)
from airflow_provider_dialers.compat import http_base_url
from airflow_provider_dialers.errors import (
    DialerAuthError,
    DialerConfigurationError,
    DialerError,
    DialerRequestError,
    DialerTLSError,
    DialerTransientError,
    redact,
    register_secret,
    this_connection,
)
from airflow_provider_dialers.retry_policy import RetryPolicy

_NO_AUTH = NoAuth()
_TRUE_WORDS = {"1", "true", "yes", "on", "y", "t"}
_BOOL_WORDS = _TRUE_WORDS | {"0", "false", "no", "off", "n", "f"}


def to_bool(value: Any, default: bool) -> bool:
    """An extra's truth value: a bool, or a word such as ``true``/``no``; ``default`` when unset."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE_WORDS


class DialerHook(HttpHook, DialerCapabilities):
    """Base of the four dialer hooks, built on :class:`~airflow.providers.http.hooks.http.HttpHook`.

    ``HttpHook`` parses the connection (host with or without scheme, schema, port), builds the
    ``requests`` session and mounts its keep-alive adapter; the vendor's credential auth is
    handed to it as ``auth_type``. This class keeps one session for the hook's life, sends only
    the extras it understands (``verify``, ``timeout``, ``proxies``, ``cert``; never others as
    headers), and wraps every call in one retry policy:

    * connection errors and timeouts, and HTTP 429/502/503/504, are retried with exponential
      backoff, honouring ``Retry-After`` up to :attr:`RetryPolicy.retry_after_cap` seconds;
    * a request the server may already have processed (read timeout, reset after sending,
      502/504) is re-sent only when the caller says it is retry-safe; otherwise
      :class:`DialerTransientError` with ``may_have_been_processed=True`` is raised;
    * 4xx validation errors are never retried.

    Subclasses set ``vendor_name``, implement :meth:`build_auth`, :meth:`parse_error` and
    :meth:`_test_connection_call`, and override the :class:`DialerCapabilities` their API supports.

    :param conn_id: the Airflow connection (default: the vendor's default connection id).
    :param retry_policy: how transient failures are retried.
    :param sleep: how the retry loop waits (``time.sleep``); tests pass a recorder.
    """

    conn_name_attr = "conn_id"
    vendor_name: ClassVar[str] = "dialer"
    default_timeout: ClassVar[float] = 30.0
    #: Extras this hook reads (short names; ``extra__<conn_type>__<name>`` is accepted too).
    extra_fields: ClassVar[tuple[str, ...]] = ("verify", "timeout")
    #: Silent points of the vendor's reference this hook handles either way: switch -> the readings
    #: a server may take (docs/readings.md). The connection extra ``readings`` may fix one.
    known_readings: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: The path every documented endpoint starts with (``/umm``, ``/RI/obi``): a connection host given
    #: with it (``https://umm.example.com/umm``) is read as the server's URL, not doubled.
    api_root: ClassVar[str] = ""

    def __init__(
        self,
        conn_id: str | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        # Nothing here may touch the network or the metadata DB: DAG files are parsed often.
        # HttpHook puts ``auth_type(login, password)`` on the session: here, the vendor's scheme.
        kwargs.setdefault("auth_type", self._session_auth)
        super().__init__(http_conn_id=conn_id or self.default_conn_name, **kwargs)
        self.conn_id = self.http_conn_id
        self.retry_policy = retry_policy or RetryPolicy()
        self.sleep = sleep
        self._session: requests.Session | None = None
        self._auth: CredentialAuth | None = None
        self._conn = None
        self._extras: dict[str, Any] | None = None
        self._session_lock = threading.Lock()
        self._retrying_cache: tuple[Any, tenacity.Retrying] | None = None
        self._learned: dict[str, str] = {}
        self._requests_made = 0
        self._count_lock = threading.Lock()
        self._throttle_listeners: tuple[Callable[[int], None], ...] = ()

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

    def check_extras(self) -> None:
        """Refuse the connection's extras before anything is sent, naming every bad one and its fix.

        The one place extras are checked: the hook's first use runs it (``get_conn``), and so does
        ``test_connection`` (the UI's Test button). One bad extra raises its own error; several raise
        :class:`DialerConfigurationError` listing them all.
        """
        problems: list[DialerError] = []
        for check in self.extra_checks():
            try:
                check()
            except DialerError as exc:
                problems.append(exc)
        if len(problems) == 1:
            raise problems[0]
        if problems:
            listed = "; ".join(str(problem).removeprefix(f"{self.vendor_name}: ") for problem in problems)
            raise DialerConfigurationError(f"{len(problems)} connection extras are wrong: {listed}",
                                           vendor=self.vendor_name)

    def extra_checks(self) -> list[Callable[[], object]]:
        """The checks :meth:`check_extras` runs; vendors add theirs (e.g. ECM's ``api_version``)."""
        checks: list[Callable[[], object]] = [lambda: self.timeout, lambda: self.verify, self.configured_readings]
        if self.extra("timezone") is not None:
            checks.append(lambda: self.server_timezone)
        return checks

    def configured_readings(self) -> dict[str, str]:
        """The connection extra ``readings`` (``{"ecm_page_base": "1"}``), checked against
        :attr:`known_readings`."""
        value = self.extra("readings", {})
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if not isinstance(value, dict):
            raise DialerConfigurationError(
                "connection extra 'readings' must be an object such as {\"switch\": \"reading\"} "
                "(docs/readings.md lists the switches)", vendor=self.vendor_name)
        for name, chosen in value.items():
            choices = self.known_readings.get(name)
            if choices is None:
                known = ", ".join(sorted(self.known_readings)) or "none"
                raise DialerConfigurationError(
                    f"connection extra 'readings' names {name!r}, which this dialer does not have "
                    f"(its switches: {known}; docs/readings.md)", vendor=self.vendor_name)
            if str(chosen) not in choices:
                raise DialerConfigurationError(
                    f"connection extra 'readings' sets {name} to {chosen!r}; expected one of {list(choices)}",
                    vendor=self.vendor_name)
        return {name: str(chosen) for name, chosen in value.items()}

    def reading(self, name: str) -> str | None:
        """How this connection's server reads a silent point of its reference: the connection extra
        ``readings`` when it says, else what this hook learnt from the server's answers, else None
        (not known yet: the caller detects it)."""
        return self.configured_readings().get(name) or self._learned.get(name)

    def learn(self, name: str, value: str) -> None:
        """Remember for the hook's life how the server reads ``name`` (logged the first time)."""
        assert value in self.known_readings.get(name, (value,)), (name, value)
        if self._learned.get(name) != value:
            self._learned[name] = value
            self.log.info("%s: the server reads %s as %r (remembered for this hook; the connection extra "
                          "'readings' can set it)", self.vendor_name, name, value)

    @property
    def timeout(self) -> float:
        """Per-request timeout in seconds (extra ``timeout``, default 30): always finite and positive,
        so no request can hang forever."""
        try:
            value = float(self.extra("timeout", self.default_timeout))
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise DialerConfigurationError(
                "connection extra 'timeout' must be a positive, finite number of seconds "
                f"(default {self.default_timeout:g})",
                vendor=self.vendor_name,
            )
        return value

    @property
    def verify(self) -> bool | str:
        """TLS verification: on by default; ``false`` turns it off; a path names a CA bundle."""
        value = self.extra("verify", self.extra("verify_ssl", True))
        if isinstance(value, str) and value.strip().lower() not in _BOOL_WORDS:
            path = os.path.expanduser(value.strip())
            if not os.path.exists(path):
                raise DialerTLSError(
                    f"connection extra 'verify' names a CA bundle that does not exist on this worker: {path}",
                    vendor=self.vendor_name,
                )
            return path  # a CA bundle file (or a directory of hashed CA certificates)
        return to_bool(value, True)

    @property
    def server_timezone(self) -> str:
        """The dialer server's time zone (extra ``timezone``, default UTC), for APIs whose times
        carry no offset (ECM ``dialTime``, Ameyo ``callBackTime``)."""
        from airflow_provider_dialers.contacts import ContactError, parse_timezone

        try:
            return parse_timezone(self.extra("timezone", "UTC")) or "UTC"
        except ContactError as exc:
            raise DialerConfigurationError(f"connection extra 'timezone': {exc.reason}",
                                           vendor=self.vendor_name) from None

    def get_connection(self, conn_id: str):  # type: ignore[override]
        # HttpHook looks the connection up again on get_conn and url_from_endpoint: answer from the cache.
        if conn_id == self.http_conn_id:
            return self.connection
        return super().get_connection(conn_id)

    # -- session -------------------------------------------------------------------------------
    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None):
        """The hook's one ``requests.Session``, built by ``HttpHook`` on first use, then reused.

        ``HttpHook`` sends every extra it does not know as a header; the dialers' extras
        (``api_key``, ``api_version``, ``timezone`` ...) are settings, never headers, so they are
        taken off. ``verify`` is the checked value of :attr:`verify`. Proxies from the environment
        (``HTTPS_PROXY``, ``NO_PROXY`` ...) are resolved once for the connection's URL unless the
        connection names its own, and ``trust_env`` is then off, so no call re-scans the
        environment or reads ``~/.netrc`` (every vendor has its own credential).
        """
        with self._session_lock:
            if self._session is None:
                self.check_extras()
                session = super().get_conn(headers=headers, extra_options=extra_options)
                for name in self.extras:
                    session.headers.pop(name, None)
                session.verify = self.verify
                if not session.proxies and session.trust_env:
                    session.proxies = dict(get_environ_proxies(self.url_from_endpoint("")))
                session.trust_env = False
                self._session = session
            return self._session

    def url_from_endpoint(self, endpoint: str | None) -> str:
        """Base URL (``host`` with scheme/port) plus the documented path, with exactly one slash."""
        return self.server_url + "/" + (endpoint or "").lstrip("/")

    @property
    def server_url(self) -> str:
        """The server's URL from the connection (host with scheme and port), without a trailing slash
        and without the vendor's API path when the host was given with it."""
        base = http_base_url(super().url_from_endpoint, self.get_conn).rstrip("/")
        root = self.api_root.rstrip("/")
        if root and (base.endswith(root) or root + "/" in base.split("://", 1)[-1]):
            stripped = base[: base.index(root, base.index("://") + 3)]
            if not getattr(self, "_told_api_root", False):
                self._told_api_root = True
                self.log.info("%s: the connection's host includes the API path %s; the server's URL is %s "
                              "(the endpoints add %s themselves)", self.vendor_name, root,
                              safe_origin(stripped), root)
            return stripped
        return base

    def _session_auth(self, *_login_password: Any) -> CredentialAuth:
        return self.auth

    @property
    def auth(self) -> CredentialAuth:
        """The vendor's credential auth (also the session's ``auth``)."""
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

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def requests_made(self) -> int:
        """HTTP requests this hook has sent (logins, retries and re-sends included): what the dialer's
        own access log would show."""
        return self._requests_made

    def count_request(self) -> None:
        """Count one HTTP request about to be sent."""
        with self._count_lock:
            self._requests_made += 1

    def add_throttle_listener(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call ``listener(status)`` with the HTTP status of every answer this hook receives (from any
        thread, retried attempts included), until the function returned is called. The upload engine's
        concurrency limiter listens this way (``uploads.pacing``).

        :param listener: called with each answer's status code; it must be quick and thread-safe.
        """
        with self._count_lock:
            self._throttle_listeners = (*self._throttle_listeners, listener)

        def remove() -> None:
            with self._count_lock:
                self._throttle_listeners = tuple(f for f in self._throttle_listeners if f is not listener)

        return remove

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
        call = requests.Request(
            method, url, params=params, json=json_body, data=data, files=files, headers=headers,
            auth=None if authenticated else _NO_AUTH,
        )
        send_options = {
            "timeout": self.timeout,
            "verify": session.verify,  # the connection's, explicitly: it wins over REQUESTS_CA_BUNDLE
            "proxies": session.proxies,
            "allow_redirects": False,
        }
        replayed = False  # set once an attempt the server may have processed is sent again
        policy = self.retry_policy

        def attempt() -> requests.Response:
            nonlocal replayed
            try:
                # Prepared per attempt: the session's auth puts the credential current now on it.
                prepared = session.prepare_request(call)
                self.count_request()
                response = session.send(prepared, **send_options)
            except requests.RequestException as exc:
                # requests' SSLError is a ConnectionError, but a certificate that cannot be verified
                # is no transient failure: raise at once, naming the fix. Other TLS errors (a
                # handshake or stream cut short) are connection errors like any other.
                cert_error = certificate_failure(exc) if isinstance(exc, requests.exceptions.SSLError) else None
                if cert_error is not None:
                    raise tls_error(cert_error, url, self.vendor_name) from None
                if plain_http_on_tls(exc):  # the same port will answer plain HTTP on every attempt
                    raise DialerConfigurationError(
                        f"{method} {path} at {safe_origin(url.removesuffix(path))}: the server answers plain "
                        "HTTP, not TLS; use http:// in the connection's host (or schema 'http'), or the "
                        "server's HTTPS port", vendor=self.vendor_name) from None
                sent = not never_sent(exc)
                description = (f"{method} {path} at {safe_origin(url.removesuffix(path))}: "
                               f"{connection_cause(exc, send_options['timeout'])}")
                if sent and not retry_safe:
                    raise DialerTransientError(
                        f"{description}; the server may have processed the request, so it was not "
                        "re-sent (reconcile before retrying)",
                        vendor=self.vendor_name,
                        may_have_been_processed=True,
                    ) from None
                replayed = replayed or sent
                raise Retryable(description, processed=sent) from None
            status = response.status_code
            for listener in self._throttle_listeners:  # a copy-on-write tuple: no lock to read it
                listener(status)
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
                raise Retryable(description, retry_after=retry_after, processed=processed)
            return response

        try:
            try:
                response = attempt()  # most calls succeed at once: no retry loop to set up
            except Retryable as first_failure:
                failures = [first_failure]

                def replay_first_then_attempt() -> requests.Response:
                    # The retry loop sees the first failure as its attempt 1 (same waits and
                    # messages as if it had sent it) without sending that attempt again.
                    if failures:
                        raise failures.pop()
                    return attempt()

                response = self._retrying(policy)(replay_first_then_attempt)
        except Retryable as exc:
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
        key = (policy, self.sleep)
        cached = self._retrying_cache
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
            sleep=self.sleep,
            retry=tenacity.retry_if_exception_type(Retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        self._retrying_cache = (key, retrying)
        return retrying

    # -- answers -------------------------------------------------------------------------------
    def error_from_response(self, response: requests.Response, what: str) -> DialerError:
        """Turn a refused answer into :class:`DialerRequestError` carrying the vendor's code and text."""
        code, message = self.parse_error(response)
        return self.request_error(what, response.status_code, code, message)

    def parse_error(self, response: requests.Response) -> tuple[str | None, str]:
        """``(vendor code, vendor message)`` of a refused answer. Vendors override this for their
        error shape; the default is no code and the body, shortened and redacted."""
        return None, short_text(response)

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
        """Decode a JSON answer or raise ``DialerResponseError`` naming what came back (see
        :func:`~airflow_provider_dialers.common.responses.parse_json`)."""
        return parse_json(response, what, self.vendor_name, allow_null=allow_null, expect=expect)

    # -- Test button -----------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Log in and make one cheap read call: ``(True, message)`` or ``(False, clear reason)``.

        The message says "this connection", never its id: the UI's Test button uses a random one."""
        ok, message = self._try_connection()
        return ok, this_connection(message, self.conn_id)

    def _try_connection(self) -> tuple[bool, str]:
        try:
            self.check_extras()
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
