"""The processes of `cosem-sim run --workers N` for the benchmarks: who they are, what memory
they hold, and what measured per-meter figures project for a larger fleet (Linux /proc).

A worker loads the profile and plans the whole fleet (every meter's entry, also other
shards'; only its own are built), so its RSS grows with the fleet's size (the supervisor's much
less: it lets go of the plan once its sockets are open), and a meter contacted adds to its
worker only: RSS(process) = base + per_meter * meters, fitted through two fleet sizes, plus
per_contacted for each meter a client reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["descendants", "rss_mb", "Line", "fit"]


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (from each /proc/PID/stat's parent)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in sorted(children.get(todo.pop(), [])):
            found.append(child)
            todo.append(child)
    return found


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for process {pid}")


@dataclass(frozen=True)
class Line:
    """MB = base + per_meter * meters."""

    base_mb: float
    per_meter_kb: float

    def at(self, meters: int) -> float:
        return self.base_mb + self.per_meter_kb * meters / 1024


def fit(small: tuple[int, float], large: tuple[int, float]) -> Line:
    """The line through (meters, MB) measured at two fleet sizes."""
    (n1, mb1), (n2, mb2) = small, large
    slope = (mb2 - mb1) / (n2 - n1)
    return Line(mb1 - slope * n1, slope * 1024)
