"""One package per vendor, each with the same layers (docs/DEVELOPING.md, "Layout"):

``wire`` (the vendor's wire types and body shapes; no HTTP), ``records`` (contacts and answers to and
from those shapes; no HTTP), ``auth`` (its credential scheme), ``api`` (one method per documented
endpoint) and ``hook`` (the vendor-neutral capabilities over that API). ``airflow_provider_dialers.hooks``
keeps the public import paths of the hooks.
"""
