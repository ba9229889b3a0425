"""Ameyo's Customer Manager API: the connection, the command transport and one method per
documented command (``POST /ameyowebaccess/command``, form fields ``command`` and ``data``).

The vendor-neutral capabilities over these commands are in :mod:`.hook`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar, cast

import requests

from airflow_provider_dialers.common.hook import DialerHook
from airflow_provider_dialers.errors import (
    DialerAuthError,
    DialerError,
    DialerRequestError,
    DialerResponseError,
)
from airflow_provider_dialers.vendors.ameyo.auth import AmeyoSession, AmeyoSessionAuth, _utf8
from airflow_provider_dialers.vendors.ameyo.wire import (
    COMMAND_PATH,
    DEFAULT_TERMINAL,
    FORM_CONTENT_TYPE,
    LIMIT_OFFSET,
    READINGS,
    AmeyoCallback,
    AmeyoContact,
    AmeyoLead,
    AmeyoLoginInfo,
    AmeyoRecordResult,
    AmeyoSessionStatus,
    CommandAnswer,
    CustomerCallback,
    _bool,
    _callback,
    _contact,
    _int_or_none,
    _lead,
    _record_result,
    command_form,
    format_ameyo_time,
    is_rejection_status,
    is_session_error,
    limit_offset,
    other_columns_map,
    upload_contacts_data,
    vendor_error,
)

#: getContacts' criteria: :meth:`AmeyoApi.get_contacts`' parameter -> the command's field.
_CRITERIA = {"customer_ids": "customerIds", "lead_ids": "leadIds", "choose_enabled_leads": "chooseEnabledLeads",
             "other_columns": "otherColumns", "order_by": "orderBy"}


class AmeyoApi(DialerHook):
    """Ameyo's Customer Manager API (Ameyo IPCC, ``/ameyowebaccess/command``): the connection, the
    session and one method per documented command, each returning parsed answers.

    Connection: host = server base URL (``http://10.0.0.5:8888``), login = user id, password;
    extras ``terminal`` (login's terminal, default ``127.0.0.1``) and ``client_type`` (login's
    ``clientType``, optional).
    """

    conn_type = "ameyo"
    default_conn_name = "ameyo_default"
    hook_name = "Ameyo Customer Manager"
    vendor_name: ClassVar[str] = "Ameyo"
    api_root = "/ameyowebaccess"
    extra_fields: ClassVar[tuple[str, ...]] = ("verify", "timeout", "terminal", "client_type")
    known_readings: ClassVar[Mapping[str, tuple[str, ...]]] = READINGS

    @property
    def terminal(self) -> str:
        return str(self.extra("terminal", DEFAULT_TERMINAL))

    @property
    def client_type(self) -> str | None:
        value = self.extra("client_type")
        return None if value is None else str(value)

    def build_auth(self) -> AmeyoSessionAuth:
        return AmeyoSessionAuth(self)

    @property
    def auth(self) -> AmeyoSessionAuth:  # narrowed for type checkers
        return super().auth  # type: ignore[return-value]

    # -- transport -----------------------------------------------------------------------------
    def send_command(
        self, command: str, data: Mapping[str, Any], *, retry_safe: bool, authenticated: bool = True
    ) -> Any:
        """POST one command as a form (never in the query string) and decode its JSON answer.

        Returns the decoded body as is (``None`` for ``null``); :meth:`call` also checks it.
        """
        return self._exchange(command, data, retry_safe=retry_safe, authenticated=authenticated).body

    def call(self, command: str, data: Mapping[str, Any], *, retry_safe: bool) -> Any:
        """An authenticated command whose error bodies (HTTP 200) become DialerRequestError."""
        return self.call_answer(command, data, retry_safe=retry_safe).body

    def call_answer(self, command: str, data: Mapping[str, Any], *, retry_safe: bool) -> CommandAnswer:
        """:meth:`call`, also telling whether the command was re-sent after an attempt the server may
        have processed (``replayed``): a duplicate in such an answer can be that attempt's own record."""
        answer = self._exchange(command, data, retry_safe=retry_safe)
        error = vendor_error(answer.body)
        if error is not None:
            raise self.request_error(f"command={command}", 200, *error)
        return answer  # body never None: the auth treats a null answer as a lost session

    def _exchange(
        self, command: str, data: Mapping[str, Any], *, retry_safe: bool, authenticated: bool = True
    ) -> CommandAnswer:
        if authenticated and "sessionId" in data:
            raise DialerError("the session id of an authenticated command is the auth's to add",
                              vendor=self.vendor_name)
        response = self.request(
            "POST",
            COMMAND_PATH,
            retry_safe=retry_safe,
            authenticated=authenticated,
            data=command_form(command, data),
            headers={"Content-Type": FORM_CONTENT_TYPE},
        )
        # null is a documented answer here (a refused login); call() and the auth interpret it.
        body = self.parse_json(_utf8(response), f"command={command}", allow_null=True)
        return CommandAnswer(body, bool(getattr(response, "dialer_replayed", False)))

    def parse_error(self, response: requests.Response) -> tuple[str | None, str]:
        """Ameyo's ``{"result": "Failed.", "comment": [code, args...]}`` (or another documented error body)."""
        try:
            error = vendor_error(json.loads(_utf8(response).text))
        except ValueError:
            error = None
        return error if error is not None else super().parse_error(response)

    def _records(self, body: Any, command: str) -> list[Mapping[str, Any]]:
        """The record list of an answer: a bare list or ``{"beanResponse": [...]}``."""
        records = body.get("beanResponse") if isinstance(body, dict) else body
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise DialerResponseError(
                f"command={command}: expected a list of records, got {type(records).__name__}",
                vendor=self.vendor_name,
            )
        return records

    def _upload_results(self, body: Any, command: str, sent: int) -> list[AmeyoRecordResult]:
        records = self._records(body, command)
        if len(records) != sent:
            # The answer is positional: with a different count no row can be accounted for.
            raise DialerResponseError(
                f"command={command}: {len(records)} results for {sent} records sent; the upload was "
                "processed but its rows cannot be matched (check the campaign in Ameyo)",
                vendor=self.vendor_name,
            )
        return [_record_result(index, raw) for index, raw in enumerate(records)]

    # -- session commands ---------------------------------------------------------------------------
    def login(self) -> AmeyoLoginInfo:
        """``command=login``: log in (or reuse the live session) and return what the login said.

        The session id itself stays inside the auth and is masked everywhere.

        Retry-safe: yes (a repeated login only opens a session that times out unused).
        """
        credential, _ = self.auth.current()
        return cast(AmeyoSession, credential).info  # type: ignore[return-value]  # login() always sets it

    def ping_session(self) -> AmeyoSessionStatus:
        """``command=ping-session``: whether the session is alive, and the server's clock.

        A dead session is replaced first (one re-login), so this also keeps the session warm.

        Retry-safe: yes (read-only).
        """
        body = self.call("ping-session", {"sessionPushSeqNo": "0", "sessionpushseqno": "0"}, retry_safe=True)
        if not isinstance(body, dict) or "alive" not in body:
            raise DialerResponseError("command=ping-session: answer without 'alive'", vendor=self.vendor_name)
        millis = _int_or_none(body.get("serverTime"))
        server_time = datetime.fromtimestamp(millis / 1000, tz=timezone.utc) if millis is not None else None
        return AmeyoSessionStatus(alive=_bool(body["alive"]), server_time=server_time)

    def logout(self) -> bool:
        """``command=logout``: end the hook's session. True if a session was ended, False if there
        was none. The next command logs in again. (``close()`` logs out too, without raising.)

        Retry-safe: yes (a session already gone counts as ended).
        """
        credential = self.auth.take()
        if credential is None:
            return False
        self.end_session(credential.value)
        return True

    def end_session(self, session_id: str) -> None:
        """Send ``command=logout`` for ``session_id``, unauthenticated: logging in again only to log
        out would be absurd. A session the server no longer knows is already ended, however it says so
        (switch ``ameyo_dead_session_signal``: a 200 error body naming the session, 401, 403 or a
        redirect)."""
        try:
            body = self.send_command("logout", {"sessionId": session_id}, retry_safe=True, authenticated=False)
        except DialerRequestError as error:
            if error.status_code is not None and is_rejection_status(error.status_code):
                return
            raise
        error = vendor_error(body)
        if error is not None and not is_session_error(body):
            raise self.request_error("command=logout", 200, *error)

    # -- customers ----------------------------------------------------------------------------------
    def get_contacts(
        self,
        campaign_id: int,
        *,
        customer_ids: Iterable[int | str] | None = None,
        lead_ids: Iterable[int | str] | None = None,
        choose_enabled_leads: bool = False,
        other_columns: Mapping[str, str] | Iterable[str] | None = None,
        order_by: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[AmeyoContact]:
        """``command=getContacts``: the customers of a campaign matching the criteria.

        :param customer_ids: only these customers (default: all).
        :param lead_ids: only these leads; each must belong to the campaign
            (else ``CustomerManager.lead.not.in.camp.11``).
        :param choose_enabled_leads: only customers of enabled leads.
        :param other_columns: extra customer-table columns to return in ``extra_data``
            (``["status", "attempts"]`` or ``{"status": "STATUS"}``; see :func:`other_columns_map`).
        :param order_by: ``orderBy``, e.g. ``"customer_id"`` or ``"attempts DESC"``.
        :param limit: at most this many customers; ``offset`` skips the first ones (sent as
            ``limitOffset`` in the form the server reads: :meth:`_read_contacts`). A server that
            ignores ``limitOffset`` answers every customer: the window is then cut here.

        Retry-safe: yes (read-only).
        """
        data = self._contacts_query(campaign_id, {
            "customer_ids": customer_ids, "lead_ids": lead_ids, "choose_enabled_leads": choose_enabled_leads,
            "other_columns": other_columns, "order_by": order_by})
        contacts = self._read_contacts(data, limit, offset)
        if limit is not None and len(contacts) > limit:
            self.learn(LIMIT_OFFSET, "ignored")  # more than asked: the answer is the whole selection
        if self.reading(LIMIT_OFFSET) == "ignored" and (limit is not None or offset):
            contacts = contacts[offset:None if limit is None else offset + limit]
        return contacts

    @staticmethod
    def _contacts_query(campaign_id: int, criteria: Mapping[str, Any]) -> dict[str, Any]:
        """getContacts' ``data`` for :meth:`get_contacts`' criteria (by its parameter names), paging aside."""
        unknown = sorted(set(criteria) - set(_CRITERIA))
        if unknown:
            raise TypeError(f"getContacts has no criterion {', '.join(unknown)}")
        data: dict[str, Any] = {"campaignId": int(campaign_id),
                                "chooseEnabledLeads": bool(criteria.get("choose_enabled_leads"))}
        for name, value in criteria.items():
            if name == "other_columns" and value is not None:
                data["otherColumns"] = other_columns_map(value)
            elif name in ("customer_ids", "lead_ids") and value is not None:
                data[_CRITERIA[name]] = [str(item) for item in value]
            elif name == "order_by" and value:
                data["orderBy"] = value
        return data

    def _read_contacts(self, data: Mapping[str, Any], limit: int | None, offset: int) -> list[AmeyoContact]:
        """One getContacts command, paged by ``limitOffset`` in the form this server reads (switch
        ``ameyo_limit_offset``, whose form the reference does not give).

        Sent as ``LIMIT n OFFSET m`` (SQL's words, as PostgreSQL, Ameyo's database, reads them) until
        the server is known: a refusal is sent again once as MySQL's ``m,n``, and the form the server
        took is remembered for the hook's life (the connection extra ``readings`` may fix it). When
        both are refused, the refusal is not about paging: the first one is raised.
        """
        known = self.reading(LIMIT_OFFSET)
        form = known or "limit_n_offset_m"
        try:
            body = self._get_contacts_command(data, limit, offset, form)
        except DialerRequestError as refusal:
            if known or limit_offset(limit, offset) is None:
                raise
            try:
                form = "m_comma_n"
                body = self._get_contacts_command(data, limit, offset, form)
            except DialerRequestError:
                raise refusal from None
        contacts = [_contact(raw) for raw in self._records(body, "getContacts")]
        if not known and limit_offset(limit, offset) is not None:
            # More customers than asked for: the server ignores the field, whatever its form.
            self.learn(LIMIT_OFFSET, "ignored" if limit is not None and len(contacts) > limit else form)
        return contacts

    def _get_contacts_command(self, data: Mapping[str, Any], limit: int | None, offset: int, form: str) -> Any:
        paging = limit_offset(limit, offset, form)
        return self.call("getContacts", {**data, "limitOffset": paging} if paging else data, retry_safe=True)

    def iter_contacts(
        self, campaign_id: int, *, page_size: int = 500, **criteria: Any
    ) -> Iterator[AmeyoContact]:
        """All customers matching ``criteria`` (see :meth:`get_contacts`), each once, fetched
        ``page_size`` at a time ordered by ``customer_id`` so pages neither overlap nor skip.

        Each command asks for one customer more than the page keeps: that look-ahead customer says
        whether another page follows (it comes again as the next page's first). ``n`` customers
        thus cost ``ceil(n / page_size)`` commands (one when there are none), with no final empty
        page when ``n`` is a multiple of ``page_size``. Memory holds one page: a customer the next
        page repeats (its first ones, had the pages shifted) is dropped by the ids of the page before.

        A server that ignores ``limitOffset`` (switch ``ameyo_limit_offset``) answers every customer
        each time: an answer longer than asked, or a later page opening with the very first customer,
        says so. That answer is the whole selection: what it holds beyond the customers already read
        is yielded and the reading stops; later reads of this hook ask once, without paging.

        Retry-safe: yes (read-only).
        """
        query = self._contacts_query(campaign_id, {**criteria, "order_by": "customer_id"})
        previous: set[int] = set()  # the ids of the page before: the only ones a page can repeat
        first: int | None = None
        offset = 0
        while True:
            paged = self.reading(LIMIT_OFFSET) != "ignored"
            page = self._read_contacts(query, page_size + 1 if paged else None, offset if paged else 0)
            first = page[0].customer_id if first is None and page else first
            whole = not paged or self.reading(LIMIT_OFFSET) == "ignored" or len(page) > page_size + 1 or (
                offset > 0 and bool(page) and page[0].customer_id == first)
            if whole and paged:
                self.learn(LIMIT_OFFSET, "ignored")
            kept = page if whole else page[:page_size]
            yield from (contact for contact in kept if contact.customer_id not in previous)
            if whole or len(page) <= page_size:
                return
            previous = {contact.customer_id for contact in kept}
            offset += page_size

    def upload_customer_records(
        self,
        campaign_id: int,
        lead_id: int,
        customer_records: Sequence[Mapping[str, Any]],
        *,
        update_customer: bool = True,
        migrate_customer: bool = False,
        status: str | None = None,
        num_attempts: int | None = None,
    ) -> list[AmeyoRecordResult]:
        """``command=uploadContacts``: add customers to a lead; one result per record, in order.

        :param customer_records: column -> value maps (``phone1`` required; ``phone2``, ``name``...).
        :param update_customer: ``update.customer``: a record whose ``phone1`` already exists in the
            campaign updates that customer (UPDATED) instead of being refused (DUPLICATE_NOT_ADDED).
        :param migrate_customer: ``migrate.customer``: move an existing customer to ``lead_id``.
        :param status: ``Status`` to set (e.g. ``NOT_TRIED``). Left unset, new customers start
            NOT_TRIED and existing ones keep theirs; setting it on an update churns the customer
            (it is dialed again), so only set it on purpose.
        :param num_attempts: ``numAttempts`` to set along with ``status``.

        Per-record failures (invalid phone length, missing phone1, duplicates) are results, not
        errors; a whole-request refusal (lead not in campaign) raises DialerRequestError.

        Retry-safe: only with ``update_customer=True``: a re-send after a lost answer finds the
        rows by ``phone1`` and updates them (UPDATED) instead of duplicating them. Without it a
        re-send would report the rows of the lost attempt as DUPLICATE_NOT_ADDED, hiding that
        they were added, so it is not re-sent (:meth:`upload_contacts` re-sends it, reading such
        a duplicate in a replayed answer as the lost attempt's own row).
        """
        data = upload_contacts_data(campaign_id, lead_id, customer_records, update_customer=update_customer,
                                    migrate_customer=migrate_customer, status=status,
                                    num_attempts=num_attempts)
        results, _ = self._send_upload("uploadContacts", data, len(customer_records),
                                       retry_safe=update_customer)
        return results

    def _send_upload(
        self, command: str, data: Mapping[str, Any], sent: int, *, retry_safe: bool
    ) -> tuple[list[AmeyoRecordResult], bool]:
        """Send an upload command: its per-record results, and whether the answer is a replay's."""
        answer = self.call_answer(command, data, retry_safe=retry_safe)
        return self._upload_results(answer.body, command, sent), answer.replayed

    def upload_contact_and_add_callback(
        self,
        campaign_id: int,
        lead_id: int,
        records: Sequence[CustomerCallback],
        *,
        update_customer: bool = True,
        migrate_customer: bool = False,
        validity_time: datetime | str | None = None,
    ) -> list[AmeyoRecordResult]:
        """``command=uploadContactAndAddCallback``: upload (or update) customers and schedule a
        callback for each; one result per record, in order, with ``callback_id``/``callback_time``.

        :param validity_time: ``validityTime``: after it the customers are not dialed.

        Retry-safe: no (every send schedules the callbacks again, even when the customers are
        only updated).
        """
        data: dict[str, Any] = {
            "campaignId": int(campaign_id),
            "leadId": int(lead_id),
            "customerAndCallbackRecords": [record.to_ameyo() for record in records],
            "properties": {"update.customer": update_customer, "migrate.customer": migrate_customer},
        }
        if validity_time is not None:
            data["validityTime"] = format_ameyo_time(validity_time)
        body = self.call("uploadContactAndAddCallback", data, retry_safe=False)
        return self._upload_results(body, "uploadContactAndAddCallback", len(records))

    # -- leads and callbacks ---------------------------------------------------------------------
    def get_leads_for_campaign(self, campaign_id: int) -> list[AmeyoLead]:
        """``command=getLeadsForCampaign``: the campaign's leads with priority, enabled flag,
        ``maxAttempt`` and churn count.

        Retry-safe: yes (read-only).
        """
        body = self.call("getLeadsForCampaign", {"campaignId": int(campaign_id)}, retry_safe=True)
        return [_lead(raw) for raw in self._records(body, "getLeadsForCampaign")]

    def add_callback(
        self,
        campaign_id: int,
        callback_time: datetime | str,
        *,
        customer_id: int | None = None,
        phone: str | None = None,
        is_self_callback: bool = False,
        user_id: str | None = None,
        callback_handler_type: str | None = None,
    ) -> AmeyoCallback:
        """``command=addCallback``: schedule a callback for a customer (``customer_id``) and/or a
        number (``phone``; Ameyo's default is the customer's phone1).

        :param callback_time: when to call, server local time (``YYYY-MM-DD HH:MM:SS``).
        :param callback_handler_type: e.g. ``voice.campaign.callback.handler`` (default: none).

        Retry-safe: no (a re-send schedules a second callback: the customer would be called twice).
        """
        targets = (("customerId", customer_id), ("phone", phone))
        properties = {key: str(value) for key, value in targets if value}
        data: dict[str, Any] = {
            "campaignId": int(campaign_id),
            "callBackTime": format_ameyo_time(callback_time),
            "isSelfCallBack": is_self_callback,
            "callBackProperties": properties,
        }
        if user_id is not None:
            data["userId"] = user_id
        if callback_handler_type is not None:
            data["callBackHandlerType"] = callback_handler_type
        body = self.call("addCallback", data, retry_safe=False)
        records = self._records(body, "addCallback")
        if not records:
            raise DialerResponseError("command=addCallback: empty beanResponse", vendor=self.vendor_name)
        return _callback(records[0])

    # -- Test button ----------------------------------------------------------------------------------
    def _test_connection_call(self) -> str:
        info = self.login()
        if not self.ping_session().alive:
            raise DialerAuthError("the new session is not alive (ping-session)", vendor=self.vendor_name)
        return f"logged in as {info.user_id} ({info.user_type}); {len(info.campaigns)} campaigns"
