"""DigestSet: the duplicate check's compact memory of the rows seen."""

from __future__ import annotations

import random

from airflow_provider_dialers.uploads.digests import DigestSet


def test_add_says_whether_the_digest_is_new_and_keeps_every_digest_through_growth():
    rng = random.Random(7)
    digests = [rng.getrandbits(64) for _ in range(50_000)]
    seen = DigestSet()
    assert all(seen.add(d) for d in digests)
    assert len(seen) == len(digests)
    assert not any(seen.add(d) for d in digests)
    assert all(d in seen for d in digests)
    assert sum(rng.getrandbits(64) in seen for _ in range(10_000)) == 0


def test_zero_and_colliding_slots_are_kept_apart():
    seen = DigestSet()
    # Same low bits (the same first slot), different digests: probing keeps both.
    assert seen.add(5) and seen.add(5 + (1 << 40)) and seen.add(0)
    assert 5 in seen and 5 + (1 << 40) in seen and 0 in seen
    assert not seen.add(5 + (1 << 40))
    assert 6 not in seen


def test_memory_is_eight_bytes_a_slot():
    seen = DigestSet()
    for d in range(1, 100_001):
        seen.add(d * 0x9E3779B97F4A7C15 % (1 << 64))
    assert seen._slots.itemsize == 8 and len(seen._slots) <= 4 * len(seen)
