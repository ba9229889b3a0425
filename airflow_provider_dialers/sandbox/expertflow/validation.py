"""The simulated ECM's validation rules and error shape (Spring Boot's JSON; silent in the references).

Field rules as both references document them (phones 4 to 15 characters, businessParam1..12 at
most 255, ``dialTime`` ``yyyy-MM-dd HH:mm:ss``, times of day HH:MM, week days 0..6); where the
references are silent the choices are marked "silent:".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from airflow_provider_dialers.sandbox.core import read_json_object

PHONE_FIELDS = tuple(f"phone{n}" for n in range(1, 6))
BUSINESS_PARAM_FIELDS = tuple(f"businessParam{n}" for n in range(1, 13))
BULK_CALLER_COLUMNS = (*PHONE_FIELDS, *BUSINESS_PARAM_FIELDS, "dialTime")
PHONE_MIN, PHONE_MAX, BUSINESS_PARAM_MAX = 4, 15, 255
DIAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEK_DAYS = re.compile(r"^[0-6](,[0-6])*$")
VOICE, SMS = 0, 1


class EcmError(Exception):
    """An ECM error answer: Spring Boot's JSON shape (silent in the references, which list codes only)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self, path: str) -> JSONResponse:
        body = {"timestamp": now_iso(), "status": self.status, "error": HTTPStatus(self.status).phrase,
                "message": self.message, "path": path}
        return JSONResponse(body, status_code=self.status)


class EcmRoute(APIRoute):
    """Turns an :class:`EcmError` from a handler or its dependencies into ECM's error answer."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def ecm_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except EcmError as exc:
                return exc.response(request.url.path)

        return ecm_handler


def now_iso() -> str:
    """The current UTC time as ECM writes its timestamps."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (400 in ECM's shape otherwise)."""
    return await read_json_object(request, lambda reason: EcmError(400, reason))


def as_int(value: Any, field: str) -> int:
    """``value`` as an integer (a number or digit text); 400 naming ``field`` otherwise."""
    if isinstance(value, bool):
        raise EcmError(400, f"{field} must be an integer")
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise EcmError(400, f"{field} must be an integer") from None


def required(body: dict[str, Any], field: str) -> Any:
    """``body[field]``; 400 when it is missing, null or blank."""
    value = body.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise EcmError(400, f"{field} is required")
    return value


def check_phone(value: Any, field: str) -> str:
    """A phone of 4 to 15 characters ("+" included), as text."""
    phone = str(value)
    if not PHONE_MIN <= len(phone) <= PHONE_MAX:
        raise EcmError(400, f"{field} must have {PHONE_MIN} to {PHONE_MAX} characters (including +)")
    return phone


def csv_lines(content: bytes) -> list[tuple[int, list[str]]]:
    """The non-blank lines of an uploaded CSV as (line number, stripped cells); 400 if none."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EcmError(400, "The file must be UTF-8 text") from None
    rows = enumerate(csv.reader(io.StringIO(text)), start=1)
    lines = [(number, [cell.strip() for cell in cells]) for number, cells in rows if "".join(cells).strip()]
    if not lines:
        raise EcmError(400, "The file holds no contacts")
    return lines


def query_and_body(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """Parameters given in the query string or the JSON body (the query wins)."""
    return {**body, **request.query_params}


def callback_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Validate a contact's phones, business params and dial time (insertCallback, bulk rows)."""
    fields: dict[str, Any] = {"phone1": check_phone(required(values, "phone1"), "phone1")}
    for field in PHONE_FIELDS[1:]:
        given = values.get(field) not in (None, "")
        fields[field] = check_phone(values[field], field) if given else None
    for field in BUSINESS_PARAM_FIELDS:
        value = values.get(field)
        if value is not None and len(str(value)) > BUSINESS_PARAM_MAX:
            raise EcmError(400, f"{field} is longer than {BUSINESS_PARAM_MAX} characters")
        fields[field] = None if value in (None, "") else str(value)
    dial_time = values.get("dialTime")
    if dial_time not in (None, ""):
        try:
            datetime.strptime(str(dial_time), DIAL_TIME_FORMAT)
        except ValueError:
            raise EcmError(400, "dialTime must be formatted yyyy-MM-dd HH:mm:ss") from None
    fields["dialTime"] = dial_time or None
    return fields


def bulk_rows(content: bytes) -> list[dict[str, Any]]:
    """Validated rows of an uploadBulkCaller file; one bad row refuses the whole file (silent)."""
    rows = []
    for line_number, cells in csv_lines(content):
        if line_number == 1 and cells[0].lower() == "phone1":
            continue  # silent: an optional header line is skipped
        if len(cells) > len(BULK_CALLER_COLUMNS):
            raise EcmError(400, f"line {line_number}: more than {len(BULK_CALLER_COLUMNS)} columns")
        try:
            rows.append(callback_fields(dict(zip(BULK_CALLER_COLUMNS, cells))))
        except EcmError as exc:
            raise EcmError(400, f"line {line_number}: {exc.message}") from None
    if not rows:
        raise EcmError(400, "The file holds no contacts")
    return rows


def status_action(value: Any) -> str:
    """campaignUpdateStatus's ``status`` (body undocumented): pause/resume and common variants."""
    word = str(value).strip().lower()
    if word in ("pause", "paused", "0", "false", "stop", "inactive"):
        return "pause"
    if word in ("resume", "resumed", "1", "true", "start", "active", "running"):
        return "resume"
    raise EcmError(400, "status must be pause or resume")


def attempt_fields(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated fields of a strategy attempt's save (every required one) or update (those given)."""
    fields: dict[str, Any] = {}
    if not partial or "name" in body:
        fields["name"] = str(required(body, "name"))
    if not partial or "phone" in body:
        phone = as_int(required(body, "phone"), "phone")
        if not 1 <= phone <= 5:
            raise EcmError(400, "phone must be 1 to 5")
        fields["phone"] = str(phone)
    if not partial or "channel" in body:
        channel = as_int(body.get("channel", VOICE), "channel")
        if channel not in (VOICE, SMS):
            raise EcmError(400, "channel must be 0 (voice) or 1 (SMS)")
        fields["channel"] = channel
    if not partial or "attemptNumber" in body:
        fields["attemptNumber"] = as_int(required(body, "attemptNumber"), "attemptNumber")
    if "retryMap" in body:
        retry_map = body["retryMap"]
        if not isinstance(retry_map, list) or not all(isinstance(rule, dict) for rule in retry_map):
            raise EcmError(400, "retryMap must be a list of objects")
        fields["retryMap"] = retry_map
    return fields


def attempt_order(body: dict[str, Any]) -> list[dict[str, Any]]:
    """updateOrder's ``{atId, index}`` pairs. The reference's example is not JSON (an array inside
    braces), so ``idIndexJson`` is accepted as an object or a JSON string, ``data`` as an array or
    one pair."""
    wrapper = body.get("idIndexJson")
    if isinstance(wrapper, str):
        try:
            wrapper = json.loads(wrapper)
        except ValueError:
            raise EcmError(400, "idIndexJson is not valid JSON") from None
    data = wrapper.get("data") if isinstance(wrapper, dict) else None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data or not all(isinstance(d, dict) for d in data):
        raise EcmError(400, "idIndexJson.data must be a list of {atId, index}")
    return data


def preference_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Validated preference settings fields (those given; batch sizes positive integers)."""
    fields = {key: body[key] for key in ("filePath", "fileArchivePath", "username", "password", "Domain")
              if key in body}
    for key in ("campaignBatchSize", "ivrBatchSize"):
        if key in body:
            size = as_int(body[key], key)
            if size < 1:
                raise EcmError(400, f"{key} must be a positive integer")
            fields[key] = size
    return fields
