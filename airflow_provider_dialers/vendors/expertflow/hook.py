"""``ExpertflowEcmHook``: the vendor-neutral capabilities (``DialerCapabilities``) over ECM's API."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

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
from airflow_provider_dialers.contacts import Callback, Contact, ContactError
from airflow_provider_dialers.errors import (
    DialerConfigurationError,
    DialerRequestError,
    DialerResponseError,
    DialerTransientError,
)
from airflow_provider_dialers.vendors.expertflow.api import ExpertflowEcmApi
from airflow_provider_dialers.vendors.expertflow.bulk import BULK_BATCH_SIZE, SETTLE_SECONDS, BulkCallerLoad, FileRow
from airflow_provider_dialers.vendors.expertflow.records import (
    EcmContactMapping,
    callback_attempts,
    callback_state,
    contact_record,
    create_campaign_arguments,
    dnc_entries_by_number,
    dnc_number_key,
    dnc_numbers,
    ecm_id,
    insert_outcome,
    invalid,
    listed_number,
    state_listings,
    wanted_states,
)
from airflow_provider_dialers.vendors.expertflow.wire import (
    CAMPAIGN_REQUIRED_FIELDS,
    CONTACT_LOOKUP_PAGE,
    FIRST_PAGE,
    IN_FLIGHT_STATES,
    PHONE_FIELDS,
    PHONE_MAX_LENGTH,
    PHONE_MIN_LENGTH,
    TERMINAL_COUNT_ORDER,
    VENDOR,
    EcmCampaignContact,
    RequestState,
    bulk_caller_line,
    callback_body,
)

_Item = TypeVar("_Item", Contact, Callback)


class ExpertflowEcmHook(ExpertflowEcmApi):
    """Hook for ExpertFlow ECM, the *Expertflow Campaign Manager* of the UMM server (13.2, 13.3).

    ECM's words: a *campaign* is an ECM campaign linked to a Cisco UCCE/UCCX campaign (and
    optionally to a CRM campaign, ``crmCampaignId``); the people it calls are *campaign
    contacts*, which the API calls *callbacks*; a *call strategy* is an ordered list of
    *attempts* (which phone, which channel, what to do on busy / no answer); the *DNC* list holds
    numbers never to call; *preference settings* (13.3) configure the feed.

    Connection: host = UMM server URL (``https://umm.example.com``), login/password = ECM user,
    extra ``api_version`` = ``13.3`` (default) or ``13.2``; extra ``default_region`` (``US``): how DNC
    numbers written without a country code are read when compared (:attr:`default_region`).
    """

    #: The connection form for Airflow before 3.2, which reads it from these two methods (compat.py).
    get_connection_form_widgets, get_ui_field_behaviour = connection_form_methods(ExpertflowEcmApi.conn_type)

    #: insertCallback takes one contact per request; 25 keeps a batch's rows (sent one after the
    #: other) short while the upload engine runs several batches at once.
    upload_batch_size = 25
    #: Contacts per getList page when iter_contact_states walks a campaign (``max``; the reference
    #: gives no limit).
    contact_page_size = 500
    #: createCampaign's fields marked "(required)" in both references.
    required_campaign_fields = CAMPAIGN_REQUIRED_FIELDS
    #: Rows per uploadBulkCaller file when an upload loads files (``bulk``; from ``bulk_threshold`` rows).
    bulk_upload_size = BULK_BATCH_SIZE
    #: Seconds the rows of an answered file may take to be listed by getList (:mod:`.bulk`).
    bulk_settle_seconds = SETTLE_SECONDS
    #: ISO 3166 region (``"US"``) in which add_dnc / remove_dnc read numbers written without a country
    #: code, so every written form of a number is one number; DncOperator sets it from its own
    #: ``default_region``. None: the connection extra ``default_region``; without either, such
    #: numbers compare by their digits.
    default_region: str | None = None

    # -- capabilities (vendor-neutral; see capabilities.DialerCapabilities) ------------------------
    def list_campaigns(self) -> list[CampaignSummary]:
        """Every campaign: status "Running" (ECM "1") or "Paused" ("0")."""
        words = {"1": "Running", "0": "Paused"}
        return [
            CampaignSummary(id=str(c["id"]), name=str(c.get("name", "")),
                            status=words.get(str(c.get("status")), str(c.get("status"))),
                            running=str(c.get("status")) == "1")
            for c in self.get_campaigns()
        ]

    def create_campaign(self, spec: Mapping[str, Any]) -> str:
        """Create an ECM campaign from createCampaign's own fields (``name``, ``startTime``,
        ``endTime``, ``strategyId``, ``type``, ``ciscoCampaignId``, ``weekDays``, ``enabled``; optional
        ``description``, ``crmCampaignId``, ``smsTemplate``); checked before sending
        (:class:`DialerValidationError` names the field). Returns the new id.

        A create that may have been processed although its answer was lost is reconciled by name
        (the operator looks the name up before creating, so a same-named campaign is this one).
        """
        arguments = create_campaign_arguments(spec)
        try:
            campaign = self.create_ecm_campaign(**arguments)
        except DialerTransientError as exc:
            found = self.find_campaign(arguments["name"]) if exc.may_have_been_processed else None
            if found is None:
                raise
            self.log.warning("%s: the create's answer was lost; campaign %r exists as id %s",
                             VENDOR, arguments["name"], found)
            return found
        return str(campaign["id"])

    def find_campaign(self, name: str) -> str | None:
        """The id of the campaign named exactly ``name`` (``GET /umm/ecm/campaign``), or None.

        ECM does not require unique names: several campaigns of that name raise
        ``DialerValidationError("name")`` (which one was meant cannot be told).
        """
        ids = [str(c["id"]) for c in self.get_campaigns() if c.get("name") == name]
        if len(ids) > 1:
            raise invalid("name", f"{len(ids)} campaigns are named {name!r} (ids {', '.join(ids)}); "
                                  "name the campaign by its id")
        return ids[0] if ids else None

    def set_campaign_status(self, campaign_id: str, status: CampaignStatusWord) -> None:
        """``running`` resumes, ``paused`` pauses the campaign (13.2 ``campaign/resume|pause``,
        13.3 ``campaign/campaignUpdateStatus``)."""
        actions = {"running": self.resume_campaign, "paused": self.pause_campaign}
        if status not in actions:
            raise invalid("status", f"must be 'running' or 'paused', got {status!r}")
        actions[status](ecm_id(campaign_id))

    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """One ``insertCallback`` per contact, with ``duplicateCallbacks=discard``; with
        ``options.bulk``, one ``uploadBulkCaller`` file reconciled with ``getList`` (:mod:`.bulk`).

        ``options.on_duplicate="update"`` is not supported (ECM cannot change a campaign contact);
        ``options.attribute_map`` says which attribute goes to which businessParamN.
        """
        mapping = self._contact_mapping(options, "update contacts already in a campaign")
        items = [(row.row, row.contact) for row in rows]
        if options.bulk:
            return self._load_file(ecm_id(campaign_id), items, mapping, options)
        return self._insert_rows(ecm_id(campaign_id), items, mapping.campaign_contact, mapping, options)

    def bulk_batch_size(self, options: UploadOptions) -> int | None:
        """Rows per uploadBulkCaller file (:attr:`bulk_upload_size`); None with ``recontact_after``
        (a finished contact of the same phone is listed too, so a row could not be told from it)."""
        return None if options.recontact_after is not None else self.bulk_upload_size

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """One ``insertCallback`` per callback with ``dialTime`` = ``callback_at`` in the server's zone.

        A callback for a given ``agent`` is refused (field ``agent``): insertCallback has no agent field.
        """
        mapping = self._contact_mapping(options, "update callbacks already in a campaign")
        items = [(row.row, row.callback) for row in rows]
        return self._insert_rows(ecm_id(campaign_id), items, mapping.callback_contact, mapping, options)

    def list_dnc(self) -> set[str]:
        """Every number on the DNC list (``GET /umm/ecm/contact``), written as contact phones are."""
        return {listed_number(entry.get("primaryNumber")) for entry in self.list_dnc_contacts()}

    def add_dnc(self, numbers: Sequence[str]) -> DncResult:
        """``POST /umm/ecm/contact/save`` for each number not listed yet in any written form (one list
        read first; compared in E.164 with :meth:`dnc_region`): ``2125550101`` is ``already_present``
        when ``+12125550101`` is listed.

        The bulk uploadCsv is not used: it answers "File is uploading." (no per-number result) and
        a re-sent file would list every number twice.
        """
        wanted = dnc_numbers(numbers)  # refused before anything is read or sent
        region = self.dnc_region()
        listed = set(dnc_entries_by_number(self.list_dnc_contacts(), region))
        added: list[str] = []
        present: list[str] = []
        for number in wanted:
            key = dnc_number_key(number, region)
            (present if key in listed else added).append(number)
            listed.add(key)  # a second form of the same number in this call is present by then
        unconfirmed = [number for number in added if not self._save_dnc_number(number, region)]
        if unconfirmed:
            # Saved without the DNC object in the answer (13.2 documents none): one list read confirms them.
            listed_now = dnc_entries_by_number(self.list_dnc_contacts(), region)
            missing = [number for number in unconfirmed if dnc_number_key(number, region) not in listed_now]
            if missing:
                raise DialerResponseError(
                    "POST /umm/ecm/contact/save answered without the DNC contact, and a list read finds "
                    f"these numbers not on the DNC list: {', '.join(missing)}", vendor=VENDOR)
        return DncResult(added=added, already_present=present)

    def remove_dnc(self, numbers: Sequence[str]) -> DncResult:
        """``DELETE /umm/ecm/contact/delete?id=`` for every entry of each number, in every written form
        (ids from one list read; compared in E.164 with :meth:`dnc_region`)."""
        wanted = dnc_numbers(numbers)
        region = self.dnc_region()
        entries_by_number = dnc_entries_by_number(self.list_dnc_contacts(), region)
        gone: set[str] = set()
        removed: list[str] = []
        not_found: list[str] = []
        for number in wanted:
            key = dnc_number_key(number, region)
            entries = entries_by_number.pop(key, None)
            if entries is None and key not in gone:
                not_found.append(number)
                continue
            removed.append(number)
            gone.add(key)
            for entry in entries or ():
                self._delete_dnc_entry(entry["id"])
        return DncResult(removed=removed, not_found=not_found)

    def dnc_region(self) -> str | None:
        """The region DNC numbers are compared in: :attr:`default_region`, else the connection extra
        ``default_region`` (``"us"`` read as ``"US"``); one libphonenumber does not know is refused."""
        value = self.default_region or self.extra("default_region")
        if value is None or not str(value).strip():
            return None
        import phonenumbers  # loaded on use: its metadata is heavy

        code = str(value).strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise invalid("default_region", f"{value!r} is not an ISO 3166 region libphonenumber knows ('US', 'GB')")
        return code

    def set_global_emergency(self, enabled: bool) -> dict[str, Any]:
        """Not supported: ECM has no emergency-stop endpoint (GlobalEmergencyOperator emulates one
        by pausing the running campaigns)."""
        raise self.not_supported("toggle a global emergency",
                                 "ECM has no emergency-stop endpoint; pause the campaigns instead")

    def get_campaign_progress(self, campaign_id: str) -> CampaignProgress:
        """Is any contact of the campaign still in flight? Counted with ``callback/getList?max=1``
        (its ``total``), whatever the campaign's size: 2 requests while it runs (up to 5 when the
        first state asked is empty), 12 on the check that finds it complete (that one also brings
        the counts by outcome), 1 while it has no contacts.

        ECM keeps no campaign counters and getList filters on one ``requestStatus`` at a time, so:

        1. every contact (``requestStatus=-1``): none means not complete ("no contacts yet");
        2. the in-flight states (:data:`IN_FLIGHT_STATES`), one at a time, the state that had
           contacts on this hook's previous check first: the first with contacts proves the campaign
           incomplete and the others are not asked. ``pending`` is exact only when that state
           holds every contact; otherwise None (``detail`` gives the count seen);
        3. no in-flight state had contacts: the campaign is complete only if counting each
           terminal state (:data:`TERMINAL_COUNT_ORDER`) and then every contact again finds every
           contact terminal. Step 2 alone is not proof: contacts keep moving while the states are
           read one by one (Not Connected goes back to Pending for a retry), so a contact can leave
           a state not yet read for one already read. Terminal states are final, so terminal
           counts only grow: if their sum equals the total read after them, every contact was
           terminal at that last read. Otherwise the campaign stays incomplete until a later check.

        The counts by terminal state come back as ``outcomes`` (so completion costs no further
        :meth:`get_outcome_counts` call).
        """
        campaign = ecm_id(campaign_id)
        total = self.count_callbacks(campaign)
        if total == 0:
            return CampaignProgress(campaign_id=str(campaign_id), complete=False, total=0, pending=0,
                                    detail="no contacts yet")
        hints = self._in_flight_hints()
        previous = hints.get(campaign)
        for state in sorted(IN_FLIGHT_STATES, key=lambda candidate: candidate is not previous):
            count = self.count_callbacks(campaign, request_status=state)
            if count:
                hints[campaign] = state
                every_contact = count >= total  # >: contacts were added between the two reads
                return CampaignProgress(
                    campaign_id=str(campaign_id),
                    complete=False,
                    total=max(total, count),
                    pending=count if every_contact else None,
                    detail=f"in flight: {state.name} {count}" + (
                        "" if every_contact else " (the other in-flight states are not counted)"),
                )
        hints.pop(campaign, None)
        return self._settled_progress(str(campaign_id), campaign)

    def _settled_progress(self, campaign_id: str, ecm_campaign: int) -> CampaignProgress:
        """Step 3 of :meth:`get_campaign_progress`: each terminal state's count, then every contact
        (read last); complete when the terminal counts add up to every contact."""
        settled = {state: self.count_callbacks(ecm_campaign, request_status=state)
                   for state in TERMINAL_COUNT_ORDER}
        total = self.count_callbacks(ecm_campaign)
        settled_total = sum(settled.values())
        outcomes = {state.name: count for state, count in settled.items() if count}
        if total > 0 and settled_total == total:
            return CampaignProgress(campaign_id=campaign_id, complete=True, total=total, pending=0,
                                    outcomes=outcomes)
        if total == 0:
            detail = "no contacts yet"
        elif settled_total < total:
            detail = (f"{total - settled_total} of {total} contacts in no terminal state: they moved while "
                      "the states were counted, or are in a state the reference does not number")
        else:
            detail = (f"the terminal states count {settled_total} contacts but the campaign has {total}: "
                      "contacts changed state or were removed while counted")
        return CampaignProgress(campaign_id=campaign_id, complete=False, total=total,
                                pending=total - settled_total if settled_total <= total else None,
                                outcomes=outcomes, detail=detail)

    def _in_flight_hints(self) -> dict[int, RequestState]:
        """campaign id -> the in-flight state that had contacts on this hook's last progress check.

        A sensor or trigger keeps its hook between checks, so a running campaign costs one state
        count per check instead of up to four. Only an order: every state is still asked in turn.
        """
        hints = self.__dict__.get("_ecm_in_flight_hints")
        if hints is None:
            hints = self.__dict__["_ecm_in_flight_hints"] = {}
        return hints

    def get_outcome_counts(self, campaign_id: str) -> dict[str, int]:
        """How many contacts of the campaign are in each ``RequestState`` (its name -> count), for a
        final report: one ``callback/getList?max=1`` per state (10 requests). Retry-safe: yes (reads)."""
        campaign = ecm_id(campaign_id)
        return {state.name: self.count_callbacks(campaign, request_status=state)
                for state in RequestState if state is not RequestState.ALL}

    def get_contact_state(self, campaign_id: str, contact_ref: str) -> ContactState:
        """The state of the campaign contact with phone ``contact_ref`` (phone1, then phone2..phone5;
        the newest such contact) or, failing that, with ECM callback id ``contact_ref``.

        ``state`` is the ``RequestState`` name, ``attempts`` ECM's ``attemptNumber``, ``history``
        the contact's record as getList answers it (callResult, lastStatusUpdateTime, ...).
        A phone costs at most 5 requests; an id is looked up page by page through the campaign.
        """
        campaign = ecm_id(campaign_id)
        ref = str(contact_ref).strip()
        record = self._callback_by_phone(campaign, ref) or self._callback_by_id(campaign, ref)
        if record is None:
            raise DialerRequestError(
                f"campaign {campaign_id} has no contact with phone or callback id {ref!r}",
                vendor=VENDOR, status_code=404,
            )
        state, terminal = callback_state(record)
        return ContactState(ref, state, terminal, callback_attempts(record), dict(record))

    def iter_contact_states(self, campaign_id: str, states: Collection[str] | None = None) -> Iterator[ContactRecord]:
        """Every contact of the campaign, in any state or those whose state is in ``states``,
        streamed page by page from ``GET /umm/ecm/callback/getList`` (:meth:`iter_callbacks`).

        ``contact_ref`` is the callback id, ``phone`` its ``phone1``, ``state``/``terminal`` what
        :meth:`get_contact_state` reports (the ``RequestState`` name: ``PENDING``, ``NOT_CONNECTED``
        ...; ``states`` in any case), ``attempts`` its ``attemptNumber``, ``last_result`` its
        ``callResult`` by name (``NO_ANSWER``), ``last_change`` its ``lastStatusUpdateTime`` (else
        ``requestTime``) in UTC. ``external_id`` is None: ECM keeps none.

        Cost: 500 contacts a request (``max=500``), so **2 requests per 1,000 contacts** listed (the
        last page ends the walk: none is asked past ``total``), plus one once per hook on a server
        whose pages count from 1 while the hook has not learnt it (reading ``ecm_page_base``: a 400
        to page 0, or page 1 answering page 0's rows). Only the final states (``CONNECTED``,
        ``RETRIES_COMPLETED``, ``SMS_RESPONDED``, ``DNC_LISTED``) are filtered on the server
        (``requestStatus``; one walk each, at least 1 request each), so asking only for those costs
        2 per 1,000 contacts in them; any other ``states`` walks every contact and filters here. An
        empty ``states`` costs nothing. Nothing is requested before the first record is asked for,
        and one page is held at a time.

        While the campaign dials, each contact is listed once: the walk over every contact
        (``requestStatus=-1``) and the walks over final states only gain contacts, so no page moves
        forward past one; a contact a page repeats because contacts joined before it is dropped
        (:class:`~.records.NewRows`; memory flat while the server lists by ascending id). A contact
        that enters a filtered final state after its walk has passed it is not listed.
        Retry-safe: yes (reads).
        """
        campaign = ecm_id(campaign_id)
        wanted = wanted_states(states)
        return self._contact_records(campaign, wanted)

    def _contact_records(self, campaign_id: int, wanted: frozenset[RequestState] | None) -> Iterator[ContactRecord]:
        names = None if wanted is None else {state.name for state in wanted}
        server_timezone = self.server_timezone
        for request_status in state_listings(wanted):
            for callback in self.iter_callbacks(campaign_id, request_status=request_status,
                                                page_size=self.contact_page_size):
                record = contact_record(callback, server_timezone)
                if names is None or record.state in names:
                    yield record

    # -- capability helpers -----------------------------------------------------------------------
    def check_upload(self, campaign_id: str, options: UploadOptions, attributes: Collection[str]) -> None:
        """Refuse, before the first request, attributes ECM has no field for: ECM keeps custom data
        only in businessParam1..12, so each attribute needs a slot in ``attribute_map`` (a
        configuration error, never 300 row rejections after sending)."""
        mapping = self._contact_mapping(options, "upload contacts")
        unstorable = mapping.unstorable(attributes)
        if unstorable:
            free = sorted(set(range(1, 13)) - set(mapping.attribute_numbers.values()))
            suggestion = ", ".join(f"'{name}': 'businessParam{number}'" for name, number in zip(unstorable, free))
            raise DialerConfigurationError(
                f"the rows carry attributes ECM has no field for: {unstorable}. ECM keeps custom data only "
                f"in businessParam1..12: map them, e.g. attribute_map={{{suggestion}}}, or drop the columns "
                "with field_map={'<column>': None}. Nothing was sent.", vendor=self.vendor_name)

    def _contact_mapping(self, options: UploadOptions, update_capability: str) -> EcmContactMapping:
        """The mapping for one upload; refuses what cannot be done before anything is sent."""
        if options.on_duplicate == "update":
            raise self.not_supported(
                f"{update_capability} (on_duplicate='update')",
                "insertCallback only adds a contact or discards a duplicate, and ECM has no endpoint that "
                "changes a campaign contact; use on_duplicate='skip'",
            )
        try:
            return EcmContactMapping(options.attribute_map, self.server_timezone)
        except ContactError as exc:
            raise invalid(exc.field, exc.reason) from None

    def _insert_rows(
        self,
        campaign_id: int,
        items: Sequence[tuple[int, _Item]],
        to_campaign_contact: Callable[[_Item], EcmCampaignContact],
        mapping: EcmContactMapping,
        options: UploadOptions,
    ) -> list[RowOutcome]:
        """One outcome per ``(row, contact or callback)``: rows the mapping refuses are not sent; the
        others go one by one."""
        outcomes = []
        for row, item in items:
            try:
                contact = to_campaign_contact(item)
            except ContactError as exc:
                outcomes.append(RowOutcome.rejected(row, exc.field, exc.reason))
                continue
            outcomes.append(self._insert_row(campaign_id, row, contact, mapping, dry_run=options.dry_run))
        return outcomes

    def _load_file(self, campaign_id: int, items: Sequence[tuple[int, Contact]], mapping: EcmContactMapping,
                   options: UploadOptions) -> list[RowOutcome]:
        """The batch as one uploadBulkCaller file; rows the mapping refuses are not sent, rows a comma
        split would misread and second rows of a phone go through insertCallback."""
        outcomes: list[RowOutcome] = []
        in_file: list[FileRow] = []
        one_by_one: list[FileRow] = []
        keys: set[str] = set()
        for row, item in items:
            try:
                contact = mapping.campaign_contact(item)
            except ContactError as exc:
                outcomes.append(RowOutcome.rejected(row, exc.field, exc.reason))
                continue
            file_row = FileRow(row, contact, bulk_caller_line(contact) or "")
            (in_file if file_row.line and file_row.key not in keys else one_by_one).append(file_row)
            keys.add(file_row.key)

        def insert_each(rows: Sequence[FileRow]) -> list[RowOutcome]:
            return [self._insert_row(campaign_id, r.row, r.contact, mapping, dry_run=options.dry_run) for r in rows]

        load = BulkCallerLoad(self, campaign_id, insert_each, page_size=self.contact_page_size,
                              settle_seconds=self.bulk_settle_seconds)
        if options.dry_run:
            outcomes += [RowOutcome(r.row, RowStatus.ACCEPTED, payload=load.payload(r)) for r in in_file]
        elif in_file:
            outcomes += load.load(in_file)
        return outcomes + insert_each(one_by_one)

    def _insert_row(
        self,
        campaign_id: int,
        row: int,
        contact: EcmCampaignContact,
        mapping: EcmContactMapping,
        *,
        dry_run: bool,
    ) -> RowOutcome:
        # "discard" is ECM's dedupe: a re-sent row whose phone1 is still Pending is not added twice.
        body = callback_body(contact.phones[0], campaign_id=campaign_id, crm_campaign_id=None,
                             other_phones=contact.phones[1:], duplicate_callbacks="discard",
                             dial_time=contact.dial_time, business_params=contact.business_params)
        if dry_run:
            return RowOutcome(row, RowStatus.ACCEPTED, payload=body)
        try:
            answer, replayed = self._insert_looking_first(campaign_id, body)
        except DialerRequestError as exc:
            # A 4xx refuses this row's data; 404 (unknown campaign) and 5xx concern the whole upload.
            if exc.status_code is None or not 400 <= exc.status_code < 500 or exc.status_code == 404:
                raise
            refused = mapping.refusal_outcome(row, exc.vendor_code, exc.vendor_message or str(exc))
            return replace(refused, payload=body)  # it was sent: the dialer refused it
        return insert_outcome(row, answer, replayed=replayed, payload=body)

    def _insert_looking_first(self, campaign_id: int, body: Mapping[str, Any]) -> tuple[str, bool]:
        """insertCallback for an upload row, never re-sent blindly after a lost answer: ECM's "discard"
        covers only contacts still pending, and a dialling campaign may have called the lost attempt's
        contact since, so a blind re-send would store it again. The campaign is looked up by phone
        first (the upload sends a row only when the campaign did not hold its phone before, so a
        contact found now is the lost attempt's own)."""
        lost = 0
        while True:
            try:
                return self._post_callback(body, resend_blindly=False)
            except DialerTransientError as exc:
                lost += 1
                if not exc.may_have_been_processed or lost >= self.retry_policy.max_attempts:
                    raise
            if self._callback_by_phone(campaign_id, str(body["phone1"])) is not None:
                return "callback data saved (found in the campaign after the answer was lost)", True
            self.log.info("%s: insertCallback's answer was lost and the contact is not in campaign %s: "
                          "sending it again", self.vendor_name, campaign_id)

    def _save_dnc_number(self, number: str, region: str | None) -> bool:
        """Save ``number`` on the DNC list; False when the answer held no DNC contact to prove it."""
        try:
            return self.add_dnc_contact(number) is not None
        except DialerTransientError as exc:
            # contact/save has no dedupe key, so it is never re-sent blindly: look whether it landed.
            if not exc.may_have_been_processed or dnc_number_key(number, region) not in dnc_entries_by_number(
                    self.list_dnc_contacts(), region):
                raise
            return True

    def _delete_dnc_entry(self, dnc_id: int) -> None:
        try:
            self.delete_dnc_contact(dnc_id)
        except DialerRequestError as exc:
            if exc.status_code != 404:  # 404: already gone (e.g. a replayed delete), which is the goal
                raise

    def _callback_by_phone(self, campaign_id: int, phone: str) -> dict[str, Any] | None:
        if not PHONE_MIN_LENGTH <= len(phone) <= PHONE_MAX_LENGTH:
            return None
        for phone_field in PHONE_FIELDS:
            answer = self.get_callbacks(campaign_id, request_status=RequestState.ALL, page=FIRST_PAGE,
                                        max_results=CONTACT_LOOKUP_PAGE, **{phone_field: phone})
            found = answer["callbackData"]
            if found:  # the same phone uploaded again later: the newest contact is the one in play
                return max(found, key=lambda callback: int(callback.get("id") or 0))
        return None

    def _callback_by_id(self, campaign_id: int, ref: str) -> dict[str, Any] | None:
        if not ref.isdigit():
            return None
        return next((c for c in self.iter_callbacks(campaign_id, request_status=RequestState.ALL)
                     if str(c.get("id")) == ref), None)
