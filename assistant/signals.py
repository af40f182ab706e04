"""General signals of whether a sentence answers a question: each a small function that holds
for any corpus. The answer selector (selector.py) learns how to weigh them from labelled
questions; nothing here names a word of any corpus.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from .citations import numbers_in
from .lexical import LexicalIndex, index_terms, tokenize
from .models import Passage
from .questions import ASKING, Analysis, entity_pipe, stop_words

LIST_MARK = re.compile(r"^([\u2022*-]|\d{1,2}[.)]?)\s+")
# Page furniture that reads like a sentence: a footnote ("285 Independent report on ..."), a
# contents line ending in its page number, a bibliographic reference ("(2008)", an address).
_FOOTNOTE = re.compile(r"^\d{1,3}\s+[A-Z]")
_CONTENTS = re.compile(r"[A-Za-z]\s+\d[\d.]*(\s+\d{1,3})?$")
_REFERENCE = re.compile(r"\((19|20)\d\d\)\.?$|https?://|www\.|\bpp?\.\s*\d")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Candidate:
    """A sentence (or list item, or table row) of a retrieved passage, with its vector."""

    passage: Passage
    sentence: str
    index: int
    """Its place among its passage's evidence sentences."""
    vector: np.ndarray


def candidates(
    passages: Sequence[Passage], sentences_of: Callable[[Passage], tuple[list[str], np.ndarray]]
) -> list[Candidate]:
    """Every evidence sentence of the passages, in passage order."""
    out = []
    for passage in passages:
        spans, vectors = sentences_of(passage)
        out += [
            Candidate(passage, s, i, v) for i, (s, v) in enumerate(zip(spans, vectors, strict=True))
        ]
    return out


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("\u2019", "'")))


def _stems(text: str) -> frozenset[str]:
    return frozenset(index_terms(tokenize(text)))


_ASKING_STEMS = frozenset(index_terms(sorted(ASKING)))


@cache
def function_stems() -> frozenset[str]:
    """English function words ("how", "does", "often", "who"), stemmed: a small corpus may
    hold none of them, which would make them its rarest words; a question's meaning is in its
    other words."""
    return frozenset(index_terms(sorted(stop_words()))) | _ASKING_STEMS


_ENTITIES: dict[str, tuple[tuple[str, str], ...]] = {}
_VECTORS: dict[str, np.ndarray] = {}


def sentence_vectors(sentences: Sequence[str], embed) -> np.ndarray:
    """Each sentence embedded on its own (cached: the same sentences come back often)."""
    if len(_VECTORS) > 50_000:
        _VECTORS.clear()  # before choosing what to embed: the batch is then all there after
    fresh = [s for s in dict.fromkeys(sentences) if s not in _VECTORS]
    if fresh:
        for sentence, vector in zip(fresh, embed(fresh), strict=True):
            _VECTORS[sentence] = vector
    if not sentences:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([_VECTORS[s] for s in sentences])


def entities_of(sentences: Sequence[str]) -> list[tuple[tuple[str, str], ...]]:
    """The named entities (text, label) of each sentence. Sentences come back often (a
    passage is retrieved for many questions), so each is read once, and new ones in a batch."""
    if len(_ENTITIES) > 50_000:
        _ENTITIES.clear()
    fresh = [s for s in dict.fromkeys(sentences) if s not in _ENTITIES]
    if fresh:
        for sentence, doc in zip(fresh, entity_pipe()(fresh), strict=True):
            _ENTITIES[sentence] = tuple((e.text, e.label_) for e in doc.ents)
    return [_ENTITIES[s] for s in sentences]


def weighted_coverage(wanted: dict[str, float], have: frozenset[str]) -> float:
    """The share of the question's words, weighed by rarity, that a text holds."""
    total = sum(wanted.values())
    return sum(w for t, w in wanted.items() if t in have) / total if total else 0.0


def present(term: str, normal_text: str) -> bool:
    """Whether a name or figure the question asserts stands in a text: a figure as a whole
    word; a name by every one of its words (in any order, any words between: "the Future
    Generations Act" stands in "the Well-being of Future Generations (Wales) Act")."""
    words = [w for w in _normal(term).split() if w not in _ARTICLES]
    if not words:
        return False
    text = f" {normal_text} "
    return all(f" {w} " in text for w in words)


_ARTICLES = frozenset({"the", "a", "an", "of", "and", "s"})


FEATURES = (
    "sentence_cosine",
    "sentence_cosine_gap",
    "sentence_cosine_rank",
    "sentence_coverage",
    "sentence_coverage_gap",
    "neighbour_coverage",
    "new_words",
    "sentence_asserted",
    "answer_type_found",
    "has_figure",
    "wants_type",
    "wants_reason",
    "wants_manner",
    "wants_yes_no",
    "passage_dense",
    "passage_lexical",
    "passage_fused",
    "passage_rank",
    "passage_coverage",
    "passage_asserted",
    "anywhere_asserted",
    "asserted_count",
    "question_words",
    "unknown_words",
    "sentence_words",
    "is_row_or_item",
    "position",
    "footnote_like",
    "contents_like",
    "reference_like",
    "alone_cosine",
    "alone_cosine_gap",
    "relation_coverage",
    "names_coverage",
)


SHORTLIST = 40  # sentences weighed in full (named entities read) per question
ALONE = 12  # of those, the most promising are also embedded on their own, out of context


def feature_matrix(
    analysis: Analysis,
    query: str,
    query_vector: np.ndarray,
    found: Sequence[Candidate],
    lexical: LexicalIndex,
    shortlist: int = SHORTLIST,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> tuple[list[Candidate], np.ndarray]:
    """The candidates worth weighing and one row of FEATURES for each. `query` is what was
    searched for (the question proper, or a follow-up made standalone), `query_vector` its
    embedding. Every sentence is first scored on its meaning and words alone; the `shortlist`
    best go on to the signals that cost more (their named entities)."""
    if not found:
        return [], np.zeros((0, len(FEATURES)), dtype=np.float32)
    stems = (_stems(query) - function_stems()) or _stems(query)
    wanted = {s: lexical.idf(s) for s in stems}
    cosines = np.array([float(c.vector @ query_vector) for c in found], dtype=np.float32)
    coverage = np.array([weighted_coverage(wanted, _stems(c.sentence)) for c in found])
    neighbours = [
        max(
            (
                coverage[j]
                for j in (i - 1, i + 1)
                if 0 <= j < len(found) and found[j].passage.chunk_id == c.passage.chunk_id
            ),
            default=0.0,
        )
        for i, c in enumerate(found)
    ]
    best_passage = max(c.passage.score for c in found) or 1.0
    fused = np.array([c.passage.score / best_passage for c in found])
    first = 0.5 * cosines + 0.3 * coverage + 0.2 * fused
    promising = np.argsort(-first, kind="stable")
    keep = sorted(promising[:shortlist].tolist())
    # A sentence's vector pooled in its chunk carries the chunk's context; on its own it says
    # only what it says. Both are signals; the second costs a pass, so only for the best few.
    alone = np.full(len(found), np.nan, dtype=np.float32)
    if embed is not None:
        best = promising[:ALONE].tolist()
        vectors = sentence_vectors([found[i].sentence for i in best], embed)
        alone[best] = vectors @ query_vector
    chosen = [found[i] for i in keep]
    cosines, coverage, alone = cosines[keep], coverage[keep], alone[keep]
    # A sentence not embedded on its own takes its cosine in context, so that the signal
    # means the same for every row.
    alone = np.where(np.isnan(alone), cosines, alone)
    neighbours = [neighbours[i] for i in keep]
    asserted = analysis.asserted
    passages = list({c.passage.chunk_id: c.passage for c in found}.values())
    passage_text = {p.chunk_id: _normal(f"{p.title} {p.section} {p.text}") for p in passages}
    passage_stems = {p.chunk_id: _stems(f"{p.title} {p.section} {p.text}") for p in passages}
    anywhere = " ".join(passage_text.values())
    best_lexical = max((p.lexical_score or 0.0) for p in passages) or 1.0

    def share(text: str) -> float:
        return sum(present(t, text) for t in asserted) / len(asserted) if asserted else 1.0

    order = np.argsort(-cosines, kind="stable")
    ranks = np.empty(len(chosen), dtype=np.float32)
    ranks[order] = np.arange(len(chosen))
    question_words = set(_WORD.findall(query.lower()))
    question_normal = _normal(query)
    found_entities = entities_of([c.sentence for c in chosen])
    anywhere_share = share(anywhere)
    # What the question asks of the things it names: its words outside the names ("chairs",
    # "meet", "how often"), which an answer repeats or answers; and the names' own words.
    named = _stems(" ".join(analysis.asserted))
    relation = stems - named - _ASKING_STEMS
    sentence_stems = [_stems(c.sentence) for c in chosen]
    # The question's words that no chunk of the whole index holds, weighed by rarity.
    unknown = weighted_coverage(
        wanted, frozenset(t for t in stems if not lexical.frequencies.get(t))
    )
    rows = []
    for i, c in enumerate(chosen):
        p = c.passage
        own = set(_WORD.findall(c.sentence.lower()))
        labels = {
            label for text, label in found_entities[i] if _normal(text) not in question_normal
        }
        words = len(c.sentence.split())
        rows.append(
            [
                cosines[i],
                cosines[i] - cosines[order[0]],
                ranks[i] / max(1, len(chosen) - 1),
                coverage[i],
                coverage[i] - coverage.max(),
                neighbours[i],
                min(1.0, len(own - question_words) / 8),
                share(_normal(c.sentence)),
                float(bool(analysis.answer_types & labels)),
                float(bool(numbers_in(c.sentence) - analysis.figures)),
                float(bool(analysis.answer_types)),
                float(analysis.wh == "why"),
                float(analysis.wh == "how"),
                float(analysis.wh == "yes-no"),
                p.dense_score or 0.0,
                (p.lexical_score or 0.0) / best_lexical,
                p.score,
                (p.n - 1) / 10,
                weighted_coverage(wanted, passage_stems[p.chunk_id]),
                share(passage_text[p.chunk_id]),
                anywhere_share,
                min(1.0, len(asserted) / 4),
                min(1.0, len(stems) / 12),
                unknown,
                math.log1p(words) / 5,
                float(" | " in c.sentence or bool(LIST_MARK.match(c.sentence))),
                c.index / 20,
                float(bool(_FOOTNOTE.match(c.sentence))),
                float(bool(_CONTENTS.search(c.sentence))),
                float(bool(_REFERENCE.search(c.sentence))),
                alone[i],
                alone[i] - alone.max(),
                len(relation & sentence_stems[i]) / len(relation) if relation else 1.0,
                len(named & sentence_stems[i]) / len(named) if named else 1.0,
            ]
        )
    return chosen, np.asarray(rows, dtype=np.float32)


QUESTION_FEATURES = (
    "best",
    "second",
    "gap",
    "top_three",
    "best_cosine",
    "best_coverage",
    "anywhere_asserted",
    "asserted_count",
    "wants_type",
    "type_found_in_best",
    "best_passage_coverage",
    "best_passage_asserted",
    "unknown_words",
    "best_alone_cosine",
)


def fill_alone(matrix: np.ndarray) -> np.ndarray:
    """The rows of an older feature matrix whose sentence was not embedded on its own given
    its cosine in context, as feature_matrix now does (no-op on a new matrix)."""
    alone, gap, cosine = (
        FEATURES.index(n) for n in ("alone_cosine", "alone_cosine_gap", "sentence_cosine")
    )
    if not len(matrix) or not np.isnan(matrix[:, alone]).any():
        return matrix
    matrix = matrix.copy()
    missing = np.isnan(matrix[:, alone])
    matrix[missing, alone] = matrix[missing, cosine]
    matrix[:, gap] = matrix[:, alone] - matrix[:, alone].max()
    return matrix


def question_features(probabilities: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """What the whole evidence says: the best sentences' probabilities and a few aggregates."""
    if not len(probabilities):
        return np.zeros(len(QUESTION_FEATURES), dtype=np.float32)
    order = np.argsort(-probabilities, kind="stable")
    best = matrix[order[0]]
    column = {name: FEATURES.index(name) for name in FEATURES}
    second = probabilities[order[1]] if len(order) > 1 else 0.0
    return np.asarray(
        [
            probabilities[order[0]],
            second,
            probabilities[order[0]] - second,
            float(np.mean(probabilities[order[:3]])),
            float(matrix[:, column["sentence_cosine"]].max()),
            float(matrix[:, column["sentence_coverage"]].max()),
            best[column["anywhere_asserted"]],
            best[column["asserted_count"]],
            best[column["wants_type"]],
            best[column["answer_type_found"]],
            float(matrix[:, column["passage_coverage"]].max()),
            best[column["passage_asserted"]],
            best[column["unknown_words"]],
            float(matrix[:, column["alone_cosine"]].max()),
        ],
        dtype=np.float32,
    )
