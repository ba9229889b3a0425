"""The silent points of the ECM references this simulation plays either way (docs/readings.md).

The first choice of each switch is the sandbox's default (profile ``first``), the second is profile
``second``'s. The routes ask ``self.reading(name)`` on every request, so a test can switch readings
at run time (``PUT /_sandbox/config``).
"""

from __future__ import annotations

from airflow_provider_dialers.sandbox.readings import Reading

ECM_13_2 = "000_6f6d6f1d40dd48ab.txt"
ECM_13_3 = "001_aad5c03376ccfe55.txt"

READINGS = (
    Reading(
        "ecm_page_base", ("0", "1", "1_clamps_0"), "GET /umm/ecm/callback/getList: page",
        f"{ECM_13_2} and {ECM_13_3}, 'Get campaign contacts', Request Body: \"page: This attribute used to "
        "define the current page number on which contacts will be displayed. You can specify the page index "
        "to get contacts on the returned page only.\" (where numbering starts is never said). "
        "0: pages count from 0; 1: from 1, and page 0 is refused (400); 1_clamps_0: from 1, and page 0 "
        "is read as page 1.",
    ),
    Reading(
        "ecm_getlist_filters", ("query", "body"), "GET /umm/ecm/callback/getList: max, page, filters",
        f"{ECM_13_2} and {ECM_13_3}, 'Get campaign contacts': \"HTTP Method GET\" and the filters (max, page, "
        "requestStatus, campaignId, numberToCall, phone1 to phone5) listed under \"Request Body\". "
        "query: read from the query string only; body: read from a JSON body only (a GET without one "
        "reads as no filter at all).",
    ),
    Reading(
        "ecm_dnc_save_answer", ("dnc_object", "empty_200", "sentence"), "POST /umm/ecm/contact/save (13.2)",
        f"{ECM_13_2}, 'Upload Single Contact to DNC': \"Example Response\" is followed by nothing "
        f"({ECM_13_3} shows the DNC object). 13.2 answers the DNC object, an empty 200, or a sentence.",
    ),
    Reading(
        "ecm_discard_answer", ("sentence", "http_4xx", "other_sentence"),
        "POST /umm/ecm/callback/insertCallback with duplicateCallbacks=discard, phone1 already Pending",
        f"{ECM_13_2}, 'Upload Single contact': \"If the value is equal to discard, the contact won't be "
        "uploaded again and no duplicate call would be made.\" The only answer shown is \"callback data "
        f"saved\" ({ECM_13_3}: \"statusString: callback data saved\"; its HTTP Response adds \"406: Not "
        "Acceptable\"). sentence: 200 \"duplicate callback discarded\"; http_4xx: 406 naming the duplicate; "
        "other_sentence: 200 \"callback already exists ...\".",
    ),
    Reading(
        "ecm_token_refused_status", ("401", "403"), "every /umm/ecm call with a missing, forged or expired token",
        f"{ECM_13_2}: every HTTP Response lists \"200: Success 404: Not found 500: Internal Server Error 503: "
        f"Service Unavailable\" (no 401); {ECM_13_3}, 'Login': \"401: Unauthorized\", and campaign calls "
        "\"401: Not Authorized\"; DNC and callback calls list none. 401 or 403 (Spring Security's "
        "\"Access Denied\").",
    ),
    Reading(
        "ecm_login_method", ("get", "post"), "/umm/api/login",
        f"{ECM_13_2} and {ECM_13_3}, 'Login': \"HTTP Method GET\" with \"Request Body • username (required) "
        f"• password (required)\"; {ECM_13_3} lists \"405: HTTP method not allowed\". get: GET only (POST "
        "is 405); post: POST only (GET is 405).",
    ),
    Reading(
        "ecm_bulk_processing", ("stored", "queued"), "GET /umm/ecm/callback/uploadBulkCaller",
        f"{ECM_13_2} and {ECM_13_3}, 'Bulk upload contacts to a campaign': \"Example Response | File is "
        "uploaded\" (whether the contacts are stored before that answer is never said). stored: every "
        "row is stored before the answer; queued: the answer comes at once and the rows are stored "
        "half a second later.",
    ),
)
