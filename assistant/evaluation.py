"""The eval suite: each set's questions through the assistant and its baselines, scored.

Configurations: `assistant` (hybrid retrieval, as shipped), `dense` and `lexical` (one kind of
search alone, the same composer), `rrf` (hybrid fused by reciprocal rank) and `plain` (a plain
LangChain pipeline: Chroma similarity search, its top chunks as the answer; it cannot refuse).
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chain import Assistant
from .citations import MARKER, citation_of, digits_for_words, split_claims
from .config import Settings
from .embeddings import Embedder, get_embedder
from .evalsets import EvalSet, Question, sample, words
from .ingest import Ingester, open_store
from .lexical import stopwords
from .llm import chat_model_from_settings
from .models import Answer, Passage
from .readability import read
from .retrieval import HybridRetriever
from .selector import AnswerSelector

CONFIGS = ("assistant", "dense", "lexical", "rrf", "plain")
PLAIN_K = 4  # LangChain's retriever default: the plain pipeline answers with its top 4 chunks
EVAL_K = 5  # hit@5 and MRR look at the first five passages
KEY_POINT_SIMILARITY = 0.8  # a key point matched by meaning needs this cosine to a sentence
EVIDENCE_COVERAGE = 0.75  # share of the gold sentence's words one quote must hold
METRICS = (
    "answered_correctly",
    "evidence_quoted",
    "refusal_accuracy",
    "false_refusal_rate",
    "citation_precision",
    "key_point_recall",
    "answer_recall",
    "hit_at_5",
    "mrr",
    "page_hit",
    "answer_words",
    "support_rate",
    "exact_quote_rate",
    "dangling_claims",
    "fragment_claims",
    "joins_documents",
    "judge_faithfulness",
    "judge_relevancy",
)
LOWER_IS_BETTER = {
    "false_refusal_rate",
    "answer_words",
    "dangling_claims",
    "fragment_claims",
    "joins_documents",
}


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# hyphens and dashes of every kind, and the minus sign, are one hyphen: "2022\u201326" is "2022-26"
_DASH = re.compile(r"[\u2010-\u2015\u2212]")
# a thousands separator is not part of a figure: "1,250" is "1250" (and "1,250,000" "1250000")
_THOUSANDS = re.compile(r"(?<!\d)(?<!\d,)(\d{1,3})((?:,\d{3})+)(?!\d)(?!,\d)")
_PER_CENT = re.compile(r"(\d)\s*(?:%|per\s*cent\b|percent\b)", re.I)
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# "thirty-five" is 35, not "30-5" (digits_for_words writes each word apart, and "5" would then
# stand in it as a whole figure)
_COMPOUND = re.compile(rf"\b({'|'.join(_TENS)})[-\u2010\u2011 ]({'|'.join(_UNITS)})\b", re.I)


def _norm(text: str) -> str:
    """Text as answer terms are looked for in it: any case, any quote mark or dash, and a
    figure in any of its usual forms ("1,250" is "1250", "40 per cent" is "40%")."""
    text = _DASH.sub("-", text.translate(_QUOTES))
    text = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), text)
    text = _PER_CENT.sub(r"\1%", text)
    return re.sub(r"\s+", " ", text).casefold()


def figures_for_words(text: str) -> str:
    """The text with its figures in words written as digits: "seventeen" is 17 and
    "thirty-five" 35 (not "30-5")."""
    text = _COMPOUND.sub(
        lambda m: str(_TENS[m.group(1).lower()] + _UNITS.index(m.group(2).lower()) + 1), text
    )
    return digits_for_words(text)


def holds_term(text: str, term: str) -> bool:
    """Whether a text holds an answer term, in any case, as the eval finds it (see _holds):
    the selector's training labels a sentence an answer by the same test."""
    return _holds(_norm(text), _norm(term))


def _holds(text: str, term: str) -> bool:
    """Whether the text holds the term as words and whole figures: "17" is not in "2017",
    "40%" not in "140%", "ten" (10) not in "2010", "3" not in "3.5"."""
    if not term:
        return False
    pattern = rf"(?<!\w){re.escape(term)}"
    if term[0].isdigit():
        pattern = r"(?<!\d[.,])" + pattern
    # a figure may run into its unit ("1.2bn", "17th") or a footnote's call after its stop
    # ("September 2025.116"), not into more of itself ("3.5", "1,200"); a word not into a
    # longer word, but into a footnote's call ("\u00a310.5 billion18")
    if not term[-1].isdigit():
        pattern += r"(?![^\W\d])"
    elif re.search(r"(?<!\d)(19|20)\d\d$", term):  # a year has no decimals: "2027.61" is a call
        pattern += r"(?!\d)(?!,\d)"
    else:
        pattern += r"(?!\d)(?!,\d)(?!\.\d{1,2}(?!\d))"
    return re.search(pattern, text) is not None


def _name(passage: Passage) -> str:
    return Path(passage.source).name


def evidence_coverage(evidence: str, quote: str) -> float:
    """The share of the evidence sentence's words that the quote holds (as a multiset)."""
    wanted = Counter(words(evidence))
    if not wanted:
        return 0.0
    held = Counter(words(quote))
    return sum(min(n, held[w]) for w, n in wanted.items()) / sum(wanted.values())


def quoted_runs(citations, by_n: dict[int, Passage], expected: set[str]) -> list[str]:
    """The quotes of the answer from an expected document, each with the quotes that run on
    from it in its passage joined to it: a sentence the reading split in two ("... began on
    1st" / "October and was completed ...") and that the answer quotes whole, in two claims,
    is quoted whole. Quotes with other text between them in the passage stay apart."""
    spans: dict[int, set[tuple[int, int]]] = {}
    runs = []
    for c in citations:
        passage = by_n.get(c.n)
        if passage is None or _name(passage) not in expected or not c.quote:
            continue
        start = passage.text.find(c.quote)
        if start < 0:
            runs.append(c.quote)
        else:
            spans.setdefault(c.n, set()).add((start, start + len(c.quote)))
    for n, found in spans.items():
        text = by_n[n].text
        ordered = sorted(found)
        start, end = ordered[0]
        for a, b in ordered[1:]:
            if a <= end or not text[end:a].strip():
                end = max(end, b)
                continue
            runs.append(text[start:end])
            start, end = a, b
        runs.append(text[start:end])
    return runs


class Scorer:
    """Scores one answer against its question."""

    def __init__(self, embedder: Embedder, k: int = EVAL_K, judge=None):
        self.embedder = embedder
        self.k = k
        self.judge = judge
        """A Judge (assistant.judge) when a chat model is configured; its scores are added."""

    def key_points(self, question: Question, answer: Answer) -> list[dict[str, Any]]:
        """Each answer term: found by text (any of its alternatives; "seventeen" states 17), or
        for words, by meaning at cosine 0.8 to a sentence of the answer."""
        text = _norm(figures_for_words(MARKER.sub("", answer.answer)))
        sentences = split_claims(MARKER.sub("", answer.answer))
        vectors = (
            self.embedder.embed_documents(sentences)
            if sentences and not answer.refused
            else np.zeros((0, self.embedder.dimension), dtype=np.float32)
        )
        found = []
        for alternatives in question.answer_terms:
            point = alternatives[0]
            if answer.refused:
                # a refusal states no answer: the words it says ("They do not mention ...",
                # the nearest passage's title) are not the answer's terms
                found.append({"point": point, "matched": None})
                continue
            if any(
                _holds(text, _norm(a)) or _holds(text, _norm(figures_for_words(a)))
                for a in alternatives
            ):
                found.append({"point": point, "matched": "text"})
                continue
            if not re.search(r"\d", point) and len(vectors):
                similarity = float(np.max(vectors @ self.embedder.embed_query(point)))
                if similarity >= KEY_POINT_SIMILARITY:
                    found.append({"point": point, "matched": f"meaning ({similarity:.2f})"})
                    continue
            found.append({"point": point, "matched": None})
        return found

    def score(self, question: Question, answer: Answer) -> dict[str, Any]:
        # Retrieval is scored in the order the search found the passages, not the order the
        # answer numbers them (cited first).
        found = (
            sorted(answer.passages, key=lambda p: p.rank)
            if all(p.rank for p in answer.passages)
            else answer.passages
        )
        passages = found[: self.k]
        expected = set(question.documents)
        by_n = {p.n: p for p in answer.passages}
        # the passage each citation cites: citation precision is the share of citations whose
        # passage is from an expected document (a passage cited by three claims counts three
        # times; plain cites each of its passages once)
        cited = [by_n[c.n] for c in answer.citations if c.n in by_n]
        row: dict[str, Any] = {
            "id": question.id,
            "kind": question.kind,
            "split": question.split,
            "answerable": question.answerable,
            "refused": answer.refused,
            "confidence": answer.confidence,
            "judged": answer.judged,
            "answer": answer.answer,
            "timings_ms": answer.timings_ms,
        }
        if question.variant_of:
            # the report's pairs (asked with the asker's situation, and without) are
            # recomputed from these rows
            row["variant_of"] = question.variant_of
        if not answer.refused:
            row["answer_words"] = len(MARKER.sub("", answer.answer).split())
        if not question.answerable:
            row["refusal_accuracy"] = 1.0 if answer.refused else 0.0
            return self._quality(row, answer, by_n)
        ranks = [i + 1 for i, p in enumerate(passages) if _name(p) in expected]
        row["hit_at_5"] = 1.0 if ranks else 0.0
        row["mrr"] = 1.0 / ranks[0] if ranks else 0.0
        if question.pages:
            row["page_hit"] = float(
                any(
                    _name(p) in expected
                    and any(p.page_start <= n <= p.page_end for n in question.pages)
                    for p in passages
                )
            )
        row["false_refusal_rate"] = 1.0 if answer.refused else 0.0
        right_document = any(_name(p) in expected for p in cited)
        points = self.key_points(question, answer) if question.answer_terms else []
        if points:
            row["key_points"] = points
            row["key_point_recall"] = sum(1 for p in points if p["matched"]) / len(points)
        terms_found = all(p["matched"] == "text" for p in points)
        row["answered_correctly"] = float(not answer.refused and right_document and terms_found)
        if question.evidence:
            best = max(
                (
                    evidence_coverage(question.evidence, quote)
                    for quote in quoted_runs(answer.citations, by_n, expected)
                ),
                default=0.0,
            )
            row["evidence_quoted"] = float(not answer.refused and best >= EVIDENCE_COVERAGE)
        if question.expected_answer and not answer.refused:
            wanted = set(words(question.expected_answer)) - stopwords()
            said = set(words(MARKER.sub("", answer.answer)))
            row["answer_recall"] = len(wanted & said) / len(wanted) if wanted else 0.0
        elif question.expected_answer:
            row["answer_recall"] = 0.0
        if cited:
            row["citation_precision"] = sum(_name(p) in expected for p in cited) / len(cited)
        return self._quality(row, answer, by_n)

    def _quality(self, row: dict[str, Any], answer: Answer, by_n: dict[int, Passage]):
        if answer.citations:
            row["exact_quote_rate"] = sum(
                bool(c.quote) and c.quote in by_n[c.n].text for c in answer.citations if c.n in by_n
            ) / len(answer.citations)
        if self.judge is not None and not answer.refused:
            for metric, score in (
                ("judge_faithfulness", self.judge.faithfulness(answer)),
                ("judge_relevancy", self.judge.relevancy(answer)),
            ):
                if score is not None:
                    row[metric] = score
        if answer.citations and not answer.refused:
            reading = read(answer.answer, {c.n: c.doc_id for c in answer.citations})
            row["dangling_claims"] = reading.dangling
            row["fragment_claims"] = reading.fragments
            row["joins_documents"] = float(reading.joins > 0)
        kept = len([s for s in split_claims(answer.answer) if MARKER.search(s)])
        removed = sum(1 for n in answer.notes if n.startswith("removed"))
        if kept + removed and not answer.refused:
            row["support_rate"] = kept / (kept + removed)
        return row


class PlainPipeline:
    """A plain LangChain pipeline as a newcomer builds one: Chroma similarity search over the
    same collection and model, and its top k chunks as the answer, each cited whole. It has
    no way to refuse and no follow-up handling."""

    name = "plain"

    def __init__(self, store, embedder: Embedder, settings: Settings, k: int = PLAIN_K):
        from .baselines import PlainChromaRetriever

        self.retriever = PlainChromaRetriever(store, embedder, settings)
        self.k = k

    def ask(self, question: str, history=None, filters=None) -> Answer:
        started = time.perf_counter()
        # The search is asked for as many passages as retrieval is scored on (hit@5, MRR, page
        # hit@5 look at the first EVAL_K); the answer is its top k of them.
        found = self.retriever.retrieve(question, k=max(self.k, EVAL_K), filters=filters)
        passages = found[: self.k]
        text = " ".join(f"{p.text} [{p.n}]" for p in passages)
        citations = [citation_of(p, p.text, True) for p in passages]
        timings = {"total": (time.perf_counter() - started) * 1000}
        return Answer(question, question, text, False, citations, found, self.name, timings)


def _mean(rows: Sequence[dict[str, Any]], metric: str) -> float | None:
    values = [r[metric] for r in rows if metric in r]
    return round(float(statistics.fmean(values)), 4) if values else None


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Means of each metric over the rows that have it, and latency p50 and p95 per stage."""
    out: dict[str, Any] = {m: _mean(rows, m) for m in METRICS}
    latency = {}
    for stage in ("retrieve", "compose", "verify", "total"):
        values = sorted(r["timings_ms"][stage] for r in rows if stage in r["timings_ms"])
        if values:
            latency[stage] = {
                "p50": round(values[len(values) // 2], 1),
                "p95": round(values[min(len(values) - 1, int(0.95 * (len(values) - 1) + 0.5))], 1),
            }
    out["latency_ms"] = latency
    out["questions"] = len(rows)
    out["answerable"] = sum(1 for r in rows if r["answerable"])
    return out


def context_pairs(rows: Sequence[dict[str, Any]], questions: Sequence[Question]) -> dict:
    """Questions that open with the asker's situation against the same questions without it:
    the share right (answered correctly, or refused when they cannot be answered) of each."""
    by_id = {r["id"]: r for r in rows}

    def right(row: dict[str, Any]) -> float:
        if row["answerable"]:
            return row.get("answered_correctly", 0.0)
        return row.get("refusal_accuracy", 0.0)

    pairs = [
        (by_id[q.id], by_id[q.variant_of])
        for q in questions
        if q.variant_of and q.id in by_id and q.variant_of in by_id
    ]
    if not pairs:
        return {}
    return {
        "pairs": len(pairs),
        "with_context": round(statistics.fmean(right(a) for a, _ in pairs), 4),
        "without_context": round(statistics.fmean(right(b) for _, b in pairs), 4),
    }


@dataclass(frozen=True)
class RunOptions:
    """What one eval run asks: which configurations, which split, a quick sample or all."""

    configs: tuple[str, ...] | None = None
    split: str | None = None
    quick: bool = False
    selector_for: Callable[[Question], AnswerSelector | None] | None = None
    """The selector that answers a question (None from it: the shipped one), for the
    assistant's configurations; fitting careful mode asks with cross-fitted ones."""


def eval_settings(settings: Settings, corpus: Path) -> Settings:
    """An index of the corpus alone, apart from whatever else the user has indexed; sets over
    the same corpus share it."""
    key = re.sub(r"[^A-Za-z0-9]+", "-", str(corpus.resolve())).strip("-")[-80:]
    return settings.model_copy(
        update={
            "index_dir": settings.index_dir / "eval" / key,
            "chroma_url": None,
            "collection": "eval",
            "progress": False,
        }
    )


def run_set(
    settings: Settings, eval_set: EvalSet, options: RunOptions | None = None, judge=None
) -> dict[str, Any]:
    """Ingests the set's corpus into its own index and asks its questions per configuration."""
    options = options or RunOptions()
    settings = eval_settings(settings, eval_set.corpus)
    embedder = get_embedder(settings)
    report = Ingester(settings, embedder=embedder).ingest([eval_set.corpus])
    if report.failed:
        raise RuntimeError("; ".join(str(f) for f in report.failed))
    store = open_store(settings)
    questions = eval_set.questions
    if options.split:
        questions = [q for q in questions if q.split == options.split]
    if options.quick:
        questions = sample(questions, eval_set.quick)
    questions = _with_what_they_lean_on(questions, eval_set.questions)
    scorer = Scorer(embedder, EVAL_K, judge)
    llm = chat_model_from_settings(settings)  # the composer measured: extractive without one
    configs = options.configs or eval_set.configs
    results: dict[str, Any] = {}
    rows_by_config = {}
    for config in configs:
        if config == "plain":
            asker: Any = PlainPipeline(store, embedder, settings)
        else:
            mode = "hybrid" if config == "assistant" else config
            retriever = HybridRetriever(store, embedder, settings, mode=mode)
            asker = Assistant(settings, retriever=retriever, llm=llm)
        rows = []
        shipped = getattr(asker, "selector", None)
        for q in questions:
            if options.selector_for is not None and isinstance(asker, Assistant):
                asker.selector = options.selector_for(q) or shipped
            answer = asker.ask(q.question, history=list(q.history), filters=q.filters or None)
            rows.append(scorer.score(q, answer))
        rows_by_config[config] = rows
        results[config] = {
            "overall": summarise(rows),
            "per_split": {
                split: summarise([r for r in rows if r["split"] == split])
                for split in sorted({r["split"] for r in rows}, reverse=True)
            },
            "per_kind": {
                kind: summarise([r for r in rows if r["kind"] == kind])
                for kind in sorted({r["kind"] for r in rows})
            },
            "context_pairs": context_pairs(rows, questions),
        }
    return {
        "set": eval_set.name,
        "documents": len(store.documents()),
        "chunks": store.count(),
        "questions": len(questions),
        "configs": results,
        "per_question": rows_by_config[configs[0]],
    }


def threshold_sweep(
    rows: Sequence[dict[str, Any]], step: float = 0.05, also: Sequence[float] = ()
) -> list[dict[str, float]]:
    """What the refusal threshold trades, from rows asked with no threshold at all (every
    question answered, each with its P(the evidence answers)): at each threshold, the share of
    answerable questions answered correctly, refused wrongly, and of unanswerable ones refused."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]

    def share(chosen, keep) -> float:
        return round(sum(1 for r in chosen if keep(r)) / len(chosen), 3) if chosen else 0.0

    out = []
    grid = {float(t) for t in np.round(np.arange(0.0, 1.0 + 1e-9, step), 2)} | set(also)
    for t in sorted(grid):
        # a question refused with no threshold at all (nothing composed or kept) is refused
        # at every threshold, whatever its P
        answers = lambda r, t=t: not r.get("refused") and (r.get("confidence") or 0.0) >= t  # noqa: E731
        out.append(
            {
                "threshold": float(t),
                "answered_correctly": share(
                    answerable, lambda r, a=answers: a(r) and r.get("answered_correctly") == 1.0
                ),
                "false_refusals": share(answerable, lambda r, a=answers: not a(r)),
                "unanswerable_refused": share(unanswerable, lambda r, a=answers: not a(r)),
            }
        )
    return out


def _with_what_they_lean_on(chosen: list[Question], every: list[Question]) -> list[Question]:
    """A sample keeps the plain twin of each question asked with a context."""
    ids = {q.id for q in chosen} | {q.variant_of for q in chosen if q.variant_of}
    return [q for q in every if q.id in ids]


def _limits(scores: dict[str, Any], limits: dict[str, Any], where: str) -> list[str]:
    failures = []
    for metric, limit in (limits.get("minimum") or {}).items():
        value = scores.get(metric)
        if value is None or value < limit:
            failures.append(f"{where}: {metric} is {value}, below its threshold {limit}")
    for metric, limit in (limits.get("maximum") or {}).items():
        value = scores.get(metric)
        if value is None or value > limit:
            failures.append(f"{where}: {metric} is {value}, above its threshold {limit}")
    return failures


def check(results: dict[str, dict[str, Any]], thresholds: dict[str, Any]) -> list[str]:
    """The metrics below their minimum or above their maximum, one line each: per set, per
    configuration, over all its questions and per split; and each `ahead` rule (the assistant
    ahead of a baseline on a metric)."""
    failures = []
    for name, limits in (thresholds.get("sets") or {}).items():
        result = results.get(name)
        if result is None:
            continue  # a set this run did not ask
        for config, config_limits in (limits.get("configs") or {}).items():
            scores = result["configs"].get(config)
            if scores is None:
                continue
            failures += _limits(scores["overall"], config_limits, f"{name}/{config}")
            for split, split_limits in (config_limits.get("splits") or {}).items():
                if split not in scores["per_split"]:
                    failures.append(f"{name}/{config}: the {split} split has no questions")
                    continue
                failures += _limits(
                    scores["per_split"][split], split_limits, f"{name}/{config} ({split})"
                )
        for rule in limits.get("ahead") or ():
            metric, baseline = rule["metric"], rule["of"]
            configs = result["configs"]
            if "assistant" not in configs or baseline not in configs:
                continue  # the run did not ask both
            ours = configs["assistant"]["overall"].get(metric)
            theirs = configs[baseline]["overall"].get(metric)
            if ours is None or theirs is None:
                failures.append(f"{name}: {metric} is missing, so assistant cannot be ahead")
                continue
            better = ours < theirs if metric in LOWER_IS_BETTER else ours > theirs
            if not better:
                failures.append(
                    f"{name}: assistant {metric} {ours} is not ahead of {baseline} {theirs}"
                )
    return failures
