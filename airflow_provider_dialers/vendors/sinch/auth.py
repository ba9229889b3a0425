"""Sinch OBI auth: HTTP Basic with the API user on every call, plus ``x-api-key`` when configured.

There is no login round trip and nothing to renew: a 401 is final.
"""

from __future__ import annotations

import base64
from typing import ClassVar

import requests

from airflow_provider_dialers.common.auth import AuthHost, Credential, CredentialAuth
from airflow_provider_dialers.errors import DialerAuthError, register_secret


class SinchBasicAuth(CredentialAuth):
    """HTTP Basic with the connection's API user on every call, plus ``x-api-key`` when configured.

    "Logging in" only builds the header (no round trip), once per hook. A 401 means the login or
    password is wrong: re-sending the same header cannot help, so the rejection is final.
    """

    reauthenticate: ClassVar[bool] = False

    def __init__(self, hook: AuthHost) -> None:
        super().__init__(hook)
        self._api_key: str | None = None

    def login(self) -> Credential:
        conn = self.hook.connection
        if not conn.login or not conn.password:
            raise DialerAuthError(
                f"connection {self.hook.conn_id!r} needs the API user's login and password (HTTP Basic)",
                vendor=self.hook.vendor_name,
            )
        token = base64.b64encode(f"{conn.login}:{conn.password}".encode()).decode("ascii")
        register_secret(token, "sinch_basic_auth")
        api_key = self.hook.extra("api_key")
        self._api_key = str(api_key) if api_key else None
        register_secret(self._api_key, "sinch_api_key")
        return Credential(f"Basic {token}")

    def apply(self, request: requests.PreparedRequest, credential: Credential) -> None:
        request.headers["Authorization"] = credential.value
        if self._api_key:
            request.headers["x-api-key"] = self._api_key

