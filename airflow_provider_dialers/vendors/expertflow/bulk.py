"""ECM bulk loads: a batch of contacts as one ``callback/uploadBulkCaller`` file, every row reconciled.

uploadBulkCaller answers one sentence for the whole file ("File is uploaded") and has no duplicate
check, so the file alone would give no row its outcome and a re-sent file would add every contact
again. Here every row of the file is looked up afterwards in ``callback/getList`` by its phone1 (the
upload sends a row only when the campaign did not hold its phone before, so a contact found is this
row's): found rows are accepted with ECM's callback id; after a lost answer only the rows not found
are sent again; a file ECM refuses (4xx: one bad line refuses the whole file) goes row by row through
insertCallback, which says which row is bad. Why and what it costs: docs/performance.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_dialers.capabilities import RowOutcome, RowStatus
from airflow_provider_dialers.errors import DialerRequestError, DialerTransientError
from airflow_provider_dialers.vendors.expertflow.api import ExpertflowEcmApi
from airflow_provider_dialers.vendors.expertflow.wire import VENDOR, EcmCampaignContact, RequestState

log = logging.getLogger(__name__)

#: The reading of when an answered file's rows are stored (docs/readings.md).
PROCESSING = "ecm_bulk_processing"

#: Rows per file: a 5,000-row file is about 100 KB and reconciles in 10 getList pages of 500.
BULK_BATCH_SIZE = 5000
#: Seconds to wait for the rows of a file ECM answered to appear in getList, in case a server stores
#: files after answering (reading ``ecm_bulk_processing``); rows still missing then are rejected with
#: that reason, never sent again blindly.
SETTLE_SECONDS = 30.0


def phone_key(value: Any) -> str:
    """A phone's digits: how a row and the contact ECM lists for it are matched (``+44 20..`` is ``4420..``)."""
    return "".join(ch for ch in str(value or "") if ch.isdigit())


@dataclass(frozen=True)
class FileRow:
    """One input row as a line of the file."""

    row: int
    contact: EcmCampaignContact
    line: str

    @property
    def key(self) -> str:
        return phone_key(self.contact.phones[0])


class BulkCallerLoad:
    """Load rows into one campaign as uploadBulkCaller files; one outcome per row.

    :param api: the hook (its endpoints).
    :param campaign_id: the ECM campaign.
    :param one_by_one: sends rows through insertCallback (a refused file's rows).
    :param page_size: getList page size for the reconciliation.
    :param settle_seconds: how long rows of an answered file may take to be listed.
    """

    def __init__(self, api: ExpertflowEcmApi, campaign_id: int,
                 one_by_one: Callable[[Sequence[FileRow]], list[RowOutcome]], *,
                 page_size: int = 500, settle_seconds: float = SETTLE_SECONDS) -> None:
        self.api = api
        self.campaign_id = campaign_id
        self.one_by_one = one_by_one
        self.page_size = page_size
        self.settle_seconds = settle_seconds

    def payload(self, row: FileRow) -> Mapping[str, Any]:
        """What is sent for a row (its line of the file), as outcomes and the dry-run file show it."""
        return {"campaignId": self.campaign_id, "uploadBulkCaller": row.line}

    def load(self, rows: Sequence[FileRow]) -> list[RowOutcome]:
        """Send the rows as a file, then give each its outcome (see the module docstring)."""
        outcomes: list[RowOutcome] = []
        remaining = list(rows)
        lost = 0
        while remaining:
            before = self.api.count_callbacks(self.campaign_id)  # where the new contacts should be listed
            answer, refused = None, None
            try:
                answer = self.api.upload_bulk_callers("\n".join(row.line for row in remaining) + "\n",
                                                      self.campaign_id)
            except DialerTransientError as exc:
                if not exc.may_have_been_processed:
                    raise
                lost += 1
            except DialerRequestError as exc:
                if exc.status_code is None or not 400 <= exc.status_code < 500 or exc.status_code == 404:
                    raise
                refused = exc
            sent = len(remaining)
            remaining = self._settle(remaining, before, outcomes)
            if not remaining:
                if answer is not None and self.api.reading(PROCESSING) is None:
                    self.api.learn(PROCESSING, "stored")  # listed as soon as answered
                break
            if refused is not None:
                log.info("%s: uploadBulkCaller refused the file of %d rows (%s): they are sent one by one, "
                         "so that each row gets its own answer", VENDOR, len(remaining), refused)
                outcomes.extend(self.one_by_one(remaining))
                break
            if answer is not None:
                remaining = self._wait_for(remaining, before, outcomes, learn=True)
                outcomes.extend(self._unconfirmed(row, answer) for row in remaining)
                break
            # A lost answer: a server that stores files after answering may still be storing this one.
            remaining = self._wait_for(remaining, before, outcomes)
            if not remaining:
                break
            if lost >= self.api.retry_policy.max_attempts:
                raise DialerTransientError(
                    f"uploadBulkCaller: the answer was lost {lost} times; {len(remaining)} of the file's rows are "
                    "not in the campaign. A retry of the task reads the campaign first and sends only those",
                    vendor=VENDOR, may_have_been_processed=True)
            log.info("%s: uploadBulkCaller's answer was lost; %d of its rows are in campaign %s, the %d others "
                     "are sent again", VENDOR, sent - len(remaining), self.campaign_id, len(remaining))
        return outcomes

    def _settle(self, rows: list[FileRow], before: int, outcomes: list[RowOutcome]) -> list[FileRow]:
        """Accept the rows the campaign lists now (with their callback ids); the others, in order."""
        found = self.listed({row.key for row in rows}, before)
        for row in rows:
            if row.key in found:
                outcomes.append(RowOutcome(row.row, RowStatus.ACCEPTED, vendor_id=found[row.key],
                                           payload=self.payload(row)))
        return [row for row in rows if row.key not in found]

    def _wait_for(self, rows: list[FileRow], before: int, outcomes: list[RowOutcome], *,
                  learn: bool = False) -> list[FileRow]:
        """Rows of a file not listed yet: looked up again, waiting longer each time, up to
        ``settle_seconds``, unless the server is known to store a file before answering (reading
        ``ecm_bulk_processing``: the connection extra, or learnt from an earlier file). ``learn``: an
        answered file; rows listed only now show a server that stores files after answering."""
        if self.api.reading(PROCESSING) == "stored":
            return rows
        deadline = time.monotonic() + self.settle_seconds
        pause = 0.25
        waiting = len(rows)
        while rows and time.monotonic() < deadline:
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause *= 2
            rows = self._settle(rows, before, outcomes)
        if learn and len(rows) < waiting and self.api.reading(PROCESSING) is None:
            self.api.learn(PROCESSING, "queued")
        return rows

    def _unconfirmed(self, row: FileRow, answer: str) -> RowOutcome:
        reason = (f"ECM answered the file ({answer[:80]}) but does not list this contact "
                  f"{self.settle_seconds:.0f} s later; not sent again so that it is not loaded twice (a retry "
                  "of the task reads the campaign first)")
        return RowOutcome(row.row, RowStatus.REJECTED, field="phone1", reason=reason, payload=self.payload(row))

    def listed(self, keys: Iterable[str], before: int) -> dict[str, str]:
        """phone key -> callback id, for the keys the campaign lists now. Pages from where contacts
        added after ``before`` contacts are listed when ECM lists in the order it stores (ascending
        id, as the sandbox and the examples do), then, for keys still missing, from the first page
        (a server listing another way costs a whole walk, never a wrong answer)."""
        wanted, found = set(keys), {}
        for start in dict.fromkeys((before // self.page_size, 0)):
            for callback in self.api.iter_callbacks(self.campaign_id, request_status=RequestState.ALL,
                                                    page_size=self.page_size, start_index=start):
                key = phone_key(callback.get("phone1"))
                if key in wanted and key not in found:
                    found[key] = str(callback.get("id"))
                    if len(found) == len(wanted):
                        return found
        return found
