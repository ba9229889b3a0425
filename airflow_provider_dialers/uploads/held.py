"""What a campaign already holds, so an upload never loads a contact twice.

Before the first row is sent, the engine reads every contact of the campaign once
(``iter_contact_states``, any state: pending or already dialled) into three digest sets: external
ids, phones, and the phones of contacts the dialer keeps without an external id. A new row is held
when its external id is, or (without one) its first phone is, or its first phone is held by a
contact the dialer knows only by phone (ECM). ``recontact_after`` leaves out contacts the dialer is
done with whose last change is older than that: those may be loaded again.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pendulum

from airflow_provider_dialers.capabilities import ContactRecord, DialerCapabilities
from airflow_provider_dialers.contacts import Contact, canonical_phone
from airflow_provider_dialers.errors import DialerNotSupportedError
from airflow_provider_dialers.uploads.digests import DigestSet

log = logging.getLogger(__name__)


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class HeldContacts:
    """The contacts a campaign held when the upload started, by external id and by phone.

    :param default_region: how national numbers are read (as for the DNC scrub), so ``(212)
        555-0101`` and ``+12125550101`` are one number.
    """

    def __init__(self, default_region: str | None = None) -> None:
        self.default_region = default_region
        self.external_ids = DigestSet()
        self.phones = DigestSet()
        self.phones_without_id = DigestSet()
        self.count = 0

    def add(self, record: ContactRecord) -> None:
        self.count += 1
        if record.external_id:
            self.external_ids.add(_digest(record.external_id))
        phone = canonical_phone(record.phone, self.default_region)
        if phone:
            self.phones.add(_digest(phone))
            if not record.external_id:
                self.phones_without_id.add(_digest(phone))

    def holds(self, contact: Contact) -> bool:
        """Whether the campaign held ``contact`` (by its external id, else its first phone)."""
        external_id = contact.external_id
        if external_id:
            if self.external_ids and _digest(external_id) in self.external_ids:
                return True
            if not self.phones_without_id:
                return False  # with an id, only a contact the dialer keeps without one matches by phone
        phone = canonical_phone(contact.phones[0], self.default_region) if contact.phones else None
        if phone is None:
            return False
        digest = _digest(phone)
        return digest in self.phones_without_id or (not external_id and digest in self.phones)


def load_held_contacts(
    dialer: DialerCapabilities, campaign_id: str, *, recontact_after: timedelta | None,
    default_region: str | None, pending_only: bool = False,
) -> HeldContacts | None:
    """Read every contact the campaign holds (one pass, page by page); None when the dialer's API
    cannot list them (its own duplicate check is then all there is). ``pending_only`` keeps only those
    the dialer has not finished with."""
    held = HeldContacts(default_region)
    cutoff = pendulum.now("UTC") - recontact_after if recontact_after is not None else None
    reopened = 0
    try:
        for record in dialer.iter_contact_states(campaign_id):
            if record.terminal and (pending_only or (cutoff is not None and _older(record.last_change, cutoff))):
                reopened += 1  # done with, long enough ago: may be loaded again
                continue
            held.add(record)
    except DialerNotSupportedError as exc:
        log.warning("%s; the upload relies on the dialer's own duplicate check", exc)
        return None
    log.info("Campaign %s holds %d contacts, pending or dialled: rows matching one are duplicates, not sent"
             + (f" ({reopened} finished before {cutoff.isoformat()} may be loaded again)" if cutoff else ""),
             campaign_id, held.count)
    return held


def _older(last_change: str | None, cutoff: pendulum.DateTime) -> bool:
    if not last_change:
        return False  # when it last changed is unknown: never assumed old enough
    try:
        return pendulum.parse(last_change) < cutoff
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        return False
