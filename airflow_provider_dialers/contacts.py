"""The normalised contact every operator works with, and its vendor-neutral validation.

A contact dict uses these keys::

    {"external_id": "crm-17", "phones": ["5551230017"], "timezone": "America/Chicago",
     "dial_at": "2026-12-01T10:00:00-06:00", "attributes": {"name": "Ann"}}

``phone`` is accepted for a single number. A callback is a contact plus ``callback_at`` (a
time-zone-aware time) and an optional ``agent``. Each vendor's limits (how many phones, how long a
field may be) are checked by that vendor's mapping (``mappings/<vendor>.py``); what holds for
every vendor is checked here. Errors name the field (:class:`ContactError`), so a rejected row can
be explained.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pendulum

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
MAX_EXTERNAL_ID_LENGTH = 255


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
    unknown = set(raw) - {"external_id", "phones", "phone", "timezone", "dial_at", "attributes"}
    if unknown:
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
    if raw.get("phones") not in (None, "", []) and raw.get("phone") not in (None, ""):
        raise ContactError("phone", "give either phone or phones, not both")
    value = raw.get("phones") if raw.get("phones") not in (None, "", []) else raw.get("phone")
    name = "phones" if raw.get("phones") not in (None, "", []) else "phone"
    if value in (None, "", []):
        raise ContactError("phones", "at least one phone number is required")
    if isinstance(value, str):
        items = [p for p in _PHONE_SEPARATORS.split(value) if p.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [str(value)]
    else:
        raise ContactError(name, f"must be text or a list of numbers, got {type(value).__name__}")
    if not items:
        raise ContactError(name, "at least one phone number is required")
    return tuple(normalise_phone(item, f"phones[{i}]" if name == "phones" else "phone", options)
                 for i, item in enumerate(items))


def normalise_phone(value: Any, field_name: str, options: PhoneOptions) -> str:
    """One phone number: punctuation stripped, digits with an optional leading ``+``; E.164 if asked."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ContactError(field_name, f"must be text, got {type(value).__name__}")
    text = _PHONE_PUNCTUATION.sub("", str(value).strip())
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
    """An IANA time zone name (``America/Chicago``), checked against the tz database."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ContactError("timezone", f"must be an IANA name such as 'Europe/Berlin', got {type(value).__name__}")
    name = value.strip()
    try:
        pendulum.timezone(name)
    except Exception:
        raise ContactError("timezone", f"unknown time zone {name[:60]!r} (expected an IANA name such as 'Europe/Berlin')") from None
    return name


def parse_time(
    value: Any, field_name: str, *, timezone: str | None = None, now: pendulum.DateTime | None = None
) -> pendulum.DateTime | None:
    """An ISO 8601 time with an offset, or a local time when the contact's ``timezone`` is known.

    A time with neither is refused: assuming the server's zone would call people at the wrong
    hour. A time in the past is refused too (the contact would be dialled at once, unplanned).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, pendulum.DateTime):
        moment = value
    elif hasattr(value, "isoformat") and hasattr(value, "tzinfo"):  # datetime.datetime
        moment = pendulum.instance(value) if value.tzinfo is not None else None
        if moment is None:
            return _localise(pendulum.naive(*value.timetuple()[:6]), field_name, timezone, now)
    elif isinstance(value, str):
        try:
            parsed = pendulum.parse(value.strip(), strict=False, exact=True, tz=None)
        except Exception:
            raise ContactError(field_name, f"is not a date and time: {value.strip()[:40]!r}") from None
        if not isinstance(parsed, pendulum.DateTime):
            raise ContactError(field_name, f"needs a date and a time, got {value.strip()[:40]!r}")
        if parsed.tzinfo is None:
            return _localise(parsed, field_name, timezone, now)
        moment = parsed
    else:
        raise ContactError(field_name, f"must be an ISO 8601 date-time, got {type(value).__name__}")
    return _not_past(moment, field_name, now)


def _localise(naive: Any, field_name: str, timezone: str | None, now: pendulum.DateTime | None) -> pendulum.DateTime:
    if timezone is None:
        raise ContactError(field_name, "has no UTC offset and the contact has no timezone: cannot tell the local hour")
    local = pendulum.datetime(naive.year, naive.month, naive.day, naive.hour, naive.minute, naive.second, tz=timezone)
    return _not_past(local, field_name, now)


def _not_past(moment: pendulum.DateTime, field_name: str, now: pendulum.DateTime | None) -> pendulum.DateTime:
    if moment < (now or pendulum.now("UTC")):
        raise ContactError(field_name, f"is in the past ({moment.isoformat()})")
    return moment


def parse_attributes(value: Any) -> dict[str, str]:
    """Attribute name → text. Scalars become text; nested values and formula-like text are refused."""
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise ContactError("attributes", f"must be an object of name: value, got {type(value).__name__}")
    attributes = {}
    for name, item in value.items():
        key = str(name).strip()
        if not key:
            raise ContactError("attributes", "an attribute has an empty name")
        if item is None:
            continue
        if isinstance(item, (dict, list, tuple, set)):
            raise ContactError(f"attributes.{key}", f"must be a single value, got {type(item).__name__}")
        text = str(item).lower() if isinstance(item, bool) else str(item)
        if _looks_like_formula(text):
            raise ContactError(f"attributes.{key}", f"looks like a spreadsheet formula (CSV injection): {text[:30]!r}")
        attributes[key] = text
    return attributes


def _looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (``=...``, ``@...``, ``+cmd|...``)."""
    return text.startswith(_FORMULA_PREFIXES) or bool(_SIGNED_FORMULA.match(text))


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


def format_server_time(moment: pendulum.DateTime, server_timezone: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """An aware time as the server's local wall-clock text, for APIs whose times carry no offset."""
    return moment.in_timezone(server_timezone).strftime(fmt)
