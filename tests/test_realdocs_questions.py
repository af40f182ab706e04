"""The real-document questions hold to their protocol: enough of each sort, split by document,
paraphrased, and every evidence sentence standing on the page it names."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml

from assistant.evalsets import load_questions, load_sets, words
from assistant.evaluation import evidence_coverage
from assistant.lexical import stopwords

ROOT = Path(__file__).resolve().parents[1]
REALDOCS = ROOT / "evals" / "realdocs"
QUESTIONS = load_questions(REALDOCS / "questions")
SPLITS = {
    d["file"]: d["split"]
    for d in yaml.safe_load((REALDOCS / "documents.yaml").read_text())["documents"]
}
MIXED = load_questions(ROOT / "evals" / "mixed" / "questions.yaml")
# Written to train the answer selector only: on tuning documents, never asked by the eval.
TRAINING = load_questions(REALDOCS / "training")
ANSWERABLE = [q for q in QUESTIONS + MIXED + TRAINING if q.answerable]


def test_counts_the_protocol_asks_for():
    assert len(QUESTIONS) >= 200
    unanswerable = [q for q in QUESTIONS if not q.answerable]
    assert len(unanswerable) >= len(QUESTIONS) / 3
    assert {q.kind for q in unanswerable} == {"false_premise", "not_covered", "off_topic"}
    assert sum(bool(q.history) for q in QUESTIONS) >= 20
    contexts = [q for q in QUESTIONS if q.context]
    assert len(contexts) >= 40
    ids = {q.id for q in QUESTIONS}
    assert all(q.variant_of in ids for q in contexts)
    assert all(q.evidence and q.pages and q.answer_terms for q in ANSWERABLE)
    splits = Counter(q.split for q in QUESTIONS)
    assert set(splits) == {"tuning", "test"} and splits["test"] >= 100


def test_split_by_document_and_every_document_on_disk():
    assert {p.name for p in (REALDOCS / "documents").glob("*.pdf")} == set(SPLITS)
    for q in QUESTIONS:
        for document in q.documents:
            assert SPLITS[document] == q.split, f"{q.id}: {document} is {SPLITS[document]}"


def test_training_questions_are_on_tuning_documents_and_new():
    assert len(TRAINING) >= 150 and sum(not q.answerable for q in TRAINING) >= len(TRAINING) / 4
    ids = [q.id for q in QUESTIONS + MIXED + TRAINING]
    assert len(ids) == len(set(ids))
    # No evidence sentence of the eval's questions again, however it is spaced.
    taken = {" ".join(words(q.evidence)) for q in QUESTIONS + MIXED if q.evidence}
    assert not [q.id for q in TRAINING if q.evidence and " ".join(words(q.evidence)) in taken]
    for q in TRAINING:
        assert q.split == "tuning" and all(SPLITS[d] == "tuning" for d in q.documents), q.id
        # The UKRI set asks someone else's questions of this document: none trained on it.
        assert "UKRI-081020-HRPolicyFramework.pdf" not in q.documents, q.id


def test_the_mixed_set_asks_across_related_documents_and_reuses_no_question():
    assert len(MIXED) >= 20 and sum(not q.answerable for q in MIXED) >= 6
    assert len({q.id for q in MIXED}) == len(MIXED)
    for q in MIXED:
        assert q.documents and all(SPLITS[d] == q.split for d in q.documents), q.id
    taken = {q.evidence for q in QUESTIONS if q.evidence} | {q.question for q in QUESTIONS}
    assert not [q.id for q in MIXED if q.evidence in taken or q.question in taken]
    # Each group holds more than one document, so that a sibling can be joined on.
    assert len({d for q in MIXED for d in q.documents}) >= 8


def _content(text: str) -> set[str]:
    return {w for w in words(text) if w not in stopwords() and len(w) > 1}


@pytest.mark.parametrize("q", ANSWERABLE, ids=[q.id for q in ANSWERABLE])
def test_questions_paraphrase_their_evidence_and_terms_stand_in_it(q):
    asked = _content(q.question)
    assert len(asked & _content(q.evidence)) <= 0.5 * len(asked), "copies its evidence"
    evidence = re.sub(r"\s+", " ", q.evidence).casefold()
    for alternatives in q.answer_terms:
        assert any(a.casefold() in evidence for a in alternatives), alternatives


def test_the_sets_file_names_what_is_there(tmp_path):
    sets = load_sets(ROOT / "evals" / "sets.yaml", ROOT, tmp_path)
    assert {"realdocs", "starter", "ukri", "squad", "mixed", "mtrag"} <= set(sets)
    assert len(sets["mixed"].questions) == len(MIXED)
    assert len(sets["realdocs"].questions) == len(QUESTIONS)
    squad = sets["squad"].questions
    assert len(squad) == 600 and all(q.split == "test" for q in squad)
    assert {q.answerable for q in squad} == {True, False}
    assert all(q.evidence for q in squad if q.answerable)
    assert len(list((tmp_path / "squad" / "squad-paragraphs").glob("*.txt"))) > 200


def test_the_conversations_set_is_split_by_page_with_every_page_on_disk(tmp_path):
    mtrag = load_sets(ROOT / "evals" / "sets.yaml", ROOT, tmp_path)["mtrag"]
    on_disk = {p.name for p in mtrag.corpus.glob("*.txt")}
    pages_of = {"tuning": set(), "test": set()}
    for q in mtrag.questions:
        assert q.answerable == bool(q.documents), q.id
        assert set(q.documents) <= on_disk, q.id
        pages_of[q.split] |= set(q.documents)
    assert not pages_of["tuning"] & pages_of["test"]
    assert pages_of["tuning"] | pages_of["test"] == on_disk
    for part in ("tuning", "test"):
        asked = [q for q in mtrag.questions if q.split == part]
        assert len(asked) >= 60 and sum(not q.answerable for q in asked) >= 10
        assert sum(bool(q.history) for q in asked) >= 50


@cache
def _pages(name: str) -> tuple[str, ...]:
    from assistant.loaders import load_file

    document = load_file(REALDOCS / "documents" / name, 100 * 2**20)
    return tuple(
        "\n".join([p.text, *(f"{number} {note}" for number, note in p.notes)])
        for p in document.pages
    )


@pytest.mark.slow
def test_each_evidence_sentence_stands_on_its_page():
    misplaced = []
    for q in ANSWERABLE:
        pages = _pages(q.documents[0])
        near = " ".join(pages[p - 1] + " " + pages[min(p, len(pages) - 1)] for p in q.pages)
        if evidence_coverage(q.evidence, near) < 0.95:
            misplaced.append(q.id)
    assert misplaced == []
