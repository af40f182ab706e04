"""Files built to exhaust a reader (PDF bombs) cost at most their bounds, are named with the
real reason, and leave the rest of the folder and the index as they were."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from assistant.ingest import Ingester
from assistant.reading import BoundedReader, Limits
from tests.pdfs import make_pdf


def many_pages(path: Path, pages: int) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(612, 792)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def endless_text(path: Path, pages: int = 20, operations: int = 300_000) -> Path:
    """Small pages whose compressed content streams each draw text 300,000 times: each stream
    under pypdf's own cap on the tokens of one stream, so that what stops the reading is the
    reader's deadline, however fast the machine."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf " + b"(a) Tj 0 -1 Td " * operations + b"ET")
    content = writer._add_object(stream.flate_encode())
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
        page[NameObject("/Contents")] = content
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def _read_beside_a_good_file(tmp_path: Path, bad: Path) -> str:
    """Reads a bad file and then a good one within 20 s; returns why the bad one failed."""
    good = make_pdf(tmp_path / "good.pdf", [[("p", "The Ferry Board runs eleven routes.")]])
    reader = BoundedReader(Limits(10**8, max_pages=100, seconds=30, memory_mb=1024))
    started = time.monotonic()
    results = dict(reader.read([bad, good]))
    assert time.monotonic() - started < 20
    assert results[good].pages[0].text.startswith("The Ferry Board")
    return str(results[bad])


def test_a_page_tree_of_thousands_is_refused_for_its_size_at_once(tmp_path):
    bomb = many_pages(tmp_path / "pages.pdf", 300)
    assert "has 300 pages, over the limit of 100" in _read_beside_a_good_file(tmp_path, bomb)


@pytest.mark.slow
def test_a_file_that_reads_for_ever_is_stopped_and_the_next_is_read(tmp_path):
    bomb = endless_text(tmp_path / "endless.pdf")
    good = make_pdf(tmp_path / "good.pdf", [[("p", "The Ferry Board runs eleven routes.")]])
    reader = BoundedReader(Limits(10**8, max_pages=100, seconds=1, memory_mb=1024))
    started = time.monotonic()
    results = list(reader.read([bomb, good]))
    assert time.monotonic() - started < 30
    assert [path for path, _ in results] == [bomb, good]
    assert "took more than 1 s to read" in str(results[0][1])
    assert results[1][1].pages[0].text.startswith("The Ferry Board")


def test_a_damaged_word_file_is_named_as_damaged_not_as_too_slow(tmp_path):
    import zipfile

    import docx

    whole = tmp_path / "whole.docx"
    document = docx.Document()
    document.add_paragraph("The Ferry Board runs eleven routes from Oban. " * 20)
    document.save(whole)
    damaged = tmp_path / "damaged.docx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]  # cut inside an element
            target.writestr(item, data)
    assert "is not a readable Word document" in _read_beside_a_good_file(tmp_path, damaged)


def test_a_bomb_in_a_folder_fails_alone_and_the_index_keeps_the_rest(settings, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    make_pdf(folder / "good.pdf", [[("p", "The Ferry Board runs eleven routes.")]])
    many_pages(folder / "bomb.pdf", 300)
    (folder / "empty.pdf").write_bytes(many_pages(tmp_path / "one.pdf", 1).read_bytes())
    report = Ingester(settings.model_copy(update={"max_pages": 100})).ingest([folder])
    reasons = {Path(f.source).name: f.reason for f in report.failed}
    assert reasons["bomb.pdf"] == "has 300 pages, over the limit of 100"
    assert reasons["empty.pdf"] == "has no text and no images on any of its 1 pages"
    assert [Path(s).name for s in report.added] == ["good.pdf"]


def test_ctrl_c_for_the_ingest_leaves_its_reader_to_be_stopped_by_it(tmp_path):
    first = make_pdf(tmp_path / "first.pdf", [[("p", "The Ferry Board runs eleven routes.")]])
    second = make_pdf(tmp_path / "second.pdf", [[("p", "The Harbour Trust meets monthly.")]])
    reader = BoundedReader(Limits(10**8, max_pages=100, seconds=30, memory_mb=1024))
    reading = reader.read([first, second])
    path, document = next(reading)
    assert path == first and document.pages
    # A terminal's Ctrl-C goes to the whole process group, the reader too: it has no
    # traceback of its own to print, and reads on until the ingest stops it.
    os.kill(reader._process.pid, signal.SIGINT)
    time.sleep(0.5)
    assert reader._process.poll() is None
    path, document = next(reading)
    assert path == second and document.pages[0].text.startswith("The Harbour")
    reading.close()
    assert reader._process is None
