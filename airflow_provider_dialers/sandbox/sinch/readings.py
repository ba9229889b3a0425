"""Sinch OBI sandbox readings: where ``003_fcacb40c9896fb10.txt`` is silent, ambiguous or contradicts
itself, so a faithful server could answer one way or another (docs/readings.md).

The first choice of each is what this sandbox did before it could play both; the routes ask
``self.reading(name)`` on every request (a test may switch readings at any time).
"""

from __future__ import annotations

from airflow_provider_dialers.sandbox.readings import Reading

REFERENCE = "003_fcacb40c9896fb10.txt"

ATTRIBUTES_FORM = Reading(
    "sinch_attributes_form",
    ("array_accepted", "wrapper_only"),
    "POST /campaigns/{campaignId}/customers and .../customers/list: a customer's attributes",
    f"{REFERENCE}, 'post /campaigns/{{campaignId}}/customers': \"- attributes: (array of object) ... "
    "Items: items - name: required(string) - value: required(string)\", while every example sends "
    "\"attributes\": { \"attribute\": [ ... ] }. array_accepted: both forms are read; wrapper_only: "
    "only the examples' wrapper binds, an array is refused with 400 for the whole request.",
)
STATUS_BODY = Reading(
    "sinch_status_body",
    ("text_plain", "application_json"),
    "PUT /campaigns/{campaignId}/status",
    f"{REFERENCE}, 'put /campaigns/{{campaignId}}/status': \"Body Media type: text/plain Type: string "
    "Example: Active\"; but 'Request Header Data Requirements': \"To POST/PUT JSON data, the request must "
    "have \"Content-Type = application/json\" header.\" text_plain: the bare word as text/plain; "
    "application_json: only a JSON string (\"Active\") as application/json, 415 otherwise.",
)
PAGE_LIMIT = Reading(
    "sinch_page_limit",
    ("honoured", "capped"),
    "GET /campaigns/{campaignId}/customers (offset, limit)",
    f"{REFERENCE}, 'get /campaigns/{{campaignId}}/customers': \"- limit: (integer - default: 100) Limit "
    "number of elements by specifying a limit value for the query\" (no maximum, no total count). "
    "honoured: a page holds up to the limit asked; capped: the server caps every page at 50 items.",
)
NOT_HANDLED_SCOPE = Reading(
    "sinch_not_handled_scope",
    ("includes", "excludes"),
    "GET /campaigns and /campaigns/{campaignId}: the notHandled counter",
    f"{REFERENCE}, 'get /campaigns' items: \"- notHandled: (integer)\" (no description); \"- callable: "
    "(integer) Number of customers which have not been handled yet (not handled, MAXCALLS or filtered)\". "
    "includes: notHandled = total - handled (MAXCALLS and filtered customers counted in it); "
    "excludes: notHandled = total - handled - maxCalls - filtered.",
)
CREATED_ID_FORM = Reading(
    "sinch_created_id_form",
    ("text_html_id", "json_object"),
    "POST /campaigns/{campaignId}/customers: the created id",
    f"{REFERENCE}, 'Request Header Data Requirements': \"POST should also have \"Accept = text/html\" "
    "header. It returns the ID of the created object. POST also returns Location header which contains "
    "the ID.\"; 'post /campaigns/{campaignId}/customers': \"HTTP status code 201 Returns the created id. "
    "Body Media type: text/html\". text_html_id: the bare id as text/html plus Location; json_object: "
    "{\"id\": ...} as application/json, no Location, and 406 unless the request accepts JSON.",
)

SINCH_READINGS = (ATTRIBUTES_FORM, STATUS_BODY, PAGE_LIMIT, NOT_HANDLED_SCOPE, CREATED_ID_FORM)

#: The page size a ``capped`` server never exceeds (this sandbox's cap).
PAGE_CAP = 50
