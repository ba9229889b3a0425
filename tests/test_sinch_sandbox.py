"""The Sinch OBI sandbox's own rules, over raw HTTP: auth, media types, validation, determinism."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS

CREDS = DEFAULT_CREDENTIALS["sinch"]
ACTIVE = "62718C7889CC44F7B944C1A6F6BE9B7F"
PASSIVE = "8A7C98EAF1164F2FAA93B98EECB95D76"


@pytest.fixture
def obi_http(sandbox):
    """A raw session with the sandbox's API user, and the OBI base URL."""
    session = requests.Session()
    session.auth = (CREDS["login"], CREDS["password"])
    session.headers["Accept"] = "application/json"
    yield session, f"{sandbox.url}/RI/obi"
    session.close()


def test_requests_without_basic_auth_get_401_with_a_challenge(sandbox, obi_http):
    _, base = obi_http
    answer = requests.get(f"{base}/campaigns", timeout=5)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic ")
    assert answer.json() == {"statusCode": 401, "error": "Unauthorized"}
    bearer = requests.get(f"{base}/campaigns", headers={"Authorization": "Bearer abc"}, timeout=5)
    assert bearer.status_code == 401


def test_api_key_when_sent_must_match_and_when_required_must_be_sent(sandbox, sandbox_client, obi_http):
    session, base = obi_http
    assert session.get(f"{base}/campaigns", headers={"x-api-key": "nope"}).status_code == 403
    assert session.get(f"{base}/campaigns").status_code == 200  # optional unless configured
    sandbox_client.configure(sinch_require_api_key=True)
    assert session.get(f"{base}/campaigns").status_code == 403
    assert session.get(f"{base}/campaigns", headers={"x-api-key": CREDS["api_key"]}).status_code == 200


def test_media_types_are_enforced(obi_http):
    session, base = obi_http
    assert session.get(f"{base}/campaigns", headers={"Accept": "application/xml"}).status_code == 406
    as_json = session.put(f"{base}/campaigns/{PASSIVE}/status", json="Active")
    assert as_json.status_code == 415 and "text/plain" in as_json.json()["error"]
    as_text = session.post(f"{base}/campaigns/{ACTIVE}/customers/list", data="[]",
                           headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 415


def test_status_accepts_only_active_and_passive(obi_http):
    session, base = obi_http
    answer = session.put(
        f"{base}/campaigns/{PASSIVE}/status", data="Handled", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "Invalid status: Handled : Value can be one of Passive, Active"


def test_unknown_search_fields_and_bad_paging_are_400(obi_http):
    session, base = obi_http
    assert session.get(f"{base}/campaigns", params={"colour": "blue"}).json() == {
        "statusCode": 400, "error": "Invalid search field: colour"}
    assert session.get(f"{base}/campaigns/{ACTIVE}/customers", params={"limit": "0"}).status_code == 400
    assert session.get(f"{base}/campaigns/{ACTIVE}/customers", params={"offset": "x"}).status_code == 400


def test_single_post_answers_the_id_as_text_html_with_location(obi_http):
    session, base = obi_http
    answer = session.post(f"{base}/campaigns/{ACTIVE}/customers", json={"numbers": "+358401"},
                          headers={"Accept": "text/html"})
    assert answer.status_code == 201 and answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Location"].endswith(f"/RI/obi/campaigns/{ACTIVE}/customers/{answer.text}")


def test_list_validation_flags_later_duplicates_in_the_batch_and_caps_the_size(sandbox, obi_http):
    session, base = obi_http
    url = f"{base}/campaigns/{ACTIVE}/customers/list"
    answer = session.post(url, json=[{"externalId": "007", "numbers": "+3584011"},
                                     {"externalId": "007", "numbers": "+3584012"}]).json()
    assert answer[0]["statusCode"] == 201
    assert answer[1] == {"error": "Invalid externalId: 007 : Value is not unique", "statusCode": 400}

    too_many = [{"numbers": "+3584011"}] * (sandbox.core.vendors["sinch"].max_list_size + 1)
    assert session.post(url, json=too_many).status_code == 413
    assert session.post(url, json={"numbers": "+3584011"}).status_code == 400  # not an array


def test_both_attribute_forms_are_accepted_and_the_wrapper_is_answered(obi_http):
    session, base = obi_http
    url = f"{base}/campaigns/{ACTIVE}/customers/list"
    schema_form = {"externalId": "A1", "attributes": [{"name": "Phone1", "value": "+3584011"}]}
    wrapped_form = {"externalId": "A2",
                    "attributes": {"attribute": [{"name": "Phone1", "value": "+3584012"}]}}
    ids = [item["id"] for item in session.post(url, json=[schema_form, wrapped_form]).json()]
    for customer_id, number in zip(ids, ("+3584011", "+3584012")):
        customer = session.get(f"{base}/campaigns/{ACTIVE}/customers/{customer_id}").json()
        assert customer["numbers"] == number
        assert customer["attributes"] == {"attribute": [{"name": "Phone1", "value": number}]}


def test_dialing_is_deterministic_for_a_seed(sandbox, sandbox_client):
    def outcomes() -> list[tuple[str, str, int]]:
        sandbox_client.reset()
        sandbox_client.advance(vendor="sinch")
        customers = sandbox_client.state("sinch")["campaigns"][ACTIVE]["customers"]
        return [(c["externalId"], c["result"], c["callCount"]) for c in customers]

    first = outcomes()
    assert first == outcomes()
    assert {result for _, result, _ in first} <= {"SUCCESS", "REFUSAL", "MAXCALLS"}


# -- readings: the sandbox plays the second reading of each silent point (docs/readings.md) -----------


def test_wrapper_only_attributes_refuse_an_array_for_the_whole_list(sandbox, sandbox_client, obi_http):
    session, base = obi_http
    sandbox_client.configure(readings={"sinch_attributes_form": "wrapper_only"})
    url = f"{base}/campaigns/{ACTIVE}/customers/list"
    mixed = [{"externalId": "W1", "numbers": "+3584011", "attributes": {"attribute": []}},
             {"externalId": "W2", "numbers": "+3584012", "attributes": [{"name": "City", "value": "Oulu"}]}]
    refused = session.post(url, json=mixed)
    assert refused.status_code == 400 and "Invalid attributes" in refused.json()["error"]
    assert len(sandbox.core.vendors["sinch"].campaigns[ACTIVE].customers) == 6  # nothing added
    mixed[1]["attributes"] = {"attribute": mixed[1]["attributes"]}
    assert [item["statusCode"] for item in session.post(url, json=mixed).json()] == [201, 201]


def test_json_only_status_takes_a_json_string_and_refuses_text(sandbox_client, obi_http):
    session, base = obi_http
    sandbox_client.configure(readings={"sinch_status_body": "application_json"})
    url = f"{base}/campaigns/{PASSIVE}/status"
    assert session.put(url, data="Active", headers={"Content-Type": "text/plain"}).status_code == 415
    assert session.put(url, json={"status": "Active"}).status_code == 400
    assert session.put(url, json="Active").status_code == 204
    assert session.get(f"{base}/campaigns/{PASSIVE}").json()["status"] == "Active"


def test_capped_pages_hold_at_most_50_customers(sandbox_client, obi_http):
    session, base = obi_http
    sandbox_client.configure(readings={"sinch_page_limit": "capped"})
    session.post(f"{base}/campaigns/{ACTIVE}/customers/list",
                 json=[{"numbers": f"+35840{n:05d}"} for n in range(60)])
    url = f"{base}/campaigns/{ACTIVE}/customers"
    assert len(session.get(url, params={"limit": "100"}).json()) == 50
    assert len(session.get(url, params={"offset": "50", "limit": "100"}).json()) == 16
    assert len(session.get(url, params={"limit": "20"}).json()) == 20


def test_not_handled_excluding_maxcalls_and_filtered(sandbox_client, obi_http):
    session, base = obi_http
    handled = "E49625CFDF58E311B764005056A7012B"  # SUCCESS, REFUSAL, MAXCALLS

    def counters() -> tuple[int, ...]:
        campaign = session.get(f"{base}/campaigns/{handled}").json()
        return tuple(campaign[name] for name in ("total", "handled", "notHandled", "maxCalls", "filtered"))

    assert counters() == (3, 2, 1, 1, 0)
    sandbox_client.configure(readings={"sinch_not_handled_scope": "excludes"})
    assert counters() == (3, 2, 0, 1, 0)


def test_a_json_only_create_answers_an_id_object_and_refuses_text_html(sandbox_client, obi_http):
    session, base = obi_http
    sandbox_client.configure(readings={"sinch_created_id_form": "json_object"})
    url = f"{base}/campaigns/{ACTIVE}/customers"
    assert session.post(url, json={"numbers": "+358401"}, headers={"Accept": "text/html"}).status_code == 406
    created = session.post(url, json={"numbers": "+358402"}, headers={"Accept": "application/json"})
    assert created.status_code == 201 and "Location" not in created.headers
    assert session.get(f"{url}/{created.json()['id']}").json()["numbers"] == "+358402"
