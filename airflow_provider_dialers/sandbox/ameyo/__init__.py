"""Simulated Ameyo Customer Manager API: ``POST /ameyowebaccess/command`` (form fields ``command``
and ``data``), as in the Ameyo Customer Manager API reference (document 20180329005).

Errors come back with HTTP 200 in the reference's shapes. Where the reference is silent the
choices are marked "Sandbox decision" (and listed in docs/ameyo.md).

An independent server: it imports nothing of the client (``vendors``, ``hooks``). Modules:
``validation`` (the reference's rules and error shapes), ``state`` (data model, seed, dialing
simulation) and ``routes`` (the FastAPI route and one handler per command).
"""

from __future__ import annotations

from airflow_provider_dialers.sandbox.ameyo.routes import AmeyoSandbox

__all__ = ["AmeyoSandbox"]
