"""The sandbox plays every reading of the references' silent points (sandbox/readings.py): profiles,
single switches, checked values; the same switches documented in docs/readings.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from airflow_provider_dialers.sandbox.__main__ import main as sandbox_cli
from airflow_provider_dialers.sandbox.readings import PROFILES, Reading, parse_assignments, resolve

DOC = Path(__file__).resolve().parents[1] / "docs" / "readings.md"
SWITCH = Reading("demo_base", ("0", "1", "2"), "GET /demo", "'page': the current page")


def test_a_profile_picks_each_switchs_first_or_second_reading_and_single_switches_go_on_top():
    assert resolve([SWITCH], "first", {}) == {"demo_base": "0"}
    assert resolve([SWITCH], "second", {}) == {"demo_base": "1"}
    assert resolve([SWITCH], "second", {"demo_base": "2"}) == {"demo_base": "2"}


@pytest.mark.parametrize(
    ("profile", "chosen", "message"),
    [
        ("third", {}, "unknown readings profile 'third'"),
        ("first", {"nope": "1"}, r"unknown readings \['nope'\]"),
        ("first", {"demo_base": "7"}, "has no choice '7'"),
    ],
)
def test_an_unknown_profile_switch_or_choice_is_refused(profile, chosen, message):
    with pytest.raises(ValueError, match=message):
        resolve([SWITCH], profile, chosen)


def test_a_reading_needs_two_distinct_choices():
    with pytest.raises(ValueError, match="at least two distinct choices"):
        Reading("x", ("a", "a"), "GET /x", "")


def test_cli_assignments_are_parsed_and_a_bad_one_is_refused():
    assert parse_assignments(["ecm_page_base=1", " sinch_x = y "]) == {"ecm_page_base": "1", "sinch_x": "y"}
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_assignments(["ecm_page_base"])
    with pytest.raises(SystemExit):
        sandbox_cli(["--reading", "no_such_switch=1"])


def test_the_admin_api_switches_readings_at_run_time_and_refuses_an_unknown_one(sandbox, sandbox_client):
    readings = sandbox_client.readings()
    first = {r["name"]: r["value"] for r in readings}
    assert first == {r["name"]: r["choices"][0] for r in readings}
    sandbox_client.configure(readings_profile="second")
    assert {r["name"]: r["value"] for r in sandbox_client.readings()} == {r["name"]: r["choices"][1] for r in readings}
    with pytest.raises(requests.HTTPError, match="400"):
        sandbox_client.configure(readings={"no_such_switch": "1"})
    assert sandbox.core.config.readings == {}  # the refused change was not half-applied


def test_every_vendor_declares_readings_and_docs_readings_md_lists_every_switch_and_choice(sandbox):
    readings = sandbox.core.all_readings()
    by_vendor = {name: [r for r in vendor.readings] for name, vendor in sandbox.core.vendors.items()}
    assert len(readings) >= 15 and all(len(found) >= 3 for found in by_vendor.values()), by_vendor
    assert len({r.name for r in readings}) == len(readings)
    doc = DOC.read_text()
    for reading in readings:
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{reading.name}`")), None)
        assert row is not None, f"docs/readings.md has no row for {reading.name}"
        for choice in reading.choices:
            assert f"`{choice}`" in row, (reading.name, choice)
        assert reading.reference and re.search(r"\d{3}_", reading.reference), reading.name  # names the file


