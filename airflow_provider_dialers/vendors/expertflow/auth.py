"""ExpertFlow ECM's credential: a JWT from ``GET /umm/api/login``, sent as ``Authorization: Bearer``."""

from __future__ import annotations

import time
from typing import Any

import requests

from airflow_provider_dialers.common.auth import AuthHost, Credential, CredentialAuth
from airflow_provider_dialers.errors import (
    DialerAuthError,
    DialerRequestError,
    DialerResponseError,
    register_secret,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    LOGIN_PATH,
    LOGIN_REFUSED_STATUSES,
    TOKEN_KEYS,
    VENDOR,
)


class EcmBearerAuth(CredentialAuth):
    """ECM's JWT: ``GET /umm/api/login`` with ``{username, password}``, then ``Authorization: Bearer``.

    The token is renewed by logging in again, before ``expires_in`` runs out or when a call is
    answered 401. The ``refresh_token`` in the answer is registered as a secret but not used:
    neither reference documents a refresh endpoint.
    """

    def __init__(self, hook: AuthHost) -> None:
        super().__init__(hook)
        #: The last login answer without its credentials: license and user details.
        self.login_details: dict[str, Any] = {}

    def login(self) -> Credential:
        conn = self.hook.connection
        if not conn.login or not conn.password:
            raise DialerAuthError(
                f"connection {self.hook.conn_id!r} needs a login and a password", vendor=VENDOR
            )
        try:
            # Documented as a GET carrying a JSON body (unusual, but it is the API): requests
            # sends the body with GET as with any other method.
            response = self.hook.request(
                "GET",
                LOGIN_PATH,
                authenticated=False,
                retry_safe=True,
                json_body={"username": conn.login, "password": conn.password},
                ok_statuses=(200,),
            )
        except DialerRequestError as exc:
            if exc.status_code not in LOGIN_REFUSED_STATUSES:
                raise
            raise DialerAuthError(
                f"login refused (HTTP {exc.status_code}): check the login and password of "
                f"connection {self.hook.conn_id!r}",
                vendor=VENDOR,
            ) from None
        answer = self.hook.parse_json(response, f"GET {LOGIN_PATH}", expect=dict)
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
