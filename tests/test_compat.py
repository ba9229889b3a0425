"""Airflow 3.0 to 3.3 (``airflow_provider_dialers/compat.py``, docs/compatibility.md): each fallback, on
the running Airflow and, on 3.3, with the newer feature taken away to stand for an older version.

``scripts/compat.sh`` runs this module under each supported version, with the example-DAG tests and
the crash-and-retry test, where the fallbacks run for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_dialers import compat
from airflow_provider_dialers.get_provider_info import get_provider_info
from tests.conftest import InMemoryVariables
from tests.test_uploads_fakes import FakeDialer

ROOT = Path(__file__).resolve().parent.parent
CONN_TYPES = ("expertflow_ecm", "maxcontact", "sinch_obi", "ameyo")


def _conn_fields(conn_type: str) -> dict[str, Any]:
    return {c["connection-type"]: c for c in get_provider_info()["connection-types"]}[conn_type]["conn-fields"]


# -- exceptions ----------------------------------------------------------------------------------------


def test_the_exceptions_come_from_the_task_sdk_or_all_from_airflow_exceptions():
    import airflow.exceptions

    names = compat.EXCEPTION_NAMES
    resolved = [getattr(compat, name) for name in names]
    try:
        import airflow.sdk.exceptions as sdk

        expected = [getattr(sdk, name) for name in names]
    except AttributeError:  # Airflow 3.0, 3.1
        expected = [getattr(airflow.exceptions, name) for name in names]
    assert resolved == expected
    assert all(issubclass(cls, compat.AirflowException) for cls in resolved)


def test_without_the_task_sdks_exceptions_all_four_come_from_airflow_exceptions(monkeypatch):
    """Airflow 3.1: airflow.sdk.exceptions has AirflowException but not the other three, which the task
    runner catches from airflow.exceptions; mixing the two modules would split the hierarchy."""
    legacy = types.ModuleType("airflow.exceptions")
    for name in compat.EXCEPTION_NAMES:
        setattr(legacy, name, type(name, (Exception,), {}))
    shaped_like_31 = types.ModuleType("airflow.sdk.exceptions")
    shaped_like_31.AirflowException = legacy.AirflowException
    monkeypatch.setitem(sys.modules, "airflow.sdk.exceptions", shaped_like_31)
    monkeypatch.setitem(sys.modules, "airflow.exceptions", legacy)
    found = compat.first_import(("airflow.sdk.exceptions", "airflow.exceptions"), compat.EXCEPTION_NAMES)
    assert list(found) == [getattr(legacy, name) for name in compat.EXCEPTION_NAMES]


def test_first_import_names_every_candidate_it_tried():
    with pytest.raises(ImportError, match="no_such_module_a.*no_such_module_b"):
        compat.first_import(("no_such_module_a", "no_such_module_b"), ("x",))


def test_base_hook_and_conf_resolve_on_first_use():
    from airflow_provider_dialers.compat import BaseHook, conf

    assert hasattr(BaseHook, "get_connection") and hasattr(conf, "getboolean")
    with pytest.raises(AttributeError):
        compat.no_such_name  # noqa: B018


#: Run in a fresh interpreter: an Airflow 3.3 with what 3.0 lacks taken away (the Task SDK's exceptions,
#: airflow.sdk's BaseHook, conf and TriggerRule, task_state_store), then every module of the package
#: imported, every example DAG parsed, and the fallbacks asked for.
_SHAPED_LIKE_30 = r"""
import glob, importlib, json, pkgutil, runpy, sys, types
import airflow.sdk, airflow.sdk.exceptions
# what the package uses of Airflow, loaded before the names are taken away (Airflow itself needs them)
from airflow.sdk import BaseOperator, BaseSensorOperator, Param, PokeReturnValue, Variable, dag, task
import airflow.hooks.base, airflow.exceptions, airflow.configuration, airflow.triggers.base
for name in ("BaseHook", "conf", "TriggerRule"):  # (those this Airflow has: 3.0 has none of the three)
    getattr(airflow.sdk, name, None)
import airflow.providers.http.hooks.http
import airflow.sdk.execution_time.context as context

for name in ("AirflowException", "AirflowFailException", "AirflowSensorTimeout", "AirflowSkipException"):
    setattr(airflow.exceptions, name, getattr(airflow.exceptions, name))  # where 3.0 defines them
    airflow.sdk.exceptions.__dict__.pop(name, None)
hidden = {"BaseHook", "conf", "TriggerRule"}
lazy = airflow.sdk.__getattr__
def sdk_getattr(name):
    if name in hidden:
        raise AttributeError(name)
    return lazy(name)
airflow.sdk.__getattr__ = sdk_getattr
for name in hidden:
    airflow.sdk.__dict__.pop(name, None)
if hasattr(context, "TaskStateStoreAccessor"):
    del context.TaskStateStoreAccessor

import airflow_provider_dialers
skip = ("airflow_provider_dialers.sandbox",)
for module in pkgutil.walk_packages(airflow_provider_dialers.__path__, "airflow_provider_dialers."):
    if not module.name.startswith(skip):
        __import__(module.name)
for path in sorted(glob.glob(sys.argv[1] + "/*.py")):
    runpy.run_path(path)

from airflow_provider_dialers import compat
from airflow_provider_dialers.hooks import dialer_hook_class
ti = types.SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1, try_number=1)
print(json.dumps({
    "BaseHook": compat.BaseHook is importlib.import_module("airflow.hooks.base").BaseHook,
    "conf": compat.conf is airflow.configuration.conf,
    "exceptions": [getattr(compat, n) is getattr(airflow.exceptions, n) for n in compat.EXCEPTION_NAMES],
    "has_task_state_store": compat.has_task_state_store(),
    "store": type(compat.task_state_store({"ti": ti})).__name__,
    "hooks": [dialer_hook_class(t).__name__ for t in ("expertflow_ecm", "maxcontact", "sinch_obi", "ameyo")],
}))
"""


def test_the_package_and_the_example_dags_load_on_an_airflow_shaped_like_30():
    done = subprocess.run([sys.executable, "-c", _SHAPED_LIKE_30, str(ROOT / "example_dags")], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {
        "BaseHook": True,
        "conf": True,
        "exceptions": [True] * 4,
        "has_task_state_store": False,
        "store": "VariableStateStore",
        "hooks": ["ExpertflowEcmHook", "MaxContactHook", "SinchObiHook", "AmeyoHook"],
    }


# -- task_state_store (3.3) and the Variable store before it ------------------------------------------


def _ti(map_index: int = -1, try_number: int = 1, run_id: str = "manual__2026-01-01T00:00:00+00:00") -> Any:
    return types.SimpleNamespace(dag_id="nightly", run_id=run_id, task_id="upload", map_index=map_index,
                                 try_number=try_number)


@pytest.fixture
def before_33(monkeypatch: pytest.MonkeyPatch) -> InMemoryVariables:
    """Airflow before 3.3 (no task_state_store), its Variables in memory (``airflow.sdk.Variable``)."""
    import airflow.sdk

    variables = InMemoryVariables()
    monkeypatch.setattr(compat, "has_task_state_store", lambda: False)
    monkeypatch.setattr(airflow.sdk, "Variable", variables, raising=False)
    return variables


def test_airflows_own_store_is_used_when_the_context_has_one():
    native = object()
    assert compat.task_state_store({"task_state_store": native, "ti": _ti()}) is native


def test_on_33_a_context_without_a_store_is_not_a_task_and_keeps_nothing(monkeypatch):
    monkeypatch.setattr(compat, "has_task_state_store", lambda: True)
    assert compat.task_state_store({"ti": _ti()}) is None
    assert compat.task_state_store({}) is None and compat.task_state_store(None) is None


def test_the_running_airflow_is_detected():
    import airflow

    major, minor = (int(part) for part in airflow.__version__.split(".")[:2])
    assert compat.has_task_state_store() == ((major, minor) >= (3, 3))


def test_before_33_each_try_of_a_task_instance_shares_one_variable(before_33):
    first = compat.task_state_store({"ti": _ti(try_number=1)})
    assert isinstance(first, compat.VariableStateStore)
    assert first.get("progress", "none") == "none" and before_33.values == {}  # a first try reads nothing
    first.set("progress", {"next_row": 11, "rows": (1, 2)})
    assert json.loads(before_33.values[first.variable_key]) == {"progress": {"next_row": 11, "rows": [1, 2]}}

    # try 2, on another worker: a new store, the same Variable
    retry = compat.task_state_store({"ti": _ti(try_number=2)})
    assert retry.variable_key == first.variable_key
    assert retry.get("progress") == {"next_row": 11, "rows": [1, 2]}
    assert compat.task_state_store({"ti": _ti(map_index=3, try_number=2)}).get("progress") is None
    assert compat.task_state_store({"ti": _ti(run_id="other", try_number=2)}).get("progress") is None
    with pytest.raises(ValueError):
        retry.set("progress", None)

    compat.release_task_state(retry)  # the task succeeded
    assert before_33.values == {}


def test_releasing_a_store_that_wrote_nothing_touches_no_variable(before_33):
    calls = []
    before_33.delete = lambda key: calls.append(key)  # type: ignore[method-assign]
    compat.release_task_state(compat.task_state_store({"ti": _ti(try_number=1)}))
    compat.release_task_state(object())  # Airflow's own store: left to Airflow
    compat.release_task_state(None)
    assert calls == []


def test_variable_keys_are_readable_short_and_free_of_the_run_ids_characters():
    key = compat.variable_key("nightly", "manual__2026-01-01T00:00:00+00:00", "upload", 2)
    assert key.startswith("dialer_task_state.nightly.upload.2.") and "+" not in key and ":" not in key
    assert key != compat.variable_key("nightly", "manual__2026-01-02T00:00:00+00:00", "upload", 2)
    long = compat.variable_key("d" * 250, "r" * 250, "t" * 250, -1)
    assert len(long) <= 250 and long.startswith("dialer_task_state.")


def test_before_33_an_upload_killed_mid_way_resumes_on_its_retry_and_removes_its_variable(
        before_33, monkeypatch, tmp_path):
    from airflow_provider_dialers.errors import DialerTransientError
    from airflow_provider_dialers.operators import UploadContactsOperator

    dialer = FakeDialer(crash_on_request=3)  # try 1 dies with its third batch in flight
    monkeypatch.setattr("airflow_provider_dialers.hooks.get_dialer_hook", lambda conn_id: dialer)
    rows = [{"external_id": f"c{n}", "phone": f"55512{n:05d}", "timezone": "Europe/London"} for n in range(1, 46)]

    def attempt(try_number: int) -> dict[str, Any]:
        operator = UploadContactsOperator(task_id="upload", dialer_conn_id="any", campaign_id="7", contacts=rows,
                                          max_concurrency=1, rejects_path=str(tmp_path / "rejects.csv"))
        return operator.execute({"ti": _ti(try_number=try_number)})

    with pytest.raises(DialerTransientError):
        attempt(1)
    (key,) = before_33.values
    assert json.loads(before_33.values[key])["dialer_upload_progress"]["next_row"] == 21
    dialer.crash_on_request = None
    result = attempt(2)
    assert result["resumed_from_row"] == 21 and result["accepted"] == 45
    assert result["sent"] == 25  # rows 21-45: the settled batches are not sent again
    assert sorted(dialer.stored) == sorted(f"c{n}" for n in range(1, 46))  # each contact once
    assert before_33.values == {}  # removed on success


# -- connection forms: conn-fields (read from 3.2) and the hook methods before it ----------------------


@pytest.mark.parametrize("conn_type", CONN_TYPES)
def test_each_hook_class_defines_its_form_methods_itself(conn_type):
    """Airflow before 3.2 reads them only from ``hook_class.__dict__``, never inherited."""
    from airflow_provider_dialers.hooks import dialer_hook_class

    hook_class = dialer_hook_class(conn_type)
    assert {"get_connection_form_widgets", "get_ui_field_behaviour"} <= set(vars(hook_class))
    behaviour = hook_class.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == [] and behaviour["relabeling"]["host"] == "Server URL"


#: Run in a fresh interpreter: the connection forms as Airflow's UI service builds them (the hook
#: metadata the React UI reads), optionally with conn-fields taken out of the provider info as Airflow
#: sees it (argv[1] == "strip"), so a 3.2+ Airflow reads the hook methods as 3.0 and 3.1 do.
_FORMS = r"""
import json, sys
if sys.argv[1] == "strip":  # before anything imports Airflow (which may discover the providers at once)
    import airflow_provider_dialers.get_provider_info as info
    full = info.get_provider_info
    def stripped():
        data = full()
        for entry in data["connection-types"]:
            entry.pop("conn-fields"), entry.pop("ui-field-behaviour")
        return data
    info.get_provider_info = stripped
    from airflow_provider_dialers import compat
    compat.connection_type_info = lambda t: next(c for c in full()["connection-types"] if c["connection-type"] == t)
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
types = ("expertflow_ecm", "maxcontact", "sinch_obi", "ameyo")
forms = {}
if sys.argv[1] == "strip":  # the hook methods' fields turned into the form as 3.0 and 3.1's UI service does
    hooks, widgets, behaviours = HookMetaService._get_hooks_with_mocked_fab()
    for conn_type in types:
        extra = {w.field_name: w.field.param.dump() for key, w in widgets.items()
                 if key.startswith(f"extra__{conn_type}__") and hasattr(w.field, "param")}
        standard = HookMetaService._make_standard_fields(behaviours.get(conn_type))
        forms[conn_type] = {"extra": extra, "standard": standard.model_dump() if standard else None}
else:
    for hook in HookMetaService.hook_meta_data():
        if hook.connection_type in types:
            standard = hook.standard_fields.model_dump() if hook.standard_fields else None
            forms[hook.connection_type] = {"extra": hook.extra_fields, "standard": standard}
print(json.dumps(forms, default=str))
"""


def _forms(strip: bool) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _FORMS, "strip" if strip else "keep"], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("strip", [False, True], ids=["this-airflow", "without-conn-fields"])
def test_the_ui_shows_every_connection_field_whichever_way_airflow_reads_them(strip):
    """``this-airflow``: as the running version reads the forms (conn-fields from 3.2, the hook methods
    before); ``without-conn-fields``: the hook methods alone, as Airflow 3.0 and 3.1 read them."""
    forms = _forms(strip)
    assert sorted(forms) == sorted(CONN_TYPES)
    for conn_type in CONN_TYPES:
        fields, extra = _conn_fields(conn_type), forms[conn_type]["extra"] or {}
        assert sorted(extra) == sorted(fields), conn_type
        for name, field in fields.items():
            schema = extra[name]["schema"]
            assert schema["title"] == field["label"] and extra[name]["description"] == field["description"]
            if not strip:  # (3.2's reading of the hook methods, never used with conn-fields, drops defaults)
                assert extra[name]["value"] == field["schema"].get("default")
            assert schema.get("format") == field["schema"].get("format")
        assert forms[conn_type]["standard"]["host"]["title"] == "Server URL"
    assert forms["expertflow_ecm"]["extra"]["api_version"]["schema"]["enum"][:2] == ["13.3", "13.2"]
    if strip:  # the fields came from the hook methods (a number is a text field there), not conn-fields
        assert forms["maxcontact"]["extra"]["timeout"]["schema"]["type"][0] == "string"


# -- apache-airflow-providers-http: the base URL before the hook's first call ---------------------------


def test_the_base_url_is_there_before_the_first_call_whichever_http_provider():
    """From 6.0 ``url_from_endpoint`` sets the base URL itself; 5.x (Airflow 3.0's) only in ``get_conn``."""
    built = []
    base = {"url": ""}

    def url_from_endpoint(endpoint: str) -> str:
        return base["url"] + endpoint

    def get_conn() -> None:  # as 5.x: the session, and with it the base URL
        built.append(True)
        base["url"] = "https://umm.example.com"

    assert compat.http_base_url(url_from_endpoint, get_conn) == "https://umm.example.com" and built == [True]
    assert compat.http_base_url(url_from_endpoint, get_conn) == "https://umm.example.com" and built == [True]


def test_a_file_wrapper_that_cannot_be_iterated_is_read_line_by_line(tmp_path):
    """Airflow 3.0's ObjectStoragePath.open() wrapper has no ``__iter__`` (iterating it fails)."""
    from airflow_provider_dialers.uploads.sources import CONTACT_KEYS, ColumnMapper, iter_rows

    class NoIterWrapper:  # as 3.0's TrackingFileWrapper: attributes pass through, iteration does not
        def __init__(self, handle: Any) -> None:
            self._obj = handle

        def __getattr__(self, name: str) -> Any:
            return getattr(self._obj, name)

        def __getitem__(self, key: Any) -> Any:
            return self._obj[key]

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *exc: object) -> None:
            self._obj.close()

    class ObjectStoragePath(type(tmp_path)):  # a local path that opens as 3.0's ObjectStoragePath does
        def open(self, *args: Any, **kwargs: Any) -> Any:
            return NoIterWrapper(super().open(*args, **kwargs))

    path = tmp_path / "in.csv"
    path.write_bytes("phone,name\n5551230001,Zoë\n5551230002,Al\n".encode())
    with pytest.raises(TypeError), NoIterWrapper(path.open("rb")) as handle:
        list(handle)
    rows = list(iter_rows(ObjectStoragePath(path), ColumnMapper(CONTACT_KEYS)))
    assert [row.record for row in rows] == [{"phone": "5551230001", "attributes": {"name": "Zoë"}},
                                            {"phone": "5551230002", "attributes": {"name": "Al"}}]
