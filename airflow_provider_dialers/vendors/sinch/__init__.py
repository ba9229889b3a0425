"""Sinch Contact Center: the Restful Outbound Campaign Interface (OBI) v1, base path ``/RI/obi``.

Implements ``/work/shared/vendor-docs/003_fcacb40c9896fb10.txt`` (see that folder's INDEX.md; the
reference does not name its auth: deployments use HTTP Basic with an API user, cloud gateways add
``x-api-key``). The layers:

* :mod:`.wire`: the constants, paths and search fields, query parameters, new customers in the
  OBI's JSON shape, customers as read, and the per-item answer of ``POST .../customers/list``
  (:class:`~.wire.CustomerListResult`). No HTTP.
* :mod:`.records`: contacts and callbacks -> OBI customers (checked against the documented
  limits), and the OBI's answers -> row outcomes, contact states and campaign progress. No HTTP.
* :mod:`.auth`: :class:`~.auth.SinchBasicAuth`, HTTP Basic on every call plus ``x-api-key``.
* :mod:`.api`: :class:`~.api.SinchObiApi`, one method per documented endpoint.
* :mod:`.hook`: :class:`~.hook.SinchObiHook`, the vendor-neutral capabilities over that API.

``airflow_provider_dialers.hooks.sinch`` keeps the public import path of these names.
"""
