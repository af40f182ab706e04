"""Citation markers, sentences as units of evidence, and the checks that a claim is supported."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from .embeddings import Embedder
from .lexical import tokenize
from .models import CALLS, Citation, Passage, stops_mid_sentence, without_calls

MARKER = re.compile(r"\s*\[(\d+)\]")
# A sentence ends at . ! ? followed by space and a capital, digit or quote; not after common
# abbreviations, initials or inside decimals.
_ABBREVIATIONS = (
    "e.g",
    "i.e",
    "etc",
    "no",
    "nos",
    "sir",
    "dr",
    "mr",
    "mrs",
    "ms",
    "st",
    "vs",
    "para",
    "paras",
    "s",
    "ss",
    "cf",
    "fig",
    "vol",
    "op",
    "art",
)
# Closing quotes and brackets, and a footnote's call, stay with the sentence they close: in
# superscript digits, or in plain digits glued to a stop after a word or to the quote that
# closes after it (`areas.190 Professor`, `lens".191 Dr`, `subject ..."61 Dr`), and before
# the next paragraph's number too (`work.67 4.15. We`); not a decimal's (`3.2 The`). A call
# set one space after a stop (`inquiries. 125 However`) is one where a word in capitals and
# lower case follows on the same line; a number opening a line is a paragraph's or a note's.
# After a year's stop, digits before a word in capitals are a call (`by 2050.255 What`, `in
# summer 2018.7 Hearings`): prose rarely ends a sentence on a decimal of four figures before
# its point, and writes one with a comma or a currency sign (`2,019.5`, `\u00a32019.50`).
PLAIN_CALL = (
    r"(?:(?:(?<=[A-Za-z%\"'\u201d\u2019)\]][.!?]|[.!?][\"'\u201d\u2019)\]])"
    r"|(?<=(?<![\d.,\u00a3$\u20ac])(?:19|20)\d\d\.))\d{1,3}"
    r"(?=\s+(?:[\"'\u201c\u2018(\[]?[A-Z]|\d{1,3}(?:\.\d{1,3})*\.?\s+[A-Z]))"
    r"|(?<=[a-z%)\u201d\u2019\"'][.!?]) \d{1,3}(?= [A-Z][a-z]))?"
)
_END = re.compile(
    rf"(?<=[.!?])(?P<close>[\"'\u201d\u2019)\]{CALLS}]*{PLAIN_CALL})"
    rf"\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])"
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*%?")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z'\u2019-]+(?:\s+[A-Z][a-zA-Z'\u2019-]+)*")
_MARKERS_AT_START = re.compile(r"^([\u2022*-]|\d{1,2}[.)]?)\s+")
# A bare number before a word in lower case is the sentence's own figure ("16 million letters
# were sent"), not an item's or a note's number.
_LIST_MARKER = re.compile(r"^([\u2022*-]|\d{1,2}[.)]|\d{1,2}(?!\s+[a-z]))\s+")
# A list item's marker: a bullet (as the chunker reads them), a number of one to four levels
# ("3.", "2)", "5.1.2"), or a letter or small roman numeral ("(b)", "c.", "iv)"); a bare
# number before a word in lower case is the item's own figure ("16 million letters ...").
_ITEM = (
    r"(?:[-*\u2022\u25aa\u25cf\u2013\u25e6]|\d{1,2}(?:\.\d{1,2}){0,3}(?:[.)]|(?!\s+[a-z]))"
    r"|\(?(?:[a-z]|[ivx]{1,4})[.)])\s+"
)
_ROMAN = {"i": 1, "v": 5, "x": 10}
LIST_ITEM = re.compile("^" + _ITEM)
ANNOUNCES_ITEM = re.compile(r":\s*(?:\[\d+\]\s*)*(" + _ITEM + ")")
"""A lead-in's colon and the marker of the first item of its list after it, in a claim."""


def continues_list(previous: str, line: str) -> bool:
    """Whether a line is the next item of the list whose item before it is `previous` (the
    first item when that is empty): it shares the bullet, or continues the numbering at the
    same level ("5.1.2" after "5.1.1", "3." after "2.")."""
    m = LIST_ITEM.match(line)
    if not m:
        return False
    if not previous:
        return True
    before = LIST_ITEM.match(previous)
    if not before:
        return False
    mark, prior = m.group(0).strip(), before.group(0).strip()
    if mark[-1] in ".)" and prior[-1] in ".)" and mark.strip("(.)").isalpha():
        # Lettered or in roman numerals, written alike ("(a)" then "(b)", "iv." after "iii.").
        if (mark[0] == "(") != (prior[0] == "(") or mark[-1] != prior[-1]:
            return False
        now, then = mark.strip("(.)"), prior.strip("(.)")
        if not then.isalpha():
            return False
        return (len(now) == len(then) == 1 and ord(now) == ord(then) + 1) or (
            _roman(now) == _roman(then) + 1 > 1
        )
    if not mark[0].isdigit() or not prior[0].isdigit():
        return mark == prior
    if mark[-1] != prior[-1] and not (mark[-1].isdigit() and prior[-1].isdigit()):
        return False  # "2." after "1)"
    *stem, last = mark.rstrip(".)").split(".")
    *prior_stem, prior_last = prior.rstrip(".)").split(".")
    return stem == prior_stem and int(last) == int(prior_last) + 1


def _roman(numeral: str) -> int:
    """A small roman numeral's value (up to xxxix); 0 where it is none."""
    if not numeral or set(numeral) - set(_ROMAN):
        return 0
    total = 0
    for here, after in zip(numeral, [*numeral[1:], ""], strict=True):
        value = _ROMAN[here]
        total += -value if after and _ROMAN[after] > value else value
    return total


def ends_in_abbreviation(candidate: str, following: str = "") -> bool:
    """Whether a piece ends on an abbreviation rather than a sentence: "no.", "e.g.", an
    initial, or an initialism ("U.K.", "p.a.") that the next word does not start afresh from
    with a capital ("the U.K. government", not "... the U.K. The report"); a word in capitals
    goes on with it ("U.S. DEPARTMENT OF LABOR", "the U.K. NHS")."""
    # (a footnote's call glued to the stop is not part of the word: "fig.3" is "fig.")
    last = re.sub(r"\.\d{1,3}$", "", candidate.rsplit(" ", 1)[-1]).rstrip(".").lower()
    if last in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last):
        return True
    if not re.fullmatch(r"[a-z](\.[a-z])+", last):
        return False
    word = following.split(" ", 1)[0].strip(",:;")
    return not following[:1].isupper() or (len(word) > 1 and word.isupper())


def _split_at(text: str, ends: re.Pattern[str]) -> list[str]:
    """The pieces of text between matches of `ends`, not splitting after an abbreviation."""
    out, start = [], 0
    for match in ends.finditer(text):
        end = match.end("close") if "close" in ends.groupindex else match.start()
        candidate = text[start:end].strip()
        if ends_in_abbreviation(candidate, text[match.end() :].lstrip("\"'(\u201c\u2018")):
            continue
        out.append(candidate)
        start = match.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


_ENDS_A_SENTENCE = (".", "!", "?", ":", ";")
_RUNS_ON = re.compile(r"^[a-z0-9(\u2018\u201c'\"]")


def _logical_lines(text: str) -> list[str]:
    """The text's lines, with a line that stops mid-sentence joined to the one that carries
    it on (a PDF breaks a paragraph wherever its lines run short): each an exact span of the
    text, so a sentence quoted across such a break may hold a newline."""
    lines: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if (
            lines
            and stripped
            and (_RUNS_ON.match(stripped) or stops_mid_sentence(lines[-1]))
            and not without_calls(lines[-1]).endswith(_ENDS_A_SENTENCE)
            and " | " not in lines[-1]
            and " | " not in stripped
            and not _MARKERS_AT_START.match(stripped)
        ):
            lines[-1] = f"{lines[-1]}\n{stripped}"
        else:
            lines.append(stripped)
    return lines


def split_sentences(text: str) -> list[str]:
    """Splits a passage into sentences and list items, each an exact span of the text."""
    return [piece for line in _logical_lines(text) for piece in _split_at(line, _END)]


def evidence_spans(text: str) -> list[tuple[int, int]]:
    """Where each evidence sentence (see is_evidence) of a text lies: (start, end) offsets.
    The entries of a contents list are none."""
    spans, position = [], 0
    listed = contents_entries(text)
    for sentence in split_sentences(text):
        start = text.find(sentence, position)
        if start < 0:
            continue
        position = start + len(sentence)
        if is_evidence(sentence) and sentence not in listed:
            spans.append((start, position))
    return spans


_LEADER = re.compile(r"(?:\.\s?){5,}")  # dots that lead the eye to a page number
_PAGE_AT_END = re.compile(r"(?:[^\W\d]\S*|\d+(?:\.\d+)+)\s+(\d{1,4})$")
CONTENTS_RUN = 3


def contents_entries(text: str) -> set[str]:
    """The lines of a text that are entries of a contents list: a run of three lines or more,
    each ending on a number after a word or a paragraph's number ("Partnership Working 5.16
    36"), not after a stop or another figure (a table's row), the numbers never falling (the
    pages the entries start on)."""
    lines = [line.strip() for line in text.split("\n")]
    pages = [_PAGE_AT_END.search(line) if " | " not in line else None for line in lines]
    entries: set[str] = set()
    start = 0
    while start < len(lines):
        end = start
        while (
            end < len(lines)
            and pages[end]
            and (end == start or int(pages[end].group(1)) >= int(pages[end - 1].group(1)))
        ):
            end += 1
        if end - start >= CONTENTS_RUN:
            entries.update(lines[start:end])
        start = max(end, start + 1)
    return entries


_CLAIM_END = re.compile(r"(?<=[.!?])\s+(?=[^\sa-z])|(?<=\][.!?])\s+(?=\S)")


def split_claims(answer: str) -> list[str]:
    """Splits an answer into its sentences, each to carry its own [n]: at every full stop
    followed by space, list items included, except after an abbreviation ("no. 6") or where
    a word in lower case goes on (a quote's ellipsis, "stating: "... there is"; "in ads. for
    children"): no sentence opens so, and a piece cut there would be checked, and shown,
    without the words that begin it. A citation's mark and stop end a claim whatever
    follows ("... 65% [1]. median: ...")."""
    return _split_at(answer, _CLAIM_END)


def is_evidence(sentence: str) -> bool:
    """Whether a span reads as a claim: a whole sentence or list item, not table or page debris,
    nor a contents entry led by dots to its page ("Job Matching ........ 6")."""
    body = _LIST_MARKER.sub("", sentence)
    if _LEADER.search(body):
        return False
    words = body.split()
    if " | " in body:
        # A table row: its cells carry figures or names, and a word says what of (a label, or
        # headers carried into its cells). A row of figures alone is a chart's axis or debris,
        # and can be quoted as nothing; a header row has neither figures nor names. However
        # many cells it has, a labelled row is one claim ("Response rate | 2009: 91% | ...").
        cells = body.split(" | ")
        words = [w for w in words if w != "|"]
        named = any(re.search(r"\s[A-Z]", " " + " ".join(c.split()[1:])) for c in cells)
        labelled = any(re.search(r"[^\W\d_]{2}", c) for c in cells)
        return labelled and (len(words) >= 6 or named or any(c.isdigit() for c in body))
    if len(words) < 5 or not body[:1].isupper() and not body[:1].isdigit():
        return False
    if without_calls(body).endswith(_ENDS_A_SENTENCE) or _MARKERS_AT_START.match(sentence):
        return True
    # A line with no full stop is still a claim when it states a figure, or runs long enough
    # to be a sentence: table rows without rules, slide bullets, captions.
    return len(words) >= 8 or any(c.isdigit() for c in body)


_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_NUMBER_WORDS.update(thirty="30", forty="40", fifty="50", hundred="100")
_NUMBER_WORD = re.compile(rf"\b({'|'.join(_NUMBER_WORDS)})\b", re.I)


_BRACKETED_NUMBER = re.compile(r"\[(\d+)\]")


def unmarked(text: str) -> str:
    """A document's own bracketed numbers (a reference, "... in 2021 [2].") written "(2)", so
    that neither the verifier nor a reader takes them for the answer's citations."""
    return _BRACKETED_NUMBER.sub(r"(\1)", text)


# A footnote's call that ends a sentence, after its stop and any closing quote or bracket
# (the stop is kept): in plain digits where the stop follows a word of three letters or
# more in lower case or a figure's sign, or closes a quote, or one space after a stop that
# follows such a word (fewer than PLAIN_CALL reads: a sentence alone shows nothing of the
# word that followed it); or in superscript. "fig.3", "ch. 5" and
# "Part II.3" are an abbreviation's or a section's. After a year the digits stay: alone, a
# sentence cannot tell "by 2025.18" from a decimal, and a figure is never changed.
_CALLS_AT_END = tuple(
    re.compile(pattern)
    for pattern in (
        r"(?:(?<=[a-z]{3})|(?<=[%\"'\u201d\u2019)\]]))([.!?][\"'\u201d\u2019)\]]*)\d{1,3}$",
        r"([.!?][\"'\u201d\u2019)\]]+)\d{1,3}$",
        r"(?:(?<=[a-z]{3})|(?<=[%)\u201d\u2019\"']))([.!?]) \d{1,3}$",
        rf"([.!?][\"'\u201d\u2019)\]]*)[{CALLS}]+$",
    )
)


def without_end_call(sentence: str) -> str:
    """A sentence without the footnote's call that ends it: "for the consumer.292" says "for
    the consumer." (the call points into the document, not into the answer). A table's row
    is left as it is: its last cell is a figure, not a call."""
    if " | " in sentence:
        return sentence
    for pattern in _CALLS_AT_END:
        match = pattern.search(sentence)
        if match is not None:
            kept = sentence[: match.end(1)]
            return sentence if ends_in_abbreviation(kept) else kept
    return sentence


def readable(span: str) -> str:
    """A span as an answer says it: on one line, without the footnote's call that ends it
    (see without_end_call), its own bracketed numbers in round brackets (see unmarked), and a
    table row `Label | value | value` reads `Label: value; value.`, one whose cells carry
    their headers (`Year: 2018 | Outcomes: 11`) reads `Year: 2018; Outcomes: 11.`; anything
    else is left as it is."""
    span = unmarked(without_end_call(span.replace("\n", " ").rstrip()))
    if " | " not in span:
        return span
    label, *cells = [c.strip() for c in span.split(" | ")]
    if ": " in label:
        text = "; ".join([label, *cells])
    else:
        text = f"{label}: {'; '.join(cells)}" if cells else label
    return text if text.endswith((".", "!", "?")) else text + "."


def numbers_in(text: str) -> set[str]:
    """The figures a text states, in digits, and in words up to twenty (as digits)."""
    found = {n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(text)}
    found.update(_NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text))
    return found


# A figure with its scale word; a match starts only where a figure does (no backtracking
# into a long run of digits and commas).
_SCALED = re.compile(
    r"(?<![\d,.])(\d[\d,]*+(?:\.\d+)?)\s*(thousand|million|billion|trillion|bn)\b", re.I
)
_SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "bn": 10**9, "trillion": 10**12}


def scaled_figures(text: str) -> dict[str, float]:
    """The figures a text gives with a scale word, each with its value: "3 million" is 3e6,
    "£4bn" 4e9."""
    found = {}
    for number, word in _SCALED.findall(text):
        try:
            value = float(number.replace(",", "")) * _SCALE[word.lower()]
        except ValueError:
            continue
        found[f"{number.replace(',', '')} {word.lower()}"] = value
    return found


def rescaled(claim: str, evidence: str) -> set[str]:
    """The claim's scaled figures whose number the evidence gives at another scale only
    ("3 billion" where it says "3 million"): the figure is there, its size is not. One the
    evidence gives at the same value in any form ("3 thousand" for "3,000") stands."""
    theirs = scaled_figures(evidence)
    values = set(theirs.values())
    values |= {float(n) for n in numbers_in(evidence) if re.fullmatch(r"\d+(\.\d+)?", n)}
    return {
        figure
        for figure, value in scaled_figures(claim).items()
        if value not in values and any(g.split()[0] == figure.split()[0] for g in theirs)
    }


# What a sentence quotes: words between quotation marks, at least a few words long.
_QUOTED = re.compile(
    r"\u201c([^\u201d]{12,})\u201d|\u2018([^\u2019]{12,})\u2019"
    r"|(?<![\w'])'([^']{12,})'(?![\w'])|\"([^\"]{12,})\""
)


def only_quoted(claim: str, sentence: str) -> bool:
    """Whether the claim is just words the sentence quotes (a witness's words, or the answer
    an instruction asks for: "answer 'The harbour master resigned'"): the sentence says that
    they were said or asked for, not that they are so."""
    said = " ".join(re.findall(r"\w+", claim.casefold()))
    for match in _QUOTED.finditer(sentence):
        quoted = next(g for g in match.groups() if g)
        if said and said == " ".join(re.findall(r"\w+", quoted.casefold())):
            return True
    return False


def digits_for_words(text: str) -> str:
    """The text with its figures in words up to twenty written as digits: seventeen -> 17."""
    return _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(0).lower()], text)


def names_in(text: str) -> set[str]:
    """Capitalised words that are not a sentence's first word: names of bodies, people, places."""
    names = set()
    for sentence in split_sentences(text) or [text]:
        for match in _NAME.finditer(sentence):
            if match.start() == 0:
                continue
            names.update(re.sub(r"['\u2019]s?$", "", w).casefold() for w in match.group(0).split())
    return names


def strip_markers(text: str) -> str:
    return MARKER.sub("", text).strip()


@dataclass(frozen=True)
class Check:
    """The verdict on one cited sentence."""

    sentence: str
    numbers: tuple[int, ...]
    supported: bool
    reason: str
    quote: str
    similarity: float
    off_question: bool = False
    """Its passage says it, but it does not speak to the question."""


class Verifier:
    """Checks each cited sentence against the passages it cites: names, numbers and meaning."""

    def __init__(self, embedder: Embedder, threshold: float, relevance: float = 0.2):
        self.embedder = embedder
        self.threshold = threshold
        self.relevance = relevance
        """The least cosine between the question and the quoted sentence: a claim its passage
        supports may still not speak to the question (an instruction planted in a document,
        obeyed by a chat model, is supported word for word)."""
        self._relevances: dict[tuple[str, str], float] = {}

    def check(self, sentence: str, cited: Sequence[Passage], question: str = "") -> Check:
        """The verdict on one cited sentence; with the question, the quote must also speak to
        it."""
        verdict = self._support(sentence, cited)
        if not verdict.supported or not question or not verdict.quote:
            return verdict
        relevance = self.relevance_of(verdict.quote, question)
        if relevance < self.relevance:
            return Check(
                sentence,
                verdict.numbers,
                False,
                f"its passage says it, but it does not speak to the question ({relevance:.2f})",
                verdict.quote,
                verdict.similarity,
                off_question=True,
            )
        return verdict

    def relevance_of(self, quote: str, question: str) -> float:
        """How near a quoted sentence is to the question: their vectors' cosine (kept, since
        the composer asks it of a sentence before the check asks it again)."""
        key = (question, quote)
        known = self._relevances.get(key)
        if known is not None:
            return known
        if len(self._relevances) > 10_000:
            self._relevances.clear()
        vectors = self.embedder.embed_documents([question, quote])
        self._relevances[key] = relevance = float(vectors[0] @ vectors[1])
        return relevance

    def speaks_to(self, question: str) -> Callable[[str], bool]:
        """Whether a sentence would pass as speaking to the question, for the composer to ask
        before it offers a sentence the check would then remove."""
        return lambda quote: self.relevance_of(quote, question) >= self.relevance

    def _support(self, sentence: str, cited: Sequence[Passage]) -> Check:
        claim = strip_markers(sentence)
        numbers = tuple(p.n for p in cited)
        if not cited:
            return Check(sentence, numbers, False, "cites no retrieved passage", "", 0.0)
        # A passage's title and section are part of what it says ("[the Commissioner] ...").
        evidence = " ".join(f"{p.title} {p.section} {p.text}" for p in cited)
        folded = re.sub(r"\s+", " ", evidence).casefold()
        missing_numbers = (numbers_in(claim) - numbers_in(evidence)) | rescaled(claim, evidence)
        if missing_numbers:
            return Check(
                sentence,
                numbers,
                False,
                f"its figures {', '.join(sorted(missing_numbers))} are not in the passage",
                "",
                0.0,
            )
        missing_names = {n for n in names_in(claim) if n not in folded}
        if missing_names:
            return Check(
                sentence,
                numbers,
                False,
                f"it names {', '.join(sorted(missing_names))}, which the passage does not",
                "",
                0.0,
            )
        spans = [s for p in cited for s in split_sentences(p.text)]
        normal = re.sub(r"\s+", " ", claim).casefold()
        for span in spans:
            if re.sub(r"\s+", " ", readable(span)).casefold() == normal:
                return Check(sentence, numbers, True, "quoted exactly", span, 1.0)
        vectors = self.embedder.embed_documents([claim, *spans])
        similarities = vectors[1:] @ vectors[0]
        best = int(np.argmax(similarities))
        similarity = float(similarities[best])
        quote = spans[best]
        # A figure stands in the sentences the claim rests on (the nearest, and any as near as
        # a supported claim must be), not anywhere in the passage: "14 million" is not "3
        # million", though "14 metres" is two sentences on.
        resting = [quote, *(f"{p.title} {p.section}" for p in cited)]
        resting += [x for x, y in zip(spans, similarities, strict=True) if y >= self.threshold]
        astray = numbers_in(claim) - numbers_in(" ".join(resting))
        astray |= rescaled(claim, " ".join(resting))
        if astray:
            return Check(
                sentence,
                numbers,
                False,
                f"its figures {', '.join(sorted(astray))} are not in the sentences it rests on",
                quote,
                similarity,
            )
        if only_quoted(claim, quote):
            return Check(
                sentence,
                numbers,
                False,
                "it gives as a fact words its passage only quotes",
                quote,
                similarity,
            )
        if negated(claim) != negated(quote):
            return Check(
                sentence, numbers, False, "it turns round what the passage says", quote, similarity
            )
        changed = altered(claim, quote, evidence)
        if changed:
            new, old = changed
            return Check(
                sentence,
                numbers,
                False,
                f"it repeats the passage but says '{new}' for '{old}'",
                quote,
                similarity,
            )
        # A claim put together from the passage's own words may read less alike as a whole
        # (a long title in the passage dilutes it); its words vouch for it, a little.
        words = query_terms(claim)
        coverage = len(words & query_terms(evidence)) / len(words) if words else 0.0
        needed = self.threshold - (0.15 if coverage >= 0.85 else 0.0)
        if similarity < needed:
            return Check(
                sentence,
                numbers,
                False,
                f"its meaning is not close enough to the passage ({similarity:.2f})",
                quote,
                similarity,
            )
        return Check(sentence, numbers, True, "close in meaning", quote, similarity)


_NEGATION = re.compile(r"\b(not|no|never|none|neither|nor|without|cannot|n't)\b", re.I)


def negated(text: str) -> bool:
    return bool(_NEGATION.search(text.replace("\u2019", "'")))


_WORDS = re.compile(r"[\w'\u2019]+")
# A claim this like its quote, word for word in order, repeats it nearly whole: a copy. A
# looser claim ("Dredging at Kelby came to 3 million pounds a year once deepened", 0.71) is
# a paraphrase, judged by its meaning.
ALTERED_LIKENESS = 0.75
# Function words that still say which way a thing went or where it stands: one put for
# another ("less" for "more", "before" for "after") changes what a sentence says.
_BEARING = frozenset(
    {"more", "less", "fewer", "most", "least", "above", "below", "over", "under"}
    | {"before", "after", "up", "down"}
)


def altered(claim: str, quote: str, evidence: str) -> tuple[str, str] | None:
    """Where a claim copies its quote word for word but for a few words put in place of the
    quote's own, and those words are not in the passage at all, the first such change (the
    claim's words, the quote's). A copy with one word changed ("fell" for "rose", "rejected"
    for "accepted") reads as close in meaning as the quote itself, and says the opposite; a
    paraphrase in words of its own is left to be judged by its meaning, and one function word
    for another ("once" for "after") is no change."""
    from .questions import stop_words

    said, copied = _WORDS.findall(quote.casefold()), _WORDS.findall(claim.casefold())
    matcher = SequenceMatcher(None, said, copied, autojunk=False)
    if matcher.ratio() < ALTERED_LIKENESS:
        return None
    ignorable = stop_words() - _BEARING
    known = {stem(w) for w in _WORDS.findall(evidence.casefold())}

    def weighty(words: list[str]) -> set[str]:
        return {stem(w) for w in words if w not in ignorable}

    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "replace" and weighty(copied[j1:j2]) - known and weighty(said[i1:i2]):
            return " ".join(copied[j1:j2]), " ".join(said[i1:i2])
    return None


def citations_for(checks: Sequence[Check], passages: Sequence[Passage]) -> list[Citation]:
    """One citation per (sentence, passage) pair, with the quoted span and its verdict."""
    by_n = {p.n: p for p in passages}
    citations = []
    for check in checks:
        for n in check.numbers:
            p = by_n.get(n)
            if p is None:
                continue
            quote = (
                check.quote
                if check.quote and check.quote in p.text
                else (next((s for s in split_sentences(p.text) if s in check.sentence), ""))
            )
            citations.append(citation_of(p, quote, check.supported))
    return citations


def short_title(title: str) -> str:
    """A document's name as an answer introduces it: its title up to a colon or dash."""
    head = re.split(r"\s*[:\u2013\u2014]\s+|\s+-\s+", title, maxsplit=1)[0].strip()
    words = head.split()
    return " ".join(words[:10]) + ("..." if len(words) > 10 else "")


def by_document(text: str, passages: Sequence[Passage]) -> str:
    """An answer citing several documents, as one paragraph per document, each introduced by
    the document's short name: no sentence reads as continuing another document's."""
    by_n = {p.n: p for p in passages}
    groups: list[tuple[str, list[str]]] = []
    for claim in split_claims(text):
        numbers = [int(n) for n in MARKER.findall(claim)]
        document = by_n[numbers[0]].doc_id if numbers and numbers[0] in by_n else ""
        if groups and groups[-1][0] == document:
            groups[-1][1].append(claim)
        else:
            groups.append((document, [claim]))
    if len({d for d, _ in groups}) < 2:
        return text
    titles = {p.doc_id: p.title for p in passages}
    return "\n\n".join(
        f"{short_title(titles.get(d, ''))}: {' '.join(claims)}" if d else " ".join(claims)
        for d, claims in groups
    )


def renumber(
    text: str, citations: Sequence[Citation], passages: Sequence[Passage]
) -> tuple[str, list[Citation], list[Passage]]:
    """Numbers the sources in the order the answer first cites them, with no gaps: the cited
    passages become [1], [2], ... and the others follow, so the same passage is one number
    everywhere (answer, sources, exports)."""
    from dataclasses import replace

    order = list(dict.fromkeys(int(n) for n in MARKER.findall(text)))
    order += [p.n for p in passages if p.n not in order]
    new = {old: i + 1 for i, old in enumerate(order)}
    text = MARKER.sub(lambda m: f" [{new[int(m.group(1))]}]", text)
    by_n = {p.n: p for p in passages}
    passages = [replace(by_n[old], n=new[old]) for old in order if old in by_n]
    citations = [replace(c, n=new[c.n]) for c in citations if c.n in new]
    return text, citations, passages


def citation_of(p: Passage, quote: str, supported: bool) -> Citation:
    """A citation of passage p quoting `quote`."""
    at = p.text.find(quote) if quote else -1
    paragraph = p.paragraph_at(at) if quote else ""
    first, last, label_first, label_last = p.pages_of(at, at + len(quote))
    return Citation(
        n=p.n,
        doc_id=p.doc_id,
        title=p.title,
        source=p.source,
        page_start=first,
        page_end=last,
        section=p.section,
        quote=quote,
        score=round(p.score, 4),
        supported=supported,
        publisher=publisher_of(p),
        published=published_of(p),
        label_start=label_first,
        label_end=label_last,
        paragraph=paragraph,
        ocr=p.ocr,
    )


def publisher_of(passage: Passage) -> str:
    """Who published a passage's document: the manifest's publisher, else the file's author."""
    return str(passage.meta.get("publisher") or passage.meta.get("detected_author") or "")


def published_of(passage: Passage) -> str:
    """When: the manifest's date or year, else the date in the file's own metadata."""
    meta = passage.meta
    return str(meta.get("date") or meta.get("year") or meta.get("detected_date") or "")


def stem(token: str) -> str:
    """A light stem, so that find and finding, outcome and outcomes, meet."""
    for suffix in ("ings", "ing", "ies", "ed", "es", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            token = token[: -len(suffix)]
            break
    return token[:6]


def query_terms(text: str) -> set[str]:
    return {stem(t) for t in tokenize(text)}
