"""Dialing guards: contacts that must not be sent even though they are valid.

* :class:`CallingWindow` — a contact is dialled only inside local wall-clock hours, judged in the
  contact's own time zone; a contact whose local hour cannot be known is skipped, never assumed
  to be in the server's zone.
* The do-not-call scrub lives in :mod:`uploads.dnc` (``DncList``, ``load_dnc_list``, re-exported here).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from typing import Any

import pendulum

from airflow_provider_dialers.contacts import Contact
from airflow_provider_dialers.errors import DialerValidationError
from airflow_provider_dialers.uploads.dnc import DncList, load_dnc_list  # noqa: F401 - re-exported (engine)

log = logging.getLogger(__name__)

NO_TIME_ZONE = "no time zone"
#: libphonenumber's zone for a number it cannot place.
UNKNOWN_ZONE = "Etc/Unknown"


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

    def skip_reason(self, contact: Contact, moment: pendulum.DateTime | None, now: pendulum.DateTime, *,
                    default_region: str | None = None) -> str | None:
        """Why ``contact`` must not be dialled at ``moment`` (its dial time; None means now), or None
        (see :meth:`judge`)."""
        return self.judge(contact, moment, now, default_region=default_region).reason

    def judge(
        self,
        contact: Contact,
        moment: pendulum.DateTime | None,
        now: pendulum.DateTime,
        *,
        default_region: str | None = None,
    ) -> WindowVerdict:
        """Whether ``contact`` may be dialled at ``moment`` (its dial time; None means now).

        The hour is judged in ``contact.timezone``; without one, in the zone its numbers are in
        (:func:`zones_of_numbers`, ``default_region`` for national numbers) when that zone is known:
        one zone, or several that all show the same hour at that moment; else in the explicit UTC
        offset ``moment`` was given with. A contact with none of these is skipped:
        :data:`NO_TIME_ZONE`. Raises ``OverflowError``/``ValueError`` only for a moment outside the
        calendar's range in the contact's zone (the upload rejects that row).

        :param contact: the contact (its ``timezone`` and ``phones``).
        :param moment: its dial time (``dial_at``, a callback's ``callback_at``), or None for now.
        :param now: the time now (aware).
        :param default_region: ISO 3166 region of numbers written without a country code.
        """
        when = moment or now
        if contact.timezone:
            return self._verdict(when.in_timezone(contact.timezone), contact.timezone, moment)
        zones = zones_of_numbers(contact.phones, default_region)
        clocks = {when.in_timezone(zone).strftime("%Y-%m-%dT%H:%M%z") for zone in zones}
        if len(clocks) == 1:
            shown = zones[0] if len(zones) == 1 else f"{zones[-1]}, {len(zones) - 1} other zones alike"
            verdict = self._verdict(when.in_timezone(zones[-1]), f"{shown}, from the number", moment)
            return WindowVerdict(verdict.reason, zone_inferred=True)
        if moment is not None and moment.tzinfo is not None:
            return self._verdict(moment, "UTC" + moment.strftime("%z"), moment)  # the only clock we know
        if zones:
            listed = ", ".join(zones[:4]) + (", ..." if len(zones) > 4 else "")
            return WindowVerdict(f"{NO_TIME_ZONE} (its numbers are in {len(zones)} zones with different "
                                 f"hours: {listed})")
        return WindowVerdict(NO_TIME_ZONE)

    def _verdict(self, local: pendulum.DateTime, zone: str, moment: pendulum.DateTime | None
                 ) -> WindowVerdict:
        if self.contains(local):
            return WindowVerdict(None)
        what = "now" if moment is None else "dial time"
        return WindowVerdict(f"{what} {local:%H:%M} ({zone}) is outside the calling window {self}")


@dataclass(frozen=True)
class WindowVerdict:
    """What the calling window says of one contact: why it is skipped (None: it may be dialled), and
    whether its hour was judged in a zone taken from its numbers."""

    reason: str | None
    zone_inferred: bool = False


def zones_of_numbers(phones: Iterable[str], default_region: str | None = None) -> list[str]:
    """The IANA zones the contact's numbers are in, sorted, as libphonenumber's time-zone data places
    them (every number must place: [] when one cannot, so an unknown number never narrows the set).

    :param phones: the contact's normalised numbers (E.164, or national with ``default_region``).
    :param default_region: ISO 3166 region of numbers written without a country code (``"GB"``).
    """
    import phonenumbers  # loaded on use: its metadata is heavy, and DAG parsing never needs it
    from phonenumbers import timezone as number_zones

    zones: set[str] = set()
    for phone in phones:
        try:
            number = phonenumbers.parse(phone, None if phone.startswith("+") else default_region)
        except phonenumbers.NumberParseException:
            return []
        if not phonenumbers.is_valid_number(number):
            return []
        found = set(number_zones.time_zones_for_number(number)) - {UNKNOWN_ZONE}
        if not found:
            return []
        zones |= found
    return sorted(zone for zone in zones if _known_zone(zone))


def _known_zone(name: str) -> bool:
    try:
        pendulum.timezone(name)
    except ValueError:  # a zone newer than this machine's tz database (InvalidTimezone)
        return False
    return True


def _parse_clock(value: Any) -> time:
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    try:
        hours, minutes = str(value).strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise DialerValidationError("calling_window", f"{value!r} is not a time of day (HH:MM)") from None
