"""Which meters of a fleet one process serves: shard I of N serves the meters whose fleet index
is I modulo N.

Modulo rather than contiguous ranges: every shard gets the same mix of groups and models (an
even load whatever the profile's order), N need not divide the fleet, and a meter's shard is
known from its index alone. Every other shard's meter keeps its entry (serials, keys, addresses
and values are those of the whole fleet) but is never bound, built or routed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Shard", "WHOLE", "parse_shard"]

_FORM = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True, slots=True)
class Shard:
    index: int
    count: int

    def owns(self, fleet_index: int) -> bool:
        return fleet_index % self.count == self.index

    @property
    def label(self) -> str:
        return f"shard {self.index}/{self.count}"

    @property
    def split(self) -> bool:
        """The fleet is split (more than one shard)."""
        return self.count > 1


WHOLE = Shard(0, 1)


def parse_shard(text: str) -> Shard:
    """`I/N`, 0 <= I < N; ValueError saying what is expected."""
    found = _FORM.fullmatch(text)
    if found is None:
        raise ValueError(f"expected I/N like 0/4 (shard I of N, from 0), found {text!r}")
    index, count = int(found.group(1)), int(found.group(2))
    if count < 1:
        raise ValueError(f"expected at least 1 shard, found {text!r}")
    if index >= count:
        raise ValueError(f"shard {index} of {count} does not exist: shards count from 0 to {count - 1}")
    return Shard(index, count)
