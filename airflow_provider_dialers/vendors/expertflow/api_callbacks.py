"""ECM's campaign contacts (*callbacks*): ``/umm/ecm/callback/...``, one method per endpoint."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from airflow_provider_dialers.common.responses import describe_body
from airflow_provider_dialers.errors import DialerRequestError, DialerResponseError
from airflow_provider_dialers.vendors.expertflow.client import EcmClient
from airflow_provider_dialers.vendors.expertflow.records import NewRows, ignored_filter, is_duplicate_answer
from airflow_provider_dialers.vendors.expertflow.wire import (
    CALLBACK,
    FIRST_PAGE,
    SUCCESS_STATUSES,
    VENDOR,
    CampaignId,
    DuplicateCallbacks,
    RequestState,
    bulk_caller_csv,
    callback_body,
    campaign_ref,
    without_none,
)


class CallbackEndpoints(EcmClient):
    """The campaign contact (callback) endpoints of
    :class:`~airflow_provider_dialers.vendors.expertflow.api.ExpertflowEcmApi` (mixed into it)."""

    def insert_callback(
        self,
        phone1: str,
        *,
        campaign_id: CampaignId | None = None,
        crm_campaign_id: str | None = None,
        other_phones: Sequence[str] = (),
        duplicate_callbacks: DuplicateCallbacks = "discard",
        dial_time: datetime | str | None = None,
        business_params: Mapping[int, str] | Sequence[str | None] = (),
    ) -> str:
        """Add one contact to a campaign (``POST /umm/ecm/callback/insertCallback``).

        ``other_phones`` become phone2..phone5 (4 to 15 characters each, "+" included);
        ``dial_time`` is when to dial, in the ECM server's local time (None: by the campaign's
        schedule); ``business_params`` are businessParam1..12 (a sequence, or a mapping from
        1..12), 255 characters at most. ``duplicate_callbacks="discard"`` (the default) makes ECM
        skip the contact when phone1 is already pending in the campaign. Returns ECM's
        ``statusString``; for a discarded duplicate, the server's sentence or the message of the 4xx
        it refused the duplicate with (either way it names the duplicate; reading ``ecm_discard_answer``).

        Retry-safe: yes with "discard" (a re-sent insert is discarded as a duplicate while the
        first is pending), no with "allow" (it would add the contact twice).
        """
        body = callback_body(phone1, campaign_id=campaign_id, crm_campaign_id=crm_campaign_id,
                             other_phones=other_phones, duplicate_callbacks=duplicate_callbacks,
                             dial_time=dial_time, business_params=business_params)
        return self._post_callback(body)[0]

    def _post_callback(self, body: Mapping[str, Any], *, resend_blindly: bool = True) -> tuple[str, bool]:
        """Send one insertCallback body; ECM's sentence, and whether the request was replayed (an
        earlier attempt the server may have processed was re-sent: see ``dialer_replayed``).

        :param resend_blindly: with "discard", re-send after an answer was lost (ECM discards the
            second while the first is pending). False: raise instead, for a caller that looks first.
        """
        path = f"{CALLBACK}/insertCallback"
        discard = body["duplicateCallbacks"] == "discard" and resend_blindly
        # The references show no answer to a discarded duplicate (reading ecm_discard_answer): a server
        # may answer a sentence, or refuse it with a 4xx naming it. With "discard" a 4xx is read here,
        # so that a duplicate (its message names it) is told from a refused row, raised as usual.
        expected = (*SUCCESS_STATUSES, *range(400, 500)) if body["duplicateCallbacks"] == "discard" \
            else SUCCESS_STATUSES
        response = self.request("POST", path, retry_safe=discard, json_body=dict(body), ok_statuses=expected)
        replayed = bool(getattr(response, "dialer_replayed", False))
        if response.status_code < 400:
            return self._message(response, f"POST {path}"), replayed
        code, message = self.parse_error(response)
        if not is_duplicate_answer(message):
            raise self.request_error(f"POST {path}", response.status_code, code, message)
        return message, replayed

    def upload_bulk_callers(
        self,
        contacts: Iterable[Mapping[str, Any]] | str | bytes,
        campaign_id: CampaignId | None = None,
        *,
        crm_campaign_id: str | None = None,
        filename: str = "contacts.csv",
    ) -> str:
        """Add many contacts to a campaign from a CSV file (``GET /umm/ecm/callback/uploadBulkCaller``).

        Sent as documented: a GET carrying a multipart body (the file, and ``campaignId`` or
        ``crmCampaignId`` as form fields). ``contacts``: mappings with the keys phone1..phone5,
        businessParam1..12 and dialTime, or a ready CSV in the documented column order
        (phone1..phone5, businessParam1..12, dialTime; no header). Returns ECM's confirmation.

        Retry-safe: no (a re-sent file adds every contact again).
        """
        content = contacts if isinstance(contacts, (str, bytes)) else bulk_caller_csv(contacts)
        return self._call_message(
            "GET",
            f"{CALLBACK}/uploadBulkCaller",
            retry_safe=False,
            data=campaign_ref(campaign_id, crm_campaign_id, id_key="campaignId"),
            files={"file": (filename, content, "text/csv")},
        )

    def get_callbacks(
        self,
        campaign_id: int | None = None,
        *,
        request_status: RequestState | int | None = None,
        page: int | None = None,
        max_results: int | None = None,
        number_to_call: str | None = None,
        phone1: str | None = None,
        phone2: str | None = None,
        phone3: str | None = None,
        phone4: str | None = None,
        phone5: str | None = None,
    ) -> dict[str, Any]:
        """One page of campaign contacts and their states (``GET /umm/ecm/callback/getList``).

        Filters: ``requestStatus``, ``campaignId``, ``numberToCall``, ``phone1``..``phone5``, with
        ``max`` (page size; the server's default when None). ``page`` is the page's index from 0
        (:data:`FIRST_PAGE`) whatever the server's numbering, which the reference does not give
        (reading ``ecm_page_base``): it is learnt from the server's answers (see :meth:`_get_page`).
        Returns ``{"callbackData": [...], "total": N}`` where ``total`` counts every contact
        matching the filters, whatever the page size. An answer holding a row that does not match
        the filters raises :class:`DialerResponseError` (the server ignored them).
        Retry-safe: yes (read).
        """
        filters = without_none(
            {
                "campaignId": campaign_id,
                "requestStatus": None if request_status is None else int(request_status),
                "max": max_results,
                "numberToCall": number_to_call,
                "phone1": phone1, "phone2": phone2, "phone3": phone3, "phone4": phone4, "phone5": phone5,
            }
        )
        if page is None:
            return self._get_list(filters)
        if page > FIRST_PAGE and self._page_base() is None:
            # A later page asked while the numbering is unknown: page 0 and page 1 of one row tell it
            # (a 400 to page 0, or the same row twice: from 1; two rows: from 0). Once per hook.
            probe = self._get_page(filters, FIRST_PAGE, 1)
            if self._page_base() is None:
                if probe["total"] < 2:  # one contact at most: every later page is empty, whatever the numbering
                    return {"callbackData": [], "total": probe["total"]}
                self._learn_page_base(probe["callbackData"], self._get_list({**filters, "max": 1, "page": 1}))
        return self._get_page(filters, page, max_results)

    def _page_base(self) -> int | None:
        """The number of the server's first page (0 or 1), or None while unknown (reading ``ecm_page_base``:
        the connection extra, else what this hook learnt)."""
        reading = self.reading("ecm_page_base")
        return None if reading is None else (0 if reading == "0" else 1)

    def _learn_page_base(self, first_rows: list[dict[str, Any]], second: dict[str, Any]) -> bool:
        """Learn the numbering from the answers to page 0 and page 1 (sent while it was unknown): the
        same rows twice means the server counts from 1 and reads 0 as 1. True when it does."""
        rows = second["callbackData"]
        if not rows:
            return False  # nothing to compare: still unknown
        repeated = {row.get("id") for row in rows} <= {row.get("id") for row in first_rows}
        self.learn("ecm_page_base", "1" if repeated else "0")
        return repeated

    def _get_page(self, filters: Mapping[str, Any], index: int, size: int | None) -> dict[str, Any]:
        """Page ``index`` (from 0) as the server numbers its pages.

        While the numbering is unknown, pages are sent as counted from 0 (so the first page is
        ``page=0``, which a server counting from 1 may also read as its page 1). A 400 to ``page=0``
        means the server counts from 1: learnt for this hook, and the page is asked again as 1.
        """
        base = self._page_base()
        params = {**filters, **without_none({"max": size}), "page": index + (base or 0)}
        try:
            return self._get_list(params)
        except DialerRequestError as exc:
            if base is not None or index != FIRST_PAGE or exc.status_code != 400:
                raise
        answer = self._get_list({**params, "page": 1})
        self.learn("ecm_page_base", "1")
        return answer

    def _get_list(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """One ``GET callback/getList`` with ``params``, checked."""
        path = f"{CALLBACK}/getList"
        # The reference lists getList's parameters under "Request Body" of a GET (reading
        # ecm_getlist_filters): they are sent both in the query string and as a JSON body with the
        # same values, so a server reading either place gets them. The connection extra can pick one
        # (e.g. "query" where a proxy refuses GET bodies).
        where = self.reading("ecm_getlist_filters")
        response = self.request("GET", path, retry_safe=True, params=None if where == "body" else dict(params),
                                json_body=None if where == "query" else dict(params))
        answer = self.decode(response, f"GET {path}", dict)
        if isinstance(answer.get("total"), str) and answer["total"].strip().isdigit():
            answer["total"] = int(answer["total"])  # "total" is not typed by the reference: "5" is 5
        if not isinstance(answer.get("callbackData"), list) or not isinstance(answer.get("total"), int):
            raise DialerResponseError(
                f"GET {path}: expected callbackData and total but got {describe_body(response)}",
                vendor=VENDOR,
            )
        mismatch = ignored_filter(answer["callbackData"], params)
        if mismatch is not None:
            raise DialerResponseError(
                f"GET {path}: the server ignored the filters ({mismatch}); it may read them only from the query "
                "string or only from a body: set the connection extra readings.ecm_getlist_filters "
                "(docs/readings.md)",
                vendor=VENDOR,
            )
        return answer

    def count_callbacks(
        self,
        campaign_id: int | None = None,
        *,
        request_status: RequestState | int = RequestState.ALL,
    ) -> int:
        """How many contacts (of a campaign, in a state) there are: getList's ``total`` with ``max=1``.

        Retry-safe: yes (read).
        """
        first = self.get_callbacks(campaign_id, request_status=request_status, page=FIRST_PAGE, max_results=1)
        return first["total"]

    def iter_callbacks(
        self,
        campaign_id: int | None = None,
        *,
        request_status: RequestState | int | None = None,
        page_size: int = 500,
        start_index: int = FIRST_PAGE,
    ) -> Iterator[dict[str, Any]]:
        """Every matching contact once, fetched page by page with ``GET /umm/ecm/callback/getList``.

        ``start_index`` skips the pages before it (counted from 0) once the server's numbering is
        known; from the first page while it is not.

        The walk learns the server's page numbering on the way when it is unknown (reading
        ``ecm_page_base``: page 1 answering page 0's rows means pages count from 1), skips rows
        already given (by ``id``: a page can start with the previous page's last rows when contacts
        join the listing meanwhile; :class:`~.records.NewRows`) and stops at ``total``, or at a page
        with nothing new. One page is held at a time; nothing is requested before the first contact
        is asked for. Retry-safe: yes (reads).
        """
        filters = without_none({"campaignId": campaign_id,
                                "requestStatus": None if request_status is None else int(request_status)})
        index = start_index if self._page_base() is not None else FIRST_PAGE
        seen, new_rows = index * page_size, NewRows()
        first_rows: list[dict[str, Any]] = []
        while True:
            unknown_base = self._page_base() is None
            answer = self._get_page(filters, index, page_size)
            rows = answer["callbackData"]
            if unknown_base and index > FIRST_PAGE and self._learn_page_base(first_rows, answer):
                continue  # that was page 0 again: ask this page once more, now numbered from 1
            first_rows = rows if index == FIRST_PAGE and unknown_base else []
            fresh = new_rows(rows)
            yield from fresh
            seen += len(fresh)
            if not fresh or seen >= answer["total"]:
                return
            index += 1
