"""The upload path's fast paths (issue 14: less client CPU per row) give what the general code gives.

Each fast path skips work for the common case (a clean phone number, an ASCII form body, a text
attribute, a known Ameyo result type, a column whose route is known); here each is compared with
the general code it replaces, written out as it was, over ordinary and awkward inputs.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

import pendulum
import pytest

from airflow_provider_dialers.capabilities import ContactRecord, RowStatus
from airflow_provider_dialers.contacts import (
    Callback,
    ContactError,
    PhoneOptions,
    canonical_phone,
    normalise_phone,
    parse_attributes,
    parse_contact,
)
from airflow_provider_dialers.uploads.accounting import UploadCounters
from airflow_provider_dialers.uploads.held import HeldContacts
from airflow_provider_dialers.uploads.sources import CONTACT_KEYS, ColumnMapper, iter_rows
from airflow_provider_dialers.vendors.ameyo.wire import AmeyoResultType, _record_result, form_quote
from airflow_provider_dialers.vendors.sinch.records import customer_from_callback, customer_from_contact
from airflow_provider_dialers.vendors.sinch.wire import normalise_customer

PHONES = ["+15551230017", "5551230017", " +1 (555) 123-0017 ", "555.123.0017", "+44 20 7946 0958", "12",
          "555-CALL-NOW", "", "   ", "+", "++1555", "1555\u0661", "\u00b2555", "+1555\t0100", 15551230017, -5551230017]


def _reference_normalise_phone(value: Any, field_name: str) -> str:
    """normalise_phone without its fast path (as before issue 14), e164 off."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ContactError(field_name, f"must be text, got {type(value).__name__}")
    text = re.sub(r"[\s().\-/]", "", str(value).strip())
    if not text:
        raise ContactError(field_name, "is empty")
    if re.search(r"[A-Za-z]", text):
        raise ContactError(field_name, f"contains letters: {str(value).strip()[:40]!r}")
    if not re.fullmatch(r"\+?[0-9]+", text):
        raise ContactError(field_name, f"is not a phone number: {str(value).strip()[:40]!r}")
    return text


def _outcome(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except ContactError as exc:
        return ("error", exc.field, exc.reason)


@pytest.mark.parametrize("value", PHONES)
def test_normalise_phone_fast_path_matches_the_general_rules(value):
    assert _outcome(normalise_phone, value, "phone", PhoneOptions()) == _outcome(
        _reference_normalise_phone, value, "phone")


@pytest.mark.parametrize("phones", ["5551230017;5551230018", "5551230017, 5551230018", "5551230017", " ; ",
                                    ";5551230017;", ["5551230017", "+15551230018"]])
def test_phone_lists_split_as_before(phones):
    expected = [p for p in re.split(r"[;,]", phones) if p.strip()] if isinstance(phones, str) else phones
    if not expected:
        with pytest.raises(ContactError, match="at least one phone number"):
            parse_contact({"phones": phones})
        return
    assert parse_contact({"phones": phones}).phones == tuple(_reference_normalise_phone(p, "x") for p in expected)


def test_an_unknown_contact_field_is_still_named():
    with pytest.raises(ContactError) as caught:
        parse_contact({"phone": "5551230017", "zeta": 1, "beta": 2})
    assert caught.value.field == "beta"


@pytest.mark.parametrize("value", ["Ann", "", " x ", "=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0", "-12.5", "+1 555 0100",
                                   "-x", "\tTab", 7, 2.5, True, None, ["a"], {"k": 1}])
def test_attribute_values_are_read_as_before(value):
    def reference(item: Any) -> Any:
        if item is None:
            return {}
        if isinstance(item, (dict, list, tuple, set)):
            return ("error", "attributes.a")
        text = str(item).lower() if isinstance(item, bool) else str(item)
        if text.startswith(("=", "@", "\t", "\r")) or re.match(r"[+-].*[A-Za-z(|!=]", text):
            return ("error", "attributes.a")
        return {"a": text}

    try:
        got: Any = parse_attributes({"a": value})
    except ContactError as exc:
        got = ("error", exc.field)
    assert got == reference(value)


@pytest.mark.parametrize("value", ["+15551230017", "+440207946095", "(212) 555-0101", "+1 212 555 0101", "abc", "",
                                   None, "0044 20 7946 0958", "+999123456"])
def test_canonical_phone_answers_as_before(value):
    text = re.sub(r"[\s().\-/]", "", str(value or "").strip())
    expected_none = not any(char.isdigit() for char in text)
    got = canonical_phone(value, "GB")
    assert (got is None) == expected_none
    if got is not None:
        assert got.lstrip("+").isdigit()


def test_form_quote_is_quote_plus_for_any_text():
    rng = random.Random(14)
    samples = ["", " ", "%", "+", "% +", '{"a":[1,2]}', "é + %", "line\nbreak\x00\x7f"]
    samples += ["".join(chr(rng.randrange(128)) for _ in range(rng.randrange(60))) for _ in range(2000)]
    samples += ["".join(rng.choice(string.printable + "é日") for _ in range(30)) for _ in range(200)]
    for text in samples:
        assert form_quote(text) == quote_plus(text), repr(text)


@pytest.mark.parametrize("raw", [
    {"inserted": True, "customerId": 7, "resultTypeString": "ADDED", "crmIntegrated": False, "crmSuccess": False},
    {"isInserted": "true", "customerId": "8", "resultTypeString": "UPDATED"},
    {"Inserted": "False", "resultTypeString": "DUPLICATE_NOT_ADDED", "exception": ["X.dup", "\\\"a\\\""]},
    {"resultTypeString": "SOMETHING_NEW"},
    {"resultTypeString": None},
    {"resultTypeString": ["ADDED"]},
    {},
])
def test_ameyo_record_results_are_read_as_before(raw):
    result = _record_result(3, raw)
    try:
        expected_type: Any = AmeyoResultType(raw.get("resultTypeString"))
    except ValueError:
        expected_type = str(raw.get("resultTypeString"))
    assert result.result_type == expected_type and type(result.result_type) is type(expected_type)
    inserted = next((raw[k] for k in ("inserted", "isInserted", "Inserted") if k in raw), False)
    assert result.inserted is (inserted.strip().lower() == "true" if isinstance(inserted, str) else bool(inserted))


def _contacts() -> list[Any]:
    at = pendulum.now("UTC").add(days=2).replace(microsecond=0)
    raws: list[Mapping[str, Any]] = [
        {"phone": "5551230017"},
        {"external_id": "crm-1", "phones": "5551230017;+15551230018", "attributes": {"name": "Ann", "n": 3}},
        {"external_id": "crm-2", "phone": "+15551230019", "timezone": "America/Chicago", "dial_at": at.isoformat()},
        {"phones": ["5551230020"], "attributes": {"b": "2", "a": "1", "flag": True}},
    ]
    return [parse_contact(raw) for raw in raws]


def test_sinch_customers_from_the_mapping_are_already_in_the_shape_sent():
    """The capability path sends the mapping's customers without normalise_customer: they must be its
    fixed point, keys in the same order (the JSON sent is byte for byte the same)."""
    customers = [customer_from_contact(contact) for contact in _contacts()]
    customers.append(customer_from_callback(Callback(_contacts()[1], pendulum.now("UTC").add(days=1),
                                                     "0123456789abcdef0123456789ABCDEF")))
    for customer in customers:
        normalised = normalise_customer(customer)
        assert normalised == customer
        assert list(normalised) == list(customer)
        assert [list(a) for a in normalised["attributes"]] == [list(a) for a in customer["attributes"]]


@pytest.mark.parametrize("held_ids", [True, False])
@pytest.mark.parametrize("held_without_id", [True, False])
def test_the_held_check_answers_as_before(held_ids, held_without_id):
    held = HeldContacts("US")
    if held_ids:
        held.add(ContactRecord(contact_ref="1", external_id="crm-1", phone="+15550000001", state="X", terminal=False))
    if held_without_id:
        held.add(ContactRecord(contact_ref="2", external_id=None, phone="(555) 123-0017", state="X", terminal=False))

    def reference(contact: Any) -> bool:
        from airflow_provider_dialers.uploads.held import _digest

        if contact.external_id and _digest(contact.external_id) in held.external_ids:
            return True
        phone = canonical_phone(contact.phones[0], held.default_region) if contact.phones else None
        if phone is None:
            return False
        digest = _digest(phone)
        return digest in held.phones_without_id or (not contact.external_id and digest in held.phones)

    contacts = _contacts() + [parse_contact({"external_id": "crm-1", "phone": "5550000009"}),
                              parse_contact({"external_id": "other", "phone": "+1 555 123 0017"}),
                              parse_contact({"phone": "+15550000001"})]
    assert [held.holds(c) for c in contacts] == [reference(c) for c in contacts]


def test_counters_take_a_status_or_its_value():
    counters = UploadCounters()
    counters.count(RowStatus.ACCEPTED)
    counters.count("duplicate")
    with pytest.raises(ValueError):
        counters.count("no such status")
    assert (counters.total, counters.accepted, counters.duplicates) == (3, 1, 1)


def test_column_routes_give_the_records_they_gave(tmp_path):
    mapper = ColumnMapper(CONTACT_KEYS, {"Drop": None, "Mobile": "phone2", "Who": "attributes.who"})
    rows: list[dict[str, Any]] = [
        {"External_ID": "c1", "Phone": "5551230001", "Mobile": "5551230002", "Drop": "x", "Who": "Ann", "note": " n "},
        {"phone": "5551230003", "attributes": {"tier": "gold"}, "phone1": "5551230004", "empty": "  "},
        {"phone": "5551230005", "attributes": "not a mapping"},
    ]
    assert [mapper.to_record(row) for row in rows] == [
        {"external_id": "c1", "phones": ["5551230001", "5551230002"], "attributes": {"who": "Ann", "note": " n "}},
        {"phones": ["5551230003", "5551230004"], "attributes": {"tier": "gold"}},
        {"phone": "5551230005", "attributes": {"attributes": "not a mapping"}},
    ]
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbfphone,name\r\n5551230001,Ann\r\n , \r\n5551230002,B\xffb\r\n")
    read = list(iter_rows(path, ColumnMapper(CONTACT_KEYS)))
    assert [(r.row, r.record, r.error) for r in read] == [
        (1, {"phone": "5551230001", "attributes": {"name": "Ann"}}, None),
        (2, None, ("row", "row 2 is not valid UTF-8")),
    ]
