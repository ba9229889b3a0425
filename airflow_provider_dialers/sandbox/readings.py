"""Readings: the places where a vendor's reference is silent, ambiguous or contradicts itself, so a
faithful server could answer one way or another. The sandbox can play each reading.

Each vendor simulation declares its switches (``VendorSandbox.readings``); a run picks a profile
(``first``: every switch's first reading, ``second``: every switch's second one) and may set single
switches on top (``SandboxConfig(readings_profile="second", readings={"ecm_page_base": "0"})``, the
CLI's ``--readings second --reading ecm_page_base=0``, or ``PUT /_sandbox/config``).
docs/readings.md lists every switch with the reference's words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PROFILES = ("first", "second")


@dataclass(frozen=True)
class Reading:
    """One silent point of a reference and the ways a server may read it.

    :param name: the switch, ``<vendor>_<what>`` (the same name as the hooks' ``readings`` extra).
    :param choices: the readings a server may take; the first is the sandbox's default.
    :param where: the endpoint or answer it concerns.
    :param reference: the reference's own words on it (file and heading), quoted.
    """

    name: str
    choices: tuple[str, ...]
    where: str
    reference: str

    def __post_init__(self) -> None:
        if len(self.choices) < 2 or len(set(self.choices)) != len(self.choices):
            raise ValueError(f"reading {self.name!r} needs at least two distinct choices, got {self.choices}")

    def in_profile(self, profile: str) -> str:
        """The choice this switch takes under ``profile`` (``first`` or ``second``)."""
        if profile not in PROFILES:
            raise ValueError(f"unknown readings profile {profile!r}; expected one of {PROFILES}")
        return self.choices[PROFILES.index(profile)]


def resolve(readings: Iterable[Reading], profile: str, chosen: Mapping[str, str]) -> dict[str, str]:
    """Every switch's reading: ``chosen`` where it names one, else the profile's; ValueError naming
    an unknown switch or choice."""
    known = {reading.name: reading for reading in readings}
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"unknown readings {unknown}; known: {sorted(known)}")
    values = {}
    for name, reading in known.items():
        value = str(chosen.get(name, reading.in_profile(profile)))
        if value not in reading.choices:
            raise ValueError(f"reading {name!r} has no choice {value!r}; choices: {list(reading.choices)}")
        values[name] = value
    return values


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["ecm_page_base=1", ...]`` (the CLI's ``--reading``) as a dict."""
    chosen = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"--reading takes NAME=VALUE, got {item!r}")
        chosen[name.strip()] = value.strip()
    return chosen
