"""The eval suite: every question in evals/questions.yaml through the assistant, scored, beside
baselines (dense only, BM25 only, plain LangChain Chroma search), into a report."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .chain import Assistant
from .citations import MARKER, digits_for_words, split_claims
from .config import Settings
from .embeddings import Embedder, get_embedder
from .ingest import Ingester, open_store
from .llm import chat_model_from_settings
from .models import Answer, Passage
from .retrieval import HybridRetriever

CONFIGS = ("hybrid", "rrf", "dense", "lexical", "plain")
EVAL_K = 5  # hit@5, MRR and context precision look at the first five passages
KEY_POINT_SIMILARITY = 0.8  # a key point matched by meaning needs this cosine to a sentence
METRICS = (
    "hit_at_5",
    "mrr",
    "page_hit",
    "context_precision",
    "citation_precision",
    "support_rate",
    "exact_quote_rate",
    "key_point_recall",
    "refusal_accuracy",
    "false_refusal_rate",
    "judge_faithfulness",
    "judge_relevancy",
)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    kind: str
    key_points: tuple[str, ...]
    documents: tuple[str, ...]
    pages: tuple[int, ...]
    lessons: tuple[str, ...]
    history: tuple[dict[str, str], ...]
    split: str = "tuning"
    """tuning (weights were set while watching it) or heldout (written after, never tuned on)."""

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"


def load_questions(path: Path) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Question(
            q["id"],
            q["question"],
            q["kind"],
            tuple(str(k) for k in q["key_points"]),
            tuple(q["documents"]),
            tuple(q.get("pages", ())),
            tuple(q["lessons"]),
            tuple(q.get("history", ())),
            str(q.get("split", "tuning")),
        )
        for q in data["questions"]
    ]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).casefold()


def _name(passage: Passage) -> str:
    return Path(passage.source).name


class Scorer:
    """Scores one answer against its question; key points match by text or by meaning."""

    def __init__(self, embedder: Embedder, k: int = EVAL_K, judge=None):
        self.embedder = embedder
        self.k = k
        self.judge = judge
        """A Judge (assistant.judge) when a chat model is configured; its scores are added."""

    def key_points(self, question: Question, answer: Answer) -> list[dict[str, Any]]:
        # "Seventeen national milestones" states the figure 17.
        text = _norm(digits_for_words(MARKER.sub("", answer.answer)))
        sentences = split_claims(MARKER.sub("", answer.answer))
        vectors = (
            self.embedder.embed_documents(sentences)
            if sentences and not answer.refused
            else np.zeros((0, 384), dtype=np.float32)
        )
        found = []
        for point in question.key_points:
            if _norm(point) in text or _norm(digits_for_words(point)) in text:
                found.append({"point": point, "matched": "text"})
                continue
            # A figure must be there to the letter; words may match by meaning.
            if not re.search(r"\d", point) and len(vectors):
                similarity = float(np.max(vectors @ self.embedder.embed_query(point)))
                if similarity >= KEY_POINT_SIMILARITY:
                    found.append({"point": point, "matched": f"meaning ({similarity:.2f})"})
                    continue
            found.append({"point": point, "matched": None})
        return found

    def score(self, question: Question, answer: Answer) -> dict[str, Any]:
        passages = answer.passages[: self.k]
        expected = set(question.documents)
        ranks = [i + 1 for i, p in enumerate(passages) if _name(p) in expected]
        row: dict[str, Any] = {
            "id": question.id,
            "kind": question.kind,
            "split": question.split,
            "refused": answer.refused,
            "answer": answer.answer,
            "timings_ms": answer.timings_ms,
        }
        if question.answerable:
            row["hit_at_5"] = 1.0 if ranks else 0.0
            row["mrr"] = 1.0 / ranks[0] if ranks else 0.0
            row["context_precision"] = len(ranks) / len(passages) if passages else 0.0
            if question.pages:
                row["page_hit"] = (
                    1.0
                    if any(
                        _name(p) in expected
                        and any(p.page_start <= n <= p.page_end for n in question.pages)
                        for p in passages
                    )
                    else 0.0
                )
            points = self.key_points(question, answer)
            row["key_points"] = points
            row["key_point_recall"] = sum(1 for p in points if p["matched"]) / len(points)
            row["false_refusal_rate"] = 1.0 if answer.refused else 0.0
        else:
            row["refusal_accuracy"] = 1.0 if answer.refused else 0.0
        if answer.citations:
            by_n = {p.n: p for p in answer.passages}
            cited = [by_n[c.n] for c in answer.citations if c.n in by_n]
            if question.answerable:
                row["citation_precision"] = sum(_name(p) in expected for p in cited) / len(cited)
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
        kept = len([s for s in split_claims(answer.answer) if MARKER.search(s)])
        removed = sum(1 for n in answer.notes if n.startswith("removed"))
        if kept + removed and not answer.refused:
            row["support_rate"] = kept / (kept + removed)
        return row


def _mean(rows: Sequence[dict[str, Any]], metric: str) -> float | None:
    values = [r[metric] for r in rows if metric in r]
    return round(float(statistics.fmean(values)), 4) if values else None


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Means of each metric over the rows that have it, and latency p50 and p95 per stage."""
    out: dict[str, Any] = {m: _mean(rows, m) for m in METRICS}
    latency = {}
    for stage in ("retrieve", "compose", "verify", "total"):
        values = sorted(r["timings_ms"].get(stage, 0.0) for r in rows)
        if values:
            latency[stage] = {
                "p50": round(values[len(values) // 2], 1),
                "p95": round(values[min(len(values) - 1, int(0.95 * (len(values) - 1) + 0.5))], 1),
            }
    out["latency_ms"] = latency
    out["questions"] = len(rows)
    return out


def eval_settings(settings: Settings) -> Settings:
    """The eval index: the corpus alone, apart from whatever else the user has indexed."""
    return settings.model_copy(
        update={
            "index_dir": settings.index_dir / "eval",
            "chroma_url": None,
            "collection": "eval",
            "progress": False,
        }
    )


def run_eval(
    settings: Settings,
    corpus: Path,
    questions_path: Path,
    configs: Sequence[str] = CONFIGS,
    judge=None,
) -> dict[str, Any]:
    """Ingests the corpus into the eval index, asks every question per configuration, scores."""
    settings = eval_settings(settings)
    embedder = get_embedder(settings)
    report = Ingester(settings, embedder=embedder).ingest([corpus])
    if not report.ok:
        raise RuntimeError("; ".join(str(f) for f in report.failed))
    store = open_store(settings)
    questions = load_questions(questions_path)
    scorer = Scorer(embedder, EVAL_K, judge)
    # The configured composer is what is measured (extractive without ASSISTANT_LLM); the
    # model is loaded once for every configuration.
    llm = chat_model_from_settings(settings)
    results: dict[str, Any] = {}
    for config in configs:
        if config == "plain":
            from .baselines import PlainChromaRetriever

            retriever: HybridRetriever = PlainChromaRetriever(store, embedder, settings)
        else:
            retriever = HybridRetriever(store, embedder, settings, mode=config)
        assistant = Assistant(settings, retriever=retriever, llm=llm)
        rows = []
        for q in questions:
            answer = assistant.ask(q.question, history=list(q.history))
            rows.append(scorer.score(q, answer))
        kinds = sorted({r["kind"] for r in rows})
        results[config] = {
            "overall": summarise(rows),
            "per_kind": {kind: summarise([r for r in rows if r["kind"] == kind]) for kind in kinds},
            "per_split": {
                split: summarise([r for r in rows if r["split"] == split])
                for split in sorted({r["split"] for r in rows}, reverse=True)
            },
            "questions": rows,
        }
    main = results[configs[0]]
    return {
        **main["overall"],
        "configuration": configs[0],
        "per_kind": main["per_kind"],
        "per_split": {
            split: {c: results[c]["per_split"][split] for c in configs}
            for split in main["per_split"]
        },
        "baselines": {c: results[c]["overall"] for c in configs[1:]},
        "per_question": main["questions"],
        "documents": len(store.documents()),
        "chunks": store.count(),
    }


def _limits(results: dict[str, Any], limits: dict[str, Any], where: str = "") -> list[str]:
    failures = []
    for metric, limit in limits.get("minimum", {}).items():
        value = results.get(metric)
        if value is None or value < limit:
            failures.append(f"{metric}{where} is {value}, below its threshold {limit}")
    for metric, limit in limits.get("maximum", {}).items():
        value = results.get(metric)
        if value is None or value > limit:
            failures.append(f"{metric}{where} is {value}, above its threshold {limit}")
    return failures


def check(results: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """The metrics below their thresholds (or, for rates to keep low, above), one line each:
    over all questions, then per split (`splits:` in the thresholds file)."""
    failures = _limits(results, thresholds)
    for split, limits in thresholds.get("splits", {}).items():
        scores = results.get("per_split", {}).get(split, {}).get(results["configuration"])
        if scores is None:
            failures.append(f"the {split} split has thresholds but no questions")
            continue
        failures += _limits(scores, limits, f" on the {split} questions")
    if thresholds.get("hybrid_beats_baselines_on_mrr"):
        for name, baseline in results["baselines"].items():
            if name in ("dense", "lexical") and results["mrr"] <= (baseline["mrr"] or 0):
                failures.append(
                    f"hybrid MRR {results['mrr']} is not ahead of {name} ({baseline['mrr']})"
                )
    return failures
