"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

# The same address as pyproject.toml's [project.urls] Documentation, which Airflow's Providers page
# links to (tests/test_wheel.py checks both agree and name a page of docs/).
DOCUMENTATION_URL = (
    "https://github.com/airflow-provider-dialers/airflow-provider-dialers/blob/main/docs/index.md"
)

_COMMON_FIELDS: dict[str, Any] = {
    "verify": {
        "label": "TLS verification",
        "description": "true (default when empty), false, or the path of a CA bundle to verify the server "
        "against.",
        # No "default": the form would store it, and Airflow warns of every extra value under 5 characters
        # as a secret too short to mask. An empty field means the default.
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Timeout (seconds)",
        "description": "Per-request timeout; a request past it is retried when that is safe.",
        "schema": {"type": ["number", "null"], "default": 30},
    },
}


def _behaviour(host_placeholder: str, login_label: str, password_label: str) -> dict[str, Any]:
    return {
        "hidden-fields": [],
        "relabeling": {
            "host": "Server URL",
            "schema": "Scheme (when the URL has none)",
            "login": login_label,
            "password": password_label,
        },
        "placeholders": {
            "host": host_placeholder,
            "schema": "https",
            "port": "443 (fill it: the Test button on Airflow 3.3.2 needs it)",
            "login": login_label,
        },
    }


_SERVER_TIMEZONE_FIELD = {
    "timezone": {
        "label": "Server time zone",
        "description": "IANA zone of the dialer server (UTC when empty): the API's times carry no offset, "
        "so contact times are converted to this zone before sending.",
        "schema": {"type": ["string", "null"]},
    },
}


def _connection_type(
    conn_type: str, hook: str, name: str, fields: dict[str, Any], behaviour: dict, extra_fields: tuple[str, ...] = ()
) -> dict:
    optional = {key: _SERVER_TIMEZONE_FIELD[key] for key in extra_fields}
    return {
        "connection-type": conn_type,
        "hook-class-name": f"airflow_provider_dialers.hooks.{hook}",
        "hook-name": name,
        "conn-fields": {**fields, **optional, **_COMMON_FIELDS},
        "ui-field-behaviour": behaviour,
    }


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-dialers",
        "name": "Outbound Dialers",
        "description": "Run outbound dialer campaigns (ExpertFlow ECM, MaxContact, Sinch Contact Center OBI, "
        "Ameyo) from Airflow DAGs.",
        "integrations": [
            {"integration-name": "Outbound Dialers", "external-doc-url": DOCUMENTATION_URL, "tags": ["service"]},
        ],
        "hooks": [
            {
                "integration-name": "Outbound Dialers",
                "python-modules": [
                    "airflow_provider_dialers.hooks.expertflow",
                    "airflow_provider_dialers.hooks.maxcontact",
                    "airflow_provider_dialers.hooks.sinch",
                    "airflow_provider_dialers.hooks.ameyo",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": "Outbound Dialers",
                "python-modules": [
                    "airflow_provider_dialers.operators.campaign",
                    "airflow_provider_dialers.operators.upload",
                    "airflow_provider_dialers.operators.dnc",
                    "airflow_provider_dialers.operators.emergency",
                    "airflow_provider_dialers.operators.export",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Outbound Dialers",
                "python-modules": [
                    "airflow_provider_dialers.sensors.campaign",
                    "airflow_provider_dialers.sensors.contact",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": "Outbound Dialers",
                "python-modules": [
                    "airflow_provider_dialers.triggers.campaign",
                    "airflow_provider_dialers.triggers.contact",
                ],
            }
        ],
        "connection-types": [
            _connection_type(
                "expertflow_ecm",
                "expertflow.ExpertflowEcmHook",
                "ExpertFlow ECM",
                {
                    "api_version": {
                        "label": "ECM release",
                        "description": "13.3 (campaignUpdateStatus, DNC update, strategy update/delete, "
                        "preference settings; the release when empty) or 13.2 (campaign pause/resume).",
                        "schema": {"type": ["string", "null"], "enum": ["13.3", "13.2", None]},
                    },
                    "default_region": {
                        "label": "DNC default region",
                        "description": "ISO 3166 region (e.g. US) for DNC numbers written without a country "
                        "code, so add/remove compare every written form of a number (optional).",
                        "schema": {"type": ["string", "null"]},
                    },
                },
                _behaviour("https://umm.example.com", "ECM username", "ECM password"),
                extra_fields=("timezone",),
            ),
            _connection_type(
                "maxcontact",
                "maxcontact.MaxContactHook",
                "MaxContact",
                {},
                _behaviour("https://customer.maxcontact.com", "API login", "API password"),
            ),
            _connection_type(
                "sinch_obi",
                "sinch.SinchObiHook",
                "Sinch Contact Center OBI",
                {
                    "api_key": {
                        "label": "API key (x-api-key)",
                        "description": "Required by cloud gateways; sent as the x-api-key header when set.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                },
                _behaviour("https://sinch-cc.example.com", "API user", "API user password"),
            ),
            _connection_type(
                "ameyo",
                "ameyo.AmeyoHook",
                "Ameyo Customer Manager",
                {
                    "terminal": {
                        "label": "Terminal",
                        "description": "The local IP the Customer Manager user logs in from (login 'terminal').",
                        "schema": {"type": ["string", "null"], "default": "127.0.0.1"},
                    },
                    "client_type": {
                        "label": "Client type",
                        "description": "The login 'clientType' your Ameyo deployment expects (optional).",
                        "schema": {"type": ["string", "null"]},
                    },
                },
                _behaviour("http://10.0.0.5:8888", "Customer Manager user id", "Password"),
                extra_fields=("timezone",),
            ),
        ],
    }


def connection_type_info(conn_type: str) -> dict[str, Any]:
    """The ``connection-types`` entry of ``conn_type``: its ``conn-fields`` and ``ui-field-behaviour``,
    which ``compat.connection_form_methods`` also serves to Airflow before 3.2.

    :param conn_type: one of the provider's connection types
    """
    for entry in get_provider_info()["connection-types"]:
        if entry["connection-type"] == conn_type:
            return entry
    raise KeyError(f"not a connection type of this provider: {conn_type!r}")
