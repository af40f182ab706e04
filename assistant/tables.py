"""Tables as lines of text, one per row, each cell after its column's header
(`Department: HMRC | 2019: 63%`), whichever format the table came in: a PDF (pdf_tables), a
Markdown or HTML page, a Word document. A row read with its headers is a unit of evidence that
says what its figures are."""

from __future__ import annotations

import re

_FIGURE = re.compile(r"^[\s\d.,%£$€()+\-–—]*$")
_YEAR = re.compile(r"^(19|20)\d\d(?:[/–-]\d{2,4})?$")
MAX_EMPTY = 0.6
"""A grid more empty than this is a chart's axes or a box around text, not a table."""


def rows_with_headers(grid: list[list[str | None]], marked: bool = False) -> tuple[str, ...]:
    """A grid's rows as lines, each cell after its column's header.

    `marked`: the format marks the first row as the header (a Markdown table's rule under it,
    HTML's <th> cells), so it is used whatever the number of columns. Otherwise the first row
    is taken as a header only in a table of three columns or more that does not start with a
    row of figures, and () is returned for a grid of two columns (whose `name | value` reads as
    it is) or one that is not a table at all (fewer than two rows of two cells, mostly empty)."""
    cells = [[_clean(c) for c in row] for row in grid]
    cells = [row for row in cells if any(row)]
    if not cells:
        return ()
    if marked:
        if len(cells) < 2:
            return tuple(" | ".join(c for c in row if c) for row in cells)
        return tuple(_with_header(row, cells[0]) for row in cells[1:])
    total = sum(len(row) for row in cells)
    empty = sum(1 for row in cells for c in row if not c)
    filled = [row for row in cells if sum(1 for c in row if c) >= 2]
    if len(filled) < 2 or empty / total > MAX_EMPTY:
        return ()
    if max(len(row) for row in cells) < 3:
        return ()  # two columns: the first names the row, and `name | value` reads as it is
    start = cells.index(filled[0])
    header = filled[0]
    # the rows above the first of two cells or more (a merged title row, a caption) as they are
    out = [" ".join(c for c in row if c) for row in cells[:start]]
    if _data(header):
        header = [""] * len(header)  # a row of figures is data: the table has no header row
        start -= 1
    out += [_with_header(row, header) for row in cells[start + 1 :]]
    return tuple(out)


def _data(row: list[str]) -> bool:
    """Whether a row is figures alone (every cell that is filled), other than a header of years
    ("2017 | 2018 | 2019"), which heads the figures under it."""
    filled = [c for c in row if c]
    return all(_FIGURE.match(c) for c in filled) and not all(_YEAR.match(c) for c in filled)


def _with_header(row: list[str], header: list[str]) -> str:
    parts = []
    for k, value in enumerate(row):
        if not value:
            continue
        name = header[k] if k < len(header) else ""
        parts.append(f"{name}: {value}" if name and name != value else value)
    return " | ".join(parts)


def _clean(cell: str | None) -> str:
    return " ".join((cell or "").split())


MIN_FIGURE_COLUMNS = 3
"""A header of fewer figures (a range, "2018 2019") is too little to say the lines are a table."""
_CELL = re.compile(r"^[(£$€+\-–—]?\d[\d.,]*%?\)?$")
# A column header among figures is a plain whole number or a span of years ("2019", "2019/20",
# "2019-20"): a row of shares or amounts ("86% 83% 93%") is a row, never a header.
_HEADER_CELL = re.compile(r"^\d{1,4}(?:[/–-]\d{2,4})?$")


def figure_tables(lines: list[str]) -> list[tuple[int, int, tuple[str, ...]]]:
    """Tables drawn without rules whose columns are headed by figures (years, mostly) and
    whose rows are a label then one figure a column:

        2009 2010 2011 2012
        Response rate 86% 83% 93% 91%

    read as (first line, line after the last, each row with its headers:
    `Response rate | 2009: 86% | 2010: 83% | ...`). A label wrapped over lines ("Organisational
    objectives and" / "purpose 70% 63% ...") is joined. The header may be the last cell of a
    row ("Department for Transport | 2016 2017 2018 2019"). At least two rows under a header of at
    least MIN_FIGURE_COLUMNS figures; anything else is left as it is."""
    found = []
    i = 0
    while i < len(lines):
        header = lines[i].split(" | ")[-1].split()  # a row's last cell may head the figures
        if len(header) < MIN_FIGURE_COLUMNS or not all(_HEADER_CELL.match(t) for t in header):
            i += 1
            continue
        rows, j, label = [], i + 1, []
        while j < len(lines):
            words = lines[j].split()
            run = _trailing_figures(words)
            if run == len(header) and len(words) > run:
                rows.append([" ".join([*label, *words[:-run]]), *words[-run:]])
                label, j = [], j + 1
            elif run > len(header):
                break  # more figures than the header has columns: not this table
            elif rows and len(words) > run >= max(2, len(header) - 1):
                # a row that lacks a figure: which year's is not known, so it stays as drawn
                rows.append(" ".join([*label, *words]))
                label, j = [], j + 1
            elif words and not label and not any(_CELL.match(w) for w in words) and len(words) <= 8:
                label, j = words, j + 1  # a label wrapped onto the next line, perhaps
            else:
                break
        end = j - (1 if label else 0)
        if sum(isinstance(row, list) for row in rows) >= 2:
            before = lines[i].split(" | ")[:-1]  # what heads the row the figures end
            table = tuple(
                _with_header(row, ["", *header]) if isinstance(row, list) else row for row in rows
            )
            found.append((i, end, (" | ".join(before),) * bool(before) + table))
            i = end
        else:
            i += 1
    return found


def _trailing_figures(words: list[str]) -> int:
    """How many figures of one kind end a row: its shares, its sums of money or its counts. A
    number of another kind before them is its label's (`Grade 7 61% 62%`, `aged under 25 48%`),
    never one of its figures."""
    run = 0
    for word in reversed(words):
        if not _CELL.match(word) or _kind(word) != _kind(words[-1]):
            break
        run += 1
    return run


def _kind(figure: str) -> tuple[bool, bool]:
    """A share (`45%`), a sum of money (`£12`), or neither (a count, a number)."""
    return "%" in figure, figure.lstrip("(+-–—")[:1] in "£$€"
