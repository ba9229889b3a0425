"""Dialing safety, DNC in every format: a number on a do-not-call list stops that number however it
is written, on every vendor, and never reaches a request body; an unusable DNC entry fails before
anything is sent (or is skipped when asked); DncOperator adds and removes numbers whatever their form.

The upload and operator tests run over real HTTP against the sandbox, which keeps each request's body
in its log for them (``capture_bodies``)."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

import pytest

from airflow_provider_dialers.contacts import Contact, PhoneOptions, canonical_phone
from airflow_provider_dialers.hooks.base import DialerValidationError
from airflow_provider_dialers.hooks.expertflow import ExpertflowEcmHook
from airflow_provider_dialers.operators import UploadContactsOperator
from airflow_provider_dialers.operators.dnc import DncOperator
from airflow_provider_dialers.uploads.dnc import (
    DncEntryError,
    DncSource,
    checked_region,
    dnc_key,
    load_dnc_list,
    mask_entry,
)
from tests.support import FAST, first_phones
from tests.test_uploads_fakes import FakeDialer

# Sandbox tests here run under each readings profile (docs/readings.md), with quick retries.
pytestmark = [pytest.mark.usefixtures("fast_dialer_hooks"), pytest.mark.readings_profiles]

US_NUMBER = "+12125550101"
#: One US number, written as people write it (region US).
US_FORMS = ["2125550101", "(212) 555-0101", "+1 212 555 0101", "1 212 555 0101", "011 1 212 555 0101",
            "212.555.0101", "+1-212-555-0101"]
#: Its national significant number: every form that reaches a body holds these digits in a row.
US_DIGITS = "2125550101"
SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"
# (connection, vendor key, campaign): every vendor that takes contacts.
DIALERS = [
    ("expertflow_ecm_default", "expertflow", "1"),
    ("sinch_obi_default", "sinch", SINCH_CAMPAIGN),
    ("ameyo_default", "ameyo", "1"),
]
#: Contacts not on any list (valid US numbers, so e164=True keeps them too).
OTHERS = ["3125550123", "3125550124"]
_PHONE_LIKE = re.compile(r"\+?\d[\d ().\-]{5,}\d")


def dnc_list(entries, region="US", *, scrub=None, on_bad_entry=None):
    """The scrub list of ``entries`` as dnc_source (or, with ``scrub``, on the dialer's own list)."""
    dialer = FakeDialer(dnc=scrub or [])
    return load_dnc_list(dialer, scrub_dnc=scrub is not None, dnc_source=entries if scrub is None else None,
                         phone_options=PhoneOptions(default_region=region), on_bad_entry=on_bad_entry)


# -- one number, every written form -----------------------------------------------------------------


@pytest.mark.parametrize("written", US_FORMS)
def test_every_written_form_of_a_us_number_is_one_dnc_number(written):
    assert dnc_key(written, "US") == US_NUMBER


@pytest.mark.parametrize("region", ["DE", "GB"])
def test_00_is_the_international_prefix_of_a_region_that_dials_out_with_it(region):
    assert dnc_key("00 1 212 555 0101", region) == US_NUMBER
    assert dnc_key("0012125550101", region) == US_NUMBER


def test_00_is_no_international_prefix_in_the_us_so_such_an_entry_is_unusable_there():
    with pytest.raises(DncEntryError, match="not a possible phone number for region US"):
        dnc_key("0012125550101", "US")


@pytest.mark.parametrize("listed", US_FORMS)
def test_a_number_listed_in_one_form_stops_it_in_every_other_form(listed):
    for scrub in (None, [listed]):  # on dnc_source, and on the dialer's own list
        dnc = dnc_list([listed], scrub=scrub)
        for written in US_FORMS:
            # Contacts carry their phones normalised as the upload does (punctuation stripped).
            phone = re.sub(r"[\s().\-]", "", written)
            assert dnc.skip_reason(Contact(phones=("3125550123", phone))) == "phones[1] is on the do-not-call list"
        assert dnc.skip_reason(Contact(phones=tuple(OTHERS))) is None


def test_a_region_dialling_out_with_00_stops_the_00_form_of_a_listed_number():
    dnc = dnc_list(["+1 212 555 0101"], region="GB")
    assert dnc.skip_reason(Contact(phones=("0012125550101",))) is not None
    assert dnc.skip_reason(Contact(phones=("+12125550101",))) is not None


def test_without_a_region_a_national_form_is_taken_for_the_listed_number_and_a_warning_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        dnc = dnc_list(["2125550101", "+1 212 555 0102", "+44 20 7946 0000"], region=None)
    assert dnc.numbers == {"2125550101", "+12125550102", "+442079460000"}
    assert "1 do-not-call entries have no country code and no default_region is set" in caplog.text
    # A national form cannot be placed without a region: it is taken as the listed number's (never
    # calling wins), both ways.
    for phone in ("+12125550101", "2125550102", "12125550102", "02079460000", "2079460000"):
        assert dnc.skip_reason(Contact(phones=(phone,))) is not None, phone
    # Two numbers neither of which can be placed compare by their digits only.
    for phone in ("12125550101", "+12125550103", "2125550103", "+442079460001"):
        assert dnc.skip_reason(Contact(phones=(phone,))) is None, phone


def test_the_region_is_checked_and_read_in_capitals():
    assert checked_region("us") == "US"
    assert checked_region("") is None
    with pytest.raises(DialerValidationError, match="default_region: 'USA' is not an ISO 3166 region"):
        dnc_list(["2125550101"], region="USA")


# -- an unusable entry ------------------------------------------------------------------------------


def test_mask_entry_keeps_the_last_two_digits_of_phone_like_text():
    assert mask_entry("212-555-O1O1") == "***-***-O1O1"
    assert mask_entry("212555010") == "*******10"
    assert mask_entry("n/a") == "n/a"


def test_an_unusable_dnc_source_line_fails_before_anything_naming_the_line_masked(tmp_path):
    source = tmp_path / "dnc.csv"
    source.write_text("phone1,name\n+1 212 555 0101,Ann\n212-555-O1O1,Bob\n212555010,Cy\n\n646 555 0188,Di\n")
    with pytest.raises(DialerValidationError) as failure:
        dnc_list(str(source))
    message = str(failure.value)
    assert failure.value.field == "dnc_source"
    assert "2 do-not-call entries hold no usable number" in message and "nothing was sent" in message
    assert "dnc_source line 3 '***-***-O1O1' contains letters" in message
    assert "dnc_source line 4 '*******10' is not a possible phone number for region US" in message
    assert "on_bad_dnc_entry='skip'" in message
    assert "212-555-O1O1" not in message and "212555010" not in message  # never the number itself


def test_skip_leaves_unusable_entries_out_with_a_warning_naming_each_line(tmp_path, caplog):
    source = tmp_path / "dnc.csv"
    source.write_text("number\n+1 212 555 0101\n212-555-O1O1\n212555010\n646 555 0188\n")
    with caplog.at_level(logging.WARNING):
        dnc = dnc_list(str(source), on_bad_entry="skip")
    # The short number keeps its digits: it still stops a contact written with exactly those.
    assert dnc.numbers == {US_NUMBER, "+16465550188", "212555010"}
    assert "dnc_source line 3 '***-***-O1O1' contains letters" in caplog.text
    assert "dnc_source line 4 '*******10'" in caplog.text
    assert "2 do-not-call entries hold no usable number and were skipped" in caplog.text


def test_an_unusable_entry_on_the_dialers_own_list_fails_too_unless_skipped():
    with pytest.raises(DialerValidationError, match=r"scrub_dnc: 1 do-not-call entry holds .*the dialer's DNC "
                                                    r"list entry 'n/a' contains letters"):
        dnc_list(None, scrub=["+1 212 555 0101", "n/a"])
    dnc = load_dnc_list(FakeDialer(dnc=["+1 212 555 0101", "n/a"]), scrub_dnc=True,
                        dnc_source=DncSource(None, "skip"), phone_options=PhoneOptions(default_region="US"))
    assert dnc.numbers == {US_NUMBER}


def test_on_bad_dnc_entry_is_checked():
    with pytest.raises(ValueError, match="on_bad_dnc_entry must be one of"):
        UploadContactsOperator(task_id="u", dialer_conn_id="expertflow_ecm_default", campaign_id="1",
                               contacts=[], on_bad_dnc_entry="ignore")
    with pytest.raises(DialerValidationError, match="on_bad_dnc_entry"):
        dnc_list(["2125550101"], on_bad_entry="ignore")


# -- over HTTP: nothing on the list reaches a request body, on any vendor -----------------------------


def _numbers_in(text: str) -> set[str]:
    """Every phone-like run of a request's text (URL-decoded), canonical with region US."""
    return {canonical_phone(run, "US") for run in _PHONE_LIKE.findall(unquote_plus(text))}


def _sent_texts(sandbox_client, vendor: str) -> list[str]:
    return [f"{r['query']}\n{r['body'] or ''}" for r in sandbox_client.requests(vendor=vendor)]


def _contacts(phones: list[str]) -> list[dict]:
    return [{"external_id": f"c-{i}", "phone": phone} for i, phone in enumerate(phones)]


@pytest.mark.parametrize("e164", [False, True])
@pytest.mark.parametrize(("conn_id", "vendor", "campaign_id"), DIALERS)
def test_a_listed_number_in_any_format_is_never_sent(sandbox, sandbox_client, conn_id, vendor, campaign_id, e164):
    sandbox_client.configure(capture_bodies=True)
    before = first_phones(sandbox, vendor, campaign_id)
    rows = _contacts(US_FORMS + OTHERS) + [{"external_id": "second-phone", "phones": ["6465550188", "212 555 0101"]}]
    result = UploadContactsOperator(
        task_id="upload", dialer_conn_id=conn_id, campaign_id=campaign_id, contacts=rows, lead_id=1,
        dnc_source=["(212) 555-0101"], default_region="US", e164=e164, max_rejected_ratio=1.0,
    ).execute({})
    assert (result["skipped_dnc"], result["accepted"], result["total"]) == (len(US_FORMS) + 1, 2, len(rows))
    added = {canonical_phone(phone, "US") for phone in first_phones(sandbox, vendor, campaign_id)[len(before):]}
    assert added == {"+13125550123", "+13125550124"}
    texts = _sent_texts(sandbox_client, vendor)
    assert any("3125550123" in unquote_plus(text) for text in texts)  # the bodies were captured
    for text in texts:
        assert US_DIGITS not in unquote_plus(text) and "6465550188" not in unquote_plus(text)
        assert US_NUMBER not in _numbers_in(text)


def test_the_ecm_list_scrubs_every_form_of_its_numbers_and_none_is_sent(sandbox, sandbox_client):
    sandbox_client.configure(capture_bodies=True)
    listed = "+15550999999"  # seeded on the ECM sandbox's DNC list, in E.164
    rows = _contacts(["5550999999", "(555) 099-9999", "1 555 099 9999", "011 1 555 099 9999", *OTHERS])
    result = UploadContactsOperator(
        task_id="upload", dialer_conn_id="expertflow_ecm_default", campaign_id="1", contacts=rows,
        scrub_dnc=True, default_region="US", on_bad_dnc_entry="skip",  # the seeded list also holds 03001234567
    ).execute({})
    assert (result["skipped_dnc"], result["accepted"]) == (4, 2)
    for text in _sent_texts(sandbox_client, "expertflow"):
        assert "5550999999" not in unquote_plus(text) and listed not in _numbers_in(text)


def test_an_unusable_ecm_list_entry_fails_the_upload_before_any_contact_is_sent(sandbox, sandbox_client):
    # The seeded 03001234567 cannot be a US number: with region US the list cannot be trusted.
    with pytest.raises(DialerValidationError, match=r"scrub_dnc: 1 do-not-call entry holds no usable number.*"
                                                    r"the dialer's DNC list entry '\*{9}67' is not a possible"):
        UploadContactsOperator(task_id="upload", dialer_conn_id="expertflow_ecm_default", campaign_id="1",
                               contacts=_contacts(OTHERS), scrub_dnc=True, default_region="US").execute({})
    assert sandbox_client.requests(vendor="expertflow", path="insertCallback") == []


@pytest.mark.parametrize(("conn_id", "vendor", "campaign_id"), DIALERS)
def test_an_unusable_dnc_source_line_fails_before_sending_unless_skipped(
    sandbox, sandbox_client, conn_id, vendor, campaign_id
):
    before = first_phones(sandbox, vendor, campaign_id)
    arguments = {"task_id": "upload", "dialer_conn_id": conn_id, "campaign_id": campaign_id, "lead_id": 1,
                 "contacts": _contacts(["2125550101", *OTHERS]), "dnc_source": "+1 212 555 0101;call me later"}
    with pytest.raises(DialerValidationError, match=r"dnc_source line 2 'call me later' contains letters"):
        UploadContactsOperator(**arguments).execute({})
    assert first_phones(sandbox, vendor, campaign_id) == before  # nothing was sent
    result = UploadContactsOperator(**arguments, on_bad_dnc_entry="skip").execute({})
    assert (result["skipped_dnc"], result["accepted"]) == (1, 2)  # the usable entries still scrub


# -- DncOperator and ECM's DNC capability: format-insensitive add and remove ---------------------------


def _ecm_dnc(sandbox) -> list[str]:
    entries = sandbox.client.state("expertflow")["dnc"]
    return [e["primaryNumber"] for e in (entries.values() if isinstance(entries, dict) else entries)]


def test_adding_a_number_listed_in_another_form_is_already_present(sandbox):
    before = _ecm_dnc(sandbox)  # holds +15550999999
    result = DncOperator(task_id="d", dialer_conn_id="expertflow_ecm_default", default_region="US",
                         add=["5550999999", "(555) 099-9999", "1 555 099 9999"]).execute({})
    assert (result["added"], result["already_present"], result["invalid"]) == (0, 1, 0)
    assert _ecm_dnc(sandbox) == before


def test_the_connection_extra_default_region_is_used_when_the_operator_gives_none(sandbox, make_connection):
    make_connection("ecm_us", "expertflow_ecm", extra={"default_region": "us"})
    before = _ecm_dnc(sandbox)
    result = DncOperator(task_id="d", dialer_conn_id="ecm_us", add="555-099-9999").execute({})
    assert (result["added"], result["already_present"]) == (0, 1)
    assert _ecm_dnc(sandbox) == before
    # Without a region anywhere, a national form cannot be placed: it is another number.
    result = DncOperator(task_id="d", dialer_conn_id="expertflow_ecm_default", add="555-099-9999").execute({})
    assert result["added"] == 1


def test_removing_a_number_removes_it_in_every_written_form(sandbox, sandbox_client):
    with ExpertflowEcmHook("expertflow_ecm_default", retry_policy=FAST) as hook:
        for written in ("2125550101", "+12125550101", "1 212 555 0101", "+12125550102"):
            hook.add_dnc_contact(written)
    since = sandbox_client.requests()[-1]["seq"]
    result = DncOperator(task_id="d", dialer_conn_id="expertflow_ecm_default", default_region="US",
                         remove=["(212) 555-0101", "212 555 0199"]).execute({})
    assert (result["removed"], result["not_found"]) == (1, 1)
    left = _ecm_dnc(sandbox)
    assert "+12125550102" in left and not {"2125550101", "+12125550101", "1 212 555 0101"} & set(left)
    deletes = [r for r in sandbox_client.requests(vendor="expertflow", since=since) if r["method"] == "DELETE"]
    assert len(deletes) == 3


def test_the_hook_adds_one_entry_for_two_forms_of_a_number_in_one_call(sandbox):
    before = len(_ecm_dnc(sandbox))
    with ExpertflowEcmHook("expertflow_ecm_default", retry_policy=FAST) as hook:
        hook.default_region = "US"
        result = hook.add_dnc(["2125550101", "+12125550101"])
        assert (list(result.added), list(result.already_present)) == (["2125550101"], ["+12125550101"])
        assert hook.add_dnc(["(212) 555-0101"]).already_present == ["2125550101"]
    assert len(_ecm_dnc(sandbox)) == before + 1


def test_a_region_libphonenumber_does_not_know_is_refused_before_any_change(sandbox, sandbox_client, make_connection):
    with pytest.raises(DialerValidationError, match="default_region"):
        DncOperator(task_id="d", dialer_conn_id="expertflow_ecm_default", default_region="USA",
                    add="2125550101").execute({})
    make_connection("ecm_xx", "expertflow_ecm", extra={"default_region": "XX"})
    with pytest.raises(DialerValidationError, match="default_region: 'XX' is not an ISO 3166 region"):
        DncOperator(task_id="d", dialer_conn_id="ecm_xx", add="2125550101").execute({})
    assert [r for r in sandbox_client.requests(vendor="expertflow") if r["method"] in ("POST", "DELETE")
            and "/contact" in r["path"]] == []
