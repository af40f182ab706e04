"""Answer composers. The default is extractive and needs no LLM: every sentence it says is a
sentence of a retrieved passage, cited with [n]."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .citations import is_evidence, query_terms, split_sentences
from .embeddings import Embedder
from .models import Passage

MAX_WORDS = 150
_ABOUT_THE_DOCUMENT = re.compile(
    r"\b(this|the) (summary|document|paper) (covers|does not|is|deals|gives)\b"
    r"|own (account|summary)|^related summaries|^contents\b|summary in this corpus",
    re.I,
)
MAX_SENTENCES = 5


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


def _overlap(query: set[str], sentence: str) -> float:
    if not query:
        return 0.0
    return len(query & query_terms(sentence)) / len(query)


def _with_marker(sentence: str, n: int) -> str:
    """Puts [n] before the sentence's closing punctuation: `... involvement [1].`"""
    match = re.search(r"[.!?:;]+[\"'\u201d\u2019)]*$", sentence)
    if match:
        return f"{sentence[: match.start()]} [{n}]{sentence[match.start() :]}"
    return f"{sentence} [{n}]."


class ExtractiveComposer:
    """Picks the passage sentences that answer the question, best first, each cited."""

    name = "extractive"

    def __init__(self, embedder: Embedder, min_evidence: float):
        self.embedder = embedder
        self.min_evidence = min_evidence
        self._cache: dict[str, tuple[list[str], np.ndarray]] = {}

    def _sentences(self, passage: Passage) -> tuple[list[str], np.ndarray]:
        cached = self._cache.get(passage.chunk_id)
        if cached is None:
            spans = [s for s in split_sentences(passage.text) if is_evidence(s)]
            vectors = (
                self.embedder.embed_documents(spans)
                if spans
                else np.zeros((0, self.embedder.dimension), dtype=np.float32)
            )
            cached = (spans, vectors)
            if len(self._cache) > 5000:
                self._cache.clear()
            self._cache[passage.chunk_id] = cached
        return cached

    def candidates(self, question: str, passages: Sequence[Passage]) -> list[Candidate]:
        """Every evidence sentence of the passages, scored against the question."""
        query_vector = self.embedder.embed_query(question)
        terms = query_terms(question)
        out = []
        for passage in passages:
            spans, vectors = self._sentences(passage)
            for span, vector in zip(spans, vectors, strict=True):
                score = 0.65 * float(vector @ query_vector) + 0.35 * _overlap(terms, span)
                if _ABOUT_THE_DOCUMENT.search(span):
                    score -= 0.2  # says what the document is, not what it says
                out.append(Candidate(passage, span, score, vector))
        return sorted(out, key=lambda c: (-c.score, c.passage.n))

    def compose(self, question: str, passages: Sequence[Passage]) -> Composition:
        ranked = self.candidates(question, passages)
        if not ranked or ranked[0].score < self.min_evidence:
            best = ranked[0].score if ranked else 0.0
            return Composition("", True, best, self.name)
        lead = ranked[0]
        chosen = [lead]
        words = len(lead.sentence.split())
        floor = max(self.min_evidence, lead.score - 0.18)
        for candidate in ranked[1:]:
            if len(chosen) == MAX_SENTENCES or candidate.score < floor:
                break
            size = len(candidate.sentence.split())
            if words + size > MAX_WORDS:
                continue
            if any(
                float(candidate.vector @ c.vector) > 0.9 or candidate.sentence in c.sentence
                for c in chosen
            ):
                continue  # says again what is already said
            chosen.append(candidate)
            words += size
        # The lead first; the rest grouped by document, documents in order of their best sentence.
        rest = chosen[1:]
        order = list(dict.fromkeys([lead.passage.doc_id] + [c.passage.doc_id for c in rest]))
        rest.sort(key=lambda c: (order.index(c.passage.doc_id), -c.score))
        text = " ".join(_with_marker(c.sentence, c.passage.n) for c in [lead, *rest])
        return Composition(text, False, lead.score, self.name)
