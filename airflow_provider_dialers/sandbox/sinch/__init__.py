"""Sandbox of Sinch Contact Center's Restful Outbound Campaign Interface (OBI) v1, at ``/RI/obi``.

An independent server implementation of ``/work/shared/vendor-docs/003_fcacb40c9896fb10.txt``
(it imports nothing from the client side). The modules:

* :mod:`.state`: the data model (campaigns, customers, per-day statistics), the seeded
  campaigns and the dialing simulation.
* :mod:`.validation`: the reference's validation rules, media types and error shape.
* :mod:`.routes`: :class:`SinchSandbox`, the FastAPI routes and Basic / ``x-api-key`` auth.
"""

from __future__ import annotations

from airflow_provider_dialers.sandbox.sinch.routes import SinchSandbox

__all__ = ["SinchSandbox"]
