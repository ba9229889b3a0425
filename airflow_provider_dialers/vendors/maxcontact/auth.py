"""MaxContact's *Token API*: the password's Base64 in ``Authorization``, the ``TokenKey`` cookie after.

``GET /webservices/services/apitoken/login/{login}`` with the password Base64-encoded (ASCII) in
the ``Authorization`` header, as is; the answer's ``TokenKey`` travels on every later call as the
cookie ``TokenKey=<token>``.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import requests

from airflow_provider_dialers.common.auth import AuthHost, Credential, CredentialAuth
from airflow_provider_dialers.common.responses import describe_body
from airflow_provider_dialers.errors import (
    DialerAuthError,
    DialerRequestError,
    DialerResponseError,
    register_secret,
)
from airflow_provider_dialers.vendors.maxcontact.wire import TOKEN_COOKIE, TOKEN_LOGIN_PATH


class MaxContactTokenAuth(CredentialAuth):
    """MaxContact's *Token API*: one token per login, sent as the ``TokenKey`` cookie.

    The reference documents no expiry field in the token answer, so the token is used until the
    server answers 401; the base class then logs in once more and resends the call. The cookie is
    set as a header on each request (not kept in the session's cookie jar) so a re-login replaces
    it cleanly.
    """

    def login(self) -> Credential:
        hook = self.hook
        login, password = hook.connection.login, hook.connection.password
        if not login or not password:
            raise DialerAuthError(
                f"connection {hook.conn_id!r} needs a login and a password (the Token API user)",
                vendor=hook.vendor_name,
            )
        path = TOKEN_LOGIN_PATH.format(login=quote(login, safe=""))
        try:
            response = hook.request(
                "GET",
                path,
                authenticated=False,
                retry_safe=True,
                headers={"Authorization": _base64_password(password, hook.vendor_name)},
            )
        except DialerRequestError as exc:
            if exc.status_code not in (401, 403):
                raise
            detail = f" ({exc.vendor_message})" if exc.vendor_message else ""
            raise DialerAuthError(
                f"the Token API refused login {login!r} with HTTP {exc.status_code}{detail}; "
                "check the connection's login and password",
                vendor=hook.vendor_name,
            ) from None
        token = _token_from(hook, response, login)
        register_secret(token, "maxcontact_token")
        return Credential(token)

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:
        request.headers["Cookie"] = f"{TOKEN_COOKIE}={credential.value}"


def _base64_password(password: str, vendor: str) -> str:
    """The reference's form: the password's ASCII bytes, Base64-encoded, with no ``Basic`` prefix."""
    try:
        encoded = base64.b64encode(password.encode("ascii")).decode("ascii")
    except UnicodeEncodeError:
        raise DialerAuthError(
            "the connection's password holds non-ASCII characters; MaxContact's Token API takes the "
            "password's ASCII bytes, so it cannot be sent",
            vendor=vendor,
        ) from None
    register_secret(encoded, "maxcontact_password_base64")
    return encoded


def _token_from(hook: AuthHost, response: requests.Response, login: str) -> str:
    """The ``TokenKey`` of the Token API's answer; :class:`DialerAuthError` when it holds none."""
    payload = hook.parse_json(response, "Token API login")
    if not isinstance(payload, dict):
        raise DialerResponseError(
            f"Token API login: expected a token object but got {describe_body(response)}",
            vendor=hook.vendor_name,
        )
    token = payload.get(TOKEN_COOKIE)
    if not isinstance(token, str) or not token:
        detail = payload.get("ResponseDetail") or payload.get("Message")
        raise DialerAuthError(
            f"the Token API issued no {TOKEN_COOKIE} for login {login!r}"
            + (f" ({detail})" if detail else "")
            + "; check the connection's login and password",
            vendor=hook.vendor_name,
        )
    return token


__all__ = ["MaxContactTokenAuth"]
