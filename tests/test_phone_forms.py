"""is_canonical_e164: the shortcut canonical_phone takes must never disagree with libphonenumber."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from airflow_provider_dialers.contacts import canonical_phone
from airflow_provider_dialers.phone_forms import is_canonical_e164


def _parsed(text: str) -> str:
    """canonical_phone's answer without the shortcut: libphonenumber's E.164, else the digits."""
    try:
        number = phonenumbers.parse(text, None)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return "+" + "".join(char for char in text if char.isdigit())


@pytest.mark.parametrize("text", ["+12125550101", "+442071234567", "+390612345678", "+4915112345678"])
def test_numbers_written_as_libphonenumber_writes_them_take_the_shortcut(text: str) -> None:
    assert is_canonical_e164(text)
    assert canonical_phone(text) == _parsed(text) == text


@pytest.mark.parametrize("text, canonical", [
    ("+4402071234567", "+442071234567"),  # the national prefix 0 kept after +44
    ("+112125550101", "+12125550101"),  # the national prefix 1 kept after +1
    ("+3606201234567", "+36201234567"),  # Hungary's 06
])
def test_a_national_prefix_after_the_country_code_is_left_to_the_parse(text: str, canonical: str) -> None:
    assert not is_canonical_e164(text)
    assert canonical_phone(text) == canonical


@pytest.mark.parametrize("text", ["2125550101", "+1212", "+0123456789", "+12125550101999999", "0012125550101"])
def test_anything_but_strict_e164_is_left_to_the_parse(text: str) -> None:
    assert not is_canonical_e164(text)


def test_the_shortcut_agrees_with_libphonenumber_on_every_country_code() -> None:
    rng = random.Random(20261207)
    codes = list(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    taken = 0
    for _ in range(20_000):
        national = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 13)))
        if rng.random() < 0.3:
            national = rng.choice(["0", "1", "8", "06", "15", "90"]) + national
        text = f"+{rng.choice(codes)}{national}"
        if is_canonical_e164(text):
            taken += 1
            assert _parsed(text) == text, text
    assert taken > 10_000  # the shortcut is taken for most numbers, so the comparison means something
