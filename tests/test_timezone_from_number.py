"""A contact without a time zone is judged by the calling window in the zone its number is in, when
that zone is known: libphonenumber places the number in one zone, or in several that all show the same
hour. A number spread over zones with different hours is still skipped, never guessed. Unit tests of
the guard, then uploads over real HTTP against the sandbox (Sinch) with a frozen clock.
"""

from __future__ import annotations

import pendulum
import pytest

from airflow_provider_dialers.contacts import Contact, parse_contact
from airflow_provider_dialers.operators import UploadContactsOperator
from airflow_provider_dialers.uploads.guards import NO_TIME_ZONE, CallingWindow, zones_of_numbers
from tests.support import first_phones

WINDOW = CallingWindow.parse(("08:00", "21:00"))
LONDON_LANDLINE = "+44 20 7946 0001"  # one zone: Europe/London
UK_MOBILE = "+44 7911 123456"  # Europe/London and the islands that share its clock
ALASKA = "+1 907 555 0101"  # America/Anchorage and America/Adak: an hour apart
SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"

pytestmark = [pytest.mark.usefixtures("fast_dialer_hooks"), pytest.mark.readings_profiles]


def today_at(hour: int, minute: int = 0) -> pendulum.DateTime:
    return pendulum.now("UTC").replace(hour=hour, minute=minute, second=0, microsecond=0)


def freeze(monkeypatch: pytest.MonkeyPatch, moment: pendulum.DateTime) -> None:
    """The clock stands at ``moment`` (as tests/test_uploads_engine.py's ``midday_utc`` fixture does)."""
    monkeypatch.setattr(pendulum, "now", lambda tz=None: moment.in_timezone(tz) if tz else moment)


def contact(*phones: str, timezone: str | None = None) -> Contact:
    return parse_contact({"phones": list(phones), "timezone": timezone})


# -- which zones a number is in --------------------------------------------------------------------


def test_a_number_is_placed_in_the_zones_libphonenumber_gives():
    assert zones_of_numbers(["+442079460001"]) == ["Europe/London"]
    assert zones_of_numbers(["02079460001"], "GB") == ["Europe/London"]  # national, with default_region
    assert zones_of_numbers(["+19075550101"]) == ["America/Adak", "America/Anchorage"]
    assert zones_of_numbers(["+442079460001", "+4930123456"]) == ["Europe/Berlin", "Europe/London"]


@pytest.mark.parametrize(
    "phones",
    [["02079460001"],  # national, and no default_region
     ["+15551230001"],  # 555: no real area code
     ["+442079460001", "12"]],  # one number it cannot place leaves the contact unplaced
)
def test_a_number_that_cannot_be_placed_gives_no_zone(phones):
    assert zones_of_numbers(phones) == []


# -- the calling window's verdict ------------------------------------------------------------------


def test_a_london_number_without_a_zone_is_judged_on_londons_clock():
    verdict = WINDOW.judge(contact("+442079460001"), None, today_at(12))
    assert (verdict.reason, verdict.zone_inferred) == (None, True)
    late = WINDOW.judge(contact("+442079460001"), None, today_at(22, 30))
    assert late.zone_inferred and late.reason.startswith("now ")
    assert "(Europe/London, from the number) is outside the calling window 08:00-21:00" in late.reason


def test_a_national_number_is_placed_with_the_default_region():
    national = contact("020 7946 0001")
    assert WINDOW.judge(national, None, today_at(12)).reason == NO_TIME_ZONE
    verdict = WINDOW.judge(national, None, today_at(12), default_region="GB")
    assert (verdict.reason, verdict.zone_inferred) == (None, True)


def test_zones_that_show_the_same_hour_are_one_clock():
    verdict = WINDOW.judge(contact(UK_MOBILE), None, today_at(23))
    assert verdict.zone_inferred
    assert "(Europe/London, 3 other zones alike, from the number)" in verdict.reason


def test_a_number_over_zones_with_different_hours_is_skipped_never_guessed():
    verdict = WINDOW.judge(contact(ALASKA), None, today_at(20))  # 11:00 or 12:00 in both: still skipped
    assert not verdict.zone_inferred
    assert verdict.reason == (f"{NO_TIME_ZONE} (its numbers are in 2 zones with different hours: "
                              "America/Adak, America/Anchorage)")
    both = WINDOW.judge(contact("+442079460001", "+4930123456"), None, today_at(12))
    assert both.reason.startswith(NO_TIME_ZONE) and not both.zone_inferred


def test_the_contacts_own_zone_wins_over_its_number():
    verdict = WINDOW.judge(contact("+442079460001", timezone="Asia/Tokyo"), None, today_at(12))
    assert not verdict.zone_inferred and verdict.reason.startswith("now 21:00 (Asia/Tokyo)")


def test_the_number_wins_over_the_offset_a_dial_time_was_written_with():
    dial_at = pendulum.parse("2031-06-03T07:30:00Z")  # 08:30 in London (BST)
    verdict = WINDOW.judge(contact("+442079460001"), dial_at, today_at(12))
    assert (verdict.reason, verdict.zone_inferred) == (None, True)
    assert "dial time 07:30 (UTC+0000)" in WINDOW.judge(contact("+15551230001"), dial_at, today_at(12)).reason


# -- uploads over real HTTP ------------------------------------------------------------------------


def upload(rows: list[dict], **kwargs) -> dict:
    return UploadContactsOperator(
        task_id="upload", dialer_conn_id="sinch_obi_default", campaign_id=SINCH_CAMPAIGN, contacts=rows,
        calling_window=("08:00", "21:00"), max_rejected_ratio=1.0, **kwargs,
    ).execute({})


ROWS = [
    {"external_id": "tz-1", "phone": LONDON_LANDLINE},
    {"external_id": "tz-2", "phone": "020 7946 0002"},  # national: placed with default_region="GB"
    {"external_id": "tz-3", "phone": UK_MOBILE},
    {"external_id": "tz-4", "phone": ALASKA},  # two zones an hour apart: skipped
    {"external_id": "tz-5", "phone": "+4930123456", "timezone": "Asia/Tokyo"},  # its own zone: 21:00+ there
]


def test_uk_contacts_without_a_zone_are_dialled_inside_londons_window(sandbox, monkeypatch):
    freeze(monkeypatch, today_at(12))  # 12:00 or 13:00 in London
    before = first_phones(sandbox, "sinch", SINCH_CAMPAIGN)
    result = upload(ROWS, default_region="GB")
    counts = {key: result[key] for key in ("total", "accepted", "skipped_window", "timezone_inferred")}
    assert counts == {"total": 5, "accepted": 3, "skipped_window": 2, "timezone_inferred": 3}
    added = first_phones(sandbox, "sinch", SINCH_CAMPAIGN)[len(before):]
    assert sorted(added) == ["+442079460001", "+447911123456", "02079460002"]
    customers = sandbox.client.state("sinch")["campaigns"][SINCH_CAMPAIGN]["customers"]
    sent = [c for c in customers if c["externalId"] in {"tz-1", "tz-2", "tz-3"}]
    assert [c.get("timeZone") for c in sent] == [None, None, None]  # the zone judged by is not sent


def test_uk_contacts_without_a_zone_are_skipped_outside_londons_window(sandbox, monkeypatch, sandbox_client):
    freeze(monkeypatch, today_at(22, 30))  # 22:30 or 23:30 in London
    before = first_phones(sandbox, "sinch", SINCH_CAMPAIGN)
    result = upload(ROWS[:4], default_region="GB")
    counts = {key: result[key] for key in ("accepted", "skipped_window", "timezone_inferred", "sent")}
    assert counts == {"accepted": 0, "skipped_window": 4, "timezone_inferred": 3, "sent": 0}
    assert first_phones(sandbox, "sinch", SINCH_CAMPAIGN) == before
    assert not sandbox_client.requests(vendor="sinch", path="customers/list")


def test_without_default_region_a_national_number_stays_unplaced(sandbox, monkeypatch):
    freeze(monkeypatch, today_at(12))
    result = upload(ROWS[:2])
    assert (result["accepted"], result["skipped_window"], result["timezone_inferred"]) == (1, 1, 1)


def test_without_a_calling_window_no_zone_is_looked_up(sandbox, monkeypatch):
    freeze(monkeypatch, today_at(23))
    result = UploadContactsOperator(task_id="upload", dialer_conn_id="sinch_obi_default",
                                    campaign_id=SINCH_CAMPAIGN, contacts=ROWS[:1]).execute({})
    assert (result["accepted"], result["timezone_inferred"]) == (1, 0)
