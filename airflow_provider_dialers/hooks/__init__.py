"""Dialer hooks, one per vendor auth scheme, and the lookup from a connection to its hook.

Import the vendor module you need (``from airflow_provider_dialers.hooks.sinch import SinchObiHook``),
or let :func:`get_dialer_hook` pick the class from the connection's type, so one DAG runs against any
dialer by changing the connection id.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_dialers.common.hook import DialerHook

#: connection type -> hook class path (get_provider_info registers the same classes).
DIALER_HOOKS: dict[str, str] = {
    "expertflow_ecm": "airflow_provider_dialers.hooks.expertflow.ExpertflowEcmHook",
    "maxcontact": "airflow_provider_dialers.hooks.maxcontact.MaxContactHook",
    "sinch_obi": "airflow_provider_dialers.hooks.sinch.SinchObiHook",
    "ameyo": "airflow_provider_dialers.hooks.ameyo.AmeyoHook",
}


def dialer_hook_class(conn_type: str) -> type[DialerHook]:
    """The hook class serving ``conn_type``; ValueError naming the known types otherwise."""
    try:
        path = DIALER_HOOKS[conn_type]
    except KeyError:
        raise ValueError(
            f"connection type {conn_type!r} is not a dialer; expected one of {sorted(DIALER_HOOKS)}"
        ) from None
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def get_dialer_hook(conn_id: str, **kwargs) -> DialerHook:
    """The hook for connection ``conn_id``, chosen by the connection's type (looked up once)."""
    from airflow_provider_dialers.compat import BaseHook

    conn = BaseHook.get_connection(conn_id)
    hook = dialer_hook_class(conn.conn_type)(conn_id=conn_id, **kwargs)
    return hook
