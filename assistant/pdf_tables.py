"""Tables in PDFs, each row kept with its column headers: `Department: HMRC | 2019: 63%`.

pdfplumber (MIT) finds a table from its ruling lines and the alignment of its words; reading
a page with it costs about three times what pypdf does, so only pages where the reading order
already showed rows of cells (see pdf_layout) are given to it.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

from .tables import rows_with_headers


@dataclass(frozen=True)
class Table:
    """A table's place on its page (PDF points: left, bottom, right, top, y upwards) and its
    lines of text: captions as they are, then one line per row with its headers."""

    box: tuple[float, float, float, float]
    lines: tuple[str, ...]


def read_tables(
    data: bytes, numbers: list[int], deadline: float | None = None
) -> tuple[dict[int, list[Table]], list[int]]:
    """The tables on the given pages (1-based) of the PDF in `data`, and the pages left unread
    because the deadline (time.monotonic()) passed first: it is looked at before each page, so
    that a file whose text was read in time is not lost to its tables."""
    import pdfplumber

    found: dict[int, list[Table]] = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for k, number in enumerate(numbers):
            if deadline is not None and time.monotonic() > deadline:
                return found, numbers[k:]
            page = pdf.pages[number - 1]
            tables = []
            for table in page.find_tables():
                lines = rows_with_headers(table.extract())
                if lines:
                    x0, top, x1, bottom = table.bbox
                    tables.append(Table((x0, page.height - bottom, x1, page.height - top), lines))
            if tables:
                found[number] = tables
            page.close()
    return found, []
