"""Everything that differs between the Airflow versions the provider supports (3.0 to 3.3), in one place.

The rest of the package imports these names from here, never from where a given Airflow version keeps
them. Each feature is detected (by import or by the task context), not guessed from a version
number, and has a fallback that keeps its promise on older versions (docs/compatibility.md):

* the Task SDK's exceptions (``airflow.sdk.exceptions`` has them from 3.2; 3.0 and 3.1 keep them in
  ``airflow.exceptions``, and 3.1's ``airflow.sdk.exceptions`` has ``AirflowException`` only);
* ``BaseHook`` and ``conf`` (in ``airflow.sdk`` from 3.1), resolved on first use;
* ``HttpHook``'s base URL before its first call (set lazily from apache-airflow-providers-http 6.0);
* reading an ``ObjectStoragePath`` line by line (3.0's file wrapper cannot be iterated);
* ``task_state_store`` in the task context (3.3): before it, :class:`VariableStateStore`, an Airflow
  Variable per task instance, which survives a retry on another worker and is removed on success;
* declarative ``conn-fields`` in the provider info (read from 3.2): before it, the UI reads
  ``get_connection_form_widgets`` / ``get_ui_field_behaviour`` on the hook class, which
  :func:`connection_form_methods` derives from the same ``conn-fields``.

A light module: Airflow's exceptions and the provider info at import; everything else inside the
functions that need it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_dialers.get_provider_info import connection_type_info

if TYPE_CHECKING:  # resolved lazily by __getattr__ below
    from airflow.sdk import BaseHook, conf

log = logging.getLogger(__name__)

__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "VariableStateStore",
    "binary_lines",
    "conf",
    "connection_form_methods",
    "has_task_state_store",
    "http_base_url",
    "release_task_state",
    "task_state_store",
]

EXCEPTION_NAMES = ("AirflowException", "AirflowFailException", "AirflowSensorTimeout", "AirflowSkipException")


def first_import(candidates: tuple[str, ...], names: tuple[str, ...]) -> tuple[Any, ...]:
    """``names`` from the first module of ``candidates`` that has all of them (ImportError if none does).

    :param candidates: module paths, the newest Airflow's first
    :param names: the attributes to take, all from the same module
    """
    problems = []
    for module_name in candidates:
        try:
            module = importlib.import_module(module_name)
            return tuple(getattr(module, name) for name in names)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{module_name}: {exc}")
    raise ImportError(f"none of {candidates} has {names}: {'; '.join(problems)}")


# The Task SDK's exceptions (3.2+) are the ones its task runner catches; 3.0 and 3.1 catch these
# same names from airflow.exceptions. All four come from one module, so they share one base class.
AirflowException, AirflowFailException, AirflowSensorTimeout, AirflowSkipException = first_import(
    ("airflow.sdk.exceptions", "airflow.exceptions"), EXCEPTION_NAMES
)

#: Names resolved on first use (module ``__getattr__``): where each version keeps them, newest first.
_LAZY: dict[str, tuple[str, ...]] = {
    "BaseHook": ("airflow.sdk", "airflow.hooks.base"),  # airflow.sdk from 3.1
    "conf": ("airflow.sdk", "airflow.configuration"),  # airflow.sdk from 3.1
}


def __getattr__(name: str) -> Any:
    """Resolve :data:`_LAZY` names on first use, so importing this module stays light."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    (value,) = first_import(_LAZY[name], (name,))
    globals()[name] = value
    return value


def http_base_url(url_from_endpoint: Callable[[str], str], get_conn: Callable[[], Any]) -> str:
    """An ``HttpHook``'s base URL (``url_from_endpoint("")``), also before the hook's first call.

    apache-airflow-providers-http sets the base URL lazily from 6.0; before (5.x, as Airflow 3.0 ships)
    only ``get_conn`` sets it, so it is empty until then: the session is built first (no network).

    :param url_from_endpoint: ``HttpHook.url_from_endpoint`` of the hook
    :param get_conn: the hook's ``get_conn``
    """
    base = url_from_endpoint("")
    if not base:
        get_conn()
        base = url_from_endpoint("")
    return base


def binary_lines(handle: Any) -> Iterator[bytes]:
    """The lines of a file opened in binary mode, local or an ``ObjectStoragePath``'s.

    Airflow 3.0's ``ObjectStoragePath.open()`` wraps the file in an object with no ``__iter__``, so
    ``for line in handle`` fails there (``'LocalFileOpener' object is not subscriptable``); ``readline``
    works on every version.

    :param handle: a file object opened with ``"rb"``
    """
    return iter(handle.readline, b"")


# -- task_state_store (Airflow 3.3) and its fallback ------------------------------------------------

#: Airflow's limit on a Variable key.
_MAX_VARIABLE_KEY = 250
VARIABLE_PREFIX = "dialer_task_state"


class VariableStateStore:
    """``task_state_store`` for Airflow before 3.3: one Airflow Variable per task instance.

    The Variable is keyed by dag, run, task and map index, so every try of the same task instance
    reads what the earlier tries wrote, on any worker (Variables live in the metadata database, reached
    through the Execution API like the native store). It holds a JSON object of the keys set; only
    what survives JSON is kept, as with the native store. :meth:`clear` removes it (on success).

    :param dag_id: the task instance's DAG
    :param run_id: its DAG run
    :param task_id: its task
    :param map_index: its map index (-1 when not mapped)
    :param first_try: the task instance's first try, when no earlier try can have written anything: the
        Variable is not read (reading a missing Variable logs an error line in the task log)
    :param variables: the Variable API (``airflow.sdk.Variable`` unless given; tests pass a stand-in)
    """

    def __init__(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, *, first_try: bool = False,
                 variables: Any = None) -> None:
        self.variable_key = variable_key(dag_id, run_id, task_id, map_index)
        self.description = (
            f"airflow-provider-dialers: task state of {dag_id} / {run_id} / {task_id} / map index {map_index} "
            "(Airflow before 3.3 has no task_state_store); removed when the task succeeds"
        )
        self._variables = variables
        self._values: dict[str, Any] | None = {} if first_try else None
        self._exists = False  # whether the Variable is there (read from it, or written)

    @property
    def variables(self) -> Any:
        """The Variable API in use."""
        if self._variables is None:
            from airflow.sdk import Variable

            self._variables = Variable
        return self._variables

    def _load(self) -> dict[str, Any]:
        if self._values is None:
            saved = self.variables.get(self.variable_key, default=None, deserialize_json=True)
            self._exists = saved is not None
            self._values = dict(saved) if isinstance(saved, Mapping) else {}
        return self._values

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key`` by this or an earlier try, or ``default``.

        :param key: the name the value was set under
        :param default: returned when nothing is stored under ``key``
        """
        return self._load().get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON) under ``key``, for the following tries of this task instance.

        :param key: the name to store it under
        :param value: a JSON value; not None (as with the native store)
        """
        if value is None:
            raise ValueError("Cannot set value as None")
        values = self._load()
        values[key] = json.loads(json.dumps(value))
        self.variables.set(self.variable_key, values, description=self.description, serialize_json=True)
        self._exists = True

    def clear(self) -> None:
        """Remove the Variable (the task instance succeeded: no retry will read it); nothing to do when
        this try neither found nor wrote one (a dry run, an upload of nothing)."""
        if self._exists:
            self.variables.delete(self.variable_key)
        self._values, self._exists = {}, False


def variable_key(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The Variable key of one task instance's state: readable, with the run id hashed (it may hold
    ``+`` and ``:``), and wholly hashed when Airflow's 250-character limit would be exceeded.

    :param dag_id: the task instance's DAG
    :param run_id: its DAG run
    :param task_id: its task
    :param map_index: its map index (-1 when not mapped)
    """
    digest = hashlib.sha256(json.dumps([dag_id, run_id, task_id, map_index]).encode()).hexdigest()
    readable = f"{VARIABLE_PREFIX}.{dag_id}.{task_id}.{map_index}.{digest[:16]}"
    return readable if len(readable) <= _MAX_VARIABLE_KEY else f"{VARIABLE_PREFIX}.{digest}"


@functools.cache
def has_task_state_store() -> bool:
    """Whether this Airflow gives tasks a ``task_state_store`` (3.3 and later)."""
    try:
        return hasattr(importlib.import_module("airflow.sdk.execution_time.context"), "TaskStateStoreAccessor")
    except ImportError:
        return False


def task_state_store(context: Mapping[str, Any] | None) -> Any:
    """The task instance's state store: Airflow's ``task_state_store`` (3.3); before it, a
    :class:`VariableStateStore` for the context's task instance. None when the context has neither
    (code run outside a task: a test, a notebook), so nothing is kept.

    :param context: the task context (None or empty outside a task)
    """
    if not context:
        return None
    if "task_state_store" in context or has_task_state_store():
        return context.get("task_state_store")
    ti = context.get("ti") or context.get("task_instance")
    if ti is None:
        return None
    map_index = getattr(ti, "map_index", None)
    return VariableStateStore(ti.dag_id, ti.run_id, ti.task_id, -1 if map_index is None else int(map_index),
                              first_try=getattr(ti, "try_number", None) == 1)


def release_task_state(store: Any) -> None:
    """After success: remove a :class:`VariableStateStore`'s Variable. Airflow's own store is left to
    Airflow (its ``[state_store] clear_on_success`` setting decides).

    :param store: what :func:`task_state_store` returned
    """
    if isinstance(store, VariableStateStore):
        try:
            store.clear()
        except Exception:  # the task succeeded; a leftover Variable is only clutter
            log.warning("Could not remove the task state Variable %s", store.variable_key, exc_info=True)


# -- connection forms: conn-fields (read from Airflow 3.2) and the hook methods before it -----------

#: JSON-schema types -> the WTForms field the older UI understands (a number is typed as text: the
#: hook parses it, and IntegerField would refuse 2.5).
_FIELD_CLASSES = {"boolean": "BooleanField", "integer": "IntegerField"}


def _schema_type(schema: Mapping[str, Any]) -> str:
    types = schema.get("type", "string")
    types = [types] if isinstance(types, str) else list(types)
    return next((t for t in types if t != "null"), "string")


def form_widgets(conn_type: str) -> dict[str, Any]:
    """The ``conn-fields`` of ``conn_type`` as WTForms fields (what Airflow before 3.2 reads).

    :param conn_type: one of the provider's connection types
    """
    from wtforms import BooleanField, IntegerField, PasswordField, StringField
    from wtforms.validators import Optional, any_of

    try:  # the widgets the FAB provider ships; the fields work without them (3.0 without FAB)
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    except ImportError:
        BS3PasswordFieldWidget = BS3TextFieldWidget = None
    classes = {"BooleanField": BooleanField, "IntegerField": IntegerField, "StringField": StringField}
    widgets = {}
    for name, field in connection_type_info(conn_type)["conn-fields"].items():
        schema = field.get("schema", {})
        validators = [Optional()]
        enum = [value for value in schema.get("enum", ()) if value is not None]
        if enum:
            validators.append(any_of(enum))
        secret = schema.get("format") == "password"
        field_class = PasswordField if secret else classes[_FIELD_CLASSES.get(_schema_type(schema), "StringField")]
        widget = BS3PasswordFieldWidget if secret else BS3TextFieldWidget
        widgets[name] = field_class(
            field.get("label", name),
            validators=validators,
            description=field.get("description", ""),
            default=schema.get("default"),
            widget=widget() if widget is not None else None,
        )
    return widgets


def field_behaviour(conn_type: str) -> dict[str, Any]:
    """The ``ui-field-behaviour`` of ``conn_type`` in the older spelling (``hidden_fields``).

    :param conn_type: one of the provider's connection types
    """
    behaviour = connection_type_info(conn_type)["ui-field-behaviour"]
    return {key.replace("-", "_"): value for key, value in behaviour.items()}


def connection_form_methods(conn_type: str) -> tuple[classmethod, classmethod]:
    """``get_connection_form_widgets`` and ``get_ui_field_behaviour`` for a hook class of ``conn_type``.

    Airflow before 3.2 reads a connection form from these two methods, and only from the class that
    defines them (``hook_class.__dict__``): each vendor's hook assigns them. From 3.2 Airflow reads
    ``conn-fields`` from the provider info and never calls them. Both come from the same definition.

    :param conn_type: one of the provider's connection types
    """

    def get_connection_form_widgets(cls: type) -> dict[str, Any]:
        return form_widgets(conn_type)

    def get_ui_field_behaviour(cls: type) -> dict[str, Any]:
        return field_behaviour(conn_type)

    methods: list[Callable[[type], dict[str, Any]]] = [get_connection_form_widgets, get_ui_field_behaviour]
    for method in methods:
        method.__doc__ = f"The {conn_type} connection form for Airflow before 3.2 (from its conn-fields)."
    return classmethod(methods[0]), classmethod(methods[1])
