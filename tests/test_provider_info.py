"""Registration: entry point, provider-info schema, connection forms, the airflow CLI."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import jsonschema
import pytest

from airflow_provider_dialers.get_provider_info import get_provider_info

HOOKS = {
    # conn type: (hook class path, default conn id)
    "expertflow_ecm": ("airflow_provider_dialers.hooks.expertflow.ExpertflowEcmHook", "expertflow_ecm_default"),
    "maxcontact": ("airflow_provider_dialers.hooks.maxcontact.MaxContactHook", "maxcontact_default"),
    "sinch_obi": ("airflow_provider_dialers.hooks.sinch.SinchObiHook", "sinch_obi_default"),
    "ameyo": ("airflow_provider_dialers.hooks.ameyo.AmeyoHook", "ameyo_default"),
}


def _hook_class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_entry_point_returns_the_provider_info():
    (ep,) = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_provider_dialers")]
    assert ep.load()() == get_provider_info()


def test_provider_info_validates_against_airflows_schema():
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)
    assert get_provider_info()["package-name"] == "airflow-provider-dialers"


@pytest.mark.parametrize("conn_type", sorted(HOOKS))
def test_connection_types_match_the_hook_classes(conn_type):
    info = {c["connection-type"]: c for c in get_provider_info()["connection-types"]}[conn_type]
    path, default_conn = HOOKS[conn_type]
    assert info["hook-class-name"] == path
    hook_cls = _hook_class(path)
    assert hook_cls.conn_type == conn_type
    assert hook_cls.default_conn_name == default_conn
    assert hook_cls.hook_name == info["hook-name"]
    hook = hook_cls()  # parse-time construction: no connection lookup, no network
    assert hook.conn_id == default_conn and hook._conn is None and hook._session is None
    for field in ("verify", "timeout"):
        assert field in info["conn-fields"]
    behaviour = info["ui-field-behaviour"]
    assert behaviour["relabeling"]["host"] == "Server URL"


def test_secret_fields_are_password_format():
    fields = {c["connection-type"]: c["conn-fields"] for c in get_provider_info()["connection-types"]}
    assert fields["sinch_obi"]["api_key"]["schema"]["format"] == "password"
    assert fields["expertflow_ecm"]["api_version"]["schema"]["enum"][:2] == ["13.3", "13.2"]
    assert set(fields["ameyo"]) >= {"terminal", "client_type"}


def test_no_form_default_is_a_value_airflow_would_warn_about():
    """A form default is stored in the extras, and Airflow's masker warns in every task log of each extra
    text under 5 characters ("too short to mask"; numbers are not masked): the hooks default them instead."""
    short = [(c["connection-type"], name, field["schema"]["default"])
             for c in get_provider_info()["connection-types"] for name, field in c["conn-fields"].items()
             if isinstance(field["schema"].get("default"), str) and len(field["schema"]["default"]) < 5]
    assert short == []


def test_providers_manager_builds_the_connection_forms():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    widgets = manager.connection_form_widgets
    assert widgets["extra__sinch_obi__api_key"].is_sensitive
    assert not widgets["extra__ameyo__terminal"].is_sensitive
    assert "extra__expertflow_ecm__api_version" in widgets
    behaviours = manager.field_behaviours
    assert behaviours["maxcontact"]["relabeling"]["login"] == "API login"
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hooks = ProvidersManagerTaskRuntime().hooks
    for conn_type, (path, _) in HOOKS.items():
        assert hooks[conn_type].hook_class_name == path


def _airflow_cli(*args: str) -> str:
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), *args], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_airflow_cli_lists_the_package_and_its_four_hooks():
    assert "airflow-provider-dialers" in _airflow_cli("providers", "list")
    hooks = _airflow_cli("providers", "hooks", "--output", "json")
    rows = {row["connection_type"]: row for row in json.loads(hooks)}
    for conn_type, (path, _) in HOOKS.items():
        assert rows[conn_type]["class"] == path


def test_operator_modules_are_registered_and_exported():
    import airflow_provider_dialers.operators as operators

    modules = [m for entry in get_provider_info()["operators"] for m in entry["python-modules"]]
    for module in modules:
        importlib.import_module(module)
    for name in operators.__all__:
        cls = getattr(operators, name)
        assert cls.__module__ in modules and "dialer_conn_id" in cls.template_fields


def test_sensor_and_trigger_modules_are_registered():
    import airflow_provider_dialers.sensors as sensors

    info = get_provider_info()
    for section in ("sensors", "triggers"):
        for module in info[section][0]["python-modules"]:
            importlib.import_module(module)
    registered = info["sensors"][0]["python-modules"]
    for name in sensors.__all__:
        assert getattr(sensors, name).__module__ in registered
