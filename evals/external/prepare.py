"""Copies the external question sets into the project, in the form the eval suite reads.

    python evals/external/prepare.py ../shared/datasets

SQuAD 2.0 (the first half of its dev set) is split by article, once, with a fixed seed: the
training articles may be used to train or tune the answer selector, the test articles never.
The UKRI HR policy questions (tables in Markdown) become a question file over the UKRI HR
Policy Framework in evals/realdocs/documents/. MTRAG-UN's conversations over US government web
pages become a corpus (each page put back together from its reference passages) and the last
turn of each conversation a question, split once by page into tuning and test parts. Run it
again only to rebuild the same files.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import defaultdict
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


def _pages(tasks: list[dict]) -> dict[str, tuple[str, str]]:
    """Each web page of the tasks' reference passages, as (title, text). A passage's id is
    page-start-end and its text is the page's title line and then that span of the page, so
    the spans are laid back in order, an overlap taken once and a gap marked by a blank line."""
    spans: dict[str, dict[int, tuple[int, str, str]]] = defaultdict(dict)
    for task in tasks:
        for context in task["contexts"]:
            page, start, end = context["document_id"].rsplit("-", 2)
            title, _, body = context["text"].lstrip("\n").partition("\n")
            spans[page][int(start)] = (int(end), title.strip(), body)
    pages = {}
    for page, by_start in spans.items():
        text, reached, title = "", -1, ""
        for start in sorted(by_start):
            end, title, body = by_start[start]
            if reached < 0 or start >= reached:
                text += ("\n\n" if text else "") + body
            elif end > reached:
                text += body[len(body) - (end - reached) :]
            reached = max(reached, end)
        pages[page] = (title, text.strip())
    return pages


def _split_by_page(tasks: list[dict], test_share: float) -> set[str]:
    """The conversations of the test part: pages are shared between conversations, so they
    are grouped until no page is in two groups, and whole groups drawn with a fixed seed."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for task in tasks:
        ids = [f"c:{task['conversation_id']}"]
        ids += [f"p:{c['document_id'].rsplit('-', 2)[0]}" for c in task["contexts"]]
        for other in ids[1:]:
            parent[root(other)] = root(ids[0])
    groups: dict[str, list[str]] = defaultdict(list)
    for task in tasks:
        groups[root(f"c:{task['conversation_id']}")].append(task["conversation_id"])
    order = sorted(groups)
    random.Random(SEED).shuffle(order)
    test: set[str] = set()
    for group in order:
        if len(test) >= test_share * len(tasks):
            break
        test.update(groups[group])
    return test


def mtrag(source: Path) -> None:
    rows = [json.loads(line) for line in (source / "mtrag-un" / "reference.jsonl").open()]
    # A question too vague to answer wants a question back, which the assistant does not ask.
    tasks = [
        r for r in rows if r["Collection"] == "govt" and r["answerability"][0] != "UNDERSPECIFIED"
    ]
    pages = _pages(tasks)
    test = _split_by_page(tasks, 0.5)
    out = HERE / "mtrag-govt"
    documents = out / "documents"
    documents.mkdir(parents=True, exist_ok=True)
    for old in documents.glob("*.txt"):
        old.unlink()
    for page, (title, text) in sorted(pages.items()):
        (documents / f"{page}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
    questions = []
    for task in sorted(tasks, key=lambda t: t["task_id"]):
        *earlier, last = task["input"]
        label = task["answerability"][0]
        roles = {"user": "user", "agent": "assistant"}
        pages_cited = {c["document_id"].rsplit("-", 2)[0] for c in task["contexts"]}
        history = [{"role": roles[t["speaker"]], "content": t["text"].strip()} for t in earlier]
        questions.append(
            {
                "id": f"mtrag-{task['conversation_id'][:12]}",
                "question": last["text"].strip(),
                "answerable": label != "UNANSWERABLE",
                "kind": "unanswerable" if label == "UNANSWERABLE" else label.lower(),
                "split": "test" if task["conversation_id"] in test else "tuning",
                "documents": sorted(f"{page}.txt" for page in pages_cited),
                "history": history,
                "expected_answer": task["targets"][0]["text"].strip(),
            }
        )
    header = (
        "# MTRAG-UN (IBM, Apache-2.0; see NOTICE.md): the last turn of each conversation over US\n"
        "# government web pages, with the turns before it, converted by prepare.py. The test part\n"
        "# shares no page with the tuning part.\n"
    )
    body = yaml.safe_dump({"questions": questions}, sort_keys=False, width=100, allow_unicode=True)
    (out / "questions.yaml").write_text(header + body, encoding="utf-8")
    parts = {s: sum(q["split"] == s for q in questions) for s in ("tuning", "test")}
    print(f"mtrag-govt: {len(pages)} pages, {len(questions)} questions {parts}")


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets")
    squad(root)
    ukri(root)
    mtrag(root)
