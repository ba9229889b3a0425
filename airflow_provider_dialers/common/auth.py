"""A credential's lifecycle as a ``requests`` auth: log in once, reuse, renew, re-login on rejection.

Each vendor subclasses :class:`CredentialAuth` for its scheme (ECM's JWT, MaxContact's token
cookie, Sinch's HTTP Basic, Ameyo's session id). The hook hands it to ``HttpHook`` as the
session's auth, so every request prepared on the session carries the credential — the hook's own
calls and a user's ``hook.get_conn().get(...)`` alike — and its answer is settled here.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import requests
from requests.auth import AuthBase

from airflow_provider_dialers.errors import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credential:
    """A credential obtained by a login: the value sent on calls, and when to stop using it."""

    value: str
    expires_at: float | None = None  # time.monotonic() deadline; None: until the server rejects it


class AuthHost(Protocol):
    """What a credential auth uses of its hook (``DialerHook`` provides all of it)."""

    conn_id: str
    vendor_name: str

    @property
    def connection(self) -> Any: ...

    def extra(self, name: str, default: Any = None) -> Any: ...

    def request(self, method: str, path: str, *, retry_safe: bool, **kwargs: Any) -> requests.Response: ...

    def parse_json(
        self, response: requests.Response, what: str, *, allow_null: bool = False, expect: type | None = None
    ) -> Any: ...

    def get_conn(self) -> requests.Session: ...

    def count_request(self) -> None: ...


class NoAuth(AuthBase):
    """Sends a request without the session's credential (the login call itself)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


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
    #: Fresh credentials tried, one login each, before a call's rejection is final.
    max_renewals: ClassVar[int] = 3

    def __init__(self, hook: AuthHost) -> None:
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

    # -- as the session's requests auth -----------------------------------------------------
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Put the current credential on ``request`` (logging in first when there is none), and
        settle its answer when it comes back (see :meth:`settle`)."""
        cred, generation = self.current()
        request._dialer_body = request.body  # type: ignore[attr-defined]  # as prepared, for a resend
        self.apply(request, cred)
        request._dialer_generation = generation  # type: ignore[attr-defined]
        request.register_hook("response", self._on_response)
        return request

    def _on_response(self, response: requests.Response, **send_kwargs: Any) -> requests.Response:
        send_kwargs.pop("stream", None)
        return self.settle(response, send_kwargs)

    def settle(self, response: requests.Response, send_kwargs: dict[str, Any]) -> requests.Response:
        """The answer to an authorized request, after the credential's part: a success proves the
        credential alive; a rejection drops it, logs in again and sends the request once more.

        A credential refused right after its login (a short-lived token that expired in flight under
        load) is renewed again, up to :attr:`max_renewals` times while each login succeeds; a login the
        server refuses raises ``DialerAuthError`` at once.
        """
        request = response.request
        generation = getattr(request, "_dialer_generation", 0)
        if not self.is_rejected(response):
            if response.ok:  # only an answer from the vendor itself proves the credential alive
                self.touch(generation)
            return response
        if not self.reauthenticate or getattr(request, "_dialer_reauthenticated", False):
            return response  # DialerHook.request turns a final rejection into DialerAuthError
        session = self.hook.get_conn()
        for _ in range(self.max_renewals):
            # The server refused the credential, so it did not act on the request: resending is safe.
            self.invalidate(generation)
            response.content  # drain so the connection can be reused
            response.close()
            retry = request.copy()
            retry.hooks = {"response": []}
            retry.body = getattr(request, "_dialer_body", retry.body)  # the new credential replaces the old
            cred, generation = self.current()
            self.apply(retry, cred)
            retry._dialer_generation = generation  # type: ignore[attr-defined]
            retry._dialer_reauthenticated = True  # type: ignore[attr-defined]
            # Through the session again (its adapter, cookies and hooks): one contract for every send.
            self.hook.count_request()
            rejected, response = response, session.send(retry, stream=False, allow_redirects=False, **send_kwargs)
            response.history.insert(0, rejected)
            if not self.is_rejected(response):
                if response.ok:
                    self.touch(generation)
                return response
        return response
