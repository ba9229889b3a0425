"""MaxContact sandbox answers: JSON or XML, and refusals in the documented shapes.

Every management answer is the reference's *ManagementActionResponse*; refusals are raised by the
handlers as :class:`Refusal` and answered by :class:`NegotiatedRoute`, which also serves XML to a
client that did not ask for JSON (as the reference says).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

# ASP.NET Web API's standard text for a refused credential (silent in the reference).
UNAUTHORIZED_MESSAGE = "Authorization has been denied for this request."


def _envelope(success: bool, data: Any, code: str, detail: str) -> dict[str, Any]:
    """The reference's ManagementActionResponse."""
    return {"Success": success, "Data": data, "ResponseCode": code, "ResponseDetail": detail}


class Reply(JSONResponse):
    """A vendor answer, rendered as XML by :class:`NegotiatedRoute` unless the client asked for JSON."""

    def __init__(
        self, payload: Any, status_code: int = 200, root: str = "ManagementActionResponse",
        item: str = "Item",
    ) -> None:
        super().__init__(payload, status_code)
        self.payload, self.root, self.item = payload, root, item

    def as_xml(self) -> Response:
        element = _xml_element(self.root, self.payload, self.item)
        text = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="unicode")
        return Response(text, status_code=self.status_code, media_type="application/xml")


def _xml_element(tag: str, value: Any, item: str) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        element.extend(_xml_element(key, child, item) for key, child in value.items())
    elif isinstance(value, list):
        element.extend(_xml_element(item, child, item) for child in value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def ok(data: Any, detail: str = "OK", item: str = "Item") -> Reply:
    """A successful ManagementActionResponse carrying ``data``."""
    return Reply(_envelope(True, data, "Success", detail), item=item)


class Refusal(Exception):
    """Raised by handlers; :class:`NegotiatedRoute` answers it as a ManagementActionResponse."""

    def __init__(self, status_code: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code, self.code, self.detail = status_code, code, detail

    def reply(self) -> Reply:
        return Reply(_envelope(False, None, self.code, self.detail), self.status_code)


class Unauthorized(Refusal):
    """A refused or missing credential: HTTP 401 (or another status) with the web framework's
    ``{Message}`` body."""

    def __init__(self, status_code: int = 401, message: str = UNAUTHORIZED_MESSAGE) -> None:
        super().__init__(status_code, "Unauthorized", message)

    def reply(self) -> Reply:
        return Reply({"Message": self.detail}, self.status_code, root="Error")


def invalid(detail: str) -> Refusal:
    """Bad or missing fields, unknown ids: ``Invalid Parameters`` with HTTP 400."""
    return Refusal(400, "Invalid Parameters", detail)


def error(detail: str) -> Refusal:
    """A valid request the system cannot carry out now: ``Error`` with HTTP 200."""
    return Refusal(200, "Error", detail)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "").lower()


class NegotiatedRoute(APIRoute):
    """Turns refusals into answers and serves XML to clients that did not ask for JSON."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except Refusal as refusal:
                response = refusal.reply()
            if isinstance(response, Reply) and not _wants_json(request):
                return response.as_xml()
            return response

        return answer
