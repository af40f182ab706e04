"""Tables in PDFs, each row kept with its column headers: `Department: HMRC | 2019: 63%`.

pdfplumber (MIT) finds a table from its ruling lines and the alignment of its words; reading
a page with it costs about three times what pypdf does, so only pages where the reading order
already showed rows of cells (see pdf_layout) are given to it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

_FIGURE = re.compile(r"^[\s\d.,%£$€()+\-–—]*$")
MAX_EMPTY = 0.6
"""A grid more empty than this is a chart's axes or a box around text, not a table."""


@dataclass(frozen=True)
class Table:
    """A table's place on its page (PDF points: left, bottom, right, top, y upwards) and its
    lines of text: captions as they are, then one line per row with its headers."""

    box: tuple[float, float, float, float]
    lines: tuple[str, ...]


def find_tables(data: bytes, numbers: list[int]) -> dict[int, list[Table]]:
    """The tables on the given pages (1-based) of the PDF in `data`."""
    import pdfplumber

    found: dict[int, list[Table]] = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number in numbers:
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
    return found


def rows_with_headers(grid: list[list[str | None]]) -> tuple[str, ...]:
    """A grid's rows as lines, each cell after its column's header; () when the grid is not a
    table (fewer than two rows of two cells, or mostly empty) or has only two columns."""
    cells = [[_clean(c) for c in row] for row in grid]
    if not cells:
        return ()
    total = sum(len(row) for row in cells)
    empty = sum(1 for row in cells for c in row if not c)
    filled = [row for row in cells if sum(1 for c in row if c) >= 2]
    if len(filled) < 2 or total == 0 or empty / total > MAX_EMPTY:
        return ()
    if max(len(row) for row in cells) < 3:
        return ()  # two columns: the first names the row, and `name | value` reads as it is
    start = cells.index(filled[0])
    header = filled[0]
    if any(c and _FIGURE.match(c) for c in header):
        header = [""] * len(header)  # a row of figures is data: the table has no header row
        start -= 1
    out = [" ".join(c for c in row if c) for row in cells[: max(start, 0)] if any(row)]
    for row in cells[start + 1 :]:
        if not any(row):
            continue
        parts = []
        for k, value in enumerate(row):
            if not value:
                continue
            name = header[k] if k < len(header) else ""
            parts.append(f"{name}: {value}" if name and name != value else value)
        out.append(" | ".join(parts))
    return tuple(out)


def _clean(cell: str | None) -> str:
    return " ".join((cell or "").split())
