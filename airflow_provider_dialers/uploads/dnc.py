"""The do-not-call scrub: numbers not to call, compared in one canonical form however they are written.

Every number is compared as :func:`contacts.canonical_phone` writes it with the upload's
``default_region``: the dialer's own list (``scrub_dnc``), the user's ``dnc_source`` and each phone of
each contact. With region ``US``, ``(212) 555-0101``, ``+1 212 555 0101``, ``1 212 555 0101``,
``011 1 212 555 0101`` and ``2125550101`` are one number; with a region that dials out with ``00``
(``DE``, ``GB``), so is ``00 1 212 555 0101``. What is sent is not changed (``e164`` decides that).
Without a region, a number written without its country code cannot be placed: it is taken to be
every listed number it is a national form of (:func:`national_forms`), and the log says to set one.

A DNC entry that holds no usable number fails the upload before anything is sent, naming its line
(:class:`DncEntryError` reasons, the text masked), unless the task asks to skip such entries
(``on_bad_dnc_entry="skip"``, :class:`DncSource`): a list that silently lost an entry would let
that person be called.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from airflow_provider_dialers.capabilities import DialerCapabilities
from airflow_provider_dialers.contacts import (
    Contact,
    ContactError,
    PhoneOptions,
    canonical_phone,
    normalise_phone,
)
from airflow_provider_dialers.errors import DialerNotSupportedError, DialerValidationError
from airflow_provider_dialers.uploads.sources import iter_phone_numbers

log = logging.getLogger(__name__)

#: What ``on_bad_dnc_entry`` may say: fail the task (default), or leave the entry out with a warning.
ON_BAD_ENTRY = ("fail", "skip")
#: Where an entry came from, as messages name it.
DNC_SOURCE = "dnc_source"
DIALER_LIST = "the dialer's DNC list"
#: Bad entries a failure message lists one by one (the count is always complete).
LISTED_BAD_ENTRIES = 10
_DIGIT = re.compile(r"\d")
_NOT_DIGIT = re.compile(r"\D")
#: The quoted copy of the input some ContactError reasons end with (never repeated unmasked).
_QUOTED_INPUT = re.compile(r":\s*'.*$", re.DOTALL)


class DncEntryError(ContactError):
    """A DNC entry that holds no usable number; ``fallback`` is its digits when it has a phone
    number's shape (a skipped entry still stops contacts written with exactly those digits)."""

    def __init__(self, reason: str, fallback: str | None = None) -> None:
        super().__init__("number", reason)
        self.fallback = fallback


@dataclass(frozen=True)
class DncSource:
    """A ``dnc_source`` with how unusable entries of every list are handled.

    The upload operators build it from ``dnc_source`` and ``on_bad_dnc_entry``.

    :param source: what ``dnc_source`` takes (a list, ``;``/newline-separated text, a file), or None
        when only the dialer's own list is scrubbed.
    :param on_bad_entry: ``fail`` (default) or ``skip`` (see :data:`ON_BAD_ENTRY`).
    """

    source: Any = None
    on_bad_entry: str = "fail"


def checked_on_bad_entry(value: Any) -> str:
    """``on_bad_dnc_entry`` checked: one of :data:`ON_BAD_ENTRY`.

    :param value: the task's setting.
    """
    if value not in ON_BAD_ENTRY:
        raise DialerValidationError("on_bad_dnc_entry", f"must be one of {ON_BAD_ENTRY}, got {value!r}")
    return str(value)


def checked_region(region: Any, field_name: str = "default_region") -> str | None:
    """An ISO 3166 region libphonenumber knows (``"us"`` is read as ``"US"``), or None.

    A region it does not know would leave every national number unplaced, silently compared by its
    digits only: refused instead.

    :param region: the region as the task gave it.
    :param field_name: the parameter named in the error.
    """
    if region is None or (isinstance(region, str) and not region.strip()):
        return None
    import phonenumbers  # loaded on use: its metadata is heavy

    code = str(region).strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise DialerValidationError(field_name, f"{region!r} is not an ISO 3166 region libphonenumber knows "
                                                "(two letters such as 'US', 'GB', 'DE')")
    return code


def dnc_key(raw: Any, default_region: str | None) -> str:
    """How a DNC entry is compared: E.164 when it can be placed, else (national, no region) its digits.

    Raises :class:`DncEntryError` (its reason never quotes the entry) when it holds no phone number,
    or can be placed (a ``+``, or a region) but is no possible number there: a digit lost or added,
    or an international prefix the region does not dial out with.

    :param raw: the entry as written.
    :param default_region: ISO 3166 region of numbers written without a country code (checked).
    """
    try:
        written = normalise_phone(raw, "number", PhoneOptions())
    except ContactError as exc:
        raise DncEntryError(_QUOTED_INPUT.sub("", exc.reason)) from None
    international = written.startswith("+")
    if not international and default_region is None:
        return written  # cannot be placed: compared by its digits (load_dnc_list warns)
    import phonenumbers

    try:
        number = phonenumbers.parse(written, None if international else default_region)
        possible = phonenumbers.is_possible_number(number)
    except phonenumbers.NumberParseException:
        possible = False
    if not possible:
        where = "its country code" if international else f"region {default_region}"
        raise DncEntryError(f"is not a possible phone number for {where} (a digit too many or too few, or a "
                            "prefix that region does not dial)", fallback=canonical_phone(written, default_region))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_forms(e164: str) -> set[str]:
    """The digits a number is written with inside its own country: its national significant number,
    its national format's digits, and the first after the national prefix (``2125550101`` and
    ``12125550101`` for ``+12125550101``; ``2079460000`` and ``02079460000`` for ``+442079460000``).

    Used only without a region, where a number written without its country code cannot be placed:
    it is then taken as the national form of every listed number it could be (never calling wins).

    :param e164: a placed number (``+`` and digits); a text libphonenumber cannot read gives none.
    """
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return set()
    significant = phonenumbers.national_significant_number(number)
    national = _NOT_DIGIT.sub("", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        number.country_code, phonenumbers.region_code_for_country_code(number.country_code))
    prefix = getattr(metadata, "national_prefix", None) or ""
    return {significant, national, prefix + significant} - {""}


def mask_entry(text: Any) -> str:
    """An entry's text for messages: a phone-like text (5 digits or more) keeps only its last two digits.

    :param text: the entry as written.
    """
    shown = str(text).strip()[:40]
    digits = len(_DIGIT.findall(shown))
    if digits < 5:
        return shown
    seen = 0

    def mask(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return match.group() if seen > digits - 2 else "*"

    return _DIGIT.sub(mask, shown)


@dataclass(frozen=True)
class BadDncEntry:
    """One unusable DNC entry: where it is (``origin``, ``line``; the dialer's list has no lines), its
    masked text and why it is unusable."""

    origin: str
    line: int | None
    text: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.origin} line {self.line}" if self.line is not None else f"{self.origin} entry"
        return f"{where} {self.text!r} {self.reason}"


@dataclass(frozen=True)
class DncList:
    """The numbers not to call, canonical (:func:`dnc_key`), and the region contacts are read with.

    :param numbers: canonical numbers (E.164, or digits for national numbers without a region).
    :param default_region: ISO 3166 region of contact phones written without a country code.
    :param national: without a region, the national forms (:func:`national_forms`) of the placed numbers.
    """

    numbers: frozenset[str]
    default_region: str | None = None
    national: frozenset[str] = frozenset()

    def skip_reason(self, contact: Contact) -> str | None:
        """Why ``contact`` is not sent (one of its phones is on the list, in any written form), or None.

        :param contact: the parsed contact.
        """
        if not self.numbers:
            return None
        for index, phone in enumerate(contact.phones):
            if phone in self:
                return f"phones[{index}] is on the do-not-call list"
        return None

    def __contains__(self, phone: object) -> bool:
        key = canonical_phone(phone, self.default_region)
        if key is None:
            return False
        if key in self.numbers:
            return True
        if self.default_region is not None:
            return False
        # No region: a number without its country code matches a listed number it is a national form
        # of, and a placed number matches a listed national form of it.
        return key in self.national if not key.startswith("+") else not self.numbers.isdisjoint(national_forms(key))

    def __len__(self) -> int:
        return len(self.numbers)


class _DncCollector:
    """Builds a :class:`DncList` entry by entry: keys, bad entries, unplaced national entries."""

    def __init__(self, default_region: str | None, on_bad_entry: str) -> None:
        self.default_region = default_region
        self.on_bad_entry = on_bad_entry
        self.numbers: set[str] = set()
        self.bad: list[BadDncEntry] = []
        self.bad_count = 0
        self.unplaced = 0

    def add(self, origin: str, line: int | None, raw: Any) -> None:
        try:
            key = dnc_key(raw, self.default_region)
        except DncEntryError as exc:
            self.bad_count += 1
            entry = BadDncEntry(origin, line, mask_entry(raw), exc.reason)
            if len(self.bad) < LISTED_BAD_ENTRIES:
                self.bad.append(entry)
            if self.on_bad_entry == "skip":
                log.warning("Skipping an unusable do-not-call entry (on_bad_dnc_entry='skip'): %s", entry)
                if exc.fallback:
                    self.numbers.add(exc.fallback)  # still stops contacts written with these very digits
            return
        self.unplaced += not key.startswith("+")
        self.numbers.add(key)

    def finish(self) -> DncList:
        if self.bad_count and self.on_bad_entry == "fail":
            listed = "; ".join(str(entry) for entry in self.bad)
            more = f" (and {self.bad_count - len(self.bad)} more)" if self.bad_count > len(self.bad) else ""
            field = self.bad[0].origin if self.bad[0].origin == DNC_SOURCE else "scrub_dnc"
            raise DialerValidationError(
                field,
                f"{_entries_hold(self.bad_count)} no usable number, so the list cannot be trusted and nothing "
                f"was sent: {listed}{more}. Fix them, or pass on_bad_dnc_entry='skip' to leave them out",
            )
        national: frozenset[str] = frozenset()
        if self.default_region is None:
            national = frozenset(form for key in self.numbers if key.startswith("+") for form in national_forms(key))
        if self.unplaced and self.default_region is None:
            log.warning(
                "%d do-not-call entries have no country code and no default_region is set: each stops "
                "contacts written with the same digits, or holding a number it is the national form of in "
                "some country; set default_region to compare every written form exactly", self.unplaced)
        if self.bad_count:
            log.warning("%s no usable number and were skipped", _entries_hold(self.bad_count))
        log.info("Scrubbing against %d do-not-call numbers", len(self.numbers))
        return DncList(frozenset(self.numbers), self.default_region, national)


def _entries_hold(count: int) -> str:
    return "1 do-not-call entry holds" if count == 1 else f"{count} do-not-call entries hold"


def load_dnc_list(
    dialer: DialerCapabilities,
    *,
    scrub_dnc: bool,
    dnc_source: Any,
    phone_options: PhoneOptions,
    on_bad_entry: str | None = None,
) -> DncList | None:
    """The numbers to scrub: the dialer's own list (``scrub_dnc``) and/or ``dnc_source``; None if neither.

    ``scrub_dnc`` with a dialer that has no DNC list fails, unless a ``dnc_source`` is given (it is
    then the only list, and a warning says so). An unusable entry of either list fails here, before
    anything is sent (``DialerValidationError`` naming each line), unless ``on_bad_entry`` is ``skip``.

    :param dialer: the dialer's capabilities (``list_dnc``).
    :param scrub_dnc: read the dialer's own list.
    :param dnc_source: the user's list (see :func:`uploads.sources.iter_phone_numbers`), or a
        :class:`DncSource` carrying it with its ``on_bad_entry``.
    :param phone_options: the upload's phone options: ``default_region`` reads national numbers.
    :param on_bad_entry: ``fail`` or ``skip``; None: the :class:`DncSource`'s, else ``fail``.
    """
    if isinstance(dnc_source, DncSource):
        on_bad_entry = on_bad_entry or dnc_source.on_bad_entry
        dnc_source = dnc_source.source
    if not scrub_dnc and dnc_source is None:
        return None
    collector = _DncCollector(checked_region(phone_options.default_region), checked_on_bad_entry(on_bad_entry or "fail"))
    for origin, line, raw in _entries(dialer, scrub_dnc, dnc_source):
        collector.add(origin, line, raw)
    return collector.finish()


def _entries(dialer: DialerCapabilities, scrub_dnc: bool, dnc_source: Any) -> Iterator[tuple[str, int | None, Any]]:
    if scrub_dnc:
        try:
            listed: Iterable[Any] = dialer.list_dnc()
        except DialerNotSupportedError as exc:
            if dnc_source is None:
                raise DialerNotSupportedError(
                    f"scrub_dnc=True needs the dialer's DNC list, which it cannot give ({exc}); "
                    "pass dnc_source= with your own list, or set scrub_dnc=False",
                    vendor=exc.vendor,
                ) from exc
            log.warning("%s; scrubbing against dnc_source only", exc)
        else:
            yield from ((DIALER_LIST, None, text) for text in sorted(listed, key=str))
    if dnc_source is not None:
        yield from ((DNC_SOURCE, line, raw) for line, raw in iter_phone_numbers(dnc_source))
