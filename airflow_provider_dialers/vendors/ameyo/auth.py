"""Ameyo's session credential: ``command=login``'s ``sessionId``, carried inside every command's data."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import requests

from airflow_provider_dialers.common.auth import AuthHost, Credential, CredentialAuth
from airflow_provider_dialers.errors import DialerAuthError, DialerError, DialerResponseError, register_secret
from airflow_provider_dialers.vendors.ameyo.wire import (
    _ENCODED_CLOSING_BRACE,
    _ENCODED_EMPTY_OBJECT,
    SESSION_TIMEOUT,
    AmeyoLoginInfo,
    _login_info,
    form_quote,
    is_invalid_session_body,
    is_rejection_status,
    session_timeout_seconds,
    vendor_error,
)


class AmeyoAuthHost(AuthHost, Protocol):
    """What the session auth uses of the Ameyo hook."""

    @property
    def terminal(self) -> str: ...

    @property
    def client_type(self) -> str | None: ...

    def send_command(
        self, command: str, data: Mapping[str, Any], *, retry_safe: bool, authenticated: bool = True
    ) -> Any: ...

    def end_session(self, session_id: str) -> None: ...

    def reading(self, name: str) -> str | None: ...

    def learn(self, name: str, value: str) -> None: ...


def _utf8(response: requests.Response) -> requests.Response:
    # JSON is UTF-8, but requests decodes text/plain without a charset as ISO-8859-1 ("REGIÃ“N").
    if "charset" not in response.headers.get("Content-Type", "").lower():
        response.encoding = "utf-8"
    return response


@dataclass(frozen=True)
class AmeyoSession(Credential):
    """An Ameyo session id, its inactivity timeout and what the login said."""

    idle_timeout: float | None = None
    info: AmeyoLoginInfo | None = field(default=None, compare=False)


class AmeyoSessionAuth(CredentialAuth):
    """Ameyo's session: ``command=login`` returns a ``sessionId`` that every later command carries
    inside its ``data`` JSON. Sessions die after ``sessionTimeout`` of inactivity (3 minutes by the
    reference, which also applies when the login answer leaves the field out), so every successful
    call pushes the local deadline forward, and an idle session is replaced before it can die. A dead
    session answers HTTP 200 with an error body, ``null`` or an HTML page, or a 401, 403 or redirect
    (:meth:`is_rejected`); the base then logs in once and resends.
    """

    hook: AmeyoAuthHost

    def login(self) -> AmeyoSession:
        hook = self.hook
        conn = hook.connection
        data = {"userId": conn.login, "password": conn.password, "terminal": hook.terminal}
        if hook.client_type:
            data["clientType"] = hook.client_type
        body = hook.send_command("login", data, retry_safe=True, authenticated=False)
        session_id = body.get("sessionId") if isinstance(body, dict) else None
        if session_id:
            register_secret(session_id, "ameyo_session_id")  # before anything can echo it
        error = vendor_error(body)
        if body is None or error is not None:
            reason = "null" if error is None else error[1]
            raise DialerAuthError(
                f"login refused for user {conn.login!r} (the server answered {reason}); check the "
                "connection's login (user id), password, and that the user has the Customer Manager role",
                vendor=hook.vendor_name,
            )
        if not isinstance(body, dict) or not session_id:
            raise DialerResponseError("login answered without a sessionId", vendor=hook.vendor_name)
        # ameyo_session_timeout: the field may be in ms (the example), in seconds, or absent (3 minutes).
        timeout, form = session_timeout_seconds(body.get("sessionTimeout"), hook.reading(SESSION_TIMEOUT))
        hook.learn(SESSION_TIMEOUT, form)
        info = _login_info(body, timeout)
        return AmeyoSession(str(session_id), self._deadline(info.session_timeout), info.session_timeout, info)

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:
        # The form ends with the encoded JSON's closing brace: the session id goes just before it,
        # without decoding and re-encoding a body that can hold hundreds of customer records.
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        if not body.endswith(_ENCODED_CLOSING_BRACE):
            raise DialerError("an Ameyo command body must end with its JSON data", vendor=self.hook.vendor_name)
        separator = "" if body.endswith(_ENCODED_EMPTY_OBJECT) else ","
        tail = f'{separator}"sessionId":{json.dumps(credential.value)}}}'
        request.body = body[: -len(_ENCODED_CLOSING_BRACE)] + form_quote(tail).encode("ascii")
        request.headers["Content-Length"] = str(len(request.body))

    def is_rejected(self, response: requests.Response) -> bool:
        # ameyo_dead_session_signal: the reference documents three HTTP 200 bodies; a server behind a
        # login filter answers 401/403 or redirects to a login page, another words it differently.
        # Each is a refusal the server did not act on, so the base's one re-login and resend is safe.
        if is_rejection_status(response.status_code):
            return True
        return response.status_code == 200 and is_invalid_session_body(_utf8(response).text)

    def touch(self, generation: int) -> None:
        with self._lock:
            cred = self._credential
            if generation == self._generation and isinstance(cred, AmeyoSession) and cred.idle_timeout:
                self._credential = replace(cred, expires_at=self._deadline(cred.idle_timeout))

    def logout(self, credential: Credential) -> None:
        self.hook.end_session(credential.value)

    def take(self) -> Credential | None:
        """Remove and return the live credential (for an explicit logout)."""
        with self._lock:
            cred, self._credential = self._credential, None
            return cred

    def _deadline(self, idle_timeout: float | None) -> float | None:
        if not idle_timeout:
            return None  # no idle timeout: use the session until the server rejects it
        # Renew expiry_margin early, but never spend more than half of a short timeout on margin.
        return time.monotonic() + max(idle_timeout - self.expiry_margin, idle_timeout / 2)
