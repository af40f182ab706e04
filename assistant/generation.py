"""Answer composers. The default is extractive and needs no LLM: every sentence it says is a
sentence of a retrieved passage, cited with [n]."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .citations import PERSON_NAME, is_evidence, query_terms, readable, split_sentences
from .embeddings import Embedder
from .models import Passage
from .premise import answer_pattern

MAX_WORDS = 150
MAX_SENTENCES = 8  # the lead and its supporting sentences, list items apart
FLOOR_GAP = 0.22  # supporting sentences score at most this far below the lead
# How a sentence is scored against the question (tuned on evals/questions.yaml).
W_MEANING, W_WORDS, W_NEW, W_TYPE = 0.6, 0.3, 0.1, 0.12
_MARKER = re.compile(r"^([\u2022*-]|\d{1,2}[.)]?)\s+")
# A sentence that leans on the one before it: "They would have raised ...", "The values are:".
_LEANS_BACK = re.compile(r"^(They|These|Those|It|Its|Their|This|Such)\b")

_ABOUT_THE_DOCUMENT = re.compile(
    r"\b(this|the) (summary|document|paper) (covers|does not|is|deals|gives)\b"
    r"|own (account|summary)|^related summaries|^contents\b|summary in this corpus"
    # rows of a document's own details table
    r"|^(field|official source|address|publisher|licence|licence of the source|kind) \|",
    re.I,
)


@dataclass(frozen=True)
class Candidate:
    passage: Passage
    sentence: str
    score: float
    vector: np.ndarray


@dataclass(frozen=True)
class Composition:
    """What a composer made: the answer text with [n] markers, and whether it refused."""

    text: str
    refused: bool
    best_score: float
    composer: str


def _term_weights(query: set[str], spans: Sequence[set[str]]) -> dict[str, float]:
    """Weighs each question word by how few candidate sentences share it: the words naming the
    topic are everywhere, the words naming the thing asked for are not."""
    n = len(spans)
    return {t: math.log(1 + n / (1 + sum(t in s for s in spans))) for t in query}


def _overlap(weights: dict[str, float], terms: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total else 0.0


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
        self, embedder: Embedder, min_evidence: float, headings: frozenset[str] = frozenset()
    ):
        self.embedder = embedder
        self.min_evidence = min_evidence
        self.headings = headings
        """Section headings of the index: a line that is one (a contents entry) says nothing."""
        self._cache: dict[str, tuple[list[str], np.ndarray]] = {}

    def _is_contents_entry(self, span: str) -> bool:
        """A line of a contents list: a heading of the index, perhaps with "(section 3)"."""
        entry = re.sub(r"\s*\([^)]*\)\s*$", "", _MARKER.sub("", span)).casefold()
        return entry in self.headings or any(
            h.startswith(entry) for h in self.headings if len(entry) > 12
        )

    def _sentences(self, passage: Passage) -> tuple[list[str], np.ndarray]:
        cached = self._cache.get(passage.chunk_id)
        if cached is None:
            spans = [
                s
                for s in split_sentences(passage.text)
                if is_evidence(s) and not self._is_contents_entry(s)
            ]
            # A sentence is embedded under its section heading, so "It names the nuts and
            # bolts..." keeps the subject its heading gives it.
            heading = f"{passage.section}: " if passage.section else ""
            vectors = (
                self.embedder.embed_documents([heading + s for s in spans])
                if spans
                else np.zeros((0, self.embedder.dimension), dtype=np.float32)
            )
            cached = (spans, vectors)
            if len(self._cache) > 5000:
                self._cache.clear()
            self._cache[passage.chunk_id] = cached
        return cached

    def candidates(self, question: str, passages: Sequence[Passage]) -> list[Candidate]:
        """Every evidence sentence of the passages, scored against the question.

        The score mixes meaning (cosine to the question), the question's words, whether the
        sentence holds the kind of thing asked for (a name, a date, a figure), and whether it
        adds something beyond the question's own words.
        """
        query_vector = self.embedder.embed_query(question)
        terms = query_terms(question)
        wants = _answer_type(question)
        found = [
            (p, s, v, query_terms(s))
            for p in passages
            for s, v in zip(*self._sentences(p), strict=True)
        ]
        weights = _term_weights(terms, [own for *_, own in found])
        out = []
        for passage, span, vector, own in found:
            score = W_MEANING * float(vector @ query_vector) + W_WORDS * _overlap(weights, own)
            score += W_NEW * min(1.0, len(own - terms) / 4)
            if wants and wants.search(span) and not wants.search(question):
                score += W_TYPE
            if _ABOUT_THE_DOCUMENT.search(span):
                score -= 0.2  # says what the document is, not what it says
            out.append(Candidate(passage, span, score, vector))
        return sorted(out, key=lambda c: (-c.score, c.passage.n))

    def _list_after(self, sentence: str, passage: Passage) -> list[str]:
        """The list items or rows that follow a sentence ending with a colon, in its passage."""
        if not sentence.rstrip().endswith(":"):
            return []
        spans, _ = self._sentences(passage)
        after = [line.strip() for line in passage.text.split("\n")]
        try:
            start = next(i for i, line in enumerate(after) if line.endswith(sentence))
        except StopIteration:
            return []
        items = []
        for line in after[start + 1 :]:
            if not (_MARKER.match(line) or " | " in line) or line not in spans:
                break
            items.append(line)
        return items[:8]

    def _follow_on(self, lead: Candidate) -> list[str]:
        """What completes the lead: a list it announces, or else the next sentence when that
        leans back on it ("They would have ...") or announces a list itself, with its list."""
        listed = self._list_after(lead.sentence, lead.passage)
        if listed:
            return listed
        spans, _ = self._sentences(lead.passage)
        try:
            following = spans[spans.index(lead.sentence) + 1]
        except (ValueError, IndexError):
            return []
        if _MARKER.match(following) or " | " in following:
            return []
        if _LEANS_BACK.match(following) or following.rstrip().endswith(":"):
            return [following, *self._list_after(following, lead.passage)]
        return []

    def compose(self, question: str, passages: Sequence[Passage]) -> Composition:
        ranked = self.candidates(question, passages)
        if not ranked or ranked[0].score < self.min_evidence:
            best = ranked[0].score if ranked else 0.0
            return Composition("", True, best, self.name)
        lead = ranked[0]
        chosen = [lead]
        # What follows a chosen sentence: the lead's follow-on; another's list it announces.
        follows = {lead.sentence: self._follow_on(lead)}
        words = len(lead.sentence.split()) + sum(len(x.split()) for x in follows[lead.sentence])
        floor = max(self.min_evidence, lead.score - FLOOR_GAP)
        for candidate in ranked[1:]:
            if len(chosen) == MAX_SENTENCES or candidate.score < floor:
                break
            listed = self._list_after(candidate.sentence, candidate.passage)
            if candidate.sentence.rstrip().endswith(":") and not listed:
                continue  # announces what the passage does not go on to give
            size = len(candidate.sentence.split()) + sum(len(x.split()) for x in listed)
            if words + size > MAX_WORDS or any(candidate.sentence in f for f in follows.values()):
                continue
            if any(
                float(candidate.vector @ c.vector) > 0.9 or candidate.sentence in c.sentence
                for c in chosen
            ):
                continue  # says again what is already said
            chosen.append(candidate)
            follows[candidate.sentence] = listed
            words += size
        # The lead first; the rest grouped by document, documents in order of their best sentence.
        rest = chosen[1:]
        order = list(dict.fromkeys([lead.passage.doc_id] + [c.passage.doc_id for c in rest]))
        rest.sort(key=lambda c: (order.index(c.passage.doc_id), -c.score))
        pieces = []
        for c in [lead, *rest]:
            pieces.append(_with_marker(readable(c.sentence), c.passage.n))
            pieces += [_with_marker(readable(item), c.passage.n) for item in follows[c.sentence]]
        return Composition(" ".join(pieces), False, lead.score, self.name)


_DATE = re.compile(r"\b(1[89]|20)\d\d\b")
_FIGURE = re.compile(r"\d")


def _answer_type(question: str) -> re.Pattern[str] | None:
    """What kind of thing the question asks for, as a pattern an answering sentence matches."""
    known = answer_pattern(question)
    if known is not None:
        return known
    q = question.lower().lstrip()
    if q.startswith("who"):
        return PERSON_NAME
    if q.startswith("when") or "what year" in q or "what date" in q:
        return _DATE
    if q.startswith(("how many", "how much", "how long", "how often")) or "milestone" in q:
        return _FIGURE
    return None


NOT_FOUND_TOKEN = "NOT_FOUND"


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
            f"{escape_passage(p.text)}\n</passage>"
            for p in passages
        )
        return [
            SystemMessage(content=render("answer_system", not_found=NOT_FOUND_TOKEN)),
            HumanMessage(content=render("answer_user", passages=blocks, question=question)),
        ]

    def _finish(self, text: str) -> Composition:
        text = text.strip()
        refused = not text or text.startswith(NOT_FOUND_TOKEN)
        return Composition("" if refused else text, refused, 0.0, self.name)

    def compose(self, question: str, passages: Sequence[Passage]) -> Composition:
        """One call to the model, within the timeout; raises on failure or time-out."""
        from concurrent.futures import ThreadPoolExecutor
        from concurrent.futures import TimeoutError as FutureTimeout

        pool = ThreadPoolExecutor(1)
        future = pool.submit(self.model.invoke, self.messages(question, passages))
        try:
            reply = future.result(timeout=self.timeout_s)
        except FutureTimeout as err:
            raise TimeoutError(f"no answer within {self.timeout_s:g} s") from err
        finally:
            pool.shutdown(wait=False)
        return self._finish(str(reply.content))

    def stream(self, question: str, passages: Sequence[Passage]):
        """Yields the model's text as it comes; returns the Composition at the end."""
        pieces = []
        for chunk in self.model.stream(self.messages(question, passages)):
            text = str(chunk.content)
            if text:
                pieces.append(text)
                yield text
        return self._finish("".join(pieces))
