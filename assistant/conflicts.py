"""Where two indexed documents disagree on one point: a sentence an answer quotes, and a
sentence of another document that says the same thing in the same words but with another
figure or year. Both are shown, and the answer says that they disagree."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .citations import numbers_in, query_terms
from .lexical import without_named_paragraphs
from .models import Citation, Passage

SIMILAR = 0.8  # cosine of the two sentences: they speak of the same thing
SAME_WORDS = 0.6  # share of their words, figures aside, that the two have in common

Sentences = Callable[[Passage], tuple[list[str], np.ndarray]]


@dataclass(frozen=True)
class Disagreement:
    """Passage n's quote and other_n's sentence: alike, but their figures differ."""

    n: int
    quote: str
    other_n: int
    other_quote: str

    def to_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "quote": self.quote,
            "other_n": self.other_n,
            "other": self.other_quote,
        }


# "92 per cent", "92 percent", "92 pc", "92 %" and "92％" are all "92%".
_PER_CENT = re.compile(
    r"(\d)\s*(?:%|\uff05|per[\s-]?cent\b|percent\b|pc\b|pct\b\.?)", re.IGNORECASE
)


def _alike(text: str) -> str:
    """The text with every way of writing a percentage written as %."""
    return _PER_CENT.sub(r"\1%", text)


def _figures(text: str) -> set[str]:
    """The figures a text states; the numbers of the paragraphs it refers to are none."""
    return numbers_in(_alike(without_named_paragraphs(text)))


def _words(text: str) -> set[str]:
    return {w for w in query_terms(_alike(text)) if not any(c.isdigit() for c in w)}


def _differ(a: set[str], b: set[str]) -> bool:
    """Two sets of figures that disagree: both give some, and neither holds the other's."""
    return bool(a) and bool(b) and not (a <= b or b <= a)


def _same_subject(quote: str, passage: Passage, span: str, other: Passage) -> bool:
    """Whether two alike sentences can speak of one thing. A table's row names its subject
    in the heading it stands under, not in itself: "Engagement index | 2015: 61%" under
    "Department for Transport" and under "Department for Work and Pensions" are two
    departments' figures, however alike the rows. Where both rows' headings are given, one
    holds the other's words or they share a SAME_WORDS share of their words."""
    if " | " not in quote or " | " not in span:
        return True
    ours, theirs = _words(passage.section), _words(other.section)
    if not ours or not theirs or ours <= theirs or theirs <= ours:
        return True
    return len(ours & theirs) / len(ours | theirs) >= SAME_WORDS


def find_disagreements(
    citations: Sequence[Citation], passages: Sequence[Passage], sentences: Sentences
) -> list[Disagreement]:
    """For each quoted sentence that states a figure, a sentence of another document that
    states the same point with a different one."""
    by_n = {p.n: p for p in passages}
    found: list[Disagreement] = []
    seen: set[tuple[str, str]] = set()
    for citation in citations:
        passage = by_n.get(citation.n)
        figures = _figures(citation.quote)
        if passage is None or not figures:
            continue
        spans, vectors = sentences(passage)
        if citation.quote not in spans:
            continue
        vector = vectors[spans.index(citation.quote)]
        words = _words(citation.quote)
        for other in passages:
            if other.doc_id == passage.doc_id:
                continue
            other_spans, other_vectors = sentences(other)
            if not other_spans:
                continue
            similar = other_vectors @ vector
            for span, similarity in zip(other_spans, similar, strict=True):
                if similarity < SIMILAR or not _differ(figures, _figures(span)):
                    continue
                theirs = _words(span)
                shared = len(words & theirs) / max(1, len(words | theirs))
                key = (citation.quote, span)
                if (
                    shared >= SAME_WORDS
                    and key not in seen
                    and _same_subject(citation.quote, passage, span, other)
                ):
                    seen.add(key)
                    found.append(Disagreement(citation.n, citation.quote, other.n, span))
    return found
