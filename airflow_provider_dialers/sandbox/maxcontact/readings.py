"""The MaxContact reference's silent points the sandbox plays either way (docs/readings.md).

The first choice of each switch is the sandbox's default (profile ``first``), the second is profile
``second``. The handlers ask ``self.reading(name)`` at request time; each switch's answer is built
where the endpoint is (``routes.py``, ``state.py``, ``validation.py``).
"""

from __future__ import annotations

from airflow_provider_dialers.sandbox.readings import Reading

REFERENCE = "002_a3c19a6e25fcc84f.txt"

READINGS: tuple[Reading, ...] = (
    Reading(
        "mc_patch_reply", ("bare_value", "campaign_object", "null"),
        "PATCH /webservices/services/management/campaigns/{campaignId}/status and /type: the answer's Data",
        f"{REFERENCE}, 'Update Campaign Status': \"Returns: ManagementActionResponse containing the updated "
        "campaign status\"; 'Update Campaign Type': \"...containing the updated campaign type\" (the value "
        "alone, or the updated campaign such as {Id, CampaignStatus, Status}?)",
    ),
    Reading(
        "mc_patch_value", ("id", "name", "description"),
        "PATCH /webservices/services/management/campaigns/{campaignId}/status and /type: the body's value",
        f"{REFERENCE}, 'Update Campaign Status': \"Body: {{ CampaignStatus: string }}\" and \"Note. The full "
        "set of available campaign status values are listed in the appendix\"; 'Appendix 2: Campaign "
        "Statuses': \"ID Description / 0 Not Running / 1 Running / 2 Paused / 3 Flushed\" (the ID, the "
        "enum name NotRunning, or the description Not Running?)",
    ),
    Reading(
        "mc_emergency_disable", ("restart_stopped", "flag_only"),
        "POST /webservices/services/management/globalemergency/disable",
        f"{REFERENCE}, 'Global Emergency / Disable': \"API call to revert the system back to normal\"; "
        "'Enable': \"This will stop all Campaigns and enable emergency routing for inbound numbers\" "
        "(are the stopped campaigns restarted, or is only the flag cleared?)",
    ),
    Reading(
        "mc_token_expiry", ("http_401", "http_403", "success_false"),
        "every management call with an expired or unknown TokenKey",
        f"{REFERENCE}, 'Tokens API / Recommendations': \"It is recommended that you keep track of the Token "
        "Key and its expiry\"; 'ManagementActionResponse': \"The available response codes are as follows: "
        "Success, Error, Invalid Parameters\" (no rejection signal is documented)",
    ),
    Reading(
        "mc_token_answer", ("token_key", "envelope", "string"),
        "GET /webservices/services/apitoken/login/{login}: the answer",
        f"{REFERENCE}, 'Tokens API': \"When a successful API call is made to the API Token service, it will "
        "return a json/xml object\" and \"Store token key for any subsequent requests\" (no shape given: "
        "{TokenKey}, a ManagementActionResponse whose Data holds it, or the bare token?)",
    ),
)

#: What an expired or unknown token gets under ``mc_token_expiry`` (the 401 is the web framework's).
TOKEN_REFUSED_403 = "Invalid or expired token."
TOKEN_REFUSED_DETAIL = "The token has expired or is not valid. Please log in again."
