"""Writes the bad-input corpus (the files next to this script), expectations.json and README.md.

The corpus is test data: the files are committed, and tests/test_reliability_bad_input.py reads them
with expectations.json. This script is how they were made, so a case can be changed or added in one
place; re-run it (``python tests/data/bad_inputs/make_corpus.py``) and commit what it writes. The
expectations are written by hand below, row by row; nothing here calls the product.

Each case mixes valid rows with one kind of bad input (or a few). For every row it says what must
happen on each dialer: ``OK(phone)`` (accepted, stored with that first phone), ``REJ(field, reason)``
(in the rejects file with that field and a reason containing that text), ``DUP`` (a duplicate),
or ``per(expertflow=..., sinch=..., ameyo=...)`` where the vendors' limits differ.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
VENDORS = ("expertflow", "sinch", "ameyo")
HEADER = ["external_id", "phone", "timezone", "dial_at", "name", "plan"]
# Inside the 10-year horizon (contacts.py) until 2035: move these dates forward before then.
FUTURE = "2035-03-02T10:00:00+01:00"


def OK(phone: str) -> dict:
    return {v: ("ok", phone) for v in VENDORS}


def REJ(field_name: str, reason: str) -> dict:
    return {v: ("rej", field_name, reason) for v in VENDORS}


DUP = {v: ("dup",) for v in VENDORS}


def per(**outcomes: tuple) -> dict:
    assert set(outcomes) == set(VENDORS), outcomes
    return outcomes


def ok(phone: str) -> tuple:
    return ("ok", phone)


def rej(field_name: str, reason: str) -> tuple:
    return ("rej", field_name, reason)


@dataclass
class Row:
    """A data row: cells (CSV) or a line (JSON Lines / raw CSV text), and what each dialer must do."""

    cells: list | str
    expect: dict


@dataclass
class NotARow:
    """Text in the file that is not a data row (a blank line, a row of empty cells)."""

    text: str


@dataclass
class Case:
    name: str
    file: str
    kinds: list[str]
    what: str
    items: list = field(default_factory=list)
    header: list[str] | str | None = None  # None: HEADER; a str is written as is
    args: dict = field(default_factory=dict)  # extra UploadContactsOperator arguments
    file_error: str | None = None  # the whole file is refused: a regex of the error's message
    # Dialers whose configuration check refuses the whole upload before anything is sent (a regex of
    # DialerConfigurationError's message): a problem of configuration, never one rejected row after another.
    task_errors: dict = field(default_factory=dict)
    encode: object = None  # bytes post-processing: text -> bytes
    line_end: str = "\n"


def valid(prefix: str, n: int, **changes: str) -> Row:
    """A valid row: phone ``<prefix><n:04d>``, external id ``<prefix>-<n>``, a future dial time."""
    cells = {"external_id": f"ext{prefix}-{n}", "phone": f"{prefix}{n:04d}", "timezone": "Europe/Berlin",
             "dial_at": "", "name": f"Name {n}", "plan": "gold", **changes}
    return Row([cells[c] for c in HEADER], OK(re.sub(r"[\s().\-/]", "", cells["phone"])))


def bad(prefix: str, n: int, expect: dict, **changes: str) -> Row:
    row = valid(prefix, n, **changes)
    row.expect = expect
    return row


def jl(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


LONG_CELL = "L" * 140_000  # over the csv module's field size limit (131072)

CASES: list[Case] = [
    Case("phone_invalid", "phone_invalid.csv", ["invalid phone number"],
         "characters no phone number has: '#', '*', a lone '+', a doubled '+'", [
             valid("55501", 1),
             bad("55501", 2, REJ("phone", "is not a phone number"), phone="555#1230002"),
             valid("55501", 3, phone="(555) 01-0003"),
             bad("55501", 4, REJ("phone", "is not a phone number"), phone="++15550104"),
             bad("55501", 5, REJ("phone", "is not a phone number"), phone="+"),
             bad("55501", 6, REJ("phone", "is not a phone number"), phone="5550106*"),
             valid("55501", 7),
         ]),
    Case("phone_too_short", "phone_too_short.csv", ["phone too short"],
         "numbers under a dialer's minimum: ECM 4 characters with '+', Sinch 5 digits, Ameyo 4 digits", [
             valid("55502", 1),
             bad("55502", 2, per(expertflow=rej("phones[0]", "ECM takes 4 to 15"),
                                 sinch=rej("phones[0]", "5-15 digits"),
                                 ameyo=rej("phones[0]", "4 to 20 digits")), phone="123"),
             bad("55502", 3, per(expertflow=ok("1234"), sinch=rej("phones[0]", "5-15 digits"), ameyo=ok("1234")),
                 phone="1234"),
             bad("55502", 4, per(expertflow=ok("+123"), sinch=rej("phones[0]", "5-15 digits"),
                                 ameyo=rej("phones[0]", "4 to 20 digits")), phone="+123"),
             valid("55502", 5, phone="12345"),
         ]),
    Case("phone_too_long", "phone_too_long.csv", ["phone too long"],
         "numbers over a dialer's maximum: ECM 15 characters with '+', Sinch 15 digits, Ameyo 20 digits", [
             valid("55503", 1),
             bad("55503", 2, per(expertflow=rej("phones[0]", "ECM takes 4 to 15"),
                                 sinch=rej("phones[0]", "5-15 digits"), ameyo=ok("5550300000000002")),
                 phone="5550300000000002"),
             bad("55503", 3, REJ("phones[0]", ""), phone="555030000000000000003"),
             bad("55503", 4, per(expertflow=rej("phones[0]", "ECM takes 4 to 15"),
                                 sinch=ok("+555030000000004"), ameyo=ok("+555030000000004")),
                 phone="+555030000000004"),
             valid("55503", 5, phone="555030000000005"),
         ]),
    Case("phone_letters", "phone_letters.csv", ["letters in phone"],
         "vanity numbers, a letter O for a zero, spreadsheet scientific notation, words", [
             bad("55504", 1, REJ("phone", "contains letters"), phone="555-CALL-NOW"),
             valid("55504", 2),
             bad("55504", 3, REJ("phone", "contains letters"), phone="55504O0003"),
             bad("55504", 4, REJ("phone", "contains letters"), phone="5.55123E+09"),
             bad("55504", 5, REJ("phone", "contains letters"), phone="five five five"),
             valid("55504", 6),
         ]),
    Case("phone_unicode", "phone_unicode.csv", ["non-ASCII digits or invisible characters in phone"],
         "full-width and Arabic-Indic digits, a left-to-right mark before the number", [
             valid("55505", 1),
             bad("55505", 2, REJ("phone", "is not a phone number"), phone="５５５０５０００２"),
             bad("55505", 3, REJ("phone", "is not a phone number"), phone="٥٥٥٠٥٠٠٠٣"),
             bad("55505", 4, REJ("phone", "is not a phone number"), phone="\u200e5550500004"),
             valid("55505", 5),
         ]),
    Case("too_many_phones", "too_many_phones.csv", ["more phones than the dialer allows (phoneN columns)"],
         "4 and 5 phones: fine for ECM (phone1..phone5), too many for Sinch and Ameyo (3)", [
             Row(["tm-1", "5550610001", "5550620001", "5550630001", "", "", "Ann"], OK("5550610001")),
             Row(["tm-2", "5550610002", "5550620002", "5550630002", "5550640002", "", "Bob"],
                 per(expertflow=ok("5550610002"), sinch=rej("phones", "at most 3"), ameyo=rej("phones", "at most 3"))),
             Row(["tm-3", "5550610003", "5550620003", "5550630003", "5550640003", "5550650003", "Cy"],
                 per(expertflow=ok("5550610003"), sinch=rej("phones", "at most 3"), ameyo=rej("phones", "at most 3"))),
             Row(["tm-4", "5550610004", "", "", "", "", "Di"], OK("5550610004")),
         ], header=["external_id", "phone1", "phone2", "phone3", "phone4", "phone5", "name"]),
    Case("too_many_phones_list", "too_many_phones_list.csv", ["more phones than any dialer allows (phones list)"],
         "a phones cell with 6 numbers (over ECM's 5 too), and lists separated by ';' and ','", [
             Row(["tl-1", "5550710001;5550720001", "Ann"], OK("5550710001")),
             Row(["tl-2", ";".join(f"55507{k}0002" for k in range(1, 7)), "Bob"],
                 per(expertflow=rej("phones", "at most 5"), sinch=rej("phones", "at most 3"),
                     ameyo=rej("phones", "at most 3"))),
             Row(["tl-3", "5550710003, 5550720003", "Cy"], OK("5550710003")),
         ], header=["external_id", "phones", "name"]),
    Case("missing_phone", "missing_phone.csv", ["missing phone", "phone that is only punctuation"],
         "an empty cell, spaces, only separators, only a dash", [
             valid("55508", 1),
             bad("55508", 2, REJ("phones", "at least one phone number is required"), phone=""),
             bad("55508", 3, REJ("phones", "at least one phone number is required"), phone="   "),
             bad("55508", 4, REJ("phone", "at least one phone number is required"), phone=";;"),
             bad("55508", 5, REJ("phone", "is empty"), phone="-"),
             valid("55508", 6),
         ]),
    Case("phone_and_phones", "phone_and_phones.csv", ["conflicting phone columns"],
         "a row filling both the phone and the phones column", [
             Row(["pp-1", "5550910001", "", "Ann"], OK("5550910001")),
             Row(["pp-2", "5550910002", "5550920002;5550930002", "Bob"], REJ("phone", "either phone or phones")),
             Row(["pp-3", "", "5550910003;5550920003", "Cy"], OK("5550910003")),
         ], header=["external_id", "phone", "phones", "name"]),
    Case("field_over_limit", "field_over_limit.csv", ["field over the dialer's limit", "external id too long"],
         "a 256-character name (ECM's businessParam holds 255) and a 256-character external id", [
             valid("55510", 1, name="N" * 255),
             bad("55510", 2, per(expertflow=rej("attributes.name", "longer than 255"), sinch=ok("555100002"),
                                 ameyo=ok("555100002")), name="N" * 256),
             bad("55510", 3, REJ("external_id", "longer than 255"), external_id="E" * 256),
             valid("55510", 4),
         ]),
    Case("unknown_timezone", "unknown_timezone.csv", ["unknown time zone"],
         "a made-up zone, a misspelling, an offset instead of a zone, the wrong case", [
             valid("55511", 1),
             bad("55511", 2, REJ("timezone", "unknown time zone"), timezone="Mars/Olympus"),
             bad("55511", 3, REJ("timezone", "unknown time zone"), timezone="America/Chicag"),
             bad("55511", 4, REJ("timezone", "unknown time zone"), timezone="+05:00"),
             bad("55511", 5, REJ("timezone", "unknown time zone"), timezone="america/chicago"),
             valid("55511", 6, timezone="Etc/GMT+5"),
         ]),
    Case("naive_dial_time", "naive_dial_time.csv", ["naive dial time"],
         "dial times without a UTC offset: refused without a time zone, fine with one", [
             bad("55512", 1, REJ("dial_at", "no UTC offset"), timezone="", dial_at="2035-03-01 10:00"),
             valid("55512", 2, timezone="Europe/Berlin", dial_at="2035-03-01 10:00"),
             bad("55512", 3, REJ("dial_at", "no UTC offset"), timezone="", dial_at="2035-03-01T10:00:00"),
             valid("55512", 4, timezone="", dial_at=FUTURE),
         ]),
    Case("unparseable_dial_time", "unparseable_dial_time.csv",
         ["unparseable dial time", "impossible date", "date without a time"],
         "words, month 13, 29 February of a common year, a date alone, a time alone", [
             valid("55513", 1, dial_at=FUTURE),
             bad("55513", 2, REJ("dial_at", "is not a date and time"), dial_at="next tuesday"),
             bad("55513", 3, REJ("dial_at", "is not a date and time"), dial_at="2035-13-45T10:00:00Z"),
             bad("55513", 4, REJ("dial_at", "is not a date and time"), dial_at="2035-02-29T10:00:00Z"),
             bad("55513", 5, REJ("dial_at", "needs a date and a time"), dial_at="2035-03-01"),
             bad("55513", 6, REJ("dial_at", "needs a date and a time"), dial_at="10:00"),
             valid("55513", 7),
         ]),
    Case("past_dial_time", "past_dial_time.csv", ["dial time in the past"],
         "dial times already gone, with an offset and as local time in the contact's zone", [
             bad("55514", 1, REJ("dial_at", "is in the past"), dial_at="2020-01-01T10:00:00Z"),
             valid("55514", 2, dial_at=FUTURE),
             bad("55514", 3, REJ("dial_at", "is in the past"), dial_at="1999-12-31T23:59:59+01:00"),
             bad("55514", 4, REJ("dial_at", "is in the past"), timezone="UTC", dial_at="2000-01-01 09:00"),
             valid("55514", 5),
         ]),
    Case("duplicate_rows", "duplicate_rows.csv", ["duplicate rows"],
         "the same row twice, with and without an external id: the first one wins", [
             valid("55515", 1),
             valid("55515", 2),
             Row(valid("55515", 1).cells, DUP),
             valid("55515", 3, external_id=""),
             Row(valid("55515", 3, external_id="").cells, DUP),
             valid("55515", 4),
         ]),
    Case("duplicate_external_ids", "duplicate_external_ids.csv", ["duplicate external ids"],
         "the same external id on different people: the first one wins; ids differing in case are distinct", [
             valid("55516", 1),
             bad("55516", 2, DUP, external_id="ext55516-1"),
             valid("55516", 3),
             bad("55516", 4, DUP, external_id="ext55516-3", name="Other"),
             valid("55516", 5, external_id="EXT55516-1"),
         ]),
    Case("same_phone", "same_phone.csv", ["same phone under different external ids"],
         "ECM and Ameyo key a contact by its first phone, Sinch by its external id", [
             valid("55517", 1),
             bad("55517", 2, per(expertflow=("dup",), sinch=ok("555170001"), ameyo=("dup",)),
                 phone="555170001"),
             valid("55517", 3),
         ]),
    Case("empty_file", "empty.csv", ["empty file"], "zero bytes: total 0, a warning, not an error", [],
         header=""),
    Case("header_only", "header_only.csv", ["header only"], "a header and nothing else: total 0", []),
    Case("blank_rows_only", "blank_rows_only.csv", ["only blank lines and empty cells"],
         "a header, blank lines and rows of empty cells as spreadsheets export them: total 0", [
             NotARow(""), NotARow(",,,,,"), NotARow("  "), NotARow(",,,,,"),
         ]),
    Case("wrong_delimiter", "semicolon.csv", ["wrong delimiter"],
         "a ';'-separated file read as ','-separated: the whole file is refused, nothing is sent", [
             Row("sc-1;5551800001;Europe/Berlin;;Ann;gold", {}),
             Row("sc-2;5551800002;Europe/Berlin;;Bob;gold", {}),
         ], header="external_id;phone;timezone;dial_at;name;plan",
         file_error=r"looks ';'-delimited.*set delimiter=';'"),
    Case("right_delimiter", "semicolon.csv", ["semicolon file with delimiter=';'"],
         "the same file with delimiter=';': every row is read", [
             Row("sc-1;5551800001;Europe/Berlin;;Ann;gold", OK("5551800001")),
             Row("sc-2;5551800002;Europe/Berlin;;Bob;gold", OK("5551800002")),
         ], header="external_id;phone;timezone;dial_at;name;plan", args={"delimiter": ";"}),
    Case("bom", "bom.csv", ["byte order mark"],
         "UTF-8 with a BOM before the header: the first column is still external_id", [
             valid("55519", 1),
             bad("55519", 2, REJ("timezone", "unknown time zone"), timezone="Nowhere/Land"),
             valid("55519", 3),
         ], encode=lambda text: codecs.BOM_UTF8 + text.encode("utf-8")),
    Case("crlf", "crlf.csv", ["CRLF line endings"],
         "Windows line endings, also inside a quoted cell", [
             valid("55520", 1),
             valid("55520", 2, name="Ann\r\nSmith"),
             bad("55520", 3, REJ("phone", "contains letters"), phone="555-CRLF"),
             valid("55520", 4),
         ], line_end="\r\n"),
    Case("embedded_newlines_quotes", "embedded_newlines_quotes.csv", ["embedded newlines and quotes"],
         "quoted cells holding new lines, commas and doubled quotes; rows are records, not lines", [
             valid("55521", 1, name="Ann\nSmith\nThird line"),
             valid("55521", 2, name='Bob "the builder"'),
             bad("55521", 3, REJ("phone", "contains letters"), name="Cy,\n\"quoted\"", phone="NOPE"),
             valid("55521", 4, name="Kim, Lee"),
             bad("55521", 5, REJ("timezone", "unknown time zone"), timezone="Multi\nLine"),
         ]),
    Case("non_utf8_rows", "non_utf8_rows.csv", ["non-UTF-8 bytes"],
         "Latin-1 bytes in one row and stray 0xFF 0xFE in another: those rows only are refused", [
             valid("55522", 1, name="José (UTF-8)"),
             bad("55522", 2, REJ("row", "not valid UTF-8"), name="JOSE_LATIN1"),
             bad("55522", 3, REJ("row", "not valid UTF-8"), phone="55522\u00ff\u00fe0003"),
             valid("55522", 4),
         ], encode=lambda text: text.encode("utf-8").replace(b"JOSE_LATIN1", "José".encode("latin-1"))
         .replace("55522\u00ff\u00fe0003".encode("utf-8"), b"55522\xff\xfe0003")),
    Case("utf16_file", "utf16.csv", ["UTF-16 file"],
         "a whole file in UTF-16 (as some spreadsheet exports are): refused, nothing is sent", [
             Row(valid("55523", 1).cells, {}), Row(valid("55523", 2).cells, {}),
         ], encode=lambda text: text.encode("utf-16"), file_error=r"header is not valid UTF-8"),
    Case("duplicate_header", "duplicate_header.csv", ["repeated header column"],
         "two columns called phone: which one is meant cannot be known, so the file is refused", [
             Row(["dh-1", "5552400001", "5552400091", "Ann"], {}),
         ], header=["external_id", "phone", "phone", "name"], file_error=r"repeats column\(s\) \['phone'\]"),
    Case("csv_injection", "csv_injection.csv", ["CSV injection in attributes", "CSV injection in external id"],
         "cells a spreadsheet would run as formulas; '+1 555 0100' and '-12.5' are plain values", [
             bad("55525", 1, REJ("attributes.name", "formula"), name="=cmd|' /C calc'!A0"),
             valid("55525", 2, name="+1 555 0100", plan="-12.5"),
             bad("55525", 3, REJ("attributes.name", "formula"), name="@SUM(A1:A9)"),
             bad("55525", 4, REJ("attributes.name", "formula"), name="+cmd|' /C calc'!A0"),
             bad("55525", 5, REJ("attributes.plan", "formula"), plan='=HYPERLINK("http://x.example","y")'),
             bad("55525", 6, REJ("attributes.name", "formula"), name="-2+3+cmd|' /C calc'!A0"),
             bad("55525", 7, REJ("external_id", "formula"), external_id="=1+1"),
             valid("55525", 8),
         ]),
    Case("long_lines", "long_lines.csv", ["very long line", "long attribute within CSV limits"],
         "a cell of 140 000 characters (over the csv module's 128 KiB field limit) and one of 5 000", [
             valid("55526", 1),
             bad("55526", 2, REJ("row", "cannot be read as CSV"), name=LONG_CELL),
             bad("55526", 3, per(expertflow=rej("attributes.name", "longer than 255"), sinch=ok("555260003"),
                                 ameyo=ok("555260003")), name="M" * 5000),
             valid("55526", 4),
         ]),
    Case("cell_count", "cell_count.csv", ["more cells than the header"],
         "a row with extra cells is refused; a short row (missing trailing cells) is fine", [
             valid("55527", 1),
             Row(valid("55527", 2).cells + ["extra", "more"], REJ("row", "row has 8 cells, header has 6")),
             Row(valid("55527", 3).cells[:2], OK("555270003")),
             valid("55527", 4),
         ]),
    Case("control_characters", "control_characters.csv", ["control characters in external id"],
         "a bell and a tab inside external ids", [
             valid("55528", 1),
             bad("55528", 2, REJ("external_id", "control characters"), external_id="ext\x07bell"),
             bad("55528", 3, REJ("external_id", "control characters"), external_id="ext\ttab"),
             valid("55528", 4),
         ]),
    Case("blank_lines", "blank_lines.csv", ["blank lines between rows"],
         "blank lines and empty-cell rows between rows are not rows: numbering skips them", [
             valid("55529", 1), NotARow(""), NotARow(",,,,,"),
             bad("55529", 2, REJ("phone", "contains letters"), phone="555-BLANK"),
             NotARow("   "), valid("55529", 3),
         ]),
    Case("attribute_names", "attribute_names.csv", ["attribute the dialer cannot store"],
         "a 'Customer Name' column: Ameyo columns are identifiers (the rows that fill it are rejected); "
         "ECM keeps only mapped businessParams, so ECM refuses the upload before sending anything", [
             Row(["an-1", "5553000001", "", "Ann Smith"],
                 per(expertflow=rej("attributes.Customer Name", "businessParam1..12"), sinch=ok("5553000001"),
                     ameyo=rej("attributes.Customer Name", "not a valid Ameyo column name"))),
             Row(["an-2", "5553000002", "gold", ""], OK("5553000002")),
         ], header=["external_id", "phone", "plan", "Customer Name"],
         task_errors={"expertflow": r"attributes ECM has no field for: \['Customer Name'\].*attribute_map"}),
    Case("messy_but_valid", "messy_but_valid.csv", ["header case and padding"],
         "header names in other cases with spaces, values padded with spaces: all valid", [
             Row([" ms-1 ", " 555 310 0001 ", " Europe/Berlin ", "", " Ann ", "gold"], OK("5553100001")),
             Row(["ms-2", "(555) 310-0002", "UTC", " " + FUTURE + " ", "Bob", "gold"], OK("5553100002")),
         ], header=[" External_ID", "PHONE ", " TimeZone", "Dial_At", "name", "plan"]),
    # -- JSON Lines --------------------------------------------------------------------------------
    Case("jsonl_broken_lines", "broken_lines.jsonl", ["JSON Lines: broken line", "JSON Lines: line not an object"],
         "a truncated object, trailing garbage, an array, null and a bare string between good lines", [
             Row(jl({"external_id": "jb-1", "phone": "5553200001", "name": "Ann"}), OK("5553200001")),
             Row('{"external_id": "jb-2", "phone": "55532', REJ("row", "not valid JSON")),
             Row(jl({"external_id": "jb-3", "phone": "5553200003"}) + " trailing", REJ("row", "not valid JSON")),
             NotARow(""),
             Row("[1, 2]", REJ("row", "must be a JSON object")),
             Row("null", REJ("row", "must be a JSON object")),
             Row('"just text"', REJ("row", "must be a JSON object")),
             Row(jl({"external_id": "jb-7", "phone": "5553200007", "name": "Gus"}), OK("5553200007")),
         ], header=None),
    Case("jsonl_wrong_types", "wrong_types.jsonl", ["JSON Lines: wrong types"],
         "numbers, booleans, lists and objects where text is expected (an integer phone or id is fine)", [
             Row(jl({"external_id": "jt-1", "phone": 5553300001}), OK("5553300001")),
             Row(jl({"external_id": "jt-2", "phone": 5553300002.0}), REJ("phone", "must be text or a list")),
             Row(jl({"external_id": "jt-3", "phone": True}), REJ("phone", "must be text or a list")),
             Row(jl({"external_id": "jt-4", "phones": ["5553300004", None]}), REJ("phones[1]", "must be text")),
             Row(jl({"external_id": ["jt-5"], "phone": "5553300005"}), REJ("external_id", "must be text")),
             Row(jl({"external_id": "jt-6", "phone": "5553300006", "timezone": 5}), REJ("timezone", "IANA name")),
             Row(jl({"external_id": "jt-7", "phone": "5553300007", "dial_at": 4102444800}),
                 REJ("dial_at", "ISO 8601")),
             Row(jl({"external_id": "jt-8", "phone": "5553300008", "name": {"first": "Ann"}}),
                 REJ("attributes.name", "single value")),
             Row(jl({"external_id": 9, "phone": "5553300009", "name": "Ida"}), OK("5553300009")),
             Row(jl({"external_id": "jt-10", "phones": {"home": "5553300010"}}), REJ("phones", "must be text or a list")),
         ], header=None),
    Case("jsonl_encoding", "encoding.jsonl", ["JSON Lines: BOM, CRLF and non-UTF-8 bytes"],
         "a BOM before the first line, CRLF endings, a Latin-1 byte in one line", [
             Row(jl({"external_id": "je-1", "phone": "5553400001", "name": "José"}), OK("5553400001")),
             Row(jl({"external_id": "je-2", "phone": "5553400002", "name": "LATIN1_HERE"}), REJ("row", "not valid UTF-8")),
             Row(jl({"external_id": "je-3", "phone": "5553400003"}), OK("5553400003")),
         ], header=None, line_end="\r\n",
         encode=lambda text: codecs.BOM_UTF8 + text.encode("utf-8").replace(b"LATIN1_HERE", "Zoë".encode("latin-1"))),
]


def render(case: Case) -> bytes:
    """The file's bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=case.line_end)
    jsonl = case.file.endswith(".jsonl")
    if case.header is None and not jsonl:
        writer.writerow(HEADER)
    elif isinstance(case.header, list):
        writer.writerow(case.header)
    elif isinstance(case.header, str) and case.header:
        buffer.write(case.header + case.line_end)
    for item in case.items:
        if isinstance(item, NotARow):
            buffer.write(item.text + case.line_end)
        elif isinstance(item.cells, str):
            buffer.write(item.cells + case.line_end)
        else:
            writer.writerow(item.cells)
    text = buffer.getvalue()
    return case.encode(text) if case.encode else text.encode("utf-8")


def expectations(case: Case) -> dict:
    rows = [item for item in case.items if isinstance(item, Row)]
    entry: dict = {"file": case.file, "kinds": case.kinds, "what": case.what, "args": case.args}
    if case.file_error:
        entry["file_error"] = case.file_error
        return entry
    vendors = {}
    for vendor in VENDORS:
        accepted, rejected, duplicates = {}, {}, []
        for number, row in enumerate(rows, start=1):
            outcome = row.expect[vendor]
            if outcome[0] == "ok":
                accepted[str(number)] = outcome[1]
            elif outcome[0] == "rej":
                rejected[str(number)] = [outcome[1], outcome[2]]
            else:
                duplicates.append(number)
        vendors[vendor] = {"total": len(rows), "accepted": accepted, "rejected": rejected, "duplicates": duplicates}
    for vendor in case.task_errors:
        vendors[vendor] = {"task_error": case.task_errors[vendor]}
    entry["vendors"] = vendors
    return entry


def readme(manifest: dict) -> str:
    kinds = sorted({kind for entry in manifest.values() for kind in entry["kinds"]})
    lines = [
        "# Bad-input corpus (issue 5, R3)",
        "",
        "Each file mixes valid rows with one kind of bad input (or a few). `expectations.json` says, per",
        "case and per dialer (ECM, Sinch, Ameyo), the exact counts, every accepted row's stored phone, and",
        "each rejected row's number, field and a fragment of its reason. `tests/test_reliability_bad_input.py`",
        "uploads every case with `UploadContactsOperator` to each dialer of the sandbox and checks all of it:",
        "",
        "- each bad row is in the rejects file with its row number, field and reason;",
        "- every valid row is accepted and is in the dialer, once; nothing else is added;",
        "- the buckets add up to `total`; the task never dies with a bare traceback;",
        "- a file that cannot be read at all is refused before anything is sent (no upload request);",
        "  an empty or header-only file is `total: 0`, not an error.",
        "",
        "Rows are data rows, numbered from 1 after the header; blank lines are not rows. The files are",
        "written by `make_corpus.py` (the expectations are hand-written there, row by row); edit it and",
        "re-run it rather than editing a file by hand.",
        "",
        f"{len(manifest)} cases, {len(kinds)} kinds of bad input.",
        "",
        "| case | file | kinds | what must happen |",
        "|---|---|---|---|",
    ]
    for name, entry in manifest.items():
        if "file_error" in entry:
            outcome = "whole file refused, nothing sent"
        else:
            parts = []
            for vendor, spec in entry["vendors"].items():
                if "task_error" in spec:
                    parts.append(f"{vendor}: the upload refused before anything is sent")
                    continue
                parts.append(f"{vendor}: {spec['total']} rows, {len(spec['accepted'])} accepted, "
                             f"{len(spec['rejected'])} rejected, {len(spec['duplicates'])} duplicates")
            outcome = "; ".join(parts) if len({p.split(': ', 1)[1] for p in parts}) > 1 else parts[0].split(": ", 1)[1]
            if entry["args"]:
                outcome += f" (with {', '.join(f'{k}={v!r}' for k, v in entry['args'].items())})"
        lines.append(f"| {name} | `{entry['file']}` | {'; '.join(entry['kinds'])} | {entry['what']}: {outcome} |")
    lines += ["", "Rejected rows, per case (row: field, reason fragment; the same on every dialer unless marked):", ""]
    for name, entry in manifest.items():
        if "file_error" in entry:
            lines.append(f"- **{name}**: error matching `{entry['file_error']}`")
            continue
        by_row: dict[str, dict[str, str]] = {}
        for vendor, spec in entry["vendors"].items():
            for row, (field_name, reason) in spec.get("rejected", {}).items():
                by_row.setdefault(row, {})[vendor] = f"`{field_name}` ({reason or 'any reason'})"
        if not by_row:
            continue
        items = []
        for row in sorted(by_row, key=int):
            vendors = by_row[row]
            if len(vendors) == 3 and len(set(vendors.values())) == 1:
                items.append(f"{row}: {next(iter(vendors.values()))}")
            else:
                items.append(f"{row}: " + ", ".join(f"{v} {text}" for v, text in vendors.items()))
        lines.append(f"- **{name}**: " + "; ".join(items))
    return "\n".join(lines) + "\n"


def main() -> None:
    manifest, written = {}, {}
    for case in CASES:
        data = render(case)
        if written.setdefault(case.file, data) != data:
            raise SystemExit(f"two cases write {case.file} differently")
        (HERE / case.file).write_bytes(data)
        manifest[case.name] = expectations(case)
    (HERE / "expectations.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    (HERE / "README.md").write_text(readme(manifest))


if __name__ == "__main__":
    main()
