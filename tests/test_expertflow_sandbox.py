"""The ECM sandbox over raw HTTP: auth, error shapes, validation and the accepted variants of
undocumented or contradictory request forms (what the hook never sends, real clients might)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS

CREDS = DEFAULT_CREDENTIALS["expertflow"]
LOGIN = {"username": CREDS["login"], "password": CREDS["password"]}
CAMPAIGN = {"startTime": "08:00", "endTime": "20:00", "name": "Raw", "strategyId": "1", "type": "0",
            "ciscoCampaignId": "5001", "weekDays": "1,2,3", "enabled": True}


class Ecm:
    """A bare client of the sandbox's ECM API."""

    def __init__(self, base_url: str) -> None:
        self.base = f"{base_url}/umm"
        self.http = requests.Session()

    def login(self) -> Ecm:
        answer = self.http.get(f"{self.base}/api/login", json=LOGIN)
        self.http.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        return self

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.base}/ecm/{path}", timeout=10, **kwargs)


@pytest.fixture
def api(sandbox) -> Ecm:
    return Ecm(sandbox.url).login()


def assert_error(response: requests.Response, status: int, message: str) -> None:
    body = response.json()
    assert response.status_code == status and body["status"] == status
    assert body["error"] and message in body["message"] and body["path"].startswith("/umm/")


# -- auth -------------------------------------------------------------------------------------------


def test_login_answer_has_the_documented_fields(sandbox):
    answer = requests.get(f"{sandbox.url}/umm/api/login", json=LOGIN)
    body = answer.json()
    assert answer.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 36000
    assert body["refresh_token"] and body["userDetails"]["roles"][0]["name"] == "Administrator"


def test_wrong_or_missing_login_fields(sandbox, sandbox_client):
    url = f"{sandbox.url}/umm/api/login"
    assert_error(requests.get(url, json={**LOGIN, "password": "nope-nope"}), 401, "Invalid username")
    assert_error(requests.get(url, json={"username": "admin"}), 400, "username and password are required")
    not_json = requests.get(url, data="{not json", headers={"Content-Type": "application/json"})
    assert_error(not_json, 400, "not valid JSON")
    assert requests.post(url, json=LOGIN).status_code == 405
    assert sandbox_client.stats()["failed_logins"]["expertflow"] == 1


def test_calls_need_a_live_bearer_token(sandbox, sandbox_client, api):
    assert_error(requests.get(f"{sandbox.url}/umm/ecm/campaign"), 401, "Full authentication is required")
    bad = requests.get(f"{sandbox.url}/umm/ecm/campaign", headers={"Authorization": "Bearer forged"})
    assert_error(bad, 401, "Invalid or expired token")
    assert api.call("GET", "campaign").status_code == 200
    sandbox_client.expire_credentials("expertflow")
    assert_error(api.call("GET", "campaign"), 401, "Invalid or expired token")


# -- campaigns ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["startTime", "endTime", "name", "strategyId", "type", "ciscoCampaignId",
                                   "weekDays", "enabled"])
def test_create_campaign_names_the_missing_field(api, ecm, field):
    body = {k: v for k, v in CAMPAIGN.items() if k != field}
    assert_error(api.call("POST", "campaign/createCampaign", json=body), 400, f"{field} is required")
    assert len(ecm.campaigns) == 3


@pytest.mark.parametrize(
    "change, message",
    [({"type": "2"}, "type must be 0"), ({"weekDays": "Mon"}, "weekDays must be"),
     ({"enabled": "yes"}, "enabled must be true or false"), ({"startTime": "25:00"}, "startTime must be"),
     ({"crmCampaignId": "crm_welcome"}, "already used by campaign 1")],
)
def test_create_campaign_validates_values(api, change, message):
    assert_error(api.call("POST", "campaign/createCampaign", json={**CAMPAIGN, **change}), 400, message)


def test_create_campaign_status_depends_on_the_release(api, ecm):
    assert api.call("POST", "campaign/createCampaign", json=CAMPAIGN).status_code == 201
    ecm.release = "13.2"
    assert api.call("POST", "campaign/createCampaign", json={**CAMPAIGN, "type": -1}).status_code == 200


@pytest.mark.parametrize(
    "request_kwargs, status",
    [
        ({"json": {"campaignId": 1, "status": "0"}}, "0"),
        ({"json": {"crmCampaignId": "crm_welcome", "status": "PAUSED"}}, "0"),
        ({"params": {"id": 2, "status": "resume"}}, "1"),
        ({"json": {"id": "2", "status": 1}}, "1"),
    ],
)
def test_campaign_update_status_accepts_common_forms(api, ecm, request_kwargs, status):
    campaign_id = 2 if status == "1" else 1
    answer = api.call("POST", "campaign/campaignUpdateStatus", **request_kwargs)
    assert answer.status_code == 200
    assert answer.text.startswith(f"Campaign with id {campaign_id} successfully")
    assert ecm.campaigns[campaign_id]["status"] == status


def test_campaign_update_status_refusals(api, ecm):
    assert_error(api.call("POST", "campaign/campaignUpdateStatus", json={"id": 1, "status": "halt"}), 400,
                 "status must be pause or resume")
    assert_error(api.call("POST", "campaign/campaignUpdateStatus", json={"status": "pause"}), 400,
                 "id or crmCampaignId is required")
    both = {"id": 1, "crmCampaignId": "crm_sales", "status": "pause"}
    assert_error(api.call("POST", "campaign/campaignUpdateStatus", json=both), 400, "different campaigns")
    ecm.release = "13.2"
    assert_error(api.call("POST", "campaign/campaignUpdateStatus", json={"id": 1, "status": "pause"}), 404,
                 "in ECM 13.2")
    assert ecm.campaigns[1]["status"] == "1"


def test_pause_resume_and_delete_name_the_campaign_in_the_query(api, ecm):
    assert api.call("POST", "campaign/pause", params={"crmCampaignId": "crm_welcome"}).text == \
        "Campaign with id 1 successfully paused"
    assert_error(api.call("POST", "campaign/resume", params={"id": "x"}), 400, "id must be an integer")
    assert_error(api.call("DELETE", "campaign/delete"), 400, "id or crmCampaignId is required")


# -- campaign contacts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"campaignId": 1}, 400, "phone1 is required"),
        ({"phone1": "+1234"}, 400, "campaignId or crmCampaignId is required"),
        ({"campaignId": "one", "phone1": "+1234"}, 400, "campaignId must be an integer"),
        ({"campaignId": 1, "phone1": "+1234", "duplicateCallbacks": "maybe"}, 400, "allow or discard"),
        ({"campaignId": 1, "phone1": "+1234", "dialTime": "2030-01-01T10:00:00"}, 400, "dialTime must be"),
        ({"campaignId": 1, "phone1": "+1234", "phone5": "+1234567890123456"}, 400, "phone5 must have"),
    ],
)
def test_insert_callback_refusals(api, ecm, body, status, message):
    assert_error(api.call("POST", "callback/insertCallback", json=body), status, message)
    assert len(ecm.callbacks) == 8


def test_insert_callback_without_duplicate_policy_allows(api, ecm):
    for _ in range(2):
        answer = api.call("POST", "callback/insertCallback", json={"campaignId": 1, "phone1": "+15550100101"})
        assert answer.json() == {"statusString": "callback data saved"}
    assert len(ecm.callbacks) == 10


def test_get_list_reads_the_query_string_and_validates(api):
    answer = api.call("GET", "callback/getList", params={"campaignId": 2, "max": 2, "page": 1})
    assert answer.json()["total"] == 3 and [c["id"] for c in answer.json()["callbackData"]] == [8]
    ignored = api.call("GET", "callback/getList", json={"campaignId": 2, "max": 2, "page": 1})
    assert ignored.json()["total"] == 8  # reading ecm_getlist_filters "query": a body is not read
    assert len(api.call("GET", "callback/getList").json()["callbackData"]) == 8  # default page of 10
    assert_error(api.call("GET", "callback/getList", params={"max": 0}), 400, "max must be at least 1")
    assert_error(api.call("GET", "callback/getList", params={"requestStatus": "done"}), 400,
                 "requestStatus must be")


def test_upload_bulk_caller_by_post_with_a_header_line(api, ecm):
    csv_text = "phone1,phone2\n+15556660101,,,,,Gold\n"
    answer = api.call("POST", "callback/uploadBulkCaller", data={"crmCampaignId": "crm_sales"},
                      files={"file": ("c.csv", csv_text, "text/csv")})
    assert answer.status_code == 200 and answer.text == "File is uploaded"
    assert list(ecm.callbacks.values())[-1]["businessParam1"] == "Gold"
    too_wide = "+15556660102" + "," * 18 + "extra\n"
    assert_error(api.call("GET", "callback/uploadBulkCaller", data={"campaignId": 1},
                          files={"file": ("c.csv", too_wide, "text/csv")}), 400, "more than 18 columns")
    assert_error(api.call("GET", "callback/uploadBulkCaller", data={"campaignId": 1}), 400, "multipart file")


# -- strategies ---------------------------------------------------------------------------------------


def test_update_order_accepts_idindexjson_as_a_string_and_a_single_pair(api, ecm):
    as_string = {"idIndexJson": json.dumps({"data": [{"atId": 3, "index": 1}]})}
    assert api.call("POST", "callStrategyAttempt/updateOrder", json=as_string).text == "Success"
    assert ecm.attempts[3]["attemptNumber"] == 1
    single = {"idIndexJson": {"data": {"atId": 1, "index": 3}}}
    assert api.call("POST", "callStrategyAttempt/updateOrder", json=single).status_code == 200
    assert ecm.attempts[1]["attemptNumber"] == 3
    assert_error(api.call("POST", "callStrategyAttempt/updateOrder", json={"idIndexJson": "{"}), 400,
                 "not valid JSON")


def test_attempt_update_accepts_cs_attempt_as_the_id(api, ecm):
    body = {"csId": 1, "csAttempt": 2, "name": "Renamed"}
    answer = api.call("POST", "callStrategyAttempt/update", json=body)
    assert answer.json()["id"] == 2 and ecm.attempts[2]["name"] == "Renamed"
    assert_error(api.call("POST", "callStrategyAttempt/update", json={"csId": 1, "name": "x"}), 400,
                 "csAttempt is required")


def test_attempt_save_with_only_cs_id_reads_without_creating(api, ecm):
    answer = api.call("POST", "callStrategyAttempt/save", json={"csId": 2})
    assert [a["name"] for a in answer.json()] == ["Only call"]
    incomplete = {"csId": 2, "name": "x", "phone": "1"}
    answer = api.call("POST", "callStrategyAttempt/save", json=incomplete)
    assert_error(answer, 400, "attemptNumber is required")
    assert len(ecm.attempts) == 4


# -- readings: the silent points played the other way (docs/readings.md) ---------------------------------


def ids(response: requests.Response) -> list[int]:
    return [c["id"] for c in response.json()["callbackData"]]


def test_page_numbering_from_0_from_1_or_from_1_reading_0_as_1(api, sandbox_client):
    first_two = {"campaignId": 1, "max": 2}
    assert ids(api.call("GET", "callback/getList", params={**first_two, "page": 0})) == [1, 2]
    sandbox_client.configure(readings={"ecm_page_base": "1"})
    assert_error(api.call("GET", "callback/getList", params={**first_two, "page": 0}), 400, "page at least 1")
    assert ids(api.call("GET", "callback/getList", params={**first_two, "page": 2})) == [3, 4]
    assert ids(api.call("GET", "callback/getList", params={"campaignId": 1, "max": 2})) == [1, 2]  # default 1
    sandbox_client.configure(readings={"ecm_page_base": "1_clamps_0"})
    assert ids(api.call("GET", "callback/getList", params={**first_two, "page": 0})) == [1, 2]
    assert ids(api.call("GET", "callback/getList", params={**first_two, "page": 1})) == [1, 2]


def test_getlist_filters_from_a_body_only(api, sandbox_client):
    sandbox_client.configure(readings={"ecm_getlist_filters": "body"})
    assert api.call("GET", "callback/getList", json={"campaignId": 2}).json()["total"] == 3
    assert api.call("GET", "callback/getList", params={"campaignId": 2}).json()["total"] == 8  # query ignored


@pytest.mark.parametrize(("reading", "text"), [("empty_200", ""), ("sentence", "Contact saved successfully")])
def test_dnc_save_on_13_2_answers_without_the_dnc_object(api, ecm, sandbox_client, reading, text):
    sandbox_client.configure(readings={"ecm_dnc_save_answer": reading})
    ecm.release = "13.2"
    answer = api.call("POST", "contact/save", json={"primaryNumber": "+15550100777"})
    assert (answer.status_code, answer.text) == (200, text)
    ecm.release = "13.3"  # 13.3 documents the DNC object
    assert api.call("POST", "contact/save", json={"primaryNumber": "+15550100778"}).json()["id"] == 4


def test_a_discarded_duplicate_as_a_406_or_another_sentence(api, ecm, sandbox_client):
    duplicate = {"campaignId": 1, "phone1": "+15550100101", "duplicateCallbacks": "discard"}
    sandbox_client.configure(readings={"ecm_discard_answer": "http_4xx"})
    assert_error(api.call("POST", "callback/insertCallback", json=duplicate), 406, "already exists")
    sandbox_client.configure(readings={"ecm_discard_answer": "other_sentence"})
    assert "already exists" in api.call("POST", "callback/insertCallback", json=duplicate).json()["statusString"]
    assert len(ecm.callbacks) == 8


def test_a_refused_token_answered_403_and_a_post_only_login(sandbox, sandbox_client):
    sandbox_client.configure(readings={"ecm_token_refused_status": "403", "ecm_login_method": "post"})
    assert_error(requests.get(f"{sandbox.url}/umm/ecm/campaign"), 403, "Full authentication is required")
    url = f"{sandbox.url}/umm/api/login"
    assert_error(requests.get(url, json=LOGIN), 405, "Request method 'GET' is not supported")
    assert requests.post(url, json=LOGIN).json()["token_type"] == "Bearer"
