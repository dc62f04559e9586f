"""Input problems, collected and reported together in words a finance lead understands."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inputs, and what to do about it."""

    where: str  # file (and sheet) name, or "model file"
    message: str  # what is wrong, in plain words
    fix: str = ""  # what to change
    row: int | None = None  # spreadsheet row number (header is row 1)
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        place = self.where
        if self.row is not None:
            place += f", row {self.row}"
        if self.column:
            place += f", column '{self.column}'"
        text = f"{place}: {self.message}"
        if self.value is not None and self.value != "":
            text += f" (found {self.value!r})"
        if self.fix:
            text += f". {self.fix}"
        return text


class InputError(Exception):
    """Every problem found in the inputs, raised once, never a traceback for the user."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found in the inputs:"
        return "\n".join([head, *(f"  {i}. {p}" for i, p in enumerate(self.problems, 1))])


class Problems:
    """A collector: add problems as they are found, raise them all at the end."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, where: str, message: str, fix: str = "", **kw) -> None:
        self.items.append(Problem(where, message, fix, **kw))

    def extend(self, other: Iterable[Problem]) -> None:
        self.items.extend(other)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A suggestion for a misspelt name, or an empty string."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"Did you mean '{close[0]}'?" if close else ""


def unknown_code_fix(word: str, known: Iterable[str], shown: int = 12) -> str:
    """What to do about a code that is not in the model: a suggestion, then the known codes."""
    codes = [str(c) for c in known]
    listed = ", ".join(codes[:shown]) + (f" and {len(codes) - shown} more"
                                         if len(codes) > shown else "")
    hint = did_you_mean(word, codes)
    known_text = f"The model has: {listed}" if codes else "The model has none"
    return f"{hint} {known_text}" if hint else known_text
