"""Answer composers. The default is extractive and needs no LLM: every sentence it says is a
sentence of a retrieved passage, cited with [n]."""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .citations import LIST_ITEM, continues_list, is_evidence, readable, split_sentences, unmarked
from .embeddings import Embedder
from .models import CALLS, Passage
from .readability import has_finite_verb, labelled, leans_back
from .signals import LIST_MARK, Candidate

MAX_WORDS = 150
MAX_SENTENCES = 6  # the lead and its supporting sentences, list items apart
SUPPORT_SHARE = 0.3  # a supporting sentence is at least this likely, relative to the lead
SUPPORT_FLOOR = 0.05  # and at least this likely to answer, whatever the lead's probability
# A sentence of the lead's own document goes on with its subject: it may be less likely.
OWN_SHARE = 0.1
OWN_FLOOR = 0.03
_MARKER = LIST_MARK  # a list item or numbered line
LEAD_LOOKS = 5  # a lead that is not a sentence, or has no subject, gives way to the next of these
_DIGIT = re.compile(r"\d")
_LETTERS = re.compile(r"[^\W\d_]{2}")


def _heading_like(sentence: str) -> bool:
    """A heading, contents line, caption or run of footnotes: no finite verb, and not a table
    row, a field, a list item or a line that announces a list (those need none)."""
    if _MARKER.match(sentence) or sentence.rstrip().endswith(":") or labelled(sentence):
        return False
    return not has_finite_verb(sentence)


def _aside(sentence: str) -> bool:
    """A footnote set apart from the text (it opens on its call), or a numbered or bulleted
    line with no verb (a note read as a list item, one item of a list): each says something
    only where it stands, so neither supports an answer as a claim of its own (either may
    lead one)."""
    if sentence and sentence[0] in CALLS:
        return True
    return bool(_MARKER.match(sentence)) and not has_finite_verb(sentence)


def _not_a_claim(candidate: Candidate) -> bool:
    """A heading, contents line or caption, or a table's header row: the first row of a table
    whose other rows (two at least) all hold a figure while it holds none (`Date | Public
    bodies under the duty` over `At the start | 44` and `From 30 June 2024 | 56`): it names
    the columns and says nothing itself. A table of names and values keeps every row."""
    if _heading_like(candidate.sentence):
        return True
    row = candidate.sentence
    if " | " not in row or _DIGIT.search(row):
        return False
    lines = candidate.passage.text.split("\n")
    if row not in lines:
        return False
    at = lines.index(row)
    cells = row.count(" | ")
    if at > 0 and lines[at - 1].count(" | ") == cells:
        return False  # not the table's first row
    below = []
    for line in lines[at + 1 :]:
        if line.count(" | ") != cells:
            break
        below.append(line)
    # Two rows of figures at least: over one, a row without is as likely a name and a value.
    return len(below) >= 2 and all(_DIGIT.search(line) for line in below)


@dataclass(frozen=True)
class Composition:
    """What a composer made: the answer text with [n] markers, and whether it refused."""

    text: str
    refused: bool
    best_score: float
    composer: str


@dataclass(frozen=True)
class Reach:
    """How much the extractive composer may say: at most `sentences` chosen sentences and
    about `words` words, each supporting sentence at least `share` as likely to answer as the
    lead and at least `floor` likely, or for a sentence of the lead's own document `own_share`
    and `own_floor` (the same as the others' where not given). An answer keeps to the
    defaults; a briefing's evidence reaches further."""

    words: int = MAX_WORDS
    sentences: int = MAX_SENTENCES
    share: float = SUPPORT_SHARE
    floor: float = SUPPORT_FLOOR
    own_share: float | None = None
    own_floor: float | None = None

    def floors(self, lead_p: float) -> tuple[float, float]:
        """How likely a supporting sentence must be: (of the lead's document, of another)."""
        own_share = self.share if self.own_share is None else self.own_share
        own_floor = self.floor if self.own_floor is None else self.own_floor
        return max(own_floor, own_share * lead_p), max(self.floor, self.share * lead_p)


ANSWER_REACH = Reach(own_share=OWN_SHARE, own_floor=OWN_FLOOR)
"""An answer: its lead, what its own document says beside it, and other documents' sentences
only where they too are likely answers."""


PART_REACH = Reach(share=0.5, floor=0.1)
"""One part of a question that asks several things, or one side of a comparison: a short
paragraph beside the others, so its supporting sentences must be likelier than an answer's."""


def _with_marker(sentence: str, n: int) -> str:
    """Puts [n] before the sentence's closing punctuation: `... involvement [1].`"""
    match = re.search(r"[.!?:;]+[\"'\u201d\u2019)]*$", sentence)
    if match:
        return f"{sentence[: match.start()]} [{n}]{sentence[match.start() :]}"
    return f"{sentence} [{n}]."


class ExtractiveComposer:
    """Picks the passage sentences that answer the question, best first, each cited."""

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        headings: frozenset[str] = frozenset(),
        fetch: Callable[[list[str]], dict[str, tuple[list[str], np.ndarray]]] | None = None,
    ):
        self.embedder = embedder
        self.headings = headings
        """Section headings of the index: a line that is one (a contents entry) says nothing."""
        self._sorted_headings = sorted(headings)
        self.fetch = fetch
        """Reads the sentences the index keeps for chunks, with their vectors (store.py)."""
        self._cache: dict[str, tuple[list[str], np.ndarray]] = {}

    def _is_contents_entry(self, span: str) -> bool:
        """A line of a contents list: a heading of the index, perhaps with "(section 3)"."""
        entry = re.sub(r"\s*\([^)]*\)\s*$", "", _MARKER.sub("", span)).casefold()
        if entry in self.headings:
            return True
        if len(entry) <= 12:
            return False
        at = bisect.bisect_left(self._sorted_headings, entry)  # the first heading it may begin
        return at < len(self._sorted_headings) and self._sorted_headings[at].startswith(entry)

    def reset(self, headings: frozenset[str]) -> None:
        """After the index changed: its headings, and nothing cached from before."""
        self.headings = headings
        self._sorted_headings = sorted(headings)
        self._cache.clear()

    def prefetch(self, passages: Sequence[Passage]) -> None:
        """Reads the kept sentences of every passage not yet cached, in one call."""
        wanted = [p.chunk_id for p in passages if p.chunk_id not in self._cache]
        if not wanted or self.fetch is None:
            return
        if len(self._cache) > 5000:
            self._cache.clear()
        for chunk_id, (spans, vectors) in self.fetch(wanted).items():
            keep = [i for i, s in enumerate(spans) if not self._is_contents_entry(s)]
            self._cache[chunk_id] = ([spans[i] for i in keep], vectors[keep])

    def sentences(self, passage: Passage) -> tuple[list[str], np.ndarray]:
        """A passage's evidence sentences and their vectors: as the index keeps them, or (for
        an index made before it kept them) embedded now under the passage's heading."""
        cached = self._cache.get(passage.chunk_id)
        if cached is None:
            self.prefetch([passage])
            cached = self._cache.get(passage.chunk_id)
        if cached is None:
            spans = [
                s
                for s in split_sentences(passage.text)
                if is_evidence(s) and not self._is_contents_entry(s)
            ]
            heading = f"{passage.section}: " if passage.section else ""
            vectors = (
                self.embedder.embed_documents([heading + s for s in spans])
                if spans
                else np.zeros((0, self.embedder.dimension), dtype=np.float32)
            )
            cached = (spans, vectors)
            self._cache[passage.chunk_id] = cached
        return cached

    def _list_after(self, sentence: str, passage: Passage) -> list[str]:
        """The list items or rows that follow a sentence ending with a colon, in its passage."""
        if not sentence.rstrip().endswith(":"):
            return []
        spans, _ = self.sentences(passage)
        after = [line.strip() for line in passage.text.split("\n")]
        try:
            start = next(i for i, line in enumerate(after) if line.endswith(sentence))
        except StopIteration:
            return []
        items: list[str] = []
        for line in after[start + 1 :]:
            after_rows = bool(items) and " | " in items[-1]
            if " | " in line and line in spans:
                items.append(line)
            elif after_rows or not continues_list(items[-1] if items else "", line):
                break  # a table's rows end the list; an item goes on with the one before
            elif line in spans or _LETTERS.search(LIST_ITEM.sub("", line)):
                # An item says what it says within its list, however short ("5.1.2 The line
                # manager."): announced, it is quoted with the rest.
                items.append(line)
            else:
                break
        return items[:8]

    def _list_run(self, candidate: Candidate) -> list[str]:
        """For a list item: the items of its list in order (at most 8), after the sentence
        that announces them when it ends with a colon; otherwise nothing. A run of numbered
        paragraphs ("2.4 ...", "2.5 ...") is no list: each says its own thing, so only a
        one-level mark counts here (`_MARKER`), where an announced list (`_list_after`) may
        be numbered at any depth."""
        spans, _ = self.sentences(candidate.passage)
        if not _MARKER.match(candidate.sentence) or candidate.sentence not in spans:
            return []
        at = spans.index(candidate.sentence)
        start = at
        while start > 0 and _MARKER.match(spans[start - 1]):
            start -= 1
        end = at + 1
        while end < len(spans) and _MARKER.match(spans[end]) and end - start < 8:
            end += 1
        if end - start < 2:
            return []
        intro = [spans[start - 1]] if start > 0 and spans[start - 1].rstrip().endswith(":") else []
        return intro + spans[start:end]

    def _follow_on(self, lead: Candidate) -> list[str]:
        """What completes the lead: a list it announces, or else the next sentence when that
        leans back on it ("They would have ...") or announces a list itself, with its list."""
        listed = self._list_after(lead.sentence, lead.passage)
        if listed:
            return listed
        spans, _ = self.sentences(lead.passage)
        try:
            following = spans[spans.index(lead.sentence) + 1]
        except (ValueError, IndexError):
            return []
        if _MARKER.match(following) or " | " in following:
            return []
        if leans_back(following) or following.rstrip().endswith(":"):
            return [following, *self._list_after(following, lead.passage)]
        return []

    def _can_lead(self, candidate: Candidate) -> bool:
        if _not_a_claim(candidate):
            return False
        if candidate.sentence.rstrip().endswith(":"):
            # What ends on a colon leads only with what it announces: a list, or (where it says
            # something itself) the sentence that goes on from it. Without, it is a heading, a
            # run of notes, or a lead-in whose list the passage does not give as one.
            listed = self._list_after(candidate.sentence, candidate.passage)
            if not listed and (
                not has_finite_verb(candidate.sentence) or not self._follow_on(candidate)
            ):
                return False
        return not leans_back(candidate.sentence) or self._antecedent(candidate) is not None

    def _antecedent(self, candidate: Candidate) -> str | None:
        """The sentence a candidate leans back on ("It also created ..."): the one before it in
        its passage, shown with it so that its subject is its own document's."""
        if not leans_back(candidate.sentence):
            return None
        spans, _ = self.sentences(candidate.passage)
        try:
            index = spans.index(candidate.sentence)
        except ValueError:
            return None
        return spans[index - 1] if index > 0 else None

    def compose(
        self,
        ranked: Sequence[tuple[Candidate, float]],
        reach: Reach | None = None,
        speaks: Callable[[str], bool] | None = None,
    ) -> Composition:
        """The answer from sentences ranked by how likely each is to answer (best first): the
        best leads, with what completes it; others follow only if they too are likely answers
        and, given `speaks`, speak to the question as the verifier will judge it, grouped by
        document, nothing said twice, at most about reach.words words."""
        reach = reach or ANSWER_REACH
        if not ranked:
            return Composition("", True, 0.0, self.name)
        # Headings, contents lines and captions are not sentences, and a sentence that leans
        # back on nothing its passage shows ("This standard was ...") has no subject: the best
        # that is a sentence standing on its own leads.
        first = next((i for i, (c, _) in enumerate(ranked[:LEAD_LOOKS]) if self._can_lead(c)), 0)
        ranked = [ranked[first], *ranked[:first], *ranked[first + 1 :]]
        lead, lead_p = ranked[0]
        chosen = [lead]
        # What follows a chosen sentence: the lead's follow-on; another's list it announces.
        # A lead that is one item of a list brings the whole list, in its order.
        run = self._list_run(lead)
        follows = {lead.sentence: run or self._follow_on(lead)}
        words = len(lead.sentence.split()) + sum(len(x.split()) for x in follows[lead.sentence])
        own_floor, other_floor = reach.floors(lead_p)
        for candidate, p in ranked[1:]:
            if len(chosen) == reach.sentences or p < min(own_floor, other_floor):
                break
            if p < (own_floor if candidate.passage.doc_id == lead.passage.doc_id else other_floor):
                continue
            if _not_a_claim(candidate):
                continue  # a heading, contents line or a table's header row, not a claim
            if _aside(candidate.sentence):
                continue
            listed = self._list_after(candidate.sentence, candidate.passage)
            if candidate.sentence.rstrip().endswith(":") and not listed:
                continue  # announces what the passage does not go on to give
            size = len(candidate.sentence.split()) + sum(len(x.split()) for x in listed)
            if words + size > reach.words or any(candidate.sentence in f for f in follows.values()):
                continue
            if any(
                float(candidate.vector @ c.vector) > 0.9 or candidate.sentence in c.sentence
                for c in chosen
            ):
                continue  # says again what is already said
            if speaks is not None and not speaks(candidate.sentence):
                continue  # its document says it, but not to this question
            chosen.append(candidate)
            follows[candidate.sentence] = listed
            words += size
        # The lead first; the rest grouped by document, documents in order of their best sentence.
        rest = chosen[1:]
        order = list(dict.fromkeys([lead.passage.doc_id] + [c.passage.doc_id for c in rest]))
        rest.sort(key=lambda c: order.index(c.passage.doc_id))
        pieces: list[str] = []
        said: set[str] = set()
        for c in [lead, *rest]:
            before = self._antecedent(c)
            if before is None and c is not lead and leans_back(c.sentence):
                continue  # leans on nothing this passage shows: it would borrow another subject
            unit = [before, c.sentence, *follows[c.sentence]]
            if c is lead and run:
                unit = run  # the list, in order, with what announces it
            for sentence in unit:
                if sentence and sentence not in said:
                    said.add(sentence)
                    pieces.append(_with_marker(readable(sentence), c.passage.n))
        return Composition(" ".join(pieces), False, lead_p, self.name)


NOT_FOUND_TOKEN = "NOT_FOUND"
# Citations a model writes in other forms: several numbers in one bracket, a range, or the
# lenticular brackets some models use. A bare "(1)" is never one: the passages show a
# document's own bracketed numbers so (see citations.unmarked).
_CITED_SEVERAL = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)+)\]")
_CITED_RANGE = re.compile(r"\[(\d+)\s*[-\u2013]\s*(\d+)\]")
_CITED_LENTICULAR = re.compile(r"\u3010\s*(\d+)\s*\u3011")


def _citations_read(text: str) -> str:
    """The reply with its citations written as the verifier reads them, "[1][3]"."""
    text = _CITED_LENTICULAR.sub(r"[\1]", text)

    def several(m: re.Match) -> str:
        numbers = re.split(r"\s*[,;]\s*", m.group(1))
        if not all(0 < int(n) <= 40 for n in numbers):
            return m.group(0)  # no passages ("[2,500]" is a figure, "[2019, 2021]" years)
        return "".join(f"[{n}]" for n in numbers)

    text = _CITED_SEVERAL.sub(several, text)

    def spread(m: re.Match) -> str:
        low, high = int(m.group(1)), int(m.group(2))
        if not (0 < high - low < 10 and high <= 40):
            return m.group(0)  # no range of passages ("[2019-2024]" is years)
        return "".join(f"[{n}]" for n in range(low, high + 1))

    return _CITED_RANGE.sub(spread, text)


class LLMComposer:
    """Asks a chat model for an answer that cites the passages; the verifier then checks it."""

    name = "llm"

    def __init__(self, model, timeout_s: float = 60.0):
        self.model = model
        self.timeout_s = timeout_s

    def messages(self, question: str, passages: Sequence[Passage]):
        from langchain_core.messages import HumanMessage, SystemMessage

        from .prompts import escape_passage, render

        blocks = "\n\n".join(
            f'<passage n="{p.n}" title="{escape_passage(p.title)}" pages="{p.pages}">\n'
            f"{escape_passage(unmarked(p.text))}\n</passage>"
            for p in passages
        )
        return [
            SystemMessage(content=render("answer_system", not_found=NOT_FOUND_TOKEN)),
            HumanMessage(content=render("answer_user", passages=blocks, question=question)),
        ]

    def _finish(self, text: str) -> Composition:
        """The model's reply as a composition: NOT_FOUND is its refusal; a reply with no words
        is a failure (the passages may still answer, extractively); citations written "[1, 3]",
        "[1-3]" or "\u30101\u3011" are read as "[1][3]", "[1][2][3]" and "[1]"."""
        text = text.strip()
        if not text:
            raise ValueError("it replied with nothing")
        refused = text.startswith(NOT_FOUND_TOKEN)
        return Composition("" if refused else _citations_read(text), refused, 0.0, self.name)

    def compose(self, question: str, passages: Sequence[Passage]) -> Composition:
        """One call to the model, within the timeout; raises on failure or time-out."""
        from .llm import reply_text, within  # langchain's messages: only with a chat model

        reply = within(self.timeout_s, self.model.invoke, self.messages(question, passages))
        return self._finish(reply_text(reply))

    def stream(self, question: str, passages: Sequence[Passage]):
        """Yields the model's text as it comes; returns the Composition at the end. The whole
        answer must come within the timeout, as in compose; raises TimeoutError otherwise."""
        import queue
        import threading

        from .llm import reply_text

        came: queue.Queue = queue.Queue()
        end = object()

        def read() -> None:
            try:
                for chunk in self.model.stream(self.messages(question, passages)):
                    came.put(reply_text(chunk))
                came.put(end)
            except Exception as err:  # said where the answer is awaited
                came.put(err)

        threading.Thread(target=read, daemon=True, name="llm-stream").start()
        deadline = time.monotonic() + self.timeout_s
        pieces = []
        while True:
            try:
                text = came.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no answer within {self.timeout_s:g} s") from None
            if text is end:
                return self._finish("".join(pieces))
            if isinstance(text, Exception):
                raise text
            if text:
                pieces.append(text)
                yield text
