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
    :param e164: send numbers in E.164 (with ``default_region`` for national numbers), as the
        contacts were; otherwise they are sent as written, punctuation stripped.
    :param default_region: ISO 3166 region (``"US"``) of numbers written without a country code.
        Whatever ``e164`` says, numbers are compared in canonical E.164 form with it (on the dialer's
        list and within the input): adding ``2125550101`` while ``+12125550101`` is listed is
        ``already_present``, and removing a number removes it in every written form on the list.
        Without it, the connection extra ``default_region`` is used; without either, national
        numbers compare by their digits.
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
        from airflow_provider_dialers.uploads.dnc import checked_region

        region = checked_region(self.phone_options.default_region)
        if region is not None:
            # How the hook's DNC capability reads national numbers when it compares (ECM: its
            # default_region; the connection extra otherwise). Harmless on hooks without a DNC list.
            self.hook.default_region = region
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
            for chunk in _chunks(self._valid_numbers(origin, numbers, invalid, region), DNC_CHUNK):
                outcome = change(chunk).to_dict()
                for key, values in outcome.items():
                    result[key] += len(values)
                    samples[key].extend(values[: XCOM_SAMPLE - len(samples[key])])
                self.log.info("DNC %s: %d numbers done; totals so far %s", origin, len(chunk), result)
        result["invalid"] = len(invalid)
        result["invalid_numbers"] = invalid
        result["samples"] = samples
        return result

    def _valid_numbers(
        self, origin: str, numbers: Any, invalid: list[dict[str, Any]], region: str | None
    ) -> Iterator[str]:
        """The numbers of one parameter as they are sent, each number once (compared canonically).

        :param origin: the parameter (``add``, ``source``, ``remove``), named with invalid lines.
        :param numbers: its value.
        :param invalid: where invalid lines go, with their reasons.
        :param region: the checked ``default_region``.
        """
        # Run time only: importing the uploads package loads the whole upload engine.
        from airflow_provider_dialers.uploads.dnc import dnc_key
        from airflow_provider_dialers.uploads.sources import iter_phone_numbers

        seen: set[str] = set()
        for line, raw in iter_phone_numbers(numbers):
            try:
                number = normalise_phone(raw, "number", self.phone_options)
                key = dnc_key(number, region)
            except ContactError as exc:
                invalid.append({"source": origin, "line": line, "reason": exc.reason})
                continue
            if key not in seen:  # the same number twice, in any written form, would count twice
                seen.add(key)
                yield number


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
