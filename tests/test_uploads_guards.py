"""Dialing guards: the calling window in the contact's own time zone, and the DNC scrub."""

from __future__ import annotations

import pendulum
import pytest

from airflow_provider_dialers.contacts import Contact, PhoneOptions
from airflow_provider_dialers.hooks.base import DialerNotSupportedError, DialerValidationError
from airflow_provider_dialers.uploads.dnc import load_dnc_list
from airflow_provider_dialers.uploads.guards import NO_TIME_ZONE, CallingWindow
from tests.test_uploads_fakes import FakeDialer, NoUploadDialer

NOW = pendulum.datetime(2030, 6, 3, 12, 0, tz="UTC")
WINDOW = CallingWindow.parse(("08:00", "21:00"))


def contact(timezone: str | None = None) -> Contact:
    return Contact(phones=("5551230001",), timezone=timezone)


@pytest.mark.parametrize(
    ("clock", "inside"), [("07:59", False), ("08:00", True), ("20:59", True), ("21:00", False)]
)
def test_window_includes_its_start_and_excludes_its_end(clock, inside):
    moment = pendulum.parse(f"2030-06-03T{clock}:00", tz="America/Chicago")
    assert WINDOW.contains(moment) is inside


def test_a_window_may_wrap_midnight():
    night = CallingWindow.parse(["20:00", "02:00"])
    assert night.contains(pendulum.datetime(2030, 1, 1, 23, 30))
    assert night.contains(pendulum.datetime(2030, 1, 1, 1, 59))
    assert not night.contains(pendulum.datetime(2030, 1, 1, 2, 0))
    assert not night.contains(pendulum.datetime(2030, 1, 1, 12, 0))


def test_the_dial_time_is_judged_in_the_contacts_own_time_zone():
    dial_at = pendulum.datetime(2030, 6, 3, 13, 0, tz="UTC")  # 08:00 in Chicago, 22:00 in Tokyo
    assert WINDOW.skip_reason(contact("America/Chicago"), dial_at, NOW) is None
    reason = WINDOW.skip_reason(contact("Asia/Tokyo"), dial_at, NOW)
    assert reason == "dial time 22:00 (Asia/Tokyo) is outside the calling window 08:00-21:00"


def test_without_a_time_zone_the_dial_times_own_offset_is_the_local_clock():
    dial_at = pendulum.parse("2030-06-03T07:30:00-05:00")
    assert (
        WINDOW.skip_reason(contact(), dial_at, NOW)
        == "dial time 07:30 (UTC-0500) is outside the calling window 08:00-21:00"
    )
    assert WINDOW.skip_reason(contact(), pendulum.parse("2030-06-03T09:30:00+02:00"), NOW) is None


def test_without_a_dial_time_now_is_judged_in_the_contacts_zone():
    assert WINDOW.skip_reason(contact("Europe/Berlin"), None, NOW) is None  # 14:00 in Berlin
    assert "now 21:00 (Asia/Tokyo)" in WINDOW.skip_reason(contact("Asia/Tokyo"), None, NOW)


def test_a_contact_whose_local_hour_cannot_be_known_is_skipped_not_assumed_in_the_servers_zone():
    assert WINDOW.skip_reason(contact(None), None, NOW) == NO_TIME_ZONE
    verdict = WINDOW.judge(contact(None), None, NOW)
    assert (verdict.reason, verdict.zone_inferred) == (NO_TIME_ZONE, False)


def test_a_moment_the_contacts_zone_cannot_show_raises_for_the_upload_to_reject_the_row():
    end_of_time = pendulum.datetime(9999, 12, 31, 23, 59, tz="UTC")  # the model refuses it; the guard still must not lie
    with pytest.raises(OverflowError):
        WINDOW.judge(contact("Asia/Tokyo"), end_of_time, NOW)


@pytest.mark.parametrize("value", [("08:00",), ("8am", "9pm"), ("08:00", "08:00"), 5])
def test_a_malformed_window_is_refused(value):
    with pytest.raises(DialerValidationError, match="calling_window"):
        CallingWindow.parse(value)


def test_a_templated_window_text_is_accepted():
    assert str(CallingWindow.parse("09:30-17:00")) == "09:30-17:00"


def test_dnc_numbers_from_the_dialer_and_a_source_are_normalised_before_comparing():
    dnc = load_dnc_list(
        FakeDialer(dnc=["(555) 123-0001"]),
        scrub_dnc=True,
        dnc_source=["555.123.0002"],
        phone_options=PhoneOptions(),
    )
    assert dnc.numbers == {"5551230001", "5551230002"}
    assert (
        dnc.skip_reason(Contact(phones=("5559990000", "5551230002")))
        == "phones[1] is on the do-not-call list"
    )
    assert dnc.skip_reason(Contact(phones=("5559990000",))) is None


@pytest.mark.parametrize("e164", [True, False])
def test_dnc_numbers_compare_in_e164_with_a_region_whatever_e164_says(tmp_path, e164):
    source = tmp_path / "dnc.csv"
    source.write_text("number\n(212) 555-0123\n")
    dnc = load_dnc_list(
        FakeDialer(),
        scrub_dnc=False,
        dnc_source=str(source),
        phone_options=PhoneOptions(e164=e164, default_region="US"),
    )
    assert dnc.numbers == {"+12125550123"}
    assert dnc.skip_reason(Contact(phones=("2125550123",))) == "phones[0] is on the do-not-call list"


def test_scrub_dnc_on_a_dialer_without_a_dnc_list_fails_clearly_unless_a_source_is_given():
    with pytest.raises(DialerNotSupportedError, match="NoUploadDial.*scrub_dnc=True.*dnc_source"):
        load_dnc_list(NoUploadDialer(), scrub_dnc=True, dnc_source=None, phone_options=PhoneOptions())
    dnc = load_dnc_list(
        NoUploadDialer(), scrub_dnc=True, dnc_source=["5551230001"], phone_options=PhoneOptions()
    )
    assert dnc.numbers == {"5551230001"}


def test_a_dnc_entry_that_is_no_number_fails_before_anything_unless_skipped(caplog):
    with pytest.raises(DialerValidationError, match=r"dnc_source line 2 'not a number' contains letters"):
        load_dnc_list(FakeDialer(), scrub_dnc=False, dnc_source=["5551230001", "not a number"],
                      phone_options=PhoneOptions())
    dnc = load_dnc_list(FakeDialer(), scrub_dnc=False, dnc_source=["5551230001", "not a number"],
                        phone_options=PhoneOptions(), on_bad_entry="skip")
    assert dnc.numbers == {"5551230001"}
    assert "dnc_source line 2 'not a number' contains letters" in caplog.text


def test_no_scrub_asked_means_no_list():
    assert (
        load_dnc_list(
            FakeDialer(dnc=["5551230001"]), scrub_dnc=False, dnc_source=None, phone_options=PhoneOptions()
        )
        is None
    )
