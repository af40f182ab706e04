"""Copies the external question sets into the project, in the form the eval suite reads.

    python evals/external/prepare.py ../shared/datasets

SQuAD 2.0 (the first half of its dev set) is split by article, once, with a fixed seed: the
training articles may be used to train or tune the answer selector, the test articles never.
The UKRI HR policy questions (tables in Markdown) become a question file over the UKRI HR
Policy Framework in evals/realdocs/documents/. Run it again only to rebuild the same files.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SEED = 2026
TEST_ARTICLES = 6


def squad(source: Path) -> None:
    data = json.loads((source / "squad2-dev-first-half" / "dev-v2.0.json").read_text())
    titles = sorted(a["title"] for a in data["data"])
    random.Random(SEED).shuffle(titles)
    test = set(titles[:TEST_ARTICLES])
    out = HERE / "squad2"
    out.mkdir(exist_ok=True)
    for part, keep in (("train", lambda t: t not in test), ("test", lambda t: t in test)):
        articles = [a for a in data["data"] if keep(a["title"])]
        (out / f"{part}.json").write_text(
            json.dumps({"version": data["version"], "data": articles}, ensure_ascii=False),
            encoding="utf-8",
        )
        questions = sum(len(p["qas"]) for a in articles for p in a["paragraphs"])
        print(f"squad2/{part}.json: {len(articles)} articles, {questions} questions")
    (out / "split.yaml").write_text(
        yaml.safe_dump({"seed": SEED, "test": sorted(test), "train": sorted(set(titles) - test)})
    )


_ROW = re.compile(r"^\|(?P<q>[^|]+)\|(?P<a>[^|]+)\|(?P<s>[^|]+)\|\s*$")


def ukri(source: Path) -> None:
    text = (source / "UKRI-HR-policy-questions.md").read_text(encoding="utf-8")
    seen: dict[str, dict] = {}
    group = ""
    for line in text.splitlines():
        if line.startswith("#"):
            group = line.lstrip("#").strip()
            continue
        match = _ROW.match(line)
        if not match or match["q"].strip() in ("Question", "") or set(match["q"].strip()) <= {"-"}:
            continue
        question = match["q"].strip()
        seen.setdefault(
            question.casefold(),
            {
                "id": f"ukri-ext-{len(seen) + 1:03d}",
                "question": question,
                "answerable": True,
                "kind": re.sub(r"^[\d.]+\s*", "", group).lower() or "question",
                "split": "tuning",
                "documents": ["UKRI-081020-HRPolicyFramework.pdf"],
                "expected_answer": match["a"].strip(),
                "section": match["s"].strip(),
            },
        )
    out = HERE / "ukri-hr"
    out.mkdir(exist_ok=True)
    header = (
        "# UKRI HR Policy Framework questions with expected answers, by mehdimahmoud\n"
        "# (llm-rag-chroma-demo, MIT licence; see NOTICE.md), converted by prepare.py.\n"
        "# Their document is in the tuning part of the real-document corpus.\n"
    )
    body = yaml.safe_dump({"questions": list(seen.values())}, sort_keys=False, width=100)
    (out / "questions.yaml").write_text(header + body, encoding="utf-8")
    print(f"ukri-hr/questions.yaml: {len(seen)} questions")


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets")
    squad(root)
    ukri(root)
