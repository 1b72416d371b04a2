"""'Did you mean ...?' for names a user typed: columns, config keys, commands and choices
(difflib's close matches, with an exact match ignoring case ranked first)."""

from __future__ import annotations

import difflib
from typing import Iterable


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    choices = [str(c) for c in choices]
    same_but_case = [c for c in choices if c.lower() == str(word).lower() and c != word]
    lowered = {c.lower(): c for c in choices}
    similar = [lowered[c] for c in difflib.get_close_matches(str(word).lower(), list(lowered), n=n, cutoff=0.6)]
    return list(dict.fromkeys(same_but_case + similar))[:n]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'survived'?)' or ''."""
    matches = close_matches(word, choices)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(f"'{m}'" for m in matches) + "?)"


def unknown_choice(what: str, value: str, choices: Iterable[str]) -> str:
    choices = [str(c) for c in choices]
    return f"{what}: unknown value '{value}'{did_you_mean(value, choices)}; choose from {', '.join(choices)}"
