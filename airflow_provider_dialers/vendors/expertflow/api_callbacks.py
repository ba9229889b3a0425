"""ECM's campaign contacts (*callbacks*): ``/umm/ecm/callback/...``, one method per endpoint."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from airflow_provider_dialers.common.responses import describe_body
from airflow_provider_dialers.errors import DialerResponseError
from airflow_provider_dialers.vendors.expertflow.client import EcmClient
from airflow_provider_dialers.vendors.expertflow.wire import (
    CALLBACK,
    FIRST_PAGE,
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
        ``statusString``.

        Retry-safe: yes with "discard" (a re-sent insert is discarded as a duplicate while the
        first is pending), no with "allow" (it would add the contact twice).
        """
        body = callback_body(phone1, campaign_id=campaign_id, crm_campaign_id=crm_campaign_id,
                             other_phones=other_phones, duplicate_callbacks=duplicate_callbacks,
                             dial_time=dial_time, business_params=business_params)
        return self._post_callback(body)[0]

    def _post_callback(self, body: Mapping[str, Any]) -> tuple[str, bool]:
        """Send one insertCallback body; ECM's sentence, and whether the request was replayed (an
        earlier attempt the server may have processed was re-sent: see ``dialer_replayed``)."""
        path = f"{CALLBACK}/insertCallback"
        retry_safe = body["duplicateCallbacks"] == "discard"
        response = self.request("POST", path, retry_safe=retry_safe, json_body=dict(body))
        return self._message(response, f"POST {path}"), bool(getattr(response, "dialer_replayed", False))

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

        The reference lists the filters under "Request Body" of a GET; they are sent as query
        parameters (``max``, ``page`` from 0, ``requestStatus``, ``campaignId``, ``numberToCall``,
        ``phone1``..``phone5``). Returns ``{"callbackData": [...], "total": N}`` where ``total``
        counts every contact matching the filters, whatever the page size.
        Retry-safe: yes (read).
        """
        params = without_none(
            {
                "campaignId": campaign_id,
                "requestStatus": None if request_status is None else int(request_status),
                "page": page,
                "max": max_results,
                "numberToCall": number_to_call,
                "phone1": phone1, "phone2": phone2, "phone3": phone3, "phone4": phone4, "phone5": phone5,
            }
        )
        path = f"{CALLBACK}/getList"
        response = self.request("GET", path, retry_safe=True, params=params)
        answer = self.decode(response, f"GET {path}", dict)
        if not isinstance(answer.get("callbackData"), list) or not isinstance(answer.get("total"), int):
            raise DialerResponseError(
                f"GET {path}: expected callbackData and total but got {describe_body(response)}",
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
    ) -> Iterator[dict[str, Any]]:
        """Every matching contact, fetched page by page with ``GET /umm/ecm/callback/getList``.

        Retry-safe: yes (reads).
        """
        page, seen = FIRST_PAGE, 0
        while True:
            answer = self.get_callbacks(
                campaign_id, request_status=request_status, page=page, max_results=page_size
            )
            rows = answer["callbackData"]
            yield from rows
            seen += len(rows)
            if not rows or seen >= answer["total"]:
                return
            page += 1
