"""Reading a dialer's answer: JSON decoded strictly, and unexpected bodies described (redacted)."""

from __future__ import annotations

import json
from typing import Any

import requests

from airflow_provider_dialers.errors import DialerResponseError, redact

_INVALID = object()


def short_text(response: requests.Response, limit: int = 300) -> str:
    """The answer's body on one line, cut at ``limit`` characters and redacted."""
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
    return f"{kind} (HTTP {response.status_code}, {content_type}): {short_text(response, 120)}"


def parse_json(
    response: requests.Response, what: str, vendor: str, *, allow_null: bool = False, expect: type | None = None
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
        raise DialerResponseError(f"{what}: expected JSON but got {describe_body(response)}", vendor=vendor)
    if expect is not None and not isinstance(value, expect) and not (value is None and allow_null):
        kind = {dict: "a JSON object", list: "a JSON array"}.get(expect, expect.__name__)
        raise DialerResponseError(f"{what}: expected {kind} but got {describe_body(response)}", vendor=vendor)
    return value
