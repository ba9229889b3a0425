"""What every dialer operator shares: the connection id and the hook chosen by its type."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_dialers.hooks.base import DialerHook


class DialerOperator(BaseOperator):
    """Base of the vendor-neutral operators: they call the hook's capabilities, never a vendor by name.

    :param dialer_conn_id: an ``expertflow_ecm``, ``maxcontact``, ``sinch_obi`` or ``ameyo`` connection;
        its type picks the hook.
    """

    template_fields: Sequence[str] = ("dialer_conn_id",)
    ui_color = "#e8f4ea"

    def __init__(self, *, dialer_conn_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dialer_conn_id = dialer_conn_id

    @cached_property
    def hook(self) -> DialerHook:
        # Imported here: the operator module stays light at DAG-parse time.
        from airflow_provider_dialers.hooks import get_dialer_hook

        return get_dialer_hook(self.dialer_conn_id)

    def execute(self, context: Any) -> Any:
        try:
            return self.run(context)
        finally:
            # Log out (Ameyo) and release the HTTP session, whatever the outcome.
            if "hook" in self.__dict__:
                self.hook.close()

    def run(self, context: Any) -> Any:  # pragma: no cover - abstract
        """The operator's work; the hook is closed afterwards."""
        raise NotImplementedError
