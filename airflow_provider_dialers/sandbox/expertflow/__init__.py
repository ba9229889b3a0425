"""ExpertFlow ECM 13.2 / 13.3 simulated under ``/umm`` (docs/expertflow.md describes it).

One server serves both releases' routes. ``release`` (an attribute, "13.3" by default, back to
it on reset) picks the answers that differ: createCampaign 201 vs 200, DNC delete 204 vs 200,
insertCallback JSON vs plain text, and whether 13.3-only routes exist (404 on "13.2").

Where the references are silent the choices are marked "silent:" in the modules: ``validation``
(the references' field rules and ECM's error shape), ``state`` (the data model, seeding and the
dialing simulation) and ``routes`` (the FastAPI handlers, the login and its checks). Where a real
server could as well answer the other way, the choice is a reading switch (``readings``, played
either way at run time; docs/readings.md).
"""

from __future__ import annotations

from airflow_provider_dialers.sandbox.expertflow.routes import ExpertflowSandbox

__all__ = ["ExpertflowSandbox"]
