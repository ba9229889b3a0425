"""MaxContact's *Token API*: the password's Base64 in ``Authorization``, the ``TokenKey`` cookie after.

``GET /webservices/services/apitoken/login/{login}`` with the password Base64-encoded (ASCII) in
the ``Authorization`` header, as is; the answer's ``TokenKey`` travels on every later call as the
cookie ``TokenKey=<token>``.
"""

from __future__ import annotations

import base64
import json
import time
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import quote

import requests
from requests.cookies import get_cookie_header

from airflow_provider_dialers.common.auth import AuthHost, Credential, CredentialAuth
from airflow_provider_dialers.common.responses import describe_body
from airflow_provider_dialers.errors import (
    DialerAuthError,
    DialerRequestError,
    DialerResponseError,
    register_secret,
)
from airflow_provider_dialers.vendors.maxcontact.wire import (
    TOKEN_ANSWER,
    TOKEN_COOKIE,
    TOKEN_EXPIRY,
    TOKEN_LOGIN_PATH,
    is_management_response,
    refusal_from_text,
    response_code_and_detail,
    says_token_refused,
    token_from_answer,
    token_lifetime,
)

#: How long a token is used when neither its answer nor the connection (extra ``token_lifetime``)
#: says how long it lives. The reference asks clients to "keep track of the Token Key and its expiry"
#: but documents neither: 15 minutes is shorter than the session lifetimes web APIs of this kind
#: commonly use, and a renewal costs one login call, so being early is cheap and being late costs a
#: rejected call (which is still settled: one re-login and resend).
DEFAULT_TOKEN_LIFETIME = 15 * 60.0
#: A refusal body longer than this is no refusal of the token (it is checked on every answer).
_REFUSAL_MAX_BYTES = 4096


class MaxContactAuthHost(AuthHost, Protocol):
    """What the token auth uses of its hook, beyond :class:`AuthHost`: the readings and the lifetime."""

    @property
    def token_lifetime(self) -> float | None: ...

    def reading(self, name: str) -> str | None: ...

    def learn(self, name: str, value: str) -> None: ...


class MaxContactTokenAuth(CredentialAuth):
    """MaxContact's *Token API*: one token per login, sent as the ``TokenKey`` cookie.

    Lifetime: the token is renewed before the expiry its answer gives (any ``Expiry``/``expires_in``
    style field, at the top level or under ``Data``), else after the extra ``token_lifetime``, else
    after :data:`DEFAULT_TOKEN_LIFETIME`. Rejection (reading ``mc_token_expiry``, silent in the
    reference): HTTP 401; a 403 or a ``Success: false`` answer whose text says the token or session
    is refused (every 403 when the extra ``readings`` sets ``mc_token_expiry`` to ``http_403``); the
    base class then logs in once more and resends the call. Other refusals (no rights, invalid
    values, a campaign's state) stay refusals of the request.
    """

    hook: MaxContactAuthHost

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
        payload = hook.parse_json(response, "Token API login")
        token = _token_from(hook, payload, response, login)
        register_secret(token, "maxcontact_token")
        return Credential(token, expires_at=self._deadline(token_lifetime(payload, _answer_time(response))))

    def _deadline(self, answered: float | None) -> float:
        """When to renew: the answer's lifetime (capped by the extra), else the extra's, else the default."""
        configured = self.hook.token_lifetime
        if answered is None:
            seconds = configured or DEFAULT_TOKEN_LIFETIME
        else:
            seconds = min(answered, configured) if configured else answered
        return time.monotonic() + seconds - min(self.expiry_margin, seconds / 10)

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:
        # The server's cookies (a load balancer's affinity cookie, anything it set) travel with the
        # token; only an older TokenKey is replaced. The session's jar is read again because a call
        # that caused the login was prepared before the login answer set its cookies.
        jar = self.hook.get_conn().cookies
        cookies = request.headers.get("Cookie")
        if len(jar):
            cookies = "; ".join(filter(None, (cookies, get_cookie_header(jar, request))))
        request.headers["Cookie"] = cookie_header(cookies, credential.value)

    def is_rejected(self, response: requests.Response) -> bool:
        status = response.status_code
        if status == 401:
            return True
        content = response.content or b""
        if status == 403:
            if self.hook.reading(TOKEN_EXPIRY) != "http_403" and not says_token_refused(_refusal_text(response)):
                return False
            self.hook.learn(TOKEN_EXPIRY, "http_403")
            return True
        if len(content) > _REFUSAL_MAX_BYTES or b"false" not in content:
            return False  # no ManagementActionResponse refusal: the cheap test every answer takes
        try:
            payload = json.loads(content)
        except ValueError:
            return False
        if not is_management_response(payload) or payload["Success"] or not says_token_refused(
            " ".join(part for part in response_code_and_detail(payload) if part)
        ):
            return False
        self.hook.learn(TOKEN_EXPIRY, "success_false")
        return True


def cookie_header(existing: str | None, token: str) -> str:
    """The ``Cookie`` header carrying ``TokenKey=<token>`` and every other cookie of ``existing``
    (each name once, the first kept)."""
    kept: dict[str, str] = {}
    for part in (existing or "").split(";"):
        name = part.split("=", 1)[0].strip()
        if name and name != TOKEN_COOKIE:
            kept.setdefault(name, part.strip())
    return "; ".join([*kept.values(), f"{TOKEN_COOKIE}={token}"])


def _refusal_text(response: requests.Response) -> str:
    refusal = refusal_from_text(response.text)
    return " ".join(part for part in refusal if part) if refusal else response.text[:_REFUSAL_MAX_BYTES]


def _answer_time(response: requests.Response) -> float:
    """When the token answer came, for reading an absolute expiry: the later of our clock and the
    server's (its ``Date`` header, whole seconds, so +1), so a clock behind the other's lengthens no
    lifetime."""
    now = time.time()
    try:
        return max(now, parsedate_to_datetime(response.headers["Date"]).timestamp() + 1.0)
    except (KeyError, TypeError, ValueError):
        return now


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


def _token_from(hook: MaxContactAuthHost, payload: object, response: requests.Response, login: str) -> str:
    """The ``TokenKey`` of the Token API's answer, whatever its shape (reading ``mc_token_answer``):
    ``{TokenKey}``, a ManagementActionResponse whose Data holds it, or the bare token.
    :class:`DialerAuthError` when it holds none."""
    if not isinstance(payload, (dict, str)):
        raise DialerResponseError(
            f"Token API login: expected a token object but got {describe_body(response)}",
            vendor=hook.vendor_name,
        )
    token, shape = token_from_answer(payload)
    if token is None:
        detail = payload.get("ResponseDetail") or payload.get("Message") if isinstance(payload, dict) else None
        raise DialerAuthError(
            f"the Token API issued no {TOKEN_COOKIE} for login {login!r}"
            + (f" ({detail})" if detail else "")
            + "; check the connection's login and password",
            vendor=hook.vendor_name,
        )
    hook.learn(TOKEN_ANSWER, shape)
    return token


__all__ = ["MaxContactTokenAuth", "cookie_header"]
