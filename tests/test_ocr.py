"""Scanned pages: read by OCR where they are legible, reported (not indexed) where they are
not, bounded in time, and cited as text from OCR."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfWriter

from assistant.chain import Assistant
from assistant.config import Settings
from assistant.ingest import Ingester
from assistant.loaders import Bounds, load_file
from assistant.reading import BoundedReader
from tests.pdfs import make_image_pdf, make_pdf

SCANNED = [
    "The Harbour Renewal Board was set up in 2021.",
    "It is chaired by Dr Morag Lindsay and meets",
    "every month in Oban. Its budget for 2024 is",
    "3.2 million pounds, met by the council.",
]
TYPED = "The ferry timetable is reviewed each spring by the transport partnership."


def mixed(folder: Path, blur: float = 0.0) -> Path:
    """A typed first page, then a scanned one."""
    typed = make_pdf(folder / "typed.pdf", [[("h", "Ferries"), ("p", TYPED)]])
    scanned = make_image_pdf(folder / "scanned.pdf", [SCANNED], blur=blur)
    writer = PdfWriter()
    writer.append(str(typed))
    writer.append(str(scanned))
    path = folder / "board.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    typed.unlink()
    scanned.unlink()
    return path


def test_a_scanned_page_is_read_with_its_confidence(tmp_path):
    document = load_file(mixed(tmp_path), 10**7)
    typed, scanned = document.pages
    assert typed.ocr is None and "transport partnership" in typed.text
    assert scanned.ocr is not None and scanned.ocr >= 85
    assert "chaired by Dr Morag Lindsay" in scanned.text
    assert "3.2 million pounds" in scanned.text
    assert document.notes == ()


def test_an_illegible_page_is_reported_and_left_out(tmp_path):
    document = load_file(mixed(tmp_path, blur=6), 10**7)
    assert document.pages[1].text == "" and document.pages[1].ocr is None
    assert len(document.notes) == 1 and document.notes[0].startswith("page 2: OCR unusable")


def test_with_ocr_turned_off_the_page_is_named(tmp_path):
    document = load_file(mixed(tmp_path), 10**7, Bounds(ocr=False))
    assert document.pages[1].text == ""
    assert document.notes == ("page 2: no text layer, and OCR is turned off",)


def test_each_page_is_bounded_in_time(tmp_path):
    document = load_file(mixed(tmp_path), 10**7, Bounds(ocr_seconds=0.05))
    assert document.notes == ("page 2: not indexed: OCR took more than 0.05 s",)


def test_ocr_time_is_added_to_the_files_own_limit(tmp_path):
    """A file may take one second, but each page it OCRs brings its own allowance."""
    from assistant.reading import Limits

    path = mixed(tmp_path)
    told = []
    reader = BoundedReader(
        Limits(10**7, 100, 0.5, 2048, True, 30.0), on_ocr=lambda k, of: told.append((k, of))
    )
    [(_, document)] = list(reader.read([path]))
    assert not isinstance(document, Exception), document
    assert document.pages[1].ocr and told == [(1, 1)]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("scans")
    mixed(folder)
    illegible = mixed(folder / "..", blur=6).rename(folder / "illegible.pdf")
    settings = Settings(index_dir=folder / "index", progress=False)
    report = Ingester(settings, embedder=embedder).ingest([folder])
    assert report.ok, report.failed
    assert [w.source for w in report.warnings] == [str(illegible)]
    return Assistant(settings)


def test_a_citation_says_its_text_came_from_ocr(assistant):
    answer = assistant.ask("Who chairs the Harbour Renewal Board?")
    assert "Morag Lindsay" in answer.answer
    cited = [c for c in answer.citations if "Morag Lindsay" in c.quote]
    assert cited and all("text from OCR, confidence" in c.where for c in cited)
    assert all(c.page_start == 2 for c in cited)
    typed = assistant.ask("When is the ferry timetable reviewed?")
    assert typed.citations and not any("OCR" in c.where for c in typed.citations)
