"""What every dialer operator shares: the connection id and the hook chosen by its type."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from airflow.sdk import BaseOperator

from airflow_provider_dialers.errors import DialerNotSupportedError

if TYPE_CHECKING:
    from airflow_provider_dialers.common.hook import DialerHook


class DialerOperator(BaseOperator):
    """Base of the vendor-neutral operators: they call the hook's capabilities, never a vendor by name.

    :param dialer_conn_id: an ``expertflow_ecm``, ``maxcontact``, ``sinch_obi`` or ``ameyo`` connection;
        its type picks the hook.
    :param on_unsupported: ``fail`` (default) fails the task when the dialer's API cannot do what
        the operator needs; ``skip`` marks it skipped with the reason instead (useful when one DAG
        fans out to several dialers).
    """

    template_fields: Sequence[str] = ("dialer_conn_id",)
    ui_color = "#e8f4ea"

    def __init__(self, *, dialer_conn_id: str, on_unsupported: Literal["fail", "skip"] = "fail", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if on_unsupported not in ("fail", "skip"):
            raise ValueError(f"on_unsupported must be 'fail' or 'skip', got {on_unsupported!r}")
        self.dialer_conn_id = dialer_conn_id
        self.on_unsupported = on_unsupported

    @cached_property
    def hook(self) -> DialerHook:
        # Imported here: the operator module stays light at DAG-parse time.
        from airflow_provider_dialers.hooks import get_dialer_hook

        return get_dialer_hook(self.dialer_conn_id)

    def execute(self, context: Any) -> Any:
        try:
            return self.run(context)
        except DialerNotSupportedError as unsupported:
            if self.on_unsupported == "skip":
                from airflow_provider_dialers.compat import AirflowSkipException

                raise AirflowSkipException(f"skipped: {unsupported}") from None
            raise
        finally:
            # Log out (Ameyo) and release the HTTP session, whatever the outcome.
            if "hook" in self.__dict__:
                self.hook.close()

    def run(self, context: Any) -> Any:  # pragma: no cover - abstract
        """The operator's work; the hook is closed afterwards."""
        raise NotImplementedError
