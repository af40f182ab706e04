"""How an answer reads, claim by claim: whether a claim leans on something the answer does not
give it ("It also records ..." with nothing before it), whether it leans on another
document's claim (a join: one document's sentence read as continuing another's), and whether
it is a fragment rather than a sentence (a heading, a contents line).

The judgements come from the English pipeline's tagger (a trained model): a claim leans back
when its first word is a personal or demonstrative pronoun or determiner (spaCy's PronType
Prs or Dem), and it is a fragment when it has no verb. Table rows and fields ("Label: value")
are counted apart: a row has no verb by nature, and is read with its cells. The composer
reads its sentences with the same tagger, and more strictly: it quotes as a sentence only one
with a finite verb (has_finite_verb), so that a run of footnotes holding a participle is not
quoted, while the metric counts as fragments only claims with no verb at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from .citations import MARKER, split_claims
from .questions import nlp

# A paragraph of an answer may open with a label that ends in a colon: the document's short
# name ("The fusion doctrine: ...") or the part of the question it answers.
_LABEL_END = ": "


@dataclass(frozen=True)
class Claim:
    text: str
    """The claim without its [n] markers (and without its paragraph's label)."""
    documents: frozenset[str]
    paragraph: int
    leans_back: bool
    fragment: bool
    table_row: bool


@dataclass(frozen=True)
class Reading:
    """An answer's claims, and how many of them read badly."""

    claims: tuple[Claim, ...]
    dangling: int
    """Claims that lean back with no claim of their own document before them in the paragraph."""
    joins: int
    """Claims that lean back on a claim of another document."""
    fragments: int


def _unlabelled(claim: str) -> str:
    """The claim without a label that opens its paragraph ("Title: It ..." -> "It ..."). What
    comes before a colon is a label only without a verb of its own: in "The plans have no
    statutory basis: they depend on ..." it is the sentence's first half."""
    label, colon, rest = claim.partition(_LABEL_END)
    if colon and rest and not MARKER.search(label) and len(label) <= 150:
        return claim if has_finite_verb(label) else rest
    return claim


@lru_cache(maxsize=20_000)
def _parsed(text: str):
    """The sentence tagged (parts of speech and morphology only: a third of the full
    pipeline's time, which matters as the composer reads its candidates this way)."""
    return next(nlp().pipe([text], disable=["parser", "ner"]))


def leans_back(sentence: str) -> bool:
    """Whether a sentence opens on a third-person or demonstrative pronoun or determiner ("It",
    "They", "This", "Its", "These findings"), so that it needs what came before it."""
    words = [t for t in _parsed(sentence) if t.is_alpha]
    if not words:
        return False
    first = words[0]
    kind = set(first.morph.get("PronType"))
    # "We recommend ...", "You must ...": the author or the reader, not a sentence before.
    speaker = bool(set(first.morph.get("Person")) & {"1", "2"})
    return bool(kind & {"Prs", "Dem"}) and not speaker


def claim_leans_back(claim: str) -> bool:
    """Whether a claim of an answer (perhaps opening its paragraph with its document's name,
    and with its [n]) leans back on what came before it."""
    return leans_back(MARKER.sub("", _unlabelled(claim)).strip())


def labelled(sentence: str) -> bool:
    """A table row or a field: cells ("Royal Assent | 29 April 2015"), or a label and its value
    as an answer reads a row ("Royal Assent: 29 April 2015"). It has no verb by nature."""
    label, colon, value = sentence.partition(": ")
    return " | " in sentence or bool(colon and value.strip() and len(label.split()) <= 12)


def is_fragment(sentence: str) -> bool:
    """Whether a sentence is not one: no verb (a heading, a contents line, a caption), and not a
    table row or field either."""
    if labelled(sentence):
        return False
    return not any(t.pos_ in ("VERB", "AUX") for t in _parsed(sentence))


def has_finite_verb(sentence: str) -> bool:
    """Whether the sentence has a finite verb ("meets", "is", "recommend"): a sentence does; a
    heading, a caption or a run of footnotes and references ("171 Written evidence from ...")
    does not, though it may hold a participle."""
    return any("Fin" in t.morph.get("VerbForm") for t in _parsed(sentence))


def claims_of(answer: str, documents_of: Mapping[int, str]) -> list[Claim]:
    """The cited claims of an answer, paragraph by paragraph, each read by the tagger.
    documents_of maps each [n] to the document it cites."""
    claims = []
    for paragraph, block in enumerate(answer.split("\n\n")):
        for i, claim in enumerate(split_claims(block)):
            numbers = [int(n) for n in MARKER.findall(claim)]
            if not numbers:
                continue  # notes ("The indexed documents do not say.") carry no claim
            whole = MARKER.sub("", claim).strip()
            text = MARKER.sub("", _unlabelled(claim)).strip() if i == 0 else whole
            row = labelled(text) or (text != whole and is_fragment(text))
            claims.append(
                Claim(
                    text=text,
                    documents=frozenset(documents_of[n] for n in numbers if n in documents_of),
                    paragraph=paragraph,
                    leans_back=leans_back(text),
                    fragment=not row and is_fragment(text),
                    table_row=row,
                )
            )
    return claims


def read(answer: str, documents_of: Mapping[int, str]) -> Reading:
    """How the answer reads: its claims, and those that dangle, join documents or are
    fragments."""
    claims = claims_of(answer, documents_of)
    dangling = joins = 0
    for i, claim in enumerate(claims):
        if not claim.leans_back:
            continue
        before = [c for c in claims[:i] if c.paragraph == claim.paragraph]
        if before and not (before[-1].documents & claim.documents):
            joins += 1
        elif not any(c.documents & claim.documents for c in before):
            dangling += 1
    fragments = sum(c.fragment for c in claims)
    return Reading(tuple(claims), dangling, joins, fragments)
