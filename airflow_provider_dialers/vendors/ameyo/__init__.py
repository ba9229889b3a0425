"""Ameyo: the Customer Manager API of Ameyo IPCC (``POST /ameyowebaccess/command``).

Implements the reference ``/work/shared/vendor-docs/004_1ae8d5ef91c314b6.txt`` (Ameyo Customer
Manager API, document 20180329005; see ``INDEX.md`` there). The layers, each importing only those
before it:

* ``wire``: the command form (``command`` + ``data`` JSON, form-encoded), the answers' types
  (result types, call statuses, contacts, leads, callbacks), error shapes and parsers. No HTTP.
* ``records``: contacts and callbacks -> Ameyo customer / callback records, and Ameyo's per-record
  answers and call statuses -> row outcomes, progress and contact state. No HTTP.
* ``auth``: the session (``command=login``'s ``sessionId``, carried inside every command's data).
* ``api``: :class:`AmeyoApi`, the connection and one method per documented command.
* ``hook``: :class:`AmeyoHook`, the vendor-neutral capabilities over that API.

``airflow_provider_dialers.hooks.ameyo`` keeps the historical import path of every public name.
"""
