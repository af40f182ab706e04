"""Text for PDF pages that have none: the page is rendered (pdfium) and read by Tesseract.

Everything runs on this machine: pypdfium2's wheel carries pdfium, and Tesseract with its
English model comes from Debian (`tesseract-ocr`, `tesseract-ocr-eng`). Each page is bounded
in time; a page whose words Tesseract is not confident of is reported, not indexed as noise.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass

DPI = 300
"""Tesseract reads body text best at about 300 dots per inch."""

MIN_CONFIDENCE = 70.0
"""Below this mean word confidence (0-100) a page's OCR is taken as unusable. Measured on a
page of four known lines rendered at 200 dpi and blurred more and more (Gaussian radius 0 to
6 pixels): radius 0-3 read at 91-96 with at most a letter's case wrong; 3.5 at 83, with one
word in eight misread; 4 at 59, with most lines garbled; 6 at 30, nothing right. A page of
shapes and no letters reads at 0."""

MIN_WORDS = 3


@dataclass(frozen=True)
class OcrPage:
    """One page as Tesseract read it."""

    text: str
    confidence: float
    """The mean of Tesseract's word confidences, 0-100, weighted by word length."""
    words: int

    @property
    def usable(self) -> bool:
        return self.words >= MIN_WORDS and self.confidence >= MIN_CONFIDENCE


class OcrError(Exception):
    """OCR could not be run on a page: no Tesseract, a timeout, or a page pdfium cannot draw."""


def available() -> bool:
    """Whether Tesseract is installed."""
    return shutil.which("tesseract") is not None


def read_page(data: bytes, index: int, seconds: float, dpi: int = DPI) -> OcrPage:
    """OCRs page `index` (0-based) of the PDF in `data`, in at most `seconds`."""
    if not available():
        raise OcrError("Tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-eng)")
    image = _render(data, index, dpi)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core: embedding runs beside it
    try:
        result = subprocess.run(
            ["tesseract", "stdin", "stdout", "--dpi", str(dpi), "--psm", "3", "-l", "eng", "tsv"],
            input=image,
            capture_output=True,
            timeout=seconds,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise OcrError(f"OCR took more than {seconds:g} s") from err
    except OSError as err:
        raise OcrError(f"Tesseract could not be run: {err}") from err
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise OcrError(f"Tesseract failed: {message[0] if message else result.returncode}")
    return parse_tsv(result.stdout.decode("utf-8", "replace"))


def _render(data: bytes, index: int, dpi: int) -> bytes:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
        try:
            bitmap = document[index].render(scale=dpi / 72, grayscale=True)
            image = bitmap.to_pil()
        finally:
            document.close()
    except Exception as err:  # pdfium raises its own error types for damaged pages
        raise OcrError(f"the page cannot be drawn for OCR: {err}") from err
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def parse_tsv(tsv: str) -> OcrPage:
    """Lines of text (a blank line between Tesseract's blocks) and the confidence of the words
    from Tesseract's TSV output."""
    lines: dict[tuple[int, int, int], list[str]] = {}
    weighted = letters = 0.0
    words = 0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":
            continue  # only level 5 rows are words
        text = cells[11].strip()
        confidence = float(cells[10])
        if not text or confidence < 0:
            continue
        block, paragraph, line = int(cells[2]), int(cells[3]), int(cells[4])
        lines.setdefault((block, paragraph, line), []).append(text)
        weighted += confidence * len(text)
        letters += len(text)
        words += 1
    out: list[str] = []
    last_block = None
    for (block, paragraph, _), line_words in sorted(lines.items()):
        if last_block is not None and (block, paragraph) != last_block:
            out.append("")
        out.append(" ".join(line_words))
        last_block = (block, paragraph)
    return OcrPage("\n".join(out), weighted / letters if letters else 0.0, words)
