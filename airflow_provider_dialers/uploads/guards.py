"""Dialing guards: contacts that must not be sent even though they are valid.

* :class:`CallingWindow` — a contact is dialled only inside local wall-clock hours, judged in the
  contact's own time zone; a contact whose local hour cannot be known is skipped, never assumed
  to be in the server's zone.
* :class:`DncList` — a contact any of whose numbers is on a do-not-call list is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from typing import Any

import pendulum

from airflow_provider_dialers.capabilities import DialerCapabilities
from airflow_provider_dialers.contacts import Contact, ContactError, PhoneOptions, normalise_phone
from airflow_provider_dialers.errors import DialerNotSupportedError, DialerValidationError
from airflow_provider_dialers.uploads.sources import iter_phone_numbers

log = logging.getLogger(__name__)

NO_TIME_ZONE = "no time zone"


@dataclass(frozen=True)
class CallingWindow:
    """Local wall-clock hours in which contacts may be dialled: ``start`` included, ``end`` excluded.

    A window whose end is before its start wraps midnight (``("20:00", "02:00")``).
    """

    start: time
    end: time

    @classmethod
    def parse(cls, value: Any) -> CallingWindow | None:
        """``("08:00", "21:00")`` (a pair of ``HH:MM`` texts or ``datetime.time``), or None."""
        if value is None or value == "" or isinstance(value, CallingWindow):
            return value or None
        if isinstance(value, str):  # a templated value may arrive as "08:00-21:00"
            value = value.split("-")
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise DialerValidationError(
                "calling_window", f"expected (start, end) such as ('08:00', '21:00'), got {value!r}"
            )
        start, end = (_parse_clock(item) for item in value)
        if start == end:
            raise DialerValidationError(
                "calling_window", "start and end are equal: the window would be empty"
            )
        return cls(start, end)

    def contains(self, moment: pendulum.DateTime) -> bool:
        clock = moment.time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def skip_reason(
        self, contact: Contact, moment: pendulum.DateTime | None, now: pendulum.DateTime
    ) -> str | None:
        """Why ``contact`` must not be dialled at ``moment`` (its dial time; None means now), or None.

        The hour is judged in ``contact.timezone``; without one, in the explicit UTC offset
        ``moment`` was given with. A contact with neither is skipped: :data:`NO_TIME_ZONE`.
        """
        local = _local_time(contact.timezone, moment, now)
        if local is None:
            return NO_TIME_ZONE
        if self.contains(local):
            return None
        what = "now" if moment is None else "dial time"
        zone = contact.timezone or "UTC" + local.strftime("%z")
        return f"{what} {local:%H:%M} ({zone}) is outside the calling window {self}"


def _parse_clock(value: Any) -> time:
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    try:
        hours, minutes = str(value).strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise DialerValidationError("calling_window", f"{value!r} is not a time of day (HH:MM)") from None


def _local_time(
    timezone: str | None, moment: pendulum.DateTime | None, now: pendulum.DateTime
) -> pendulum.DateTime | None:
    if timezone:
        return (moment or now).in_timezone(timezone)
    if moment is not None and moment.tzinfo is not None:
        return moment  # its own offset is the only local clock we know
    return None


@dataclass(frozen=True)
class DncList:
    """Normalised numbers not to call (compared with contacts' normalised phones)."""

    numbers: frozenset[str]

    def skip_reason(self, contact: Contact) -> str | None:
        for index, phone in enumerate(contact.phones):
            if phone in self.numbers:
                return f"phones[{index}] is on the do-not-call list"
        return None

    def __len__(self) -> int:
        return len(self.numbers)


def load_dnc_list(
    dialer: DialerCapabilities,
    *,
    scrub_dnc: bool,
    dnc_source: Any,
    phone_options: PhoneOptions,
) -> DncList | None:
    """The numbers to scrub: the dialer's own list (``scrub_dnc``) and/or ``dnc_source``; None if neither.

    ``scrub_dnc`` with a dialer that has no DNC list fails, unless a ``dnc_source`` is given (it is
    then the only list, and a warning says so).
    """
    if not scrub_dnc and dnc_source is None:
        return None
    raw_numbers: list[str] = []
    if scrub_dnc:
        try:
            raw_numbers.extend(dialer.list_dnc())
        except DialerNotSupportedError as exc:
            if dnc_source is None:
                raise DialerNotSupportedError(
                    f"scrub_dnc=True needs the dialer's DNC list, which it cannot give ({exc}); "
                    "pass dnc_source= with your own list, or set scrub_dnc=False",
                    vendor=exc.vendor,
                ) from exc
            log.warning("%s; scrubbing against dnc_source only", exc)
    if dnc_source is not None:
        raw_numbers.extend(_numbers_of(dnc_source))
    numbers = frozenset(_normalised(raw_numbers, phone_options))
    log.info("Scrubbing against %d do-not-call numbers", len(numbers))
    return DncList(numbers)


def _numbers_of(dnc_source: Any) -> Iterable[str]:
    return (number for _, number in iter_phone_numbers(dnc_source))


def _normalised(raw_numbers: Iterable[Any], options: PhoneOptions) -> Iterable[str]:
    unusable = 0
    for raw in raw_numbers:
        try:
            yield normalise_phone(raw, "dnc", options)
        except ContactError:
            unusable += 1
    if unusable:
        log.warning("%d do-not-call entries are not phone numbers and were ignored", unusable)
