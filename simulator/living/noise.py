"""Deterministic randomness: a value in [0, 1) for any tuple of integers.

Living values are computed when read, in any order, for any instant; a stateful random
generator would make a value depend on what was read before. A counter-based hash does not:
`unit(seed, stream, k)` is the same number whenever and wherever it is asked for.
"""

from __future__ import annotations

import hashlib

__all__ = ["mix", "unit", "meter_seed"]

_MASK = (1 << 64) - 1


def mix(x: int) -> int:
    """splitmix64's finaliser: a bijection of 64-bit integers with good avalanche."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def unit(seed: int, stream: int, k: int) -> float:
    """A uniform number in [0, 1) for (seed, stream, k); `stream` keeps quantities apart."""
    return mix(mix(seed ^ (stream << 56)) ^ (k & _MASK)) / 18446744073709551616.0


def meter_seed(profile_seed: int, serial: str) -> int:
    """A meter's seed: the profile's seed and the meter's serial number, so a meter keeps its
    values when the fleet around it changes (another group added, a shard split)."""
    digest = hashlib.blake2b(f"{profile_seed}/{serial}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
