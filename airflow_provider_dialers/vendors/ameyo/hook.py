"""Ameyo's hook: the vendor-neutral capabilities (``capabilities.DialerCapabilities``) over the
Customer Manager commands of :mod:`.api` and the record mapping of :mod:`.records`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

import pendulum

from airflow_provider_dialers.capabilities import (
    CallbackRow,
    CampaignProgress,
    CampaignStatusWord,
    CampaignSummary,
    ContactRecord,
    ContactRow,
    ContactState,
    DncResult,
    RowOutcome,
    RowStatus,
    UploadOptions,
)
from airflow_provider_dialers.compat import connection_form_methods
from airflow_provider_dialers.contacts import Contact, ContactError
from airflow_provider_dialers.errors import DialerRequestError, DialerTransientError, DialerValidationError
from airflow_provider_dialers.vendors.ameyo import records as mapping
from airflow_provider_dialers.vendors.ameyo.api import AmeyoApi
from airflow_provider_dialers.vendors.ameyo.records import _unconfirmed_callback_reason, state_of
from airflow_provider_dialers.vendors.ameyo.wire import (
    CALLBACK_RESULT,
    LISTING_COLUMNS,
    PROGRESS_COLUMNS,
    STATE_COLUMNS,
    AmeyoContact,
    CustomerCallback,
    _int_or_none,
    upload_contacts_data,
)

_Row = TypeVar("_Row", ContactRow, CallbackRow)
#: uploadContactAndAddCallback sends of one re-contact, each after a lost answer re-read (_recontact).
RECONTACT_SENDS = 2
#: The call status a customer dialled again is churned to (the reference's example target status).
NOT_TRIED = "NOT_TRIED"


class AmeyoHook(AmeyoApi):
    """Ameyo "Customer Manager API" hook (Ameyo IPCC, ``/ameyowebaccess/command``).

    Ameyo's vocabulary: the API user is a *Customer Manager*; a *campaign* holds *leads*
    (contact lists, each with ``maxAttempt`` and an enabled flag); a lead holds *customers*
    (contacts, keyed by ``phone1`` and identified by ``customerId``); a *callback* is a call
    scheduled for a customer or a number.

    Connection: host = server base URL (``http://10.0.0.5:8888``), login = user id, password;
    extras ``terminal`` (login's terminal, default ``127.0.0.1``) and ``client_type`` (login's
    ``clientType``, optional). The raw commands are :class:`~.api.AmeyoApi`'s methods.
    """

    #: The connection form for Airflow before 3.2, which reads it from these two methods (compat.py).
    get_connection_form_widgets, get_ui_field_behaviour = connection_form_methods(AmeyoApi.conn_type)

    # -- capabilities (vendor-neutral; see capabilities.DialerCapabilities) -------------------------
    #: Records per upload command. The reference sets no maximum, but commands are synchronous and
    #: the login answer's ``commandTimeout`` is 20 s: 200 records finish well within it.
    upload_batch_size: ClassVar[int] = 200
    #: getContacts page size for progress and contact lookups. The reference sets no maximum
    #: ("LimitOffset - Default - Null - No limit"): one command could return a whole campaign. Pages
    #: are kept anyway: a command must finish within the login answer's ``commandTimeout`` (20 s in
    #: the reference), and each answer is buffered and parsed whole, in a worker or in the triggerer
    #: next to every other trigger. 10 000 customers are about 3 MB with only a phone (the sandbox's
    #: customers), several times that with real customer data; a check reads ceil(n / 10 000) pages.
    contacts_page_size: ClassVar[int] = 10_000

    def list_campaigns(self) -> list[CampaignSummary]:
        """The campaigns the Customer Manager user is logged in to, from the login answer.

        Ameyo's API has no command listing campaigns or their state: ``status`` is the campaign's
        type (e.g. "Outbound Voice Campaign") and ``running`` is None.
        """
        return [
            CampaignSummary(id=str(c.campaign_id), name=c.name, status=c.campaign_type, running=None)
            for c in self.login().campaigns
        ]

    def find_campaign(self, name: str) -> str | None:
        """The id of the campaign called ``name`` among those the Customer Manager is logged in to."""
        return next((c["id"] for c in self.list_campaigns() if c["name"] == name), None)

    def create_campaign(self, spec: Mapping[str, Any]) -> str:
        raise self.not_supported("create campaigns",
                                 "the Customer Manager API has no command that creates one")

    def set_campaign_status(self, campaign_id: str, status: CampaignStatusWord) -> None:
        raise self.not_supported("pause or resume campaigns",
                                 "the Customer Manager API has no command that starts or stops a campaign")

    def add_dnc(self, numbers: Sequence[str]) -> DncResult:
        raise self.not_supported("manage a DNC list", "the Customer Manager API has no do-not-call commands")

    def remove_dnc(self, numbers: Sequence[str]) -> DncResult:
        raise self.not_supported("manage a DNC list", "the Customer Manager API has no do-not-call commands")

    def list_dnc(self) -> set[str]:
        raise self.not_supported("read a DNC list", "the Customer Manager API has no do-not-call commands")

    def set_global_emergency(self, enabled: bool) -> dict[str, Any]:
        raise self.not_supported(
            "toggle a global emergency",
            "the Customer Manager API has no emergency stop and cannot pause campaigns, so none can be "
            "emulated",
        )

    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Upload one batch of contacts as *customers* of the lead ``options.lead_id``.

        Every row goes through uploadContacts, ``update.customer`` on for ``on_duplicate="update"``
        (UPDATED), off for ``"skip"`` (DUPLICATE_NOT_ADDED: a duplicate). Ameyo dedupes customers by
        ``phone1``, so the command is re-sent after a lost answer; a duplicate in the replayed answer
        is the lost attempt's own row and counts as accepted. A stored row with ``dial_at`` then gets
        its callback at that time (:meth:`_schedule_dial_times`), so Ameyo dials it then.

        With ``options.recontact_after``, a duplicate whose customer Ameyo finished with longer ago
        than that is dialled again (:meth:`_recontact`): accepted, with the existing ``customerId``.
        """
        campaign, lead = self._upload_target(campaign_id, options)
        mapped, outcomes = self._map_rows(rows, lambda item: self._customer_record(item.contact))
        if options.dry_run:
            return outcomes + [
                RowOutcome(item.row, RowStatus.ACCEPTED, payload=self._planned_upload(item, record))
                for item, record in mapped
            ]
        if not mapped:
            return outcomes
        data = upload_contacts_data(campaign, lead, [record for _, record in mapped],
                                    update_customer=options.on_duplicate == "update")
        results, replayed = self._send_upload("uploadContacts", data, len(mapped), retry_safe=True)
        stored = [(item, mapping.upload_outcome(item.row, result, replayed=replayed, payload=record))
                  for (item, record), result in zip(mapped, results)]
        if options.recontact_after is not None:
            refused: dict[int, ContactRow] = {}  # customerId -> its first row (others stay duplicates)
            for (item, _), result in zip(mapped, results):
                if result.result_type == mapping.DUPLICATE and result.customer_id is not None:
                    refused.setdefault(int(result.customer_id), item)
            cutoff = pendulum.now("UTC") - options.recontact_after
            recontacted = self._recontact(campaign, lead, [(row, cid) for cid, row in refused.items()], cutoff)
            outcomes += recontacted.values()
            stored = [pair for pair in stored if pair[0].row not in recontacted]
        return outcomes + self._schedule_dial_times(campaign, lead, stored)

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Schedule one batch of callbacks with uploadContactAndAddCallback into ``options.lead_id``:
        the customer is uploaded (``on_duplicate="update"``) or left as it is (``"skip"``), and a
        callback is scheduled at ``callback_at`` on its first phone, for ``agent`` when given.

        Not re-sent after a lost answer: every send schedules the callbacks again.
        """
        campaign, lead = self._upload_target(campaign_id, options)
        server_timezone = self.server_timezone
        mapped, outcomes = self._map_rows(rows, lambda item: mapping.customer_callback(
            item.callback.contact, item.callback.callback_at, server_timezone, agent=item.callback.agent,
            time_field="callback_at"))
        if options.dry_run:
            return outcomes + [RowOutcome(item.row, RowStatus.ACCEPTED, payload=record.to_ameyo())
                               for item, record in mapped]
        if not mapped:
            return outcomes
        records = [(item.row, record) for item, record in mapped]
        return outcomes + self._send_callbacks(campaign, lead, records, time_field="callback_at",
                                               update_customer=options.on_duplicate == "update")

    def get_campaign_progress(self, campaign_id: str) -> CampaignProgress:
        """Counts by call status of the customers of the campaign's enabled leads.

        Ameyo keeps no campaign counters: this reads every such customer's ``status`` and
        ``attempts`` with getContacts, :attr:`contacts_page_size` at a time, plus the leads'
        ``maxAttempt`` (getLeadsForCampaign): 1 + ceil(customers / page size) commands, at least 2.
        Complete when every customer is settled (:func:`~.records.state_of`).
        """
        campaign = self._campaign_number(campaign_id)
        max_attempts = self._max_attempts(campaign)
        outcomes: Counter[str] = Counter()
        pending = 0
        for contact in self.iter_contacts(campaign, page_size=self.contacts_page_size,
                                          choose_enabled_leads=True, other_columns=PROGRESS_COLUMNS):
            status, settled = state_of(contact, max_attempts.get(contact.lead_id))
            outcomes[status] += 1
            pending += not settled
        return CampaignProgress(
            campaign_id=str(campaign),
            complete=pending == 0,
            total=sum(outcomes.values()),
            pending=pending,
            outcomes=dict(outcomes),
            detail="counted from the customers of enabled leads; Ameyo's API does not tell whether the "
                   "campaign is running",
        )

    def get_contact_state(self, campaign_id: str, contact_ref: str) -> ContactState:
        """A customer's call status, by ``customerId`` (digits), ``phone1`` or the ``external_id``
        column. A customerId is tried first (one getContacts); otherwise the campaign's customers are
        read page by page. ``terminal``: a status in :data:`TERMINAL_CALL_STATUSES`, or attempts at
        the lead's ``maxAttempt``. ``history``: the getContacts columns of :data:`STATE_COLUMNS`.
        """
        campaign = self._campaign_number(campaign_id)
        ref = str(contact_ref).strip()
        contact = self._find_contact(campaign, ref)
        status, terminal = state_of(contact, self._max_attempts(campaign).get(contact.lead_id))
        return ContactState(
            contact_ref=ref,
            state=status,
            terminal=terminal,
            attempts=contact.attempts,
            history=dict(contact.extra_data),
        )

    def iter_contact_states(self, campaign_id: str, states: Collection[str] | None = None) -> Iterator[ContactRecord]:
        """Every customer of the campaign, in every lead (enabled or not) and any call status, or
        those whose status is in ``states`` (Ameyo's call statuses, any case; another word raises
        ``DialerValidationError("states")`` at the call), streamed page by page.

        getContacts has no status filter, so ``states`` is applied here, on the pages read. The
        pages are ordered by ``customer_id``, which a customer keeps whatever its calls do (new ones
        come last), so a campaign being dialled still lists each customer once
        (:meth:`~.api.AmeyoApi.iter_contacts` also drops one a page would repeat). Each record is
        :func:`~.records.contact_record`: ``state`` and ``terminal`` by the rule of
        :meth:`get_contact_state` and :meth:`get_campaign_progress`.

        Cost: one getLeadsForCampaign (``maxAttempt`` per lead), then ceil(n / :attr:`contacts_page_size`)
        getContacts (at least one), the session's login aside: 2 commands for up to 10 000 customers,
        0.1 more per 1,000 beyond; memory holds one page. Once per hook, a server reading
        ``limitOffset`` as ``m,n`` costs one refused command more; one ignoring it answers the whole
        campaign in one command (switch ``ameyo_limit_offset``). Nothing is requested until the
        first record is asked for.
        """
        campaign = self._campaign_number(campaign_id)
        wanted = mapping.wanted_statuses(states)
        if wanted is not None and not wanted:
            return iter(())
        return self._contact_records(campaign, wanted)

    def _contact_records(self, campaign: int, wanted: frozenset[str] | None) -> Iterator[ContactRecord]:
        max_attempts = self._max_attempts(campaign)
        server_timezone = self.server_timezone
        for contact in self.iter_contacts(campaign, page_size=self.contacts_page_size,
                                          other_columns=LISTING_COLUMNS):
            record = mapping.contact_record(contact, max_attempts.get(contact.lead_id), server_timezone)
            if wanted is None or record.state.upper() in wanted:
                yield record

    # -- capability helpers ----------------------------------------------------------------------
    def _max_attempts(self, campaign: int) -> dict[int, int | None]:
        """Each lead of the campaign -> its ``maxAttempt`` (one getLeadsForCampaign)."""
        return {lead.lead_id: lead.max_attempt for lead in self.get_leads_for_campaign(campaign)}

    def _campaign_number(self, campaign_id: str | int) -> int:
        try:
            return int(str(campaign_id).strip())
        except ValueError:
            raise DialerValidationError("campaign_id", f"Ameyo campaign ids are numbers, got {campaign_id!r}",
                                        vendor=self.vendor_name) from None

    def _upload_target(self, campaign_id: str, options: UploadOptions) -> tuple[int, int]:
        """(campaign, lead) of an upload, checked before anything is sent."""
        campaign = self._campaign_number(campaign_id)
        if options.lead_id is None:
            raise DialerValidationError("lead_id", "Ameyo uploads go into a lead: give lead_id",
                                        vendor=self.vendor_name)
        return campaign, int(options.lead_id)

    @staticmethod
    def _map_rows(
        rows: Sequence[_Row], build: Callable[[_Row], Any]
    ) -> tuple[list[tuple[_Row, Any]], list[RowOutcome]]:
        """Each row's Ameyo record, and the rows the mapping refuses as rejected (never sent)."""
        mapped, rejected = [], []
        for item in rows:
            try:
                mapped.append((item, build(item)))
            except ContactError as error:
                rejected.append(RowOutcome.rejected(item.row, error.field, error.reason))
        return mapped, rejected

    def _customer_record(self, contact: Contact) -> dict[str, str]:
        """The contact's customer record, once its ``dial_at`` is known to have a ``callBackTime`` (a row
        is refused before uploadContacts, never between it and its callback)."""
        if contact.dial_at is not None:
            mapping.callback_time(contact.dial_at, self.server_timezone)
        return mapping.customer_record(contact)

    def _planned_upload(self, item: ContactRow, record: dict[str, str]) -> dict[str, Any]:
        """A dry run's payload, as the real run's: the customer record, or for a row with ``dial_at``
        both commands' records (:func:`~.records.dial_time_payload`; ``customerId`` a placeholder)."""
        dial_at = item.contact.dial_at
        if dial_at is None:
            return record
        callback = mapping.customer_callback(item.contact, dial_at, self.server_timezone)
        return mapping.dial_time_payload(record, callback, dry_run=True)

    def _recontact(
        self, campaign: int, lead: int, refused: Sequence[tuple[ContactRow, int]], cutoff: pendulum.DateTime
    ) -> dict[int, RowOutcome]:
        """Dial again the customers uploadContacts refused as duplicates that Ameyo finished with
        before ``cutoff`` (``recontact_after``); row -> outcome of those dialled again (accepted, with
        the existing ``customerId``). The others are left out: they stay duplicates.

        How (reference 4.8): one uploadContactAndAddCallback, each record addressed by the existing
        ``customerId`` ("the callback is scheduled for that customer"), its callback record's
        ``status`` NOT_TRIED with ``update.customer`` on ("If the record is already uploaded then this
        parameter will help to churn the record if used with update flag"), at the row's ``dial_at``,
        else now. The churn is what makes it exactly once: the customer is then pending (and changed
        now) in getContacts, so a retry's held lookup, and the check after a lost answer, find it
        done; Ameyo has no command that lists callbacks, so a callback alone would leave no trace.

        Cost: one getLeadsForCampaign and one getContacts (by customerId) per batch with duplicates,
        one uploadContactAndAddCallback for those dialled again (re-read once after a lost answer).
        """
        if not refused:
            return {}
        due = self._finished_before(campaign, [customer_id for _, customer_id in refused], cutoff)
        server_timezone, now = self.server_timezone, pendulum.now("UTC")
        records = [(item.row, replace(mapping.customer_callback(
            item.contact, item.contact.dial_at or now, server_timezone, customer_id=customer_id,
            time_field="dial_at" if item.contact.dial_at else "recontact_after"), status=NOT_TRIED))
            for item, customer_id in refused if customer_id in due]
        if not records:
            return {}
        reading, accepted = self.reading(CALLBACK_RESULT), dict[int, RowOutcome]()
        for attempt in range(1, RECONTACT_SENDS + 1):
            try:
                results = self.upload_contact_and_add_callback(campaign, lead, [r for _, r in records],
                                                               update_customer=True)
            except DialerTransientError as error:
                if not error.may_have_been_processed:
                    raise
                # The answer was lost: the customers churned are done; the others were not reached.
                left = self._finished_before(campaign, [record.customer_id or 0 for _, record in records],
                                             cutoff)
                accepted |= {row: RowOutcome(row, RowStatus.ACCEPTED, vendor_id=str(record.customer_id),
                                             payload=record.to_ameyo())
                             for row, record in records if record.customer_id not in left}
                records = [(row, record) for row, record in records if record.customer_id in left]
                self.log.warning("Ameyo's answer to a re-contact was lost (%s); %d customers still to churn",
                                 error, len(records))
                if not records:
                    return accepted
                if attempt == RECONTACT_SENDS:
                    raise  # a retry of the upload finds those churned held, and sends the others
                continue
            return accepted | {
                row: mapping.callback_outcome(row, result, time_field="recontact_after",
                                              vendor_id=str(record.customer_id), reading=reading,
                                              payload=record.to_ameyo())
                for (row, record), result in zip(records, results)}
        return accepted

    def _finished_before(self, campaign: int, customer_ids: Sequence[int], cutoff: pendulum.DateTime
                         ) -> set[int]:
        """The customers among ``customer_ids`` Ameyo is done with (:func:`~.records.state_of`) and last
        changed before ``cutoff`` (one getLeadsForCampaign, one getContacts)."""
        max_attempts, server_timezone = self._max_attempts(campaign), self.server_timezone
        found = set()
        for contact in self.get_contacts(campaign, customer_ids=customer_ids, other_columns=LISTING_COLUMNS):
            record = mapping.contact_record(contact, max_attempts.get(contact.lead_id), server_timezone)
            changed = pendulum.parse(record.last_change) if record.last_change else None
            if record.terminal and changed is not None and changed < cutoff:
                found.add(int(record.contact_ref))
        return found

    def _schedule_dial_times(
        self, campaign: int, lead: int, stored: Sequence[tuple[ContactRow, RowOutcome]]
    ) -> list[RowOutcome]:
        """The upload's outcomes, once each stored row with ``dial_at`` has its callback at that time.

        The callbacks are a second command (uploadContactAndAddCallback addressed by the customerId
        just stored, ``update.customer`` off so the record is left as it is) rather than the upload
        itself: that command, given a customer that already exists, still schedules a callback on its
        number, which ``on_duplicate="skip"`` must not do; and uploadContacts alone can be re-sent.
        """
        timed = [index for index, (item, outcome) in enumerate(stored)
                 if item.contact.dial_at is not None and outcome.status is RowStatus.ACCEPTED]
        server_timezone = self.server_timezone
        records = []
        for index in timed:
            item, outcome = stored[index]
            record = mapping.customer_callback(item.contact, item.contact.dial_at, server_timezone,
                                               customer_id=_int_or_none(outcome.vendor_id))
            records.append((item.row, record))
        outcomes = [outcome for _, outcome in stored]
        scheduled = self._send_callbacks(campaign, lead, records, update_customer=False, time_field="dial_at")
        for index, outcome, (_, record) in zip(timed, scheduled, records):
            customer = stored[index][1].payload or {}  # sent in both commands: the payload shows both
            outcomes[index] = replace(outcome, payload=mapping.dial_time_payload(customer, record))
        return outcomes

    def _send_callbacks(
        self, campaign: int, lead: int, records: Sequence[tuple[int, CustomerCallback]], *,
        update_customer: bool, time_field: str,
    ) -> list[RowOutcome]:
        """uploadContactAndAddCallback for (row, record) pairs; one outcome per pair, in order.

        The command is never re-sent after a lost answer (a re-send schedules a second callback and
        the person is called twice): its rows are rejected instead, with the reason, for a person to
        check in Ameyo before sending them again.
        """
        if not records:
            return []
        try:
            results = self.upload_contact_and_add_callback(campaign, lead, [record for _, record in records],
                                                           update_customer=update_customer)
        except DialerTransientError as error:
            reason = _unconfirmed_callback_reason(error)
            return [RowOutcome(row, RowStatus.REJECTED, field=time_field, reason=reason,
                               vendor_code="CALLBACK_UNCONFIRMED", payload=record.to_ameyo())  # sent
                    for row, record in records]
        reading = self.reading(CALLBACK_RESULT)
        return [mapping.callback_outcome(row, result, time_field=time_field, reading=reading,
                                         payload=record.to_ameyo())
                for (row, record), result in zip(records, results)]

    def _find_contact(self, campaign: int, ref: str) -> AmeyoContact:
        if ref.isdigit():
            found = self.get_contacts(campaign, customer_ids=[ref], other_columns=STATE_COLUMNS)
            if found:
                return found[0]
        identities = ("phone1", mapping.EXTERNAL_ID_COLUMN)
        contacts = self.iter_contacts(campaign, page_size=self.contacts_page_size,
                                      other_columns=STATE_COLUMNS)
        for contact in contacts:
            if ref in (contact.customer_data.get(column) for column in identities):
                return contact
        raise DialerRequestError(
            f"no customer {ref!r} in campaign {campaign} (looked up as customerId, phone1 and external_id)",
            vendor=self.vendor_name,
        )
