"""The MaxContact sandbox as a raw HTTP client sees it: XML/JSON negotiation, token rules, body forms."""

from __future__ import annotations

import base64
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
import requests

from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS

JSON = {"Accept": "application/json", "Content-Type": "application/json"}
MANAGEMENT = "/webservices/services/management"


def login(sandbox, headers: dict[str, str] | None = None) -> requests.Response:
    creds = DEFAULT_CREDENTIALS["maxcontact"]
    password = base64.b64encode(creds["password"].encode("ascii")).decode()
    return requests.get(
        f"{sandbox.url}/webservices/services/apitoken/login/{creds['login']}",
        headers={"Authorization": password, **(headers or {})},
        timeout=5,
    )


@pytest.fixture
def session(sandbox) -> requests.Session:
    """A JSON session carrying a fresh token cookie."""
    http = requests.Session()
    http.headers.update(JSON)
    http.headers["Cookie"] = f"TokenKey={login(sandbox, JSON).json()['TokenKey']}"
    return http


def test_answers_are_xml_unless_json_is_asked_for(sandbox, session):
    token = login(sandbox)  # no Accept header: the reference's default, XML
    assert token.headers["content-type"].startswith("application/xml")
    key = ET.fromstring(token.text).findtext("TokenKey")
    cookie = {"Cookie": f"TokenKey={key}"}
    answer = requests.get(f"{sandbox.url}{MANAGEMENT}/campaigns", headers=cookie, timeout=5)
    root = ET.fromstring(answer.text)
    assert root.tag == "ManagementActionResponse"
    assert root.findtext("Success") == "true"
    assert [c.findtext("CampaignName") for c in root.find("Data")][:2] == ["Spring Renewals", "Debt Recovery"]
    assert session.get(f"{sandbox.url}{MANAGEMENT}/campaigns", timeout=5).json()["Success"] is True


def test_missing_or_unknown_token_is_401_with_the_framework_message(sandbox):
    for headers in (JSON, {**JSON, "Cookie": "TokenKey=not-a-token"}):
        answer = requests.get(f"{sandbox.url}{MANAGEMENT}/lists", headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.json() == {"Message": "Authorization has been denied for this request."}


def test_token_lifetime_follows_the_config(sandbox, sandbox_client):
    sandbox_client.configure(maxcontact_token_ttl=0.2)
    key = login(sandbox, JSON).json()["TokenKey"]
    headers = {**JSON, "Cookie": f"TokenKey={key}"}
    assert requests.get(f"{sandbox.url}{MANAGEMENT}/teams", headers=headers, timeout=5).status_code == 200
    time.sleep(0.3)
    assert requests.get(f"{sandbox.url}{MANAGEMENT}/teams", headers=headers, timeout=5).status_code == 401


@pytest.mark.parametrize(
    ("reading", "given", "status"),
    [("id", "2", 2), ("id", 3, 3), ("id", " 1 ", 1),
     ("name", "Running", 1), ("name", "notrunning", 0), ("name", "NotRunning", 0), ("name", " Paused ", 2),
     ("description", "Not Running", 0), ("description", "not  running", 0), ("description", "Flushed", 3)],
)
def test_campaign_status_takes_the_form_its_reading_says(sandbox, session, sandbox_client, reading, given, status):
    sandbox_client.configure(readings={"mc_patch_value": reading})
    url = f"{sandbox.url}{MANAGEMENT}/campaigns/3/status"
    answer = session.patch(url, json={"CampaignStatus": given}, timeout=5)
    assert answer.json()["Data"] == status
    assert sandbox.core.vendors["maxcontact"].campaigns.rows[3]["Status"] == status


@pytest.mark.parametrize(
    ("reading", "given"),
    [("id", "Running"), ("id", "Not Running"), ("name", "1"), ("name", "Not Running"),
     ("description", "NotRunning"), ("description", "0"), ("id", True)],
)
def test_campaign_status_in_another_form_is_invalid_parameters(sandbox, session, sandbox_client, reading, given):
    sandbox_client.configure(readings={"mc_patch_value": reading})
    answer = session.patch(f"{sandbox.url}{MANAGEMENT}/campaigns/3/status", json={"CampaignStatus": given},
                           timeout=5)
    assert (answer.status_code, answer.json()["ResponseCode"]) == (400, "Invalid Parameters")
    assert f"(given as its {reading})" in answer.json()["ResponseDetail"]
    assert sandbox.core.vendors["maxcontact"].campaigns.rows[3]["Status"] == 0


@pytest.mark.parametrize(
    ("reading", "data"),
    [("bare_value", 4), ("campaign_object", {"Id": 3, "CampaignType": "Bridge", "Type": 4}), ("null", None)],
)
def test_campaign_type_answers_as_its_reading_says(sandbox, session, sandbox_client, reading, data):
    sandbox_client.configure(readings={"mc_patch_reply": reading, "mc_patch_value": "name"})
    url = f"{sandbox.url}{MANAGEMENT}/campaigns/3/type"
    answer = session.patch(url, json={"CampaignType": "bridge"}, timeout=5)
    assert answer.json()["Data"] == data
    assert sandbox.core.vendors["maxcontact"].campaigns.rows[3]["MaxLines"] == 10  # Bridge keeps MaxLines


def test_campaign_status_object_answer_names_the_status(sandbox, session, sandbox_client):
    sandbox_client.configure(readings={"mc_patch_reply": "campaign_object"})
    answer = session.patch(f"{sandbox.url}{MANAGEMENT}/campaigns/3/status", json={"CampaignStatus": "1"},
                           timeout=5)
    assert answer.json()["Data"] == {"Id": 3, "CampaignStatus": "Running", "Status": 1}


@pytest.mark.parametrize(
    ("reading", "status", "body"),
    [("http_401", 401, {"Message": "Authorization has been denied for this request."}),
     ("http_403", 403, {"Message": "Invalid or expired token."}),
     ("success_false", 200, {"Success": False, "Data": None, "ResponseCode": "Error",
                             "ResponseDetail": "The token has expired or is not valid. Please log in again."})],
)
def test_an_expired_token_is_refused_as_its_reading_says(sandbox, sandbox_client, reading, status, body):
    sandbox_client.configure(readings={"mc_token_expiry": reading})
    key = login(sandbox, JSON).json()["TokenKey"]
    sandbox_client.expire_credentials("maxcontact")
    answer = requests.get(f"{sandbox.url}{MANAGEMENT}/teams", headers={**JSON, "Cookie": f"TokenKey={key}"},
                          timeout=5)
    assert (answer.status_code, answer.json()) == (status, body)


def test_the_token_answer_takes_the_shape_its_reading_says(sandbox, sandbox_client):
    sandbox_client.configure(readings={"mc_token_answer": "envelope"}, maxcontact_token_ttl=600)
    envelope = login(sandbox, JSON).json()
    assert (envelope["Success"], envelope["ResponseCode"]) == (True, "Success")
    expiry = datetime.fromisoformat(envelope["Data"]["Expiry"])
    assert 590 < (expiry - datetime.now(UTC)).total_seconds() <= 600
    sandbox_client.configure(readings={"mc_token_answer": "string"})
    token = login(sandbox, JSON).json()
    assert isinstance(token, str)
    answer = requests.get(f"{sandbox.url}{MANAGEMENT}/teams", headers={**JSON, "Cookie": f"TokenKey={token}"},
                          timeout=5)
    assert answer.status_code == 200
    assert ET.fromstring(login(sandbox).text).text == sandbox.core.credentials.issued("maxcontact")[-1]


@pytest.mark.parametrize(("reading", "restarted"), [("restart_stopped", {1: 1, 4: 1}), ("flag_only", {1: 0, 4: 0})])
def test_disabling_the_global_emergency_restarts_as_its_reading_says(sandbox, session, sandbox_client, reading,
                                                                     restarted):
    sandbox_client.configure(readings={"mc_emergency_disable": reading})
    for action in ("enable", "disable"):
        assert session.post(f"{sandbox.url}{MANAGEMENT}/globalemergency/{action}", timeout=5).json()["Success"]
    statuses = {c["Id"]: c["Status"] for c in sandbox_client.state("maxcontact")["campaigns"]}
    assert statuses == {**restarted, 2: 2, 3: 0, 5: 3}  # the paused campaign 2 is never touched


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("{not json", "The request body is not valid JSON"),
        ("[1, 2]", "The request body must be a JSON object"),
        ('{"Active": "yes"}', "Active is required and must be true or false"),
    ],
)
def test_bad_bodies_are_invalid_parameters(sandbox, session, body, detail):
    answer = session.patch(f"{sandbox.url}{MANAGEMENT}/campaigns/1/activityStatus", data=body, timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {"Success": False, "Data": None, "ResponseCode": "Invalid Parameters",
                             "ResponseDetail": detail}


def test_field_types_are_checked(sandbox, session):
    body = {"TeamName": "X", "ServiceTime": "20"}
    answer = session.post(f"{sandbox.url}{MANAGEMENT}/teams", json=body, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["ResponseDetail"] == "ServiceTime must be of type int"


def test_the_dial_simulation_is_deterministic(sandbox, sandbox_client):
    outcomes = []
    for _ in range(2):
        sandbox_client.reset()
        sandbox_client.advance(30, vendor="maxcontact")
        outcomes.append([c["outcomes"] for c in sandbox_client.state("maxcontact")["campaigns"]])
    assert outcomes[0] == outcomes[1]
    assert sum(sum(o.values()) for o in outcomes[0]) == 30


def test_reset_restores_the_seed(sandbox, session, sandbox_client):
    session.post(f"{sandbox.url}{MANAGEMENT}/lists", json={"ListName": "Temporary"}, timeout=5)
    assert len(sandbox_client.state("maxcontact")["lists"]) == 5
    sandbox_client.reset()
    assert len(sandbox_client.state("maxcontact")["lists"]) == 4
