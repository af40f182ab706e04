"""Exports, uploads and feedback: the parts of the browser app that live in the core."""

from __future__ import annotations

import io
import json

import docx
import pytest

from assistant.exports import Turn, to_docx, to_markdown
from assistant.feedback import add_comment, record
from assistant.models import Answer, Citation
from assistant.uploads import UploadError, safe_name, save_upload


def _answer(text: str, quotes: dict[int, str]) -> Answer:
    citations = [
        Citation(
            n, f"d{n}", f"Doc {n}", f"/x/{n}.pdf", n, n + 1 if n == 2 else n, "Sec", q, 0.5, True
        )
        for n, q in quotes.items()
    ]
    return Answer("?", "?", text, False, citations, [], "extractive")


TURNS = [
    Turn(
        "What are the ways of working?",
        _answer("Five ways [1]. Long-term first [2].", {1: "Five ways.", 2: "Long-term first."}),
    ),
    Turn("And the goals?", _answer("Seven goals [1].", {1: "Seven goals."})),
]


def test_markdown_numbers_sources_across_the_conversation():
    text = to_markdown(TURNS)
    assert "## What are the ways of working?" in text and "Seven goals [3]." in text
    assert "1. Doc 1, p. 1, Sec: \u201cFive ways.\u201d" in text
    assert "2. Doc 2, pp. 2-3, Sec: \u201cLong-term first.\u201d" in text
    assert "3. Doc 1, p. 1, Sec: \u201cSeven goals.\u201d" in text


def test_word_export_opens_with_a_numbered_sources_list():
    document = docx.Document(io.BytesIO(to_docx(TURNS)))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("Heading 1", "And the goals?") in paragraphs
    sources = [t for style, t in paragraphs if style == "List Number"]
    assert sources[1] == "[2] Doc 2, pp. 2-3, Sec. \u201cLong-term first.\u201d"


def test_every_quote_taken_from_a_source_is_listed_with_it():
    answer = _answer("Five ways [1]. Long-term first [1].", {1: "Five ways."})
    second = Citation(1, "d1", "Doc 1", "/x/1.pdf", 1, 1, "Sec", "Long-term first.", 0.5, True)
    answer.citations.append(second)
    text = to_markdown([Turn("What are the ways of working?", answer)])
    assert "1. Doc 1, p. 1, Sec: \u201cFive ways.\u201d \u201cLong-term first.\u201d" in text
    document = docx.Document(io.BytesIO(to_docx([Turn("What are the ways?", answer)])))
    listed = [p.text for p in document.paragraphs if p.style.name == "List Number"]
    assert listed == ["[1] Doc 1, p. 1, Sec. \u201cFive ways.\u201d \u201cLong-term first.\u201d"]
    # a quote from another page of the same source says its own page
    answer.citations.append(
        Citation(1, "d1", "Doc 1", "/x/1.pdf", 4, 4, "Sec", "Seven goals.", 0.5, True)
    )
    text = to_markdown([Turn("What are the ways of working?", answer)])
    assert "\u201cLong-term first.\u201d \u201cSeven goals.\u201d (p. 4)" in text


def test_a_word_export_keeps_each_part_of_an_answer_apart():
    answer = _answer(
        "Who audits it?: The indexed documents do not say.\n\nHow often?: Every five years [1].",
        {1: "Every five years."},
    )
    document = docx.Document(io.BytesIO(to_docx([Turn("Who audits it, and how often?", answer)])))
    said = [p.text for p in document.paragraphs if p.style.name == "Normal"]
    assert "Who audits it?: The indexed documents do not say." in said
    assert "How often?: Every five years [1]." in said


def test_each_exported_answer_says_how_strong_its_evidence_is():
    weak = _answer("Seven goals [1].", {1: "Seven goals."})
    weak.strength, weak.confidence = "weak", 0.2
    strong = _answer("Five ways [1].", {1: "Five ways."})
    strong.strength, strong.confidence, strong.judged = "strong", 0.91, 0.8
    refused = Answer("?", "?", "The indexed documents do not say.", True, [], [], "extractive")
    refused.strength, refused.confidence = "weak", 0.05
    turns = [Turn("And the goals?", weak), Turn("The ways?", strong), Turn("Pay?", refused)]
    said = "Evidence: weak (P = 0.20)"
    sure = "Evidence: strong (P = 0.91); checked in careful mode: the chat model's P(yes) 0.80"
    text = to_markdown(turns)
    assert f"Seven goals [1].\n\n{said}\n" in text and f"\n{sure}\n" in text
    assert text.count("Evidence: ") == 2  # a refusal answers nothing, so has no strength
    document = docx.Document(io.BytesIO(to_docx(turns)))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[paragraphs.index("Seven goals [1].") + 1] == said and sure in paragraphs
    assert sum(p.startswith("Evidence: ") for p in paragraphs) == 2


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\\\windows\\\\evil.pdf", "evil.pdf"),
        ("/abs/path/report 2024 (final).pdf", "report_2024_final_.pdf"),
        (".hidden.md", "hidden.md"),
        ("Доклад.pdf", "upload.pdf"),
        ("A" * 130 + ".pdf", "A" * 100 + ".pdf"),
    ],
    ids=["parent folders", "backslashes", "spaces and brackets", "leading dot", "script", "long"],
)
def test_an_uploaded_name_cannot_leave_the_upload_folder(name, safe, tmp_path):
    assert safe_name(name) == safe
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / "incoming"
    source.write_bytes(b"%PDF-1.4 test")
    saved = save_upload(source, name, tmp_path / "uploads", 10**6, tmp_path / "in")
    assert saved.parent == (tmp_path / "uploads").resolve() and saved.name == safe


def test_a_second_upload_of_the_same_name_is_kept_beside_the_first(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    first, second = inbox / "a", inbox / "b"
    first.write_bytes(b"%PDF-1.4 the Scotland note")
    second.write_bytes(b"%PDF-1.4 the Wales note")
    uploads = tmp_path / "uploads"
    one = save_upload(first, "report.pdf", uploads, 10**6, inbox)
    two = save_upload(second, "report.pdf", uploads, 10**6, inbox)
    assert one.name == "report.pdf" and two != one and two.suffix == ".pdf"
    assert one.read_bytes() == first.read_bytes() and two.read_bytes() == second.read_bytes()
    # The same file sent again is the same upload, not a third.
    assert save_upload(first, "report.pdf", uploads, 10**6, inbox) == one
    assert sorted(p.name for p in uploads.iterdir()) == sorted([one.name, two.name])


def test_uploads_refuse_wrong_types_and_sizes(tmp_path):
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / "f"
    source.write_bytes(b"x" * 2000)
    with pytest.raises(UploadError, match="virus.exe: .exe is not supported"):
        save_upload(source, "virus.exe", tmp_path / "u", 10**6, tmp_path / "in")
    with pytest.raises(UploadError, match=r"big.pdf: 0.0 MB is over the 0.0 MB limit"):
        save_upload(source, "big.pdf", tmp_path / "u", 1000, tmp_path / "in")
    assert not (tmp_path / "u").exists() or not list((tmp_path / "u").iterdir())


@pytest.mark.parametrize(
    "where", ["outside", "link out", "missing"], ids=["elsewhere", "a link", "missing"]
)
def test_only_a_file_in_the_upload_folder_is_taken(where, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    secret = tmp_path / "secret.md"
    secret.write_text("# Accounts\n\nThe password is hunter2.")
    source = {
        "outside": secret,
        "link out": inbox / "link.md",
        "missing": inbox / "gone.md",
    }[where]
    if where == "link out":
        source.symlink_to(secret)
    with pytest.raises(UploadError, match="q.md: (not a file uploaded|the uploaded file cannot)"):
        save_upload(source, "q.md", tmp_path / "uploads", 10**6, inbox)
    assert not (tmp_path / "uploads").exists()


def test_feedback_is_kept_as_json_lines(tmp_path):
    path = tmp_path / "feedback.jsonl"
    record(path, "Q1", "A1 [1].", True, " useful ")
    record(path, "Q2", "A2 [1].", False)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(x["question"], x["liked"], x["comment"]) for x in lines] == [
        ("Q1", True, "useful"),
        ("Q2", False, ""),
    ]


def test_a_comment_follows_its_rating_by_the_ratings_id(tmp_path):
    path = tmp_path / "feedback.jsonl"
    first = record(path, "Q1", "A1 [1].", True)
    second = record(path, "Q2", "A2 [1].", False)
    assert first["id"] != second["id"]
    add_comment(path, first["id"], "  Cites the right paragraph. ")
    kept = json.loads(path.read_text().splitlines()[-1])
    assert kept["comment_on"] == first["id"] and kept["comment"] == "Cites the right paragraph."
    assert "liked" not in kept  # a comment is not a second rating


def test_a_documents_asterisks_and_underscores_are_shown_not_taken_for_markdown():
    answer = _answer("It lists *late sailings* by route_name [1].", {1: "It lists *late* ones."})
    text = to_markdown([Turn("How is punctuality reported?", answer)])
    assert "It lists \\*late sailings\\* by route\\_name [1]." in text
    assert "\u201cIt lists \\*late\\* ones.\u201d" in text


def test_an_exported_record_says_what_the_search_was_kept_to():
    answer = _answer("Seven goals [1].", {1: "Seven goals."})
    kept = {"question": "q", "filters": {"jurisdiction": ["Wales"], "document": ["ab12"]}}
    markdown = to_markdown([Turn("q", answer)], records=[kept])
    assert "- Searched in: jurisdiction Wales; document ab12" in markdown
    everything = to_markdown([Turn("q", answer)], records=[{"question": "q", "filters": {}}])
    assert "- Searched in: all the indexed documents" in everything
    word = docx.Document(io.BytesIO(to_docx([Turn("q", answer)], records=[kept])))
    assert "Searched in: jurisdiction Wales; document ab12" in [p.text for p in word.paragraphs]
