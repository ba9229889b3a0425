"""ECM's call strategies and their attempts: ``/umm/ecm/callStrategy...``, one method per endpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_dialers.vendors.expertflow.client import EcmClient
from airflow_provider_dialers.vendors.expertflow.wire import ATTEMPT, STRATEGY, Channel, attempt_body


class StrategyEndpoints(EcmClient):
    """The call strategy and attempt endpoints of
    :class:`~airflow_provider_dialers.vendors.expertflow.api.ExpertflowEcmApi` (mixed into it)."""

    def list_strategies(self) -> list[dict[str, Any]]:
        """Call strategies with their attempts (``GET /umm/ecm/callStrategy``). Retry-safe: yes (read)."""
        return self._call_json("GET", STRATEGY, list, retry_safe=True)

    def create_strategy(self, name: str) -> dict[str, Any]:
        """Create an empty call strategy (``POST /umm/ecm/callStrategy/save``); returns ``{id, name}``.

        Retry-safe: no (a re-sent save makes a second strategy).
        """
        return self._call_json("POST", f"{STRATEGY}/save", dict, retry_safe=False, json_body={"name": name})

    def update_strategy_name(self, strategy_id: int, name: str) -> str:
        """Rename a call strategy (``POST /umm/ecm/callStrategy/updateName``, ECM 13.3).

        Retry-safe: yes (it sets a value).
        """
        self._require_13_3("POST /umm/ecm/callStrategy/updateName")
        body = {"csId": strategy_id, "name": name}
        return self._call_message("POST", f"{STRATEGY}/updateName", retry_safe=True, json_body=body)

    def delete_strategy(self, strategy_id: int) -> str:
        """Delete a call strategy (``POST /umm/ecm/callStrategy/delete?id=``, ECM 13.3).

        Retry-safe: yes (deleting by id).
        """
        self._require_13_3("POST /umm/ecm/callStrategy/delete")
        return self._call_message("POST", f"{STRATEGY}/delete", retry_safe=True, params={"id": strategy_id})

    def get_strategy_attempts(self, strategy_id: int) -> list[dict[str, Any]]:
        """The attempts of a strategy ("Get Strategy Attempts", ECM 13.3).

        The 13.3 reference documents this read at ``POST /umm/ecm/callStrategyAttempt/save``, the
        create URL, without a body; we send only ``{"csId": strategy_id}``, which carries none of
        an attempt's fields and so cannot be taken for a create.
        Retry-safe: yes (read).
        """
        self._require_13_3("Get Strategy Attempts (POST /umm/ecm/callStrategyAttempt/save)")
        body = {"csId": strategy_id}
        return self._call_json("POST", f"{ATTEMPT}/save", list, retry_safe=True, json_body=body)

    def create_strategy_attempt(
        self,
        strategy_id: int,
        *,
        name: str,
        phone: int,
        attempt_number: int,
        channel: Channel | int = Channel.VOICE,
        retry_map: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """Add an attempt to a strategy (``POST /umm/ecm/callStrategyAttempt/save``); returns it.

        ``phone`` is which of phone1..phone5 to dial; ``retry_map`` entries are
        ``{"call_result": 1..5, "attempt_number": n, "delay": minutes}`` (voice) or
        ``{"sms_response_timeout": .., "attempt_number": .., "expiry": ..}`` (SMS).
        Retry-safe: no (a re-sent save adds a second attempt).
        """
        body = attempt_body(strategy_id, name=name, phone=phone, attempt_number=attempt_number,
                            channel=channel, retry_map=retry_map)
        return self._call_json("POST", f"{ATTEMPT}/save", dict, retry_safe=False, json_body=body)

    def update_strategy_attempt(
        self,
        attempt_id: int,
        strategy_id: int,
        *,
        name: str | None = None,
        phone: int | None = None,
        attempt_number: int | None = None,
        channel: Channel | int | None = None,
        retry_map: Sequence[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Change an attempt (``POST /umm/ecm/callStrategyAttempt/update``, ECM 13.3); returns it.

        The reference's example names the attempt ``csAttempt`` and its answer calls it ``id``:
        both are sent. Retry-safe: yes (it sets values).
        """
        self._require_13_3("POST /umm/ecm/callStrategyAttempt/update")
        body = attempt_body(strategy_id, name=name, phone=phone, attempt_number=attempt_number,
                            channel=channel, retry_map=retry_map)
        body.update({"id": attempt_id, "csAttempt": attempt_id})
        return self._call_json("POST", f"{ATTEMPT}/update", dict, retry_safe=True, json_body=body)

    def delete_strategy_attempt(self, attempt_id: int) -> str:
        """Delete an attempt (``POST /umm/ecm/callStrategyAttempt/delete?id=``, ECM 13.3).

        Retry-safe: yes (deleting by id).
        """
        self._require_13_3("POST /umm/ecm/callStrategyAttempt/delete")
        return self._call_message("POST", f"{ATTEMPT}/delete", retry_safe=True, params={"id": attempt_id})

    def update_attempt_order(self, positions: Mapping[int, int]) -> str:
        """Reorder attempts (``POST /umm/ecm/callStrategyAttempt/updateOrder``, ECM 13.3).

        ``positions`` maps attempt id to its position (which becomes its attemptNumber). Sent as
        ``{"idIndexJson": {"data": [{"atId": .., "index": ..}]}}``: the reference's example wraps
        the array in braces, which is not JSON. Retry-safe: yes (it sets positions).
        """
        self._require_13_3("POST /umm/ecm/callStrategyAttempt/updateOrder")
        data = [{"atId": attempt_id, "index": index} for attempt_id, index in positions.items()]
        body = {"idIndexJson": {"data": data}}
        return self._call_message("POST", f"{ATTEMPT}/updateOrder", retry_safe=True, json_body=body)
