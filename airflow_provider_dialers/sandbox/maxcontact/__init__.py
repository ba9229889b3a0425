"""Simulated MaxContact Management API (document version 1.3), served under ``/webservices``.

The reference is the spec. Where it is silent, this package decides (each decision is marked
"Silent in the reference" and listed in docs/maxcontact.md):

* refusals are ManagementActionResponses with ``Success: false``: ``Invalid Parameters`` (bad or
  missing fields, unknown ids) with HTTP 400, ``Error`` (a valid request the system cannot carry
  out now, such as starting an inactive campaign) with HTTP 200;
* a wrong login gets HTTP 401 with the web framework's ``{"Message": ...}`` body;
* answers are JSON when the ``Accept`` header asks for it, XML otherwise (as the reference says);
* where a faithful server could answer either way, each reading is played (:mod:`.readings`:
  the PATCH answers and values, the end of a global emergency, an expired token's refusal, the
  token answer's shape), the first by default.

The appendix tables are repeated here rather than imported from the client (``vendors/``) on
purpose: the sandbox is an independent reading of the reference, so a misreading in the hook
cannot hide itself.

Modules: :mod:`.readings` (the switches), :mod:`.answers` (JSON/XML answers and the refusal shapes), :mod:`.validation` (appendix
tables, request bodies, the documented entities' fields), :mod:`.state` (the entities, their seed,
the reference's rules and the dial simulation) and :mod:`.routes` (the FastAPI handlers).
"""

from airflow_provider_dialers.sandbox.maxcontact.routes import MaxContactSandbox
from airflow_provider_dialers.sandbox.maxcontact.state import NEW_CAMPAIGN_LEADS

__all__ = ["NEW_CAMPAIGN_LEADS", "MaxContactSandbox"]
