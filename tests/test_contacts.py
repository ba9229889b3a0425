"""The normalised contact model: every field's validation names the field."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from airflow_provider_dialers.contacts import (
    ContactError,
    PhoneOptions,
    dedupe_key,
    format_server_time,
    parse_callback,
    parse_contact,
)

NOW = pendulum.datetime(2026, 11, 23, 12, 0, tz="UTC")


def parse(raw, **kwargs):
    return parse_contact(raw, now=NOW, **kwargs)


def test_a_full_contact():
    contact = parse({
        "external_id": " crm-17 ", "phones": ["(555) 123-0017", "555.123.0018"], "timezone": "America/Chicago",
        "dial_at": "2026-12-01T10:00:00-06:00", "attributes": {"name": "Ann", "vip": True, "balance": 12.5},
    })
    assert contact.external_id == "crm-17"
    assert contact.phones == ("5551230017", "5551230018")
    assert contact.dial_at == pendulum.datetime(2026, 12, 1, 16, 0, tz="UTC")
    assert contact.attributes == {"name": "Ann", "vip": "true", "balance": "12.5"}


@pytest.mark.parametrize(
    ("raw", "phones"),
    [({"phone": "5551234"}, ("5551234",)), ({"phones": "5551234; 5559876"}, ("5551234", "5559876")),
     ({"phones": "+44 20 7946 0958"}, ("+442079460958",)), ({"phone": 5551234}, ("5551234",))],
)
def test_phone_forms(raw, phones):
    assert parse(raw).phones == phones


def test_e164_with_a_default_region():
    options = PhoneOptions(e164=True, default_region="US")
    assert parse({"phones": ["(415) 555-2671", "+44 20 7946 0958"]}, phones=options).phones == (
        "+14155552671", "+442079460958")


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({}, "phones", "required"),
        ({"phones": []}, "phones", "required"),
        ({"phone": "555-CALL-NOW"}, "phone", "letters"),
        ({"phones": ["5551234", "55#1"]}, "phones[1]", "not a phone number"),
        ({"phone": "5551234", "phones": ["5559999"]}, "phone", "not both"),
        ({"phone": "5551234", "external_id": {"a": 1}}, "external_id", "must be text"),
        ({"phone": "5551234", "external_id": "x" * 256}, "external_id", "longer than 255"),
        ({"phone": "5551234", "timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"phone": "5551234", "timezone": "localtime"}, "timezone", "the worker machine's own zone"),
        ({"phone": "5551234", "timezone": "posixrules"}, "timezone", "not a place's time zone"),
        ({"phone": "5551234", "timezone": "Factory"}, "timezone", "not a place's time zone"),
        ({"phone": "5551234", "timezone": "posix/Europe/Berlin"}, "timezone", "folder of the tz files"),
        ({"phone": "5551234", "timezone": "EST5EDT"}, "timezone", "clock rule or an abbreviation"),
        ({"phone": "5551234", "timezone": "EST"}, "timezone", "UTC-5 all year"),
        ({"phone": "5551234", "timezone": "/etc/localtime"}, "timezone", "unknown time zone"),
        ({"phone": "5551234", "timezone": "Europe/../UTC"}, "timezone", "unknown time zone"),
        ({"phone": "5551234", "dial_at": "9999-12-31T23:59Z"}, "dial_at", "more than 10 years ahead"),
        ({"phone": "5551234", "timezone": "Asia/Tokyo", "dial_at": "9999-12-31T23:59"}, "dial_at",
         "more than 10 years ahead"),
        ({"phone": "5551234", "dial_at": "2036-11-23T12:00:01Z"}, "dial_at", "latest accepted is 2036-11-23"),
        ({"phone": "5551234", "dial_at": "0001-01-01T00:00:00+05:00"}, "dial_at", "in the past"),
        ({"phone": "5551234", "timezone": "Europe/Berlin", "dial_at": "2027-03-28 02:30"}, "dial_at",
         "2027-03-28 02:30 in Europe/Berlin does not exist"),
        ({"phone": "5551234", "timezone": "Europe/Berlin", "dial_at": "2027-10-31 02:30"}, "dial_at",
         "happens twice (the clocks go back that night): give it with its UTC offset (+0200 or +0100)"),
        ({"phone": "5551234", "timezone": "America/New_York", "dial_at": dt.datetime(2027, 3, 14, 2, 30)},
         "dial_at", "does not exist"),
        ({"phone": "5551234", "dial_at": "2026-12-01 10:00"}, "dial_at", "no UTC offset"),
        ({"phone": "5551234", "dial_at": "next tuesday"}, "dial_at", "not a date and time"),
        ({"phone": "5551234", "dial_at": "2026-12-01"}, "dial_at", "needs a date and a time"),
        ({"phone": "5551234", "dial_at": "2025-01-01T10:00:00Z"}, "dial_at", "in the past"),
        ({"phone": "5551234", "attributes": {"x": "=cmd|' /C calc'!A0"}}, "attributes.x", "formula"),
        ({"phone": "5551234", "attributes": {"x": "@SUM(A1:A2)"}}, "attributes.x", "formula"),
        ({"phone": "5551234", "attributes": {"x": "+cmd|' /C calc'!A0"}}, "attributes.x", "formula"),
        ({"phone": "5551234", "attributes": {"x": [1, 2]}}, "attributes.x", "single value"),
        ({"phone": "5551234", "attributes": "name=Ann"}, "attributes", "must be an object"),
        ({"phone": "5551234", "colour": "red"}, "colour", "not a contact field"),
    ],
)
def test_bad_fields_are_named(raw, field, words):
    with pytest.raises(ContactError) as info:
        parse(raw)
    assert info.value.field == field
    assert words in str(info.value)


def test_e164_needs_a_region_or_a_country_code():
    with pytest.raises(ContactError, match="no default_region"):
        parse({"phone": "4155552671"}, phones=PhoneOptions(e164=True))
    with pytest.raises(ContactError, match="not a valid number"):
        parse({"phone": "+1 000 000 0000"}, phones=PhoneOptions(e164=True))


def test_local_dial_time_uses_the_contacts_time_zone():
    contact = parse({"phone": "5551234", "timezone": "Europe/Berlin", "dial_at": "2026-12-01 10:00"})
    assert contact.dial_at.isoformat() == "2026-12-01T10:00:00+01:00"
    naive = parse({"phone": "5551234", "timezone": "Asia/Tokyo", "dial_at": dt.datetime(2026, 12, 1, 9, 0)})
    assert naive.dial_at.isoformat() == "2026-12-01T09:00:00+09:00"


def test_plain_numbers_in_attributes_are_not_formulas():
    contact = parse({"phone": "5551234", "attributes": {"tel": "+1 555 0100", "delta": "-12.5", "note": "a-b"}})
    assert contact.attributes == {"tel": "+1 555 0100", "delta": "-12.5", "note": "a-b"}


def test_callback_needs_an_aware_time_and_takes_an_agent():
    callback = parse_callback({"phone": "5551234", "callback_at": "2026-12-02T09:30:00+02:00", "agent": " ag7 "}, now=NOW)
    assert callback.callback_at.isoformat() == "2026-12-02T09:30:00+02:00" and callback.agent == "ag7"
    with pytest.raises(ContactError, match="callback_at: is required"):
        parse_callback({"phone": "5551234"}, now=NOW)
    with pytest.raises(ContactError) as info:
        parse_callback({"phone": "5551234", "callback_at": "2026-12-02 09:30"}, now=NOW)
    assert info.value.field == "callback_at"


def test_dedupe_key_is_the_external_id_or_stable_from_the_row():
    a = parse({"phones": "555 1234", "attributes": {"b": "2", "a": "1"}})
    b = parse({"phones": ["5551234"], "attributes": {"a": "1", "b": "2"}})
    c = parse({"phones": ["5551234"], "attributes": {"a": "1", "b": "3"}})
    assert dedupe_key(a) == dedupe_key(b) != dedupe_key(c)
    assert dedupe_key(a).startswith("row-") and len(dedupe_key(a)) == 28
    assert dedupe_key(parse({"phone": "5551234", "external_id": "crm-1"})) == "crm-1"


def test_server_time_is_wall_clock_in_the_servers_zone():
    moment = pendulum.datetime(2026, 12, 1, 16, 0, tz="UTC")
    assert format_server_time(moment, "Asia/Karachi") == "2026-12-01 21:00:00"
    assert format_server_time(moment, "UTC") == "2026-12-01 16:00:00"


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "GMT", "Zulu", "Etc/GMT+5", "Etc/GMT-14", "Europe/Berlin",
                                  "America/Argentina/Buenos_Aires", "US/Eastern", "Japan"])
def test_place_names_and_utc_are_accepted(name):
    assert parse({"phone": "5551234", "timezone": name}).timezone == name


def test_utc_in_any_case_is_utc():
    assert parse({"phone": "5551234", "timezone": " utc "}).timezone == "UTC"


def test_the_horizon_is_ten_years_from_now():
    assert parse({"phone": "5551234", "dial_at": "2036-11-23T12:00:00Z"}).dial_at == NOW.add(years=10)


def test_an_ambiguous_local_time_with_its_offset_is_that_instant():
    early = parse({"phone": "5551234", "timezone": "Europe/Berlin", "dial_at": "2027-10-31T02:30:00+02:00"})
    late = parse({"phone": "5551234", "timezone": "Europe/Berlin", "dial_at": "2027-10-31T02:30:00+01:00"})
    assert late.dial_at.diff(early.dial_at).in_hours() == 1
    after_the_change = parse({"phone": "5551234", "timezone": "Europe/Berlin", "dial_at": "2027-10-31 03:30"})
    assert after_the_change.dial_at.isoformat() == "2027-10-31T03:30:00+01:00"


def test_a_callback_time_is_checked_like_a_dial_time():
    with pytest.raises(ContactError) as info:
        parse_callback({"phone": "5551234", "timezone": "Europe/Berlin", "callback_at": "2027-03-28 02:30"},
                       now=NOW)
    assert info.value.field == "callback_at" and "does not exist" in info.value.reason


def test_a_time_the_servers_zone_cannot_show_is_a_row_error_naming_the_field():
    end_of_time = pendulum.datetime(9999, 12, 31, 23, 59, tz="UTC")
    with pytest.raises(ContactError) as info:
        format_server_time(end_of_time, "Asia/Tokyo", field_name="callback_at")
    assert info.value.field == "callback_at" and "cannot be written in the dialer's zone Asia/Tokyo" in info.value.reason
