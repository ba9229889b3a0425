"""Do-not-call list operator."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from airflow_provider_dialers.contacts import ContactError, PhoneOptions, normalise_phone
from airflow_provider_dialers.operators.base import DialerOperator

#: Numbers per add_dnc/remove_dnc call: progress is logged and results collected per chunk.
DNC_CHUNK = 500
#: How many numbers of each outcome the XCom lists (the counts are always complete).
XCOM_SAMPLE = 20


class DncOperator(DialerOperator):
    """Add numbers to, or remove them from, the dialer's do-not-call list (ECM: ``/umm/ecm/contact``).

    :param add: numbers to add: a list, or text separated by ``;`` or new lines.
    :param remove: numbers to remove, in the same forms.
    :param source: a file (path or ObjectStoragePath) of numbers to add, one per line, e.g. an
        export of opt-outs; read as a stream.
    :param e164: normalise numbers to E.164 (with ``default_region`` for national numbers), as the
        contacts were.
    :returns: counts of ``added``, ``removed``, ``already_present``, ``not_found`` and ``invalid``,
        with the first numbers of each and every invalid line with its reason.
    """

    template_fields: Sequence[str] = ("dialer_conn_id", "add", "remove", "source")

    def __init__(
        self,
        *,
        dialer_conn_id: str,
        add: Sequence[str] | str | None = None,
        remove: Sequence[str] | str | None = None,
        source: Any = None,
        e164: bool = False,
        default_region: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dialer_conn_id=dialer_conn_id, **kwargs)
        self.add = add
        self.remove = remove
        self.source = source
        self.phone_options = PhoneOptions(e164=e164, default_region=default_region)

    def run(self, context: Any) -> dict[str, Any]:
        if not (self.add or self.remove or self.source):
            raise ValueError("DncOperator needs numbers to add, remove, or a source file")
        result: dict[str, Any] = {key: 0 for key in ("added", "removed", "already_present", "not_found")}
        samples: dict[str, list[str]] = {key: [] for key in result}
        invalid: list[dict[str, Any]] = []
        for origin, numbers, change in (
            ("add", self.add, self.hook.add_dnc),
            ("source", self.source, self.hook.add_dnc),
            ("remove", self.remove, self.hook.remove_dnc),
        ):
            if not numbers:
                continue
            for chunk in _chunks(self._valid_numbers(origin, numbers, invalid), DNC_CHUNK):
                outcome = change(chunk).to_dict()
                for key, values in outcome.items():
                    result[key] += len(values)
                    samples[key].extend(values[: XCOM_SAMPLE - len(samples[key])])
                self.log.info("DNC %s: %d numbers done; totals so far %s", origin, len(chunk), result)
        result["invalid"] = len(invalid)
        result["invalid_numbers"] = invalid
        result["samples"] = samples
        return result

    def _valid_numbers(self, origin: str, numbers: Any, invalid: list[dict[str, Any]]) -> Iterator[str]:
        # Run time only: importing the uploads package loads the whole upload engine.
        from airflow_provider_dialers.uploads.sources import iter_phone_numbers

        seen: set[str] = set()
        for line, raw in iter_phone_numbers(numbers):
            try:
                number = normalise_phone(raw, "number", self.phone_options)
            except ContactError as exc:
                invalid.append({"source": origin, "line": line, "reason": exc.reason})
                continue
            if number not in seen:  # the same number twice would count twice
                seen.add(number)
                yield number


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
