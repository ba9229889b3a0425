"""ExpertFlow ECM's connection and plumbing on ``DialerHook``: the release extra, error shape and answers.

The endpoint modules (:mod:`.api`, :mod:`.api_callbacks`, :mod:`.api_strategies`) build on
:class:`EcmClient`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests

from airflow_provider_dialers.common.hook import DialerHook
from airflow_provider_dialers.common.responses import describe_body
from airflow_provider_dialers.errors import (
    DialerConfigurationError,
    DialerNotSupportedError,
    DialerResponseError,
)
from airflow_provider_dialers.vendors.expertflow.auth import EcmBearerAuth
from airflow_provider_dialers.vendors.expertflow.wire import DEFAULT_RELEASE, MESSAGE_KEYS, RELEASES, VENDOR


class EcmClient(DialerHook):
    """The ECM connection (13.2, 13.3) and the plumbing every endpoint method uses.

    Connection: host = UMM server URL (``https://umm.example.com``), login/password = ECM user,
    extra ``api_version`` = ``13.3`` (default) or ``13.2``.
    """

    conn_type = "expertflow_ecm"
    default_conn_name = "expertflow_ecm_default"
    hook_name = "ExpertFlow ECM"
    vendor_name = VENDOR
    api_root = "/umm"
    extra_fields = ("verify", "timeout", "api_version", "default_region")

    # -- plumbing ------------------------------------------------------------------------------
    def build_auth(self) -> EcmBearerAuth:
        return EcmBearerAuth(self)

    @property
    def api_version(self) -> str:
        """The ECM release of the connection: "13.2" or "13.3"."""
        release = str(self.extra("api_version", DEFAULT_RELEASE)).strip()
        if release not in RELEASES:
            raise DialerConfigurationError(
                f"connection extra 'api_version' is {release!r}; "
                f"supported releases are {', '.join(RELEASES)}",
                vendor=VENDOR,
            )
        return release

    def extra_checks(self) -> list[Callable[[], object]]:
        """The base's checks, and the ECM release (``api_version``)."""
        return [*super().extra_checks(), lambda: self.api_version]

    def _require_13_3(self, endpoint: str) -> None:
        if self.api_version != "13.3":
            raise DialerNotSupportedError(
                f"{endpoint} exists from ECM release 13.3; connection {self.conn_id!r} is set to release "
                f"{self.api_version} (connection extra 'api_version')",
                vendor=VENDOR,
            )

    def parse_error(self, response: requests.Response) -> tuple[str | None, str]:
        """ECM answers errors Spring-style: ``{"status": 400, "error": "Bad Request", "message": ...}``."""
        try:
            body = json.loads(response.text)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not (body.get("message") or body.get("error")):
            return super().parse_error(response)
        code = str(body["error"]) if body.get("error") else None
        return code, str(body.get("message") or body.get("error"))

    def decode(self, response: requests.Response, what: str, expect: type[dict | list]) -> Any:
        """The answer's JSON, which must be an object (``dict``) or an array (``list``)."""
        return self.parse_json(response, what, expect=expect)

    def _call_json(
        self, method: str, path: str, expect: type[dict | list], *, retry_safe: bool, **kwargs: Any
    ) -> Any:
        response = self.request(method, path, retry_safe=retry_safe, **kwargs)
        return self.decode(response, f"{method} {path}", expect)

    def _call_message(self, method: str, path: str, *, retry_safe: bool, **kwargs: Any) -> str:
        """Call an endpoint documented to answer a sentence ("Campaign with id 1 successfully
        paused"); returns the sentence (see :meth:`_message`)."""
        response = self.request(method, path, retry_safe=retry_safe, **kwargs)
        return self._message(response, f"{method} {path}")

    def _message(self, response: requests.Response, what: str) -> str:
        """The confirmation sentence of an answer, which ECM sends as plain text or as JSON
        (``{"statusString": ...}``); "" for an empty answer such as 204."""
        text = response.text.strip()
        if not text:
            return ""
        if text[0] in '{["' or text == "null":
            data = self.parse_json(response, what)
            if isinstance(data, str):
                return data
            if isinstance(data, dict):
                sentence = next((data[key] for key in MESSAGE_KEYS if isinstance(data.get(key), str)), None)
                return sentence if sentence is not None else json.dumps(data, sort_keys=True)
        elif not text.startswith("<"):
            return text
        raise DialerResponseError(
            f"{what}: expected a confirmation but got {describe_body(response)}", vendor=VENDOR
        )
