"""The two yardsticks of P1, per dialer, over the same endpoint and batch size as the operator:

* ``serial_loop``: the plain loop a user would write — read the CSV, build each request body from
  the vendor's reference, post it on one keep-alive ``requests.Session``, one request at a time.
* ``lean_requests``: the same bodies as raw HTTP bytes for :mod:`bench.lean_client`, built before
  the clock starts, to measure the sandbox's own capacity.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import requests

from bench.common import UploadDialer, credentials, read_contacts_csv
from bench.lean_client import raw_request

SINCH_API_KEY_HEADER = "x-api-key"
AMEYO_COMMAND = "/ameyowebaccess/command"


@dataclass(frozen=True)
class PlannedRequest:
    """One request of an upload: method, path, headers, and a JSON or form body."""

    method: str
    path: str
    headers: dict[str, str]
    json_body: Any = None
    form: dict[str, str] | None = None

    def send(self, session: requests.Session, base_url: str) -> Any:
        response = session.request(self.method, base_url + self.path, headers=self.headers,
                                   json=self.json_body, data=self.form, timeout=30)
        response.raise_for_status()
        return response.json()

    def raw(self) -> bytes:
        return raw_request(self.method, self.path, headers=self.headers, json_body=self.json_body, form=self.form)


def _chunks(rows: Iterator[dict[str, str]], size: int) -> Iterator[list[dict[str, str]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


# -- per vendor: log in the plain way ------------------------------------------------------------------


def ecm_headers(base_url: str, session: requests.Session) -> dict[str, str]:
    creds = credentials("expertflow")
    answer = session.get(f"{base_url}/umm/api/login", json={"username": creds["login"], "password": creds["password"]},
                         timeout=30)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def sinch_headers() -> dict[str, str]:
    creds = credentials("sinch")
    token = base64.b64encode(f"{creds['login']}:{creds['password']}".encode()).decode()
    return {"Authorization": f"Basic {token}", SINCH_API_KEY_HEADER: creds["api_key"]}


def ameyo_session_id(base_url: str, session: requests.Session) -> str:
    creds = credentials("ameyo")
    login = {"userId": creds["login"], "password": creds["password"], "terminal": "127.0.0.1",
             "clientType": "CustomerManagerApi"}
    answer = session.post(base_url + AMEYO_COMMAND, data={"command": "login", "data": json.dumps(login)}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["sessionId"])


# -- per vendor: one request per batch of rows ------------------------------------------------------------


def _ecm_plan(base_url: str, session: requests.Session, dialer: UploadDialer) -> Callable[[list[dict]], PlannedRequest]:
    headers = ecm_headers(base_url, session)

    def plan(rows: list[dict]) -> PlannedRequest:
        (row,) = rows  # insertCallback takes one contact
        body = {"campaignId": int(dialer.campaign_id), "phone1": row["phone"], "businessParam1": row["name"],
                "duplicateCallbacks": "discard"}
        return PlannedRequest("POST", "/umm/ecm/callback/insertCallback", headers, json_body=body)

    return plan


def _sinch_plan(base_url: str, session: requests.Session, dialer: UploadDialer) -> Callable[[list[dict]], PlannedRequest]:
    headers = sinch_headers()
    path = f"/RI/obi/campaigns/{dialer.campaign_id}/customers/list"

    def plan(rows: list[dict]) -> PlannedRequest:
        body = [{"externalId": row["external_id"], "numbers": row["phone"],
                 "attributes": [{"name": "name", "value": row["name"]}]} for row in rows]
        return PlannedRequest("POST", path, headers, json_body=body)

    return plan


def _ameyo_plan(base_url: str, session: requests.Session, dialer: UploadDialer) -> Callable[[list[dict]], PlannedRequest]:
    session_id = ameyo_session_id(base_url, session)

    def plan(rows: list[dict]) -> PlannedRequest:
        data = {"campaignId": int(dialer.campaign_id), "leadId": dialer.lead_id, "sessionId": session_id,
                "properties": {"update.customer": False, "migrate.customer": False},
                "customerRecords": [{"phone1": row["phone"], "external_id": row["external_id"], "name": row["name"]}
                                    for row in rows]}
        return PlannedRequest("POST", AMEYO_COMMAND, {}, form={"command": "uploadContacts", "data": json.dumps(data)})

    return plan


PLANNERS = {"expertflow": _ecm_plan, "sinch": _sinch_plan, "ameyo": _ameyo_plan}


def serial_loop(base_url: str, dialer: UploadDialer, csv_path: Path) -> tuple[int, float]:
    """Upload the file the plain way; (rows sent, seconds), login and file reading included."""
    started = time.perf_counter()
    session = requests.Session()
    plan = PLANNERS[dialer.vendor](base_url, session, dialer)
    rows = 0
    for chunk in _chunks(read_contacts_csv(csv_path), dialer.rows_per_request):
        plan(chunk).send(session, base_url)
        rows += len(chunk)
    session.close()
    return rows, time.perf_counter() - started


def lean_requests(base_url: str, dialer: UploadDialer, csv_path: Path) -> list[bytes]:
    """The upload's requests as raw bytes (logged in already), for the lean client."""
    with requests.Session() as session:
        plan = PLANNERS[dialer.vendor](base_url, session, dialer)
        return [plan(chunk).raw() for chunk in _chunks(read_contacts_csv(csv_path), dialer.rows_per_request)]
