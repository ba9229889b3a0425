"""The normalised contact every operator works with, and its vendor-neutral validation.

A contact dict uses these keys::

    {"external_id": "crm-17", "phones": ["5551230017"], "timezone": "America/Chicago",
     "dial_at": "2026-12-01T10:00:00-06:00", "attributes": {"name": "Ann"}}

``phone`` is accepted for a single number. A callback is a contact plus ``callback_at`` (a
time-zone-aware time) and an optional ``agent``. Each vendor's limits (how many phones, how long a
field may be) are checked by that vendor's mapping (``vendors/<vendor>/records.py``); what holds for
every vendor is checked here. Errors name the field (:class:`ContactError`), so a rejected row can
be explained.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import pendulum

from airflow_provider_dialers.phone_forms import is_canonical_e164

#: Characters people put in phone numbers that carry no digit (stripped before validation).
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")
_PHONE_SHAPE = re.compile(r"\+?[0-9]+")
_PHONE_LETTER = re.compile(r"[A-Za-z]")
_PHONE_SEPARATORS = re.compile(r"[;,]")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f]")
#: A cell starting with one of these is read as a formula by spreadsheets (CSV injection)...
_FORMULA_PREFIXES = ("=", "@", "\t", "\r")
#: ...and so is one starting with + or - followed by a function or a DDE call ("+cmd|' /C calc'!A0");
#: "+1 555 0100" or "-12.5" stay plain values.
_SIGNED_FORMULA = re.compile(r"[+-].*[A-Za-z(|!=]")
#: The keys a contact dict may have.
_CONTACT_FIELDS = frozenset({"external_id", "phones", "phone", "timezone", "dial_at", "attributes"})
MAX_EXTERNAL_ID_LENGTH = 255
#: How far ahead a dial or callback time may be: beyond it a time is a typo or a placeholder
#: (9999-12-31), and computing with it can leave the calendar's range in another zone.
HORIZON_YEARS = 10
#: UTC under the tz database's names for it: accepted as a contact's zone (a fixed zone, no DST), as
#: are the fixed offsets ``Etc/GMT+N`` / ``Etc/GMT-N``.
UTC_ZONE_NAMES = frozenset(
    prefix + name
    for prefix in ("", "Etc/")
    for name in ("UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich")
)
#: Zones named after a daylight-saving rule or an abbreviation, not a place (whose rules they are is
#: for the reader to guess): refused.
RULE_ZONE_NAMES = frozenset({"EST", "MST", "HST", "EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT",
                             "WET", "CET", "MET", "EET"})
#: Names a tz folder holds that are no place: refused, with the reason.
_NOT_A_PLACE = {
    "localtime": "is the worker machine's own zone, not the contact's",
    "posixrules": "is a file of the tz database's build",
    "Factory": "is the tz database's placeholder for a zone never set",
}
#: Folders of a tz directory that repeat the zones under another name (``posix/Europe/Berlin``).
_FILE_FOLDERS = frozenset({"posix", "right", "SystemV"})
#: A tz database name: letters first in each part, no path tricks (``/etc/localtime``, ``..``).
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z][A-Za-z0-9_+\-]*)*")


class ContactError(ValueError):
    """A contact field that cannot be used; ``field`` names it (``phones[2]``, ``dial_at``...)."""

    def __init__(self, field_name: str, reason: str) -> None:
        self.field = field_name
        self.reason = reason
        super().__init__(f"{field_name}: {reason}")


@dataclass(frozen=True)
class Contact:
    """One person to call, whatever the dialer.

    ECM calls it a *callback* (a row of a campaign's dialing list), Sinch a *customer*, Ameyo a
    *customer record* in a *lead*.
    """

    phones: tuple[str, ...]
    external_id: str | None = None
    timezone: str | None = None
    dial_at: pendulum.DateTime | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Callback:
    """A contact to call back at ``callback_at`` (time-zone aware), optionally by ``agent``."""

    contact: Contact
    callback_at: pendulum.DateTime
    agent: str | None = None


@dataclass(frozen=True)
class PhoneOptions:
    """How phone numbers are normalised: as given (punctuation stripped), or to E.164."""

    e164: bool = False
    #: ISO 3166 region for numbers written without a country code ("US", "GB"); needed for E.164.
    default_region: str | None = None


def parse_contact(
    raw: Mapping[str, Any],
    *,
    phones: PhoneOptions | None = None,
    now: pendulum.DateTime | None = None,
) -> Contact:
    """Validate a contact dict (the model's keys) into a :class:`Contact`; ContactError names the field."""
    if not isinstance(raw, Mapping):
        raise ContactError("contact", f"must be an object with the contact keys, got {type(raw).__name__}")
    if not _CONTACT_FIELDS.issuperset(raw):
        unknown = set(raw) - _CONTACT_FIELDS
        raise ContactError(sorted(unknown)[0], "is not a contact field (use attributes for custom data)")
    timezone = parse_timezone(raw.get("timezone"))
    return Contact(
        phones=parse_phones(raw, phones or PhoneOptions()),
        external_id=parse_external_id(raw.get("external_id")),
        timezone=timezone,
        dial_at=parse_time(raw.get("dial_at"), "dial_at", timezone=timezone, now=now),
        attributes=parse_attributes(raw.get("attributes")),
    )


def parse_callback(
    raw: Mapping[str, Any],
    *,
    phones: PhoneOptions | None = None,
    now: pendulum.DateTime | None = None,
) -> Callback:
    """A callback dict: the contact keys plus ``callback_at`` (required, aware) and ``agent``."""
    if not isinstance(raw, Mapping):
        raise ContactError("callback", f"must be an object, got {type(raw).__name__}")
    contact_part = {k: v for k, v in raw.items() if k not in {"callback_at", "agent"}}
    contact = parse_contact(contact_part, phones=phones, now=now)
    if raw.get("callback_at") in (None, ""):
        raise ContactError("callback_at", "is required")
    callback_at = parse_time(raw["callback_at"], "callback_at", timezone=contact.timezone, now=now)
    agent = raw.get("agent")
    if agent is not None and not isinstance(agent, (str, int)):
        raise ContactError("agent", "must be a user id (text)")
    return Callback(contact=contact, callback_at=callback_at, agent=str(agent).strip() or None if agent else None)


def parse_phones(raw: Mapping[str, Any], options: PhoneOptions) -> tuple[str, ...]:
    """The ordered phone list from ``phones`` (list, or ``;``/``,``-separated text) or ``phone``."""
    phones_given = raw.get("phones") not in (None, "", [])
    if phones_given and raw.get("phone") not in (None, ""):
        raise ContactError("phone", "give either phone or phones, not both")
    value, name = (raw.get("phones"), "phones") if phones_given else (raw.get("phone"), "phone")
    if value in (None, "", []):
        raise ContactError("phones", "at least one phone number is required")
    if isinstance(value, str):
        if ";" in value or "," in value:
            items = [p for p in _PHONE_SEPARATORS.split(value) if p.strip()]
        else:  # one number: what the split would give
            items = [value] if value.strip() else []
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [str(value)]
    else:
        raise ContactError(name, f"must be text or a list of numbers, got {type(value).__name__}")
    if not items:
        raise ContactError(name, "at least one phone number is required")
    if name == "phone":
        return tuple([normalise_phone(item, "phone", options) for item in items])
    return tuple([normalise_phone(item, f"phones[{i}]", options) for i, item in enumerate(items)])


def normalise_phone(value: Any, field_name: str, options: PhoneOptions) -> str:
    """One phone number: punctuation stripped, digits with an optional leading ``+``; E.164 if asked."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ContactError(field_name, f"must be text, got {type(value).__name__}")
    text = str(value).strip()
    if not _PHONE_SHAPE.fullmatch(text):  # else already digits with an optional +: nothing to strip or refuse
        text = _PHONE_PUNCTUATION.sub("", text)
        if not text:
            raise ContactError(field_name, "is empty")
        if _PHONE_LETTER.search(text):
            raise ContactError(field_name, f"contains letters: {str(value).strip()[:40]!r}")
        if not _PHONE_SHAPE.fullmatch(text):
            raise ContactError(field_name, f"is not a phone number: {str(value).strip()[:40]!r}")
    if not options.e164:
        return text
    return _to_e164(text, field_name, options.default_region)


def canonical_phone(value: Any, default_region: str | None = None) -> str | None:
    """One number however it is written, for comparing numbers: E.164 where libphonenumber can place it
    (national forms with ``default_region``; international prefixes such as ``00`` and ``011`` as
    that region dials out), else its digits with a leading ``+`` kept; None when it holds no digit."""
    text = _PHONE_PUNCTUATION.sub("", str(value or "").strip())
    if is_canonical_e164(text):
        return text  # libphonenumber would write it the same way (a campaign's numbers, read in bulk)
    if not any(char.isdigit() for char in text):
        return None
    import phonenumbers

    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return ("+" if text.startswith("+") else "") + "".join(char for char in text if char.isdigit())


def _to_e164(text: str, field_name: str, default_region: str | None) -> str:
    import phonenumbers  # loaded on use: its metadata is heavy, and DAG parsing never needs it

    if not text.startswith("+") and not default_region:
        raise ContactError(field_name, "has no country code and no default_region was given for E.164")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise ContactError(field_name, f"is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise ContactError(field_name, f"is not a valid number for its region: {text!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_external_id(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ContactError("external_id", f"must be text, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_EXTERNAL_ID_LENGTH:
        raise ContactError("external_id", f"is longer than {MAX_EXTERNAL_ID_LENGTH} characters")
    if _CONTROL_CHARACTER.search(text):
        raise ContactError("external_id", "contains control characters")
    if _looks_like_formula(text):
        # The id travels to the dialer and back into its exports and reports, as attributes do.
        raise ContactError("external_id", f"looks like a spreadsheet formula (CSV injection): {text[:30]!r}")
    return text


def parse_timezone(value: Any) -> str | None:
    """An IANA time zone name that names a place (``America/Chicago``) or UTC, checked against the tz
    database (the policy: :func:`zone_name_problem`)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ContactError("timezone", f"must be an IANA name such as 'Europe/Berlin', got {type(value).__name__}")
    name = value.strip()
    name = "UTC" if name.upper() == "UTC" else name  # pendulum's own spelling rule for UTC
    expected = "expected the IANA name of the contact's place, such as 'Europe/Berlin', or 'UTC'"
    try:
        pendulum.timezone(name)
    except ValueError:  # pendulum's InvalidTimezone, zoneinfo's refusals
        raise ContactError("timezone", f"unknown time zone {name[:60]!r} ({expected})") from None
    problem = zone_name_problem(name)
    if problem is not None:
        raise ContactError("timezone", f"{name[:60]!r} is not a place's time zone: it {problem} ({expected})")
    return name


def zone_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a contact's zone, or None when it names a place or UTC.

    Accepted: a tz database name of a place (``Area/Location`` such as ``Europe/Berlin``, and the
    database's older names for places: ``US/Eastern``, ``Japan``), UTC under its names
    (:data:`UTC_ZONE_NAMES`) and the fixed UTC offsets ``Etc/GMT+5`` (whose sign is POSIX's: five
    hours *behind* UTC). Refused: names of the machine rather than the contact (``localtime``,
    ``posixrules``, ``Factory``, folders such as ``posix/...``) and zones named after a clock rule or
    an abbreviation (``EST5EDT``, ``CET``, ``EST``).

    :param name: a zone name the tz database knows.
    """
    if name in UTC_ZONE_NAMES:
        return None
    if not _ZONE_NAME.fullmatch(name):
        return "is not shaped like a tz database name"
    if name in _NOT_A_PLACE:
        return _NOT_A_PLACE[name]
    if name.split("/", 1)[0] in _FILE_FOLDERS:
        return "is a folder of the tz files repeating other zones"
    if name in RULE_ZONE_NAMES:
        return "is named after a clock rule or an abbreviation (EST is UTC-5 all year, even in summer)"
    return None


def parse_time(
    value: Any, field_name: str, *, timezone: str | None = None, now: pendulum.DateTime | None = None
) -> pendulum.DateTime | None:
    """An ISO 8601 time with an offset, or a local time when the contact's ``timezone`` is known.

    A time with neither is refused: assuming the server's zone would call people at the wrong
    hour. A local time the zone skips (a spring-forward night) or has twice (a fall-back night,
    without an offset) is refused, and so is a time in the past (the contact would be dialled at
    once, unplanned) or beyond :data:`HORIZON_YEARS` from now. Any time that cannot be computed
    with raises :class:`ContactError` naming ``field_name``, never another error.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        moment = _read_time(value, field_name, timezone)
        return _within_horizon(moment, field_name, now or pendulum.now("UTC"))
    except ContactError:
        raise
    except (ArithmeticError, ValueError) as exc:  # e.g. OverflowError: date value out of range
        raise ContactError(field_name, f"cannot be used as a time ({exc})") from None


def _read_time(value: Any, field_name: str, timezone: str | None) -> pendulum.DateTime:
    if isinstance(value, str):
        try:
            value = pendulum.parse(value.strip(), strict=False, exact=True, tz=None)
        except Exception:
            raise ContactError(field_name, f"is not a date and time: {value.strip()[:40]!r}") from None
        if not isinstance(value, pendulum.DateTime):
            raise ContactError(field_name, f"needs a date and a time, got {str(value)[:40]!r}")
    elif not isinstance(value, datetime):
        raise ContactError(field_name, f"must be an ISO 8601 date-time, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        return _localise(value, field_name, timezone)
    return pendulum.instance(value)


def _localise(naive: datetime, field_name: str, timezone: str | None) -> pendulum.DateTime:
    """The wall-clock time ``naive`` in ``timezone``; refused where that zone skips or repeats it."""
    if timezone is None:
        raise ContactError(field_name, "has no UTC offset and the contact has no timezone: cannot tell the local hour")
    zone = pendulum.timezone(timezone)
    wall = datetime(naive.year, naive.month, naive.day, naive.hour, naive.minute, naive.second,
                    naive.microsecond)
    earlier, later = wall.replace(tzinfo=zone), wall.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() != later.utcoffset():
        shown = f"{wall:%Y-%m-%d %H:%M} in {timezone}"
        if earlier.astimezone(dt_timezone.utc).astimezone(zone).replace(tzinfo=None) != wall:
            raise ContactError(field_name, f"{shown} does not exist (the clocks skip that hour): give a time "
                                           "that exists, or one with its UTC offset")
        offsets = " or ".join(moment.strftime("%z") for moment in (earlier, later))
        raise ContactError(field_name, f"{shown} happens twice (the clocks go back that night): give it "
                                       f"with its UTC offset ({offsets})")
    return pendulum.instance(earlier)


def _within_horizon(moment: pendulum.DateTime, field_name: str, now: pendulum.DateTime) -> pendulum.DateTime:
    if moment < now:
        raise ContactError(field_name, f"is in the past ({moment.isoformat()})")
    latest = now.add(years=HORIZON_YEARS)
    if moment > latest:
        raise ContactError(field_name, f"is more than {HORIZON_YEARS} years ahead ({moment.isoformat()}; the "
                                       f"latest accepted is {latest.date().isoformat()}): a typo or a "
                                       "placeholder date such as 9999-12-31")
    return moment


def parse_attributes(value: Any) -> dict[str, str]:
    """Attribute name → text. Scalars become text; nested values and formula-like text are refused."""
    if value is None or value == "":
        return {}
    if not isinstance(value, (dict, Mapping)):  # dict first: the common case skips the ABC check
        raise ContactError("attributes", f"must be an object of name: value, got {type(value).__name__}")
    attributes = {}
    for name, item in value.items():
        key = str(name).strip()
        if not key:
            raise ContactError("attributes", "an attribute has an empty name")
        if type(item) is str:  # the common case (every CSV cell): text as it is
            text = item
        elif item is None:
            continue
        elif isinstance(item, (dict, list, tuple, set)):
            raise ContactError(f"attributes.{key}", f"must be a single value, got {type(item).__name__}")
        else:
            text = str(item).lower() if isinstance(item, bool) else str(item)
        if _looks_like_formula(text):
            raise ContactError(f"attributes.{key}", f"looks like a spreadsheet formula (CSV injection): {text[:30]!r}")
        attributes[key] = text
    return attributes


def _looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (``=...``, ``@...``, ``+cmd|...``)."""
    return text.startswith(_FORMULA_PREFIXES) or (text[:1] in ("+", "-") and _SIGNED_FORMULA.match(text) is not None)


def dedupe_key(contact: Contact) -> str:
    """The contact's identity for duplicate detection: its ``external_id``, or one derived from the row.

    The derived key hashes the phones and attributes, so the same row always gets the same key:
    a retried upload re-sends the same key and the dialer recognises the contact instead of adding
    it twice.
    """
    return contact.external_id or derived_external_id(contact)


def derived_external_id(contact: Contact) -> str:
    """``row-`` and 24 hex digits of a SHA-256 over the phones and attributes (stable across runs)."""
    import hashlib
    import json

    canonical = json.dumps({"phones": list(contact.phones), "attributes": dict(sorted(contact.attributes.items()))},
                           sort_keys=True, separators=(",", ":"))
    return "row-" + hashlib.sha256(canonical.encode()).hexdigest()[:24]


def format_server_time(
    moment: pendulum.DateTime,
    server_timezone: str,
    fmt: str = "%Y-%m-%d %H:%M:%S",
    *,
    field_name: str = "dial_at",
) -> str:
    """An aware time as the server's local wall-clock text, for APIs whose times carry no offset.

    :param moment: the time (``dial_at``, ``callback_at``).
    :param server_timezone: the dialer server's IANA zone (the connection extra ``timezone``).
    :param fmt: the vendor's ``strftime`` form.
    :param field_name: the model field named by the :class:`ContactError` raised when the time cannot
        be written in that zone (out of the calendar's range), so the row is rejected, not the upload.
    """
    try:
        return moment.in_timezone(server_timezone).strftime(fmt)
    except (ArithmeticError, ValueError) as exc:
        reason = f"cannot be written in the dialer's zone {server_timezone} ({exc})"
        raise ContactError(field_name, reason) from None
