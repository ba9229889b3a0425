"""Where the Ameyo reference (004_1ae8d5ef91c314b6.txt) is silent, ambiguous or contradicts itself:
the switches the simulated server can read either way (sandbox/readings.py, docs/readings.md).

The first choice of each is what the sandbox does by default; the handlers ask
``self.reading(name)`` on every request, so a test can switch readings at run time.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response

from airflow_provider_dialers.sandbox.readings import Reading

REF = "004_1ae8d5ef91c314b6.txt"

SESSION_TIMEOUT = "ameyo_session_timeout"
LIMIT_OFFSET = "ameyo_limit_offset"
DEAD_SESSION_SIGNAL = "ameyo_dead_session_signal"
CALLBACK_RESULT = "ameyo_callback_result"

READINGS: tuple[Reading, ...] = (
    Reading(
        SESSION_TIMEOUT, ("given_ms", "absent", "seconds"), "command=login (its answer)",
        f"{REF}, '4.2. Proposed Solution': \"The session will be automatically timed out after 3 minute of "
        "inactivity.\"; '4.3.3. Response Parameters' lists session Id, userType, terminal Info and the "
        "campaigns, not sessionTimeout; only the '4.3.5. Response data' example has "
        "\"sessionTimeout\":180000 (no unit given)",
    ),
    Reading(
        LIMIT_OFFSET, ("limit_n_offset_m", "m_comma_n", "ignored"), "command=getContacts, limitOffset",
        f"{REF}, '4.6.2. Request Parameters': \"5. Other Filter String: ... b. LimitOffset – Maximum number "
        "of records to return for this query. Default – Null – No limit\" (no form given; the '4.6.4. "
        "Request data' example sends none)",
    ),
    Reading(
        DEAD_SESSION_SIGNAL, ("documented_200", "http_403", "redirect_302", "other_200_text"),
        "every command with a timed-out session",
        f"{REF}, '4.4.5. Error' (ping-session): {{\"status\":\"error\",\"reason\":\"Invalid session Id: ...\"}}; "
        "'4.5.6. Error : Invalid Session' (logout): {\"message\":\"Invalid session Id: ...\",\"type\":"
        "\"ProcessingException\"}; '4.6.6. Error- Invalid Session ID' (getContacts): {\"result\":\"Failed.\","
        "\"comment\":[\"LogoutRemoterProcessorHelper.invalid.sessionid\", ...]}; the other commands show "
        "none, and '4.2': \"The session will be automatically timed out after 3 minute of inactivity.\"",
    ),
    Reading(
        CALLBACK_RESULT, ("message_on_failure", "message_always", "no_failure_signal"),
        "command=uploadContactAndAddCallback (its answer)",
        f"{REF}, '4.8.3. Response Parameters': \"8. CallBackId – ameyo callback id. 9. CallBackTime – "
        "Callback time.\" (how a callback that could not be scheduled shows is not said); '4.8.5. Response "
        "data' (a success): \"callbackTime\":\"Mar 3, 2015 11:29:34 AM\", \"id\":null, ... \"message\":null",
    ),
)

#: other_200_text: a wording none of the documented invalid-session bodies uses.
OTHER_SESSION_CODE = "UserSessionManager.session.not.found"
#: message_always: the text a scheduled callback carries in ``message``.
SCHEDULED_MESSAGE = "Callback scheduled successfully"


def session_timeout_field(reading: str, timeout: float) -> dict[str, Any]:
    """The login answer's ``sessionTimeout`` entry: in ms (the example's 180000), in seconds, or none."""
    if reading == "absent":
        return {}
    return {"sessionTimeout": int(timeout) if reading == "seconds" else int(timeout * 1000)}


def dead_session_answer(reading: str, session_id: str, documented: Any) -> Response | Any:
    """How a command with a dead session is answered: ``documented`` (the command's documented body,
    HTTP 200), a 403 page, a 302 to a login page, or a 200 error body with another wording."""
    if reading == "http_403":
        page = b"<html><body><h1>HTTP Status 403 - Forbidden</h1></body></html>"
        return Response(page, status_code=403, headers={"Content-Type": "text/html"})
    if reading == "redirect_302":
        return Response(b"", status_code=302, headers={"Location": "/ameyowebaccess/login.jsp"})
    if reading == "other_200_text":
        return {"result": "Failed.", "comment": [OTHER_SESSION_CODE, session_id]}
    return documented
