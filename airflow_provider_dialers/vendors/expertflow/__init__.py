"""ExpertFlow ECM (Expertflow Campaign Manager) REST API, releases 13.2 and 13.3.

Implements ``/work/shared/vendor-docs/000_6f6d6f1d40dd48ab.txt`` (release 13.2) and
``001_aad5c03376ccfe55.txt`` (release 13.3); ``INDEX.md`` there lists where they differ.

Layers (docs/DEVELOPING.md, "Layout"):

* ``wire``: ECM's wire types (request states, campaign types, paths, preference settings, the
  campaign contact) and the request bodies; no HTTP.
* ``records``: contacts and callbacks -> ECM campaign contacts, campaign specs -> createCampaign
  arguments, ECM's answers -> row outcomes; no HTTP.
* ``auth``: the JWT login (``GET /umm/api/login``) and ``Authorization: Bearer``.
* ``api``, ``api_callbacks``, ``api_strategies``: :class:`ExpertflowEcmApi`, one method per
  documented endpoint.
* ``hook``: :class:`ExpertflowEcmHook`, the vendor-neutral capabilities over that API.

``airflow_provider_dialers.hooks.expertflow`` keeps the historical import path of these names.
"""
