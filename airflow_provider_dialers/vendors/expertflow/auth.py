"""ExpertFlow ECM's credential: a JWT from ``GET /umm/api/login``, sent as ``Authorization: Bearer``."""

from __future__ import annotations

import time
from typing import Any, Protocol

import requests

from airflow_provider_dialers.common.auth import AuthHost, Credential, CredentialAuth
from airflow_provider_dialers.errors import (
    DialerAuthError,
    DialerRequestError,
    DialerResponseError,
    register_secret,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    LOGIN_METHOD,
    LOGIN_PATH,
    LOGIN_REFUSED_STATUSES,
    TOKEN_KEYS,
    TOKEN_REFUSED_STATUS,
    VENDOR,
)


class EcmAuthHost(AuthHost, Protocol):
    """What the ECM auth uses of its hook: the base's, and how the server reads its silent points."""

    def reading(self, name: str) -> str | None: ...

    def learn(self, name: str, value: str) -> None: ...


class EcmBearerAuth(CredentialAuth):
    """ECM's JWT: ``GET /umm/api/login`` with ``{username, password}``, then ``Authorization: Bearer``.

    The token is renewed by logging in again, before ``expires_in`` runs out or when a call is
    answered 401 or 403. The ``refresh_token`` in the answer is registered as a secret but not used:
    neither reference documents a refresh endpoint.
    """

    hook: EcmAuthHost

    def __init__(self, hook: EcmAuthHost) -> None:
        super().__init__(hook)
        #: The last login answer without its credentials: license and user details.
        self.login_details: dict[str, Any] = {}

    def login(self) -> Credential:
        conn = self.hook.connection
        if not conn.login or not conn.password:
            raise DialerAuthError(
                f"connection {self.hook.conn_id!r} needs a login and a password", vendor=VENDOR
            )
        credentials = {"username": conn.login, "password": conn.password}
        # Documented as a GET carrying a JSON body (unusual, but it is the API): requests sends the
        # body with GET as with any other method. 13.3 also lists "405: HTTP method not allowed"
        # (reading ecm_login_method): a server that answers GET with 405 takes the same body by
        # POST, which this hook then uses for every later login.
        method = "POST" if self.hook.reading(LOGIN_METHOD) == "post" else "GET"
        try:
            response = self._send_login(method, credentials)
        except DialerRequestError as exc:
            if method == "POST" or exc.status_code != 405:
                raise
            method = "POST"
            response = self._send_login(method, credentials)
            self.hook.learn(LOGIN_METHOD, "post")
        answer = self.hook.parse_json(response, f"{method} {LOGIN_PATH}", expect=dict)
        token = answer.get("token")
        register_secret(token, "ecm_token")
        register_secret(answer.get("refresh_token"), "ecm_refresh_token")
        if not isinstance(token, str) or not token:
            raise DialerResponseError("the login answer holds no token", vendor=VENDOR)
        token_type = str(answer.get("token_type") or "Bearer")
        if token_type.lower() != "bearer":
            raise DialerResponseError(
                f"unsupported token_type {token_type!r} (expected Bearer)", vendor=VENDOR
            )
        self.login_details = {key: value for key, value in answer.items() if key not in TOKEN_KEYS}
        return Credential(token, expires_at=self.deadline(answer.get("expires_in")))

    def _send_login(self, method: str, credentials: dict[str, str]) -> requests.Response:
        """The login call; a refusal of the credentials (400, 401, 403) raises :class:`DialerAuthError`."""
        try:
            return self.hook.request(method, LOGIN_PATH, authenticated=False, retry_safe=True,
                                     json_body=credentials, ok_statuses=(200,))
        except DialerRequestError as exc:
            if exc.status_code not in LOGIN_REFUSED_STATUSES:
                raise
            raise DialerAuthError(
                f"login refused (HTTP {exc.status_code}): check the login and password of "
                f"connection {self.hook.conn_id!r}",
                vendor=VENDOR,
            ) from None

    def is_rejected(self, response: requests.Response) -> bool:
        """401, or 403: neither reference says how a missing or expired token is answered (13.2 lists
        no 401 at all; reading ``ecm_token_refused_status``), and Spring Security answers either. A
        403 is then one re-login and resend; a second one is final (:class:`DialerAuthError`). The
        connection extra ``readings.ecm_token_refused_status = "401"`` keeps every 403 final."""
        if response.status_code == 403:
            return self.hook.reading(TOKEN_REFUSED_STATUS) != "401"
        return response.status_code == 401

    @classmethod
    def deadline(cls, expires_in: Any) -> float | None:
        """When to stop using a token that lives ``expires_in`` seconds (None: until refused).

        The safety margin is at most a tenth of the lifetime, so a short-lived token is still
        used for most of its life instead of being renewed before every call.
        """
        try:
            seconds = float(expires_in)
        except (TypeError, ValueError):
            return None
        if not seconds > 0:  # also rejects NaN
            return None
        return time.monotonic() + seconds - min(cls.expiry_margin, seconds / 10)

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:
        request.headers["Authorization"] = f"Bearer {credential.value}"
