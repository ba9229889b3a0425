"""Sinch OBI hook: the vendor-neutral capabilities over the OBI's endpoints.

Vendor vocabulary: a *campaign* runs on a *dialer* and routes calls to a *queue*; the people it
calls are *customers* (``externalId``, up to three ``numbers``, ``attributes``); a customer's
``result`` is its outcome in the campaign (``SUCCESS``, ``REFUSAL``, ``MAXCALLS`` ...), the last
call's outcome is its ``callResult``, and ``classifier`` is the agent's wrap-up classification.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
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
from airflow_provider_dialers.contacts import ContactError, PhoneOptions, normalise_phone
from airflow_provider_dialers.errors import DialerRequestError, DialerValidationError
from airflow_provider_dialers.vendors.sinch.api import SinchObiApi
from airflow_provider_dialers.vendors.sinch.records import (
    RecentIds,
    campaign_progress,
    contact_record,
    contact_state,
    customer_from_callback,
    customer_from_contact,
    duplicate_in_batch,
    finished_before,
    not_handled_scope_of,
    outcome_from_item,
    result_searches,
    wanted_states,
)
from airflow_provider_dialers.vendors.sinch.wire import (
    CAMPAIGN_STATUS_BY_WORD,
    DEFAULT_PAGE_SIZE,
    GUID,
    NOT_HANDLED_SCOPE,
    RECOMMENDED_LIST_SIZE,
    CustomerItemResult,
)

_Item = TypeVar("_Item")  # a contact or a callback, as mapped by records.py


class SinchObiHook(SinchObiApi):
    """Sinch Contact Center's Restful Outbound Campaign Interface (OBI) v1.

    Sinch calls the things this hook manages *campaigns* (outbound campaigns on a *dialer*,
    status ``Active``/``Passive``/``Handled`` ...) and *customers* (the people a campaign calls).
    The connection's host is the server's base URL; the hook appends ``/RI/obi/...``. Login and
    password are the API user's; the ``api_key`` extra, when set, is sent as ``x-api-key``.
    The raw endpoints are :class:`~airflow_provider_dialers.vendors.sinch.api.SinchObiApi`'s.
    """

    #: The connection form for Airflow before 3.2, which reads it from these two methods (compat.py).
    get_connection_form_widgets, get_ui_field_behaviour = connection_form_methods(SinchObiApi.conn_type)

    upload_batch_size: ClassVar[int] = RECOMMENDED_LIST_SIZE

    # -- capabilities (the vendor-neutral interface of capabilities.DialerCapabilities) -------------
    def create_campaign(self, spec: Mapping[str, Any]) -> str:
        """Not supported: the OBI can list, read, update and start/stop campaigns, not create them."""
        raise self.not_supported(
            "create campaigns",
            "the OBI has no endpoint that creates one (only list, read, update and status); create the "
            "campaign in Sinch Contact Center and pass its id",
        )

    def find_campaign(self, name: str) -> str | None:
        """The id of the campaign named exactly ``name``, or None (one ``GET /campaigns``).

        The OBI's name search ignores case and reads ``*`` and ``?`` as patterns, so its answer is
        narrowed to the exact name here. Two campaigns of that name raise DialerValidationError.
        """
        found = [c["id"] for c in self.get_campaigns(filters={"name": name}) if c.get("name") == name]
        if len(found) > 1:
            raise DialerValidationError(
                "name", f"{len(found)} campaigns are called {name!r} ({', '.join(found)}); use an id",
                vendor=self.vendor_name,
            )
        return found[0] if found else None

    def set_campaign_status(self, campaign_id: str, status: CampaignStatusWord) -> None:
        """``running`` sets the campaign ``Active``, ``paused`` sets it ``Passive``."""
        if status not in CAMPAIGN_STATUS_BY_WORD:
            raise DialerValidationError(
                "status", f"must be one of {sorted(CAMPAIGN_STATUS_BY_WORD)}, got {status!r}", vendor=self.vendor_name
            )
        self.update_campaign_status(campaign_id, CAMPAIGN_STATUS_BY_WORD[status])

    def list_campaigns(self) -> list[CampaignSummary]:
        """Every campaign the API user sees (status: Active, Passive, Handled...; Active dials)."""
        return [
            CampaignSummary(id=c["id"], name=c.get("name", ""), status=c.get("status", ""),
                            running=c.get("status") == "Active")
            for c in self.get_campaigns()
        ]

    def upload_contacts(
        self, campaign_id: str, rows: Sequence[ContactRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Add one batch of contacts as customers (``POST .../customers/list``), one outcome per row.

        Retry-safe: every customer carries an ``externalId`` (the contact's, or one derived from the
        row), so a re-sent batch is answered "not unique" instead of adding anyone twice.

        With ``options.recontact_after``, a row refused as "not unique" whose customer the dialer
        finished with longer ago than that is loaded again (:meth:`_recontact`): the OBI keeps an
        ``externalId`` unique in the campaign and has no endpoint that changes a customer, so the
        finished customer is deleted and the row added again (accepted, with the new id).
        """
        self._refuse_update(options)
        return self._add_mapped_rows(campaign_id, [(r.row, r.contact) for r in rows], customer_from_contact,
                                     options, time_field="dial_at", recontact=True)

    def add_callbacks(
        self, campaign_id: str, rows: Sequence[CallbackRow], *, options: UploadOptions
    ) -> list[RowOutcome]:
        """Add one batch of callbacks as customers whose ``date`` is the callback time and
        ``agentId`` the agent. The OBI cannot reschedule a customer it already has: a callback for
        one (same ``externalId``) is a duplicate. Retry-safe as :meth:`upload_contacts`."""
        self._refuse_update(options)
        return self._add_mapped_rows(campaign_id, [(r.row, r.callback) for r in rows], customer_from_callback,
                                     options, time_field="callback_at")

    def add_dnc(self, numbers: Sequence[str]) -> DncResult:
        """Not supported: the OBI has no do-not-call list."""
        raise self._no_dnc("manage a DNC list")

    def remove_dnc(self, numbers: Sequence[str]) -> DncResult:
        """Not supported: the OBI has no do-not-call list."""
        raise self._no_dnc("manage a DNC list")

    def list_dnc(self) -> set[str]:
        """Not supported: the OBI has no do-not-call list."""
        raise self._no_dnc("read a DNC list")

    def set_global_emergency(self, enabled: bool) -> dict[str, Any]:
        """Not supported natively: the OBI only sets each campaign's status (Active/Passive)."""
        raise self.not_supported(
            "toggle a global emergency", "the OBI has no global emergency stop, only each campaign's status"
        )

    def get_campaign_progress(self, campaign_id: str) -> CampaignProgress:
        """Counters of ``GET /campaigns/{id}`` and the outcomes of ``customerResultStatistics``:
        two requests whatever the campaign's size. "Complete" is defined in
        :func:`~airflow_provider_dialers.vendors.sinch.records.campaign_progress`."""
        campaign = self.get_campaign(campaign_id)
        scope = self.reading(NOT_HANDLED_SCOPE)
        if scope is None:  # told by the counters once a campaign has MAXCALLS or filtered customers
            scope = not_handled_scope_of(campaign)
            if scope is not None:
                self.learn(NOT_HANDLED_SCOPE, scope)
        return campaign_progress(campaign_id, campaign, self.get_customer_result_statistics(campaign_id),
                                 not_handled_scope=scope)

    def get_contact_state(self, campaign_id: str, contact_ref: str) -> ContactState:
        """A customer's ``result`` (terminal or not), ``callCount`` and last call, found by
        ``externalId``, else by customer id, else by phone number (1-3 requests)."""
        ref = str(contact_ref).strip()
        if not ref:
            raise DialerValidationError("contact_ref", "is empty", vendor=self.vendor_name)
        for lookup in (self._customer_by_external_id, self._customer_by_id, self._customer_by_number):
            customer = lookup(campaign_id, ref)
            if customer is not None:
                return contact_state(ref, customer)
        raise DialerRequestError(
            f"campaign {campaign_id} has no customer with externalId, id or number {ref!r}",
            vendor=self.vendor_name, status_code=404,
        )

    def iter_contact_states(self, campaign_id: str, states: Collection[str] | None = None) -> Iterator[ContactRecord]:
        """Every customer of the campaign, in any state or those whose state is in ``states``,
        streamed page by page from ``GET /campaigns/{id}/customers`` (offset/limit).

        ``state`` and ``terminal`` are those :meth:`get_contact_state` reports (``NOT_HANDLED``,
        ``DIALING``, ``SUCCESS``, ``MAXCALLS`` ...; ``states`` in any case, ``""`` meaning
        ``NOT_HANDLED``); ``contact_ref`` is the customer id, ``external_id`` its ``externalId``,
        ``phone`` the first of its ``numbers``, ``attempts`` its ``callCount``, ``last_result`` its
        ``callResult`` and ``last_change`` its ``modificationDate`` (ISO 8601, UTC).

        Cost: 100 customers a request (the reference's default ``limit``), so **10 requests per
        1,000 customers** listed, plus one when the count is a multiple of 100; **20** on a server
        that caps pages at 50 (``sinch_page_limit`` ``capped``, plus one request the first time, which
        learns the cap). Only ``SUCCESS``/``REFUSAL`` are searched on the server (``result=``; one
        listing each), so asking only for those costs 10 per 1,000 customers in them; any other
        ``states`` lists the whole campaign and filters here. Nothing is requested until the first
        record is asked for, and one page is held at a time.

        While the campaign dials, each customer is listed once: the whole listing's members do not
        change with their state (a state search is used only for results no customer leaves), and a
        customer listed twice because others joined before the offset between two requests is
        dropped (the last 1,000 ids are remembered). The reference names no sort order: a customer
        deleted during the listing can make the next page skip one.

        Retry-safe: yes (read-only).
        """
        wanted = wanted_states(states)
        if wanted is not None and not wanted:
            return
        recent = RecentIds()
        for search in result_searches(wanted):
            for customer in self.iter_customers(campaign_id, page_size=DEFAULT_PAGE_SIZE, filters=search):
                if not recent.first_sighting(str(customer.get("id"))):
                    continue
                record = contact_record(customer)
                if wanted is None or record.state.upper() in wanted:
                    yield record

    # -- capability helpers ---------------------------------------------------------------------------
    def _refuse_update(self, options: UploadOptions) -> None:
        if options.on_duplicate == "update":
            raise self.not_supported(
                "update customers it already has (on_duplicate='update')",
                "the OBI has no endpoint that changes a customer (only add, read and delete); use 'skip'",
            )

    def _no_dnc(self, capability: str) -> Exception:
        return self.not_supported(capability, "the OBI has no do-not-call endpoints (campaigns, customers and "
                                              "statistics only)")

    def _add_mapped_rows(
        self,
        campaign_id: str,
        rows: Sequence[tuple[int, _Item]],
        to_customer: Callable[[_Item], dict[str, Any]],
        options: UploadOptions,
        *,
        time_field: str,
        recontact: bool = False,
    ) -> list[RowOutcome]:
        """Map each row, send the valid ones in one request (none in a dry run), account for all.

        Rows that fail the mapping are rejected unsent; a row repeating an earlier row's
        ``externalId`` is a duplicate unsent (in a replayed request the OBI's "not unique" for it
        would be indistinguishable from the first attempt's own customer).
        """
        outcomes: list[RowOutcome | None] = [None] * len(rows)
        to_send: list[tuple[int, int, dict[str, Any]]] = []  # (position, row, customer)
        first_row_by_key: dict[str, int] = {}
        for position, (row, item) in enumerate(rows):
            try:
                customer = to_customer(item)
            except ContactError as exc:
                outcomes[position] = RowOutcome.rejected(row, exc.field, exc.reason)
                continue
            key = customer["externalId"]
            if key in first_row_by_key:
                outcomes[position] = duplicate_in_batch(row, key, first_row_by_key[key])
                continue
            first_row_by_key[key] = row
            to_send.append((position, row, customer))
        for position, outcome in self._send_customers(campaign_id, to_send, options, time_field, recontact):
            outcomes[position] = outcome
        return [outcome for outcome in outcomes if outcome is not None]

    def _send_customers(
        self, campaign_id: str, to_send: list[tuple[int, int, dict[str, Any]]], options: UploadOptions,
        time_field: str, recontact: bool = False,
    ) -> Iterator[tuple[int, RowOutcome]]:
        """(position, outcome) of each customer sent, or accepted with its payload in a dry run;
        with ``recontact`` (contacts, not callbacks) and ``options.recontact_after``, the "not unique"
        ones go through :meth:`_recontact`."""
        if options.dry_run or not to_send:
            for position, row, customer in to_send:
                yield position, RowOutcome(row, RowStatus.ACCEPTED, payload=customer)
            return
        after = options.recontact_after if recontact else None
        # The mapping's customers are in the OBI's shape already: sent without normalising them again.
        result = self._add_customer_bodies(campaign_id, [customer for _, _, customer in to_send])
        refused: list[tuple[int, int, dict[str, Any], CustomerItemResult]] = []
        for (position, row, customer), item in zip(to_send, result.items):
            if after is not None and item.duplicate:
                refused.append((position, row, customer, item))
                continue
            yield position, outcome_from_item(row, item, replayed=result.replayed, payload=customer,
                                              time_field=time_field)
        if refused and after is not None:
            yield from self._recontact(campaign_id, refused, pendulum.now("UTC") - after, replayed=result.replayed)

    def _recontact(
        self, campaign_id: str, refused: list[tuple[int, int, dict[str, Any], CustomerItemResult]],
        cutoff: pendulum.DateTime, *, replayed: bool,
    ) -> Iterator[tuple[int, RowOutcome]]:
        """Load again the rows refused as "not unique" whose customer the dialer finished with before
        ``cutoff`` (``recontact_after``): ``DELETE .../customers/{customerId}``, then the rows are
        added again in one ``POST .../customers/list``. Any other refused row keeps its outcome
        (a duplicate; in a replayed answer, the lost attempt's own customer, accepted).

        Cost: one ``GET .../customers?externalId=`` per refused row, one DELETE per customer loaded
        again, one POST for them all. Exactly once: the DELETE is by id (a re-sent one answers 404,
        taken as done) and the add carries the ``externalId`` (a re-sent one answers "not unique" for
        this very customer, accepted). A task that dies between the two leaves the row unheld, so its
        retry adds it; one that dies after both finds the new customer pending, a duplicate.

        :param refused: (position, row, customer sent, its item of the first answer).
        :param cutoff: customers last changed before this time may be loaded again.
        :param replayed: the first answer was to a re-sent request.
        """
        again: list[tuple[int, int, dict[str, Any]]] = []
        for position, row, customer, item in refused:
            held = self._customer_by_external_id(campaign_id, customer["externalId"])
            if held is not None and not finished_before(held, cutoff):
                yield position, outcome_from_item(row, item, replayed=replayed, payload=customer)
                continue
            if held is not None:
                self.delete_customer(campaign_id, str(held["id"]), missing_ok=True)
                self.log.info("Customer %s (externalId %s) was finished before %s: deleted, to be loaded again",
                              held["id"], customer["externalId"], cutoff.isoformat())
            again.append((position, row, customer))
        if not again:
            return
        result = self._add_customer_bodies(campaign_id, [customer for _, _, customer in again])
        for (position, row, customer), item in zip(again, result.items):
            yield position, outcome_from_item(row, item, replayed=result.replayed, payload=customer)

    def _customer_by_external_id(self, campaign_id: str, ref: str) -> dict[str, Any] | None:
        # The search ignores case and reads * and ? as patterns: keep the exact match only.
        matches = self.iter_customers(campaign_id, filters={"externalId": ref})
        return next((c for c in matches if c.get("externalId") == ref), None)

    def _customer_by_id(self, campaign_id: str, ref: str) -> dict[str, Any] | None:
        if not GUID.fullmatch(ref):
            return None
        try:
            return self.get_customer(campaign_id, ref)
        except DialerRequestError as exc:
            if exc.status_code == 404:
                return None
            raise

    def _customer_by_number(self, campaign_id: str, ref: str) -> dict[str, Any] | None:
        try:
            number = normalise_phone(ref, "contact_ref", PhoneOptions())
        except ContactError:
            return None
        candidates = self.iter_customers(campaign_id, filters={"numbers": f"*{number}*"})
        found = [c for c in candidates if number in str(c.get("numbers", "")).split(";")]
        if len(found) > 1:
            raise DialerValidationError(
                "contact_ref", f"{len(found)} customers have number {number}; use an externalId or customer id",
                vendor=self.vendor_name,
            )
        return found[0] if found else None

