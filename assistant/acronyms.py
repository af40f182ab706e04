"""Acronyms a question uses for names the documents spell out: "DHSC" for the Department of
Health and Social Care, "DfT" for the Department for Transport. The names come from the
indexed text itself (its runs of capitalised words, read by their initials), so the table
holds for any corpus and names no word of one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container, Iterable

_JOINING = frozenset({"of", "and", "for", "the", "on", "in", "&"})
"""Small words that may stand inside a name ("Department of Health and Social Care")."""
_WORD = re.compile(r"[A-Za-z][\w'’-]*|&")
_CAPITALISED = r"[A-Z][\w'’-]*"
# A name may not run over a line's end: a heading's last words and the next line's first are
# two things ("Department for Transport" / "Overview").
_RUN = re.compile(rf"{_CAPITALISED}(?:(?:,? +(?:(?:of|and|for|the|on|in|&) +)*){_CAPITALISED})*")
_LIST = re.compile(r"(?:,| +(?:and|&)) +the +")
_DEFINED = re.compile(r"\s*\(([A-Z][A-Za-z]{1,5})\)")
# Not inside an address or a file name ("www.DfT.gov.uk", "DfT/2024"): what is joined to it by
# a dot or a slash is not a word of the question.
_ACRONYM = re.compile(r"(?<![./@\w])([A-Z][A-Za-z]{1,5})(?:['’]s)?\b(?![./@]\w)")
MAX_NAME_WORDS = 8
DEFINED = 10
"""A name the documents define by its acronym counts as this many uses of it."""
MIN_LETTERS = 3
"""Two-letter acronyms ("UK", "EU") are too many things to spell out from initials alone."""


def _names(text: str) -> Iterable[tuple[list[str], str]]:
    """Runs of capitalised words, with the small joining words and commas inside them (an
    acronym is not part of a name), each with the acronym in brackets after it, if any."""
    for match in _RUN.finditer(text):
        # "the Department for Transport and the Department for Education" is two names
        parts = _LIST.split(match.group(0))
        defined = _DEFINED.match(text, match.end())
        for k, part in enumerate(parts):
            words = [w for w in _WORD.findall(part) if not _is_acronym(w)]
            if len(words) >= 2:
                last = k == len(parts) - 1
                yield _trimmed(words), defined.group(1) if defined and last else ""


def _is_acronym(word: str) -> bool:
    bare = re.sub(r"['’]s$", "", word)
    return len(bare) > 1 and bare.isupper()


def _trimmed(run: list[str]) -> list[str]:
    """A run without the joining words it ends on ("Department for")."""
    while run and not run[-1][0].isupper():
        run = run[:-1]
    return run


def _initials(words: list[str]) -> tuple[str, str]:
    """The initials of a name's capitalised words ("DHSC"), and of every word as written
    ("DfT" for "Department for Transport")."""
    capitals = "".join(w[0] for w in words if w[0].isupper())
    every = "".join(w[0] for w in words if w != "&")
    return capitals, every


def acronym_table(texts: Iterable[str]) -> dict[str, str]:
    """For each acronym the texts' names could be shortened to, the name met most often, if
    no other is met as often; a name the texts define ("Office for National Statistics (ONS)")
    counts for more. A name ends where its run of capitalised words ends ("Department for
    Environment" is not one in "Department for Environment, Food and Rural Affairs")."""
    counts: dict[str, Counter[tuple[str, ...]]] = {}
    forms: dict[tuple[str, ...], Counter[str]] = {}
    for text in texts:
        for run, defined in _names(text):
            for a in range(max(0, len(run) - MAX_NAME_WORDS), len(run)):
                words = run[a:]
                if not words[0][0].isupper():
                    continue
                # one name however its small words are spelt ("Culture, Media & Sport")
                same = tuple(w.casefold() for w in words if w[0].isupper())
                forms.setdefault(same, Counter())[" ".join(words)] += 1
                for key in set(_initials(words)):
                    if MIN_LETTERS <= len(key) <= 6:
                        counts.setdefault(key, Counter())[same] += DEFINED if key == defined else 1
    table = {}
    for key, names in counts.items():
        (same, uses), *others = names.most_common(2)
        if not others or uses > others[0][1]:  # two names met as often: it could be either
            # its commonest spelling; of two as common, the first in order, whatever order
            # the documents came in ("Media & Sport" and "Media and Sport")
            spellings = forms[same].most_common()
            top = spellings[0][1]
            table[key] = min(form for form, n in spellings if n == top)
    return table


def spell_out(question: str, table: dict[str, str], known: Container[str] = ()) -> str:
    """The question with each acronym it uses spelt out as the documents name it: in brackets
    after it where the documents use the acronym too (`known`: their words, lower-cased),
    in its place where they do not ("DRT" -> "Department for Rural Transport")."""

    def named(match: re.Match) -> str:
        acronym = match.group(1)
        upper = sum(c.isupper() for c in acronym)
        name = table.get(acronym) if upper >= 2 and len(acronym) >= MIN_LETTERS else None
        if not name or name.casefold() in question.casefold():
            return match.group(0)
        if acronym.lower() in known:
            return f"{match.group(0)} ({name})"
        return f"{name}{match.group(0)[len(acronym) :]}"

    words = _WORD.findall(question)
    shouted = [w for w in words if w.isupper() and len(w) > 1]
    if len(shouted) >= 3 and len(shouted) > 0.5 * len(words):
        return question  # a question in capitals: its words are not acronyms
    return _ACRONYM.sub(named, question)
