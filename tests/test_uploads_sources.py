"""Streaming an upload's input: lists, CSV and JSON Lines files, column mapping, bad rows."""

from __future__ import annotations

import logging
import tracemalloc
from pathlib import Path

import pytest

from airflow_provider_dialers.uploads.sources import (
    CALLBACK_KEYS,
    CONTACT_KEYS,
    ColumnMapper,
    csv_columns,
    fingerprint,
    iter_rows,
)

CONTACTS = ColumnMapper(CONTACT_KEYS)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_with_bom_crlf_quotes_embedded_newlines_and_a_delimiter(tmp_path):
    data = (
        "\ufeffexternal_id;phone;Name;Note\r\n"
        'c1;5551230001;"Ann ""the boss"" Lee";"line one\r\nline two"\r\n'
        "\r\n"
        "c2;5551230002;Bob;\r\n"
    ).encode()
    rows = list(iter_rows(write(tmp_path, "in.csv", data), CONTACTS, delimiter=";"))
    assert [r.row for r in rows] == [1, 2]  # the header and the blank line are not rows
    assert rows[0].record == {
        "external_id": "c1",
        "phone": "5551230001",
        "attributes": {"Name": 'Ann "the boss" Lee', "Note": "line one\r\nline two"},
    }
    assert rows[1].record == {"external_id": "c2", "phone": "5551230002", "attributes": {"Name": "Bob"}}


def test_a_row_that_is_not_utf8_is_an_error_naming_the_row_and_the_rest_is_read(tmp_path):
    data = b"phone,name\n5551230001,Ann\n5551230002,Bj\xf6rn\n5551230003,Cy\n"
    rows = list(iter_rows(write(tmp_path, "in.csv", data), CONTACTS))
    assert [r.error for r in rows] == [None, ("row", "row 2 is not valid UTF-8"), None]
    assert rows[2].record == {"phone": "5551230003", "attributes": {"name": "Cy"}}


def test_a_row_with_more_cells_than_the_header_is_an_error(tmp_path):
    rows = list(iter_rows(write(tmp_path, "in.csv", b"phone,name\n5551230001,Ann,extra\n"), CONTACTS))
    assert rows[0].error == ("row", "row has 3 cells, header has 2")


@pytest.mark.parametrize("data", [b"", b"phone,name\n", b"\xef\xbb\xbfphone,name\r\n\r\n"])
def test_empty_and_header_only_files_have_no_rows_and_say_so(tmp_path, caplog, data):
    with caplog.at_level(logging.WARNING):
        assert list(iter_rows(write(tmp_path, "in.csv", data), CONTACTS)) == []
    assert "no data rows" in caplog.text


def test_a_repeated_csv_column_is_refused(tmp_path):
    with pytest.raises(ValueError, match="repeats column"):
        list(iter_rows(write(tmp_path, "in.csv", b"phone,phone\n1,2\n"), CONTACTS))


def test_json_lines_broken_line_is_an_error_and_blank_lines_are_skipped(tmp_path):
    data = b'{"phone": "5551230001", "name": "Ann"}\n\n{"phone": oops}\n[1, 2]\n{"phones": ["5551230003"]}\n'
    rows = list(iter_rows(write(tmp_path, "in.jsonl", data), CONTACTS))
    assert [r.row for r in rows] == [1, 2, 3, 4]
    assert rows[0].record == {"phone": "5551230001", "attributes": {"name": "Ann"}}
    assert rows[1].error[1].startswith("not valid JSON")
    assert rows[2].error == ("row", "must be a JSON object, got list")
    assert rows[3].record == {"phones": ["5551230003"]}


def test_numbered_phone_columns_are_appended_in_order_and_other_columns_become_attributes(tmp_path):
    data = (
        b"Phones,Phone2,phone1,TimeZone,segment,empty\n"
        b"5550000001;5550000002,5550000004,5550000003,Europe/Berlin,gold,\n"
    )
    rows = list(iter_rows(write(tmp_path, "in.csv", data), CONTACTS))
    assert rows[0].record == {
        "phones": ["5550000001", "5550000002", "5550000003", "5550000004"],
        "timezone": "Europe/Berlin",
        "attributes": {"segment": "gold"},
    }


def test_a_single_phone_with_numbered_phones_becomes_a_phone_list():
    record = CONTACTS.to_record({"phone": "5550000001", "phone2": "5550000002"})
    assert record == {"phones": ["5550000001", "5550000002"]}


def test_field_map_renames_drops_and_targets_attributes():
    mapper = ColumnMapper(
        CONTACT_KEYS, {"Mobile": "phone", "ssn": None, "phone": "attributes.landline", "Id": "external_id"}
    )
    record = mapper.to_record(
        {"Mobile": "5550000001", "ssn": "123-45-6789", "phone": "5550000009", "Id": "x1"}
    )
    assert record == {"phone": "5550000001", "external_id": "x1", "attributes": {"landline": "5550000009"}}


def test_field_map_with_an_unknown_target_is_refused():
    with pytest.raises(ValueError, match="field_map\\['Mobile'\\]"):
        ColumnMapper(CONTACT_KEYS, {"Mobile": "mobile_phone"})


def test_callback_columns_map_for_callbacks_and_are_attributes_for_contacts():
    values = {"phone": "5550000001", "callback_at": "2030-01-01T10:00:00Z", "agent": "u7"}
    assert ColumnMapper(CALLBACK_KEYS).to_record(values) == values
    assert ColumnMapper(CONTACT_KEYS).to_record(values)["attributes"] == {
        "callback_at": "2030-01-01T10:00:00Z",
        "agent": "u7",
    }


def test_rows_in_memory_keep_the_models_own_shape_and_non_objects_are_errors():
    rows = list(iter_rows([{"phones": ["5550000001"], "attributes": {"a": "1"}, "b": "2"}, "nope"], CONTACTS))
    assert rows[0].record == {"phones": ["5550000001"], "attributes": {"a": "1", "b": "2"}}
    assert rows[1].error == ("row", "must be an object, got str")


def test_object_storage_path_sources_are_read_in_binary(tmp_path):
    from airflow.sdk import ObjectStoragePath

    path = write(tmp_path, "in.csv", "phone,name\n5551230001,Zoë\n".encode())
    rows = list(iter_rows(ObjectStoragePath(f"file://{path}"), CONTACTS))
    assert rows[0].record == {"phone": "5551230001", "attributes": {"name": "Zoë"}}
    assert csv_columns(ObjectStoragePath(f"file://{path}")) == ["phone", "name"]


def test_reading_does_not_hold_the_file_in_memory(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write("external_id,phone,name,notes\n")
        for i in range(40_000):
            handle.write(f"c{i},555{i:07d},Name {i},{'x' * 40}\n")
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_rows(path, CONTACTS))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 40_000
    assert path.stat().st_size > 2_500_000
    assert peak < 300_000  # a few rows' worth, not the file's 2.5+ MB


def test_fingerprint_changes_with_the_file_and_with_rows_in_memory(tmp_path):
    path = write(tmp_path, "in.csv", b"phone\n5551230001\n")
    first = fingerprint(path)
    assert fingerprint(path) == first
    path.write_bytes(b"phone\n5551230002\n")
    assert fingerprint(path) != first
    assert fingerprint([{"phone": "1"}]) != fingerprint([{"phone": "2"}])


def test_an_unclosed_quote_is_reported_with_the_lines_it_swallowed(tmp_path):
    data = b'phone,name\n5551230001,Ann\n5551230002,"Bob\n5551230003,Cy\n5551230004,Dee\n'
    rows = list(iter_rows(write(tmp_path, "in.csv", data), CONTACTS))
    assert [row.row for row in rows] == [1, 2]
    assert rows[0].error is None
    field, reason = rows[1].error
    assert field == "row"
    assert "unclosed quote" in reason and "lines 3-5" in reason and "lines 4-5 were not uploaded" in reason


def test_a_quote_inside_an_unquoted_cell_is_a_literal_character(tmp_path):
    data = b'phone,name\n5551230001,Ann\n5551230002,Bo"b"x\n5551230003,Cy\n'
    rows = list(iter_rows(write(tmp_path, "in.csv", data), CONTACTS))
    assert [(row.row, row.error) for row in rows] == [(1, None), (2, None), (3, None)]
    assert rows[1].record["attributes"]["name"] == 'Bo"b"x'
