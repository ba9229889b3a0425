"""A set of 64-bit digests in 8 bytes a slot: the duplicate check's memory of every row seen.

A Python ``set`` of ints costs about 70 bytes an entry (the int object and its table slot), so
remembering a million rows would grow an upload's memory by ~70 MB; here it is 8-16 MB. It is the
one structure of an upload that grows with the input (see P2 in ``bench/RESULTS.md``).
"""

from __future__ import annotations

from array import array

_EMPTY = 0  # the digest 0 is stored as 1: a 2**-64 chance of a false duplicate, as for any 64-bit key
_INITIAL_SLOTS = 1 << 12


class DigestSet:
    """Open addressing with linear probing over an ``array('Q')``, kept at most half full."""

    def __init__(self) -> None:
        self._slots = _zeroed(_INITIAL_SLOTS)
        self._mask = _INITIAL_SLOTS - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, digest: int) -> bool:
        return self._slots[self._slot_of(digest or 1)] != _EMPTY

    def add(self, digest: int) -> bool:
        """Add ``digest`` (0 <= digest < 2**64); True if it was not there yet."""
        digest = digest or 1
        index = self._slot_of(digest)
        if self._slots[index] != _EMPTY:
            return False
        self._slots[index] = digest
        self._count += 1
        if self._count * 2 > len(self._slots):
            self._grow()
        return True

    def _slot_of(self, digest: int) -> int:
        """The slot holding ``digest``, or the empty slot where it would go."""
        slots, mask = self._slots, self._mask
        index = digest & mask
        while (value := slots[index]) != _EMPTY and value != digest:
            index = (index + 1) & mask
        return index

    def _grow(self) -> None:
        old = self._slots
        self._slots = _zeroed(len(old) * 2)
        self._mask = len(self._slots) - 1
        for digest in old:
            if digest != _EMPTY:
                self._slots[self._slot_of(digest)] = digest


def _zeroed(size: int) -> array:
    slots = array("Q")
    slots.frombytes(bytes(8 * size))
    return slots
