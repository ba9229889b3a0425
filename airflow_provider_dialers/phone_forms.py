"""Whether a number written in E.164 is already in the form libphonenumber would give it.

``canonical_phone`` compares numbers however they are written; reading a campaign's contacts before
an upload canonicalises every number the campaign holds, and libphonenumber's ``parse`` costs
about 20 us a number. A number written ``+<country code><national number>`` is its own canonical
form unless libphonenumber would strip a national prefix after the country code (``+44 0 20...``
is ``+44 20...``); :func:`is_canonical_e164` tells that from the country's metadata in about 2 us.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_STRICT_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def is_canonical_e164(text: str) -> bool:
    """True when ``text`` (punctuation already removed) is written as libphonenumber writes it in
    E.164, so it needs no parsing; False when only a parse can say (then nothing is assumed)."""
    if not _STRICT_E164.fullmatch(text):
        return False
    for length in (1, 2, 3):
        prefix = _national_prefix(int(text[1:1 + length]))
        if prefix is not None:
            return prefix is _NO_PREFIX or not _strips(prefix, text[1 + length:])
    return False  # no such country code: the parse decides


_NO_PREFIX: Any = object()


@cache
def _national_prefix(country_code: int) -> Any:
    """The country's national prefix for parsing (compiled), ``_NO_PREFIX`` when it has none, None
    when ``country_code`` is not a country code."""
    import phonenumbers

    if country_code not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        return None
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
    if metadata is None:
        return None
    pattern = metadata.national_prefix_for_parsing or metadata.national_prefix
    if not pattern:
        return _NO_PREFIX
    return re.compile(pattern), metadata.national_prefix_transform_rule


def _strips(prefix: tuple[re.Pattern[str], str | None], national: str) -> bool:
    """Whether the national prefix rule could change ``national`` (conservative: any match that
    consumes digits, or any match at all where the rule rewrites the number)."""
    pattern, transform = prefix
    match = pattern.match(national)
    return match is not None and (match.end() > 0 or transform is not None)
