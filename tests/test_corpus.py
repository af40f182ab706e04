"""The starter corpus, its manifest, and the curated lessons and questions held against it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from assistant.corpus_build import build_pdf, parse_markdown
from assistant.manifest import official_entries, read_manifest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text())
STARTER = MANIFEST["documents"]
LESSONS = yaml.safe_load((ROOT / "evals" / "lessons.yaml").read_text())["lessons"]
QUESTIONS = yaml.safe_load((ROOT / "evals" / "questions.yaml").read_text())["questions"]
KINDS = {"factual", "comparison", "synthesis", "follow_up", "unanswerable"}
FIELDS = {"title", "publisher", "date", "jurisdiction", "kind", "licence", "url"}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


@cache
def _pages(name: str) -> tuple[str, ...]:
    return tuple(_norm(p.extract_text() or "") for p in PdfReader(CORPUS / name).pages)


def _text(name: str) -> str:
    return " ".join(_pages(name))


def test_starter_corpus_size_and_shape():
    assert 8 <= len(STARTER) <= 12
    assert sum(len(_pages(d["file"])) for d in STARTER) >= 40
    jurisdictions = {d["jurisdiction"] for d in STARTER}
    assert jurisdictions == {"UK", "Scotland", "Wales", "Northern Ireland"}


@pytest.mark.parametrize("entry", STARTER, ids=[d["file"] for d in STARTER])
def test_each_starter_document_is_a_summary_naming_its_source(entry):
    assert set(entry) >= FIELDS and all(entry[f] for f in FIELDS)
    reader = PdfReader(CORPUS / entry["file"])
    assert len(reader.pages) >= 2
    assert reader.metadata.title and "summary" in reader.metadata.author.lower()
    first = _pages(entry["file"])[0]
    assert "this is a summary, not the official" in first
    assert entry["url"].rstrip("/").casefold() in first
    source = parse_markdown((CORPUS / "sources" / entry["file"].replace(".pdf", ".md")).read_text())
    kinds = {kind for kind, _ in source.parts}
    assert {"table", "h2"} <= kinds and kinds & {"ul", "ol"}


@pytest.mark.parametrize("entry", STARTER, ids=[d["file"] for d in STARTER])
def test_committed_pdf_is_what_its_source_builds(entry, tmp_path):
    """The PDFs cannot drift from their Markdown: rebuilding gives the same bytes."""
    subject = f"A summary of: {entry['official_source']}"
    built = tmp_path / entry["file"]
    build_pdf(CORPUS / "sources" / entry["file"].replace(".pdf", ".md"), built, subject)
    assert built.read_bytes() == (CORPUS / entry["file"]).read_bytes(), (
        "run `assistant corpus build` and commit the PDFs"
    )


def test_manifest_lists_the_official_documents():
    official = official_entries(CORPUS / "manifest.yaml")
    assert len(official) >= 8
    for entry in official:
        assert set(entry) >= FIELDS and entry["format"] in {"pdf", "html"}
        assert entry["url"].startswith("https://")
    assert len({e["id"] for e in official}) == len(official)
    fields = read_manifest(CORPUS / "manifest.yaml")
    assert fields["official/wfg-act-2015.pdf"]["jurisdiction"] == "Wales"
    assert fields["wales-future-generations-act.pdf"]["year"] == 2015


def test_lessons_are_supported_by_their_documents():
    assert len(LESSONS) == 9 and len({lesson["id"] for lesson in LESSONS}) == 9
    for lesson in LESSONS:
        assert 3 <= len(lesson["key_points"]) <= 6 and lesson["statement"]
        text = " ".join(_text(d) for d in lesson["documents"])
        for point in lesson["key_points"]:
            assert _norm(point) in text, f"{lesson['id']}: {point!r} is in none of its documents"


def test_questions_are_well_formed():
    assert len(QUESTIONS) >= 40 and len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)
    lesson_ids = {lesson["id"] for lesson in LESSONS}
    files = {d["file"] for d in STARTER}
    kinds = [q["kind"] for q in QUESTIONS]
    assert set(kinds) == KINDS and kinds.count("unanswerable") >= 5
    for q in QUESTIONS:
        assert set(q["lessons"]) <= lesson_ids, q["id"]
        assert set(q["documents"]) <= files, q["id"]
        if q["kind"] == "unanswerable":
            assert not q["key_points"] and not q["documents"] and q["absent_terms"]
        else:
            assert q["key_points"] and q["documents"], q["id"]
        if q["kind"] == "follow_up":
            assert [t["role"] for t in q["history"]][:2] == ["user", "assistant"]


ANSWERABLE = [q for q in QUESTIONS if q["kind"] != "unanswerable"]


@pytest.mark.parametrize("q", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_key_points_stand_in_the_named_documents(q):
    text = " ".join(_text(d) for d in q["documents"])
    for point in q["key_points"]:
        assert _norm(str(point)) in text, f"{point!r} is not in {q['documents']}"
    if "pages" in q:
        (document,) = q["documents"]
        pages = " ".join(_pages(document)[p - 1] for p in q["pages"])
        for point in q["key_points"]:
            assert _norm(str(point)) in pages, f"{point!r} is not on page(s) {q['pages']}"


UNANSWERABLE = [q for q in QUESTIONS if q["kind"] == "unanswerable"]


@pytest.mark.parametrize("q", UNANSWERABLE, ids=[q["id"] for q in UNANSWERABLE])
def test_unanswerable_questions_stay_unanswerable(q):
    corpus = " ".join(_text(d["file"]) for d in STARTER)
    for term in q["absent_terms"]:
        assert _norm(term) not in corpus, f"the corpus now mentions {term!r}"
