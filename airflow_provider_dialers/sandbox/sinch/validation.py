"""Sinch OBI sandbox validation: the reference's rules for values, searches, customers and
campaign settings, media types, and the error shape ``{"statusCode": <code>, "error": "<text>"}``.

Texts follow the reference's style ("Invalid externalId: 007 : Value is not unique").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from airflow_provider_dialers.sandbox.sinch.state import (
    CAMPAIGN_DIALING_MODES,
    CUSTOMER_DIALING_MODES,
    PHONE_ATTRIBUTES,
    QUEUES,
    Campaign,
    Customer,
    phone_attributes,
    utcnow,
)

JSON = "application/json"
HTML = "text/html"
TEXT = "text/plain"
#: Sandbox choice: a phone number is 5-15 digits with an optional leading + (E.164 length).
PHONE = re.compile(r"\+?\d{5,15}")
MAX_NUMBERS = 3
ID32 = re.compile(r"[0-9A-Fa-f]{32}")
ID36 = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")


class ObiError(Exception):
    """An error answer in the OBI's shape."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers

    def response(self) -> JSONResponse:
        return JSONResponse({"statusCode": self.status, "error": self.message}, self.status, self.headers)


def invalid(field_name: str, value: Any, reason: str | None = None) -> ObiError:
    """A 400 worded like the reference's "Invalid externalId: 007 : Value is not unique"."""
    return ObiError(400, f"Invalid {field_name}: {value}" + (f" : {reason}" if reason else ""))


class ObiRoute(APIRoute):
    """Routes that turn ObiError (raised by handlers or the auth dependency) into OBI answers."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ObiError as exc:
                return exc.response()
            except RequestValidationError as exc:
                return ObiError(400, f"Invalid request: {exc.errors()[0].get('msg', 'malformed')}").response()

        return handle


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def parse_datetime(value: Any, field_name: str) -> datetime:
    """A UTC datetime from ISO text (``Z`` or an offset; naive is UTC), else a 400."""
    if not isinstance(value, str):
        raise invalid(field_name, value)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # Python 3.10's fromisoformat does not read "Z"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(field_name, value) from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def normalise_id(value: Any, field_name: str) -> str:
    """An id32 (upper case) from an id32 or id36 GUID, else a 400."""
    text = str(value).strip()
    if ID32.fullmatch(text) or ID36.fullmatch(text):
        return text.replace("-", "").upper()
    raise invalid(field_name, value, "must be an id32 or id36 GUID")


def pattern_matcher(pattern: str) -> Callable[[Any], bool]:
    """Case-insensitive match of the reference's * and ? patterns (nothing else is special)."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    compiled = re.compile(regex, re.IGNORECASE | re.DOTALL)
    return lambda value: compiled.fullmatch("" if value is None else str(value)) is not None


def optional_day(query: Any, field_name: str) -> date | None:
    """A day parameter (statistics are cumulated per UTC day: a time of day is ignored)."""
    return parse_datetime(query[field_name], field_name).date() if field_name in query else None


def agent_id_set(query: Any) -> set[str] | None:
    """The comma-separated ``agentId`` parameter as a set of id32s (None when absent)."""
    if not query.get("agentId"):
        return None
    return {normalise_id(agent, "agentId") for agent in query["agentId"].split(",") if agent.strip()}


def parse_bool(value: str | None, field_name: str, default: bool = False) -> bool:
    if value is None:
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(field_name, value)


def parse_int(value: Any, field_name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise invalid(field_name, value)
    try:
        number = int(value)
    except ValueError:
        raise invalid(field_name, value) from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise invalid(field_name, value, f"must be between {minimum} and {maximum}")
    return number


def parse_number(value: Any, field_name: str, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
        raise invalid(field_name, value, f"must be a number between {minimum} and {maximum}")
    return float(value)


def optional_int(body: dict[str, Any], field_name: str, minimum: int | None = None) -> int | None:
    return None if body.get(field_name) is None else parse_int(body[field_name], field_name, minimum)


def optional_text(body: dict[str, Any], field_name: str) -> str | None:
    value = body.get(field_name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(field_name, value)
    return value


@dataclass(frozen=True)
class SearchSpec:
    """An endpoint's "any fields" search: pattern fields, id fields, and date ranges.

    A range field ``F`` is filtered by ``F`` (values after it) and ``FEnd`` (before it).
    ``own_params`` are the endpoint's other query parameters, parsed by its handler.
    Sandbox choice: any other query parameter is refused with 400 (catches misspelt filters).
    """

    pattern_fields: frozenset[str]
    id_fields: frozenset[str] = frozenset()
    range_fields: tuple[str, ...] = ()
    own_params: frozenset[str] = frozenset()

    def predicate(self, query: Any) -> Callable[[dict[str, Any]], bool]:
        """A test of an item's JSON against the query's filters."""
        checks: list[Callable[[dict[str, Any]], bool]] = []
        ranges = {f: (f, ">") for f in self.range_fields} | {f + "End": (f, "<") for f in self.range_fields}
        for name, value in query.multi_items():
            if name in self.own_params:
                continue
            if name in self.pattern_fields:
                matches = pattern_matcher(value)
                checks.append(lambda item, n=name, m=matches: m(item.get(n)))
            elif name in self.id_fields:
                wanted = normalise_id(value, name)
                checks.append(lambda item, n=name, w=wanted: _same_id(item.get(n), w))
            elif name in ranges:
                item_field, direction = ranges[name]
                bound = parse_datetime(value, name)
                checks.append(lambda item, f=item_field, d=direction, b=bound: _in_range(item.get(f), d, b))
            else:
                raise ObiError(400, f"Invalid search field: {name}")
        return lambda item: all(check(item) for check in checks)


def _same_id(value: str | None, wanted_id32: str) -> bool:
    return (value or "").replace("-", "").upper() == wanted_id32


def _in_range(value: str | None, direction: str, bound: datetime) -> bool:
    if value is None:
        return False
    moment = parse_datetime(value, "date")
    return moment > bound if direction == ">" else moment < bound


CAMPAIGN_SEARCH = SearchSpec(
    pattern_fields=frozenset({"name", "dialerName", "dialingMode", "status", "dialerStatus", "queueName",
                              "customIvrNumber", "total", "handled", "maxCalls", "filtered", "timeZone"}),
    id_fields=frozenset({"dialerId", "queueId"}),
    range_fields=("startDate", "endDate", "registered"),
    own_params=frozenset({"statistics", "statisticsDate", "agentId"}),
)
CUSTOMER_SEARCH = SearchSpec(
    pattern_fields=frozenset({"externalId", "numbers", "result", "callResult", "classifier", "callCount",
                              "lastBNumber", "dialingMode", "previewTime", "priority", "timeZone"}),
    range_fields=("date", "modificationDate"),
    own_params=frozenset({"includeScript", "agentId", "attributeName", "attributeValue", "offset", "limit"}),
)
STATISTICS_SEARCH = SearchSpec(
    pattern_fields=frozenset(),
    id_fields=frozenset({"campaignId", "agentId"}),
    own_params=frozenset({"startDate", "endDate"}),
)


# --------------------------------------------------------------------------------------------
# Customer fields and campaign settings
# --------------------------------------------------------------------------------------------


def parse_attributes(value: Any) -> list[dict[str, str]]:
    """Attributes in either documented form: the schema's array or ``{"attribute": [...]}``."""
    if value is None:
        return []
    if isinstance(value, dict) and set(value) == {"attribute"}:
        value = value["attribute"] if isinstance(value["attribute"], list) else [value["attribute"]]
    def well_formed(item: Any) -> bool:
        return isinstance(item, dict) and all(isinstance(item.get(key), str) for key in ("name", "value"))

    if not isinstance(value, list) or not all(well_formed(item) for item in value):
        raise invalid("attributes", "expected a list of {name, value} strings")
    return [{"name": a["name"], "value": a["value"]} for a in value]


def refuse_attribute_arrays(items: list[Any], reading: str) -> None:
    """Under the ``sinch_attributes_form`` reading ``wrapper_only`` (sandbox/sinch/readings.py) the
    body binds only the examples' ``{"attribute": [...]}``: an array anywhere fails the whole request,
    as a JSON binding that cannot read it would (nothing is added)."""
    if reading != "wrapper_only":
        return
    if any(isinstance(item, dict) and isinstance(item.get("attributes"), list) for item in items):
        raise invalid("attributes", "an array", 'expected an object {"attribute": [...]}')


def parse_numbers(numbers: Any, attributes: list[dict[str, str]]) -> list[str]:
    """The customer's numbers: from ``numbers`` (";"-separated, a trailing ";" allowed as in the
    reference's example), else from attributes Phone1..Phone3 (Phone1 required)."""
    if numbers in (None, ""):
        by_name = {a["name"]: a["value"] for a in attributes}
        if not by_name.get("Phone1"):
            raise invalid("numbers", "''", "numbers or attribute Phone1 is required")
        numbers = ";".join(by_name[name] for name in PHONE_ATTRIBUTES if by_name.get(name))
    if not isinstance(numbers, str):
        raise invalid("numbers", f"'{numbers}'")
    parts = [part.strip() for part in numbers.split(";") if part.strip()]
    if not 1 <= len(parts) <= MAX_NUMBERS or not all(PHONE.fullmatch(part) for part in parts):
        raise invalid("numbers", f"'{numbers}'")
    return parts


def attribute_filter(name: str | None, value: str | None) -> Callable[[Customer], bool]:
    """The ``attributeName``/``attributeValue`` search (patterns, case-insensitive)."""
    if value is not None and name is None:
        raise invalid(
            "attributeValue", value, "attributeName parameter is mandatory when attributeValue is given"
        )
    if name is None:
        return lambda customer: True
    name_matches = pattern_matcher(name)
    value_matches = pattern_matcher(value) if value is not None else (lambda _: True)
    return lambda customer: any(
        name_matches(a["name"]) and value_matches(a["value"]) for a in customer.attributes
    )


def new_customer(
    campaign: Campaign, raw: Any, batch_external_ids: set[str], new_id: Callable[[], str]
) -> Customer:
    """A validated customer from a POST body item (not yet added). ``id`` in the body is
    ignored: "Added by the system" (``new_id`` draws it, once the numbers are valid)."""
    if not isinstance(raw, dict):
        raise ObiError(400, "Invalid customer: expected a JSON object")
    attributes = parse_attributes(raw.get("attributes"))
    numbers = parse_numbers(raw.get("numbers"), attributes)
    if raw.get("numbers") not in (None, ""):  # given numbers replace the Phone attributes
        attributes = [a for a in attributes if a["name"] not in PHONE_ATTRIBUTES]
        attributes += phone_attributes(numbers)
    customer_id = new_id()
    external_id = raw.get("externalId")
    if external_id in (None, ""):
        external_id = customer_id  # "If externalId is not given, it is generated by the system."
    external_id = str(external_id)
    if campaign.external_id_taken(external_id) or external_id in batch_external_ids:
        raise invalid("externalId", external_id, "Value is not unique")
    dialing_mode = optional_text(raw, "dialingMode")
    if dialing_mode is not None and dialing_mode not in CUSTOMER_DIALING_MODES:
        raise invalid("dialingMode", dialing_mode)
    now = utcnow()
    return Customer(
        id=customer_id,
        external_id=external_id,
        numbers=numbers,
        attributes=attributes,
        date=parse_datetime(raw["date"], "date") if raw.get("date") is not None else now,
        modification_date=now,
        agent_id=normalise_id(raw["agentId"], "agentId") if raw.get("agentId") else None,
        dialing_mode=dialing_mode,
        preview_time=optional_int(raw, "previewTime", minimum=0),
        priority=optional_int(raw, "priority"),
        time_zone=optional_text(raw, "timeZone"),
    )


def campaign_settings(body: Any) -> dict[str, Any]:
    """Validated settings of ``PUT /campaigns/{id}``: all of them, as the update replaces all."""
    if not isinstance(body, dict):
        raise ObiError(400, "Invalid campaign: expected a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("name", name, "Value is required")
    if body.get("dialingMode") not in CAMPAIGN_DIALING_MODES:
        raise invalid("dialingMode", body.get("dialingMode"))
    queue_id = body.get("queueId")
    if not isinstance(queue_id, str) or not ID32.fullmatch(queue_id) or queue_id.upper() not in QUEUES:
        raise invalid("queueId", queue_id, "no such queue")

    def optional(field_name: str, parse: Callable[[Any], Any]) -> Any:
        return None if body.get(field_name) is None else parse(body[field_name])

    return {
        "name": name,
        "remarks": optional_text(body, "remarks"),
        "dialing_mode": body["dialingMode"],
        "queue_id": queue_id.upper(),
        "custom_ivr_number": optional_text(body, "customIvrNumber"),
        "start_date": optional("startDate", lambda v: parse_datetime(v, "startDate")),
        "end_date": optional("endDate", lambda v: parse_datetime(v, "endDate")),
        "time_zone": optional_text(body, "timeZone"),
        "abandon_rate": optional("abandonRate", lambda v: parse_number(v, "abandonRate", 0.0, 2.0)),
        "increase_predictive_ratio": optional(
            "increasePredictiveRatio", lambda v: parse_number(v, "increasePredictiveRatio", 0.0, 100.0)),
    }


# --------------------------------------------------------------------------------------------
# Media types
# --------------------------------------------------------------------------------------------


def require_accept(request: Request, *produced: str) -> None:
    """406 unless the client accepts one of ``produced`` (the sandbox speaks no XML)."""
    accept = request.headers.get("accept", "*/*")
    ranges = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    acceptable = {"*/*", *produced, *(p.split("/")[0] + "/*" for p in produced)}
    if not ranges & acceptable:
        raise ObiError(406, f"Not acceptable: {accept}; this server answers {' or '.join(produced)}")


async def read_body(request: Request, media_type: str) -> bytes:
    """The request's body, or a 415 unless it is ``media_type``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != media_type:
        raise ObiError(415, f"Unsupported media type: {content_type or 'none'}; send {media_type}")
    return await request.body()


async def read_status_body(request: Request, reading: str) -> str:
    """The word of ``PUT /campaigns/{id}/status``: text/plain under the ``sinch_status_body`` reading
    ``text_plain``; under ``application_json`` only a JSON string (415 for any other media type)."""
    if reading == "application_json":
        word = await read_json_body(request)
        if not isinstance(word, str):
            raise invalid("status", word, 'expected a JSON string such as "Active"')
        return word.strip()
    return (await read_body(request, TEXT)).decode(errors="replace").strip()


async def read_json_body(request: Request) -> Any:
    """The request's JSON body, or a 415 (not JSON) or 400 (malformed)."""
    try:
        return json.loads(await read_body(request, JSON))
    except ValueError as exc:
        raise ObiError(400, f"Invalid JSON: {exc}") from None
