"""Model errors: every problem of a model file at once, each with its file, line and object.

A model author fixes a file in one pass only if validation reports all problems, and finds
each one only if it names where it is: `file:line: object <OBIS> (<class>) attribute <n>
<name>: what was expected, what was found`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable

__all__ = ["Problem", "ModelError", "did_you_mean", "closest", "BRACES", "UNFILLABLE"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a model; the optional parts say where inside the model it is."""

    file: str
    line: int
    message: str
    obis: str | None = None
    class_name: str | None = None
    attribute: str | None = None  # "<n> <name>", or "method <n> <name>"
    owner: str | None = None  # "association 16 (public)", "logical device 1", ... when not an object

    def __str__(self) -> str:
        where = [f"{self.file}:{self.line}:"]
        if self.obis is not None:
            where.append(f"object {self.obis}" + (f" ({self.class_name})" if self.class_name else ""))
        elif self.owner is not None:
            where.append(self.owner)
        if self.attribute is not None:
            where.append(self.attribute if self.attribute.startswith("method ") else f"attribute {self.attribute}")
        head = " ".join(where)
        return f"{head}: {self.message}" if len(where) > 1 else f"{head} {self.message}"


class ModelError(Exception):
    """A model that cannot be loaded; `problems` lists all of them in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line))
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


# What a template with unbalanced braces gets told. Template problems never quote the template:
# it may be a password or a key.
BRACES = "a { or } without its pair: write {{ and }} for literal braces, {field} for a profile field"
UNFILLABLE = "{}, {0}, {field.x}, {field[i]} or {field:format} cannot be filled; " + BRACES


def closest(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when nothing is close."""
    close = closest(word, choices)
    return f" (did you mean {close!r}?)" if close else ""
