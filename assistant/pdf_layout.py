"""A PDF page's text in reading order, from where each piece of text is drawn.

pypdf gives the text in the order it is drawn, with each piece's position and size (with the
word spacing of justified lines counted, see pdf_spacing, so it writes no false spaces). From
those alone, with no rule about any one publisher's layout:
- table rows are rebuilt as `cell | cell` lines (a row's next cell starts to the right, no
  lower, where prose only moves down);
- columns drawn line by line across the page are read one column at a time;
- furniture (running heads, footers, page numbers, the address and date a browser prints on
  every page) is found as the lines at a page's top or foot that repeat on many pages, and is
  dropped.

- a footnote's call (a small number raised above its line) is written in superscript digits,
  so that it reads as a call and not as a figure of the sentence;
- footnotes are set apart from the text they interrupt: the lines in smaller type at a page's
  foot, each note opening on its number, where the page calls some of those numbers. The
  note's lines are taken by where they are drawn, not in the order drawn.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from . import pdf_spacing
from .models import superscript
from .tables import figure_tables

KEPT_WORDS_SLACK = 0.05
"""A table may miss this share of the words drawn inside its box (a caption's word)."""
EDGE = 0.12
"""The top and foot eighth of a page are where running heads and footers are drawn."""
REPEATS = 0.3
"""A line at the edge on this share of a document's pages (and on 3 at least) is furniture."""
ALIKE = 0.9
"""A line at the edge this much like a furniture line (difflib's ratio) is a variant of it."""
NOTE_SIZE = 0.92
"""A footnote's type is at most this share of the size of the page's body text."""
NOTES_CALLED = 0.5
"""Footnotes are set apart only where the page calls at least this share of their numbers."""
_NOTE_START = re.compile(r"^(\d{1,3})\s*(?=\S)(?!\d)")
_PAGE_REF = re.compile(r"^(page\s*)?\d+(\s*(of|/)\s*\d+)?\s*|\s*(page\s*)?\d+(\s*(of|/)\s*\d+)?$")


@dataclass
class Line:
    """A visual line: its text, where it starts, and its type size; a rebuilt table row keeps
    its cells (each a list of the lines it wraps over)."""

    text: str
    x: float | None = None
    y: float | None = None
    size: float = 10.0
    cells: list[list[Line]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    """The footnote calls raised above this line, as their numbers."""
    space_x: float | None = None
    """For a piece that is a drawn space alone: where it starts (its x stays None)."""
    end: float | None = None
    """For a piece whose font gives its glyphs' widths: where it ends."""


@dataclass
class PageLines:
    lines: list[Line]
    bottom: float
    top: float
    calls: set[str] = field(default_factory=set)
    """The footnote calls the page shows."""

    def position(self, line: Line) -> float | None:
        """How far up the page the line is drawn: 0 at the foot, 1 at the top."""
        if line.y is None or self.top <= self.bottom:
            return None
        return (line.y - self.bottom) / (self.top - self.bottom)


def read_page(page, layout: bool = False, notes: bool = False) -> PageLines:
    """The page's lines as drawn, rows rebuilt; with `layout`, type sizes as drawn (the
    transformation's scale too), raised footnote calls kept on their line, and prose columns
    put in reading order."""
    lines: list[Line] = []
    current = Line("")
    last = Line("")  # the last piece of text put on the current line, where it was drawn
    placed: tuple[float, float] | None = None  # the transformation that placed it

    def visit(text, cm, tm, font, size) -> None:
        nonlocal current, last, placed
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(size * (tm[3] or 1) * ((cm[3] or 1) if layout else 1)) or 10.0
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if notes and _raised(piece, y, scale, current):
                current.text = current.text.rstrip() + superscript(piece.strip())
                current.text += " " if piece.endswith(" ") else ""
                current.calls.append(piece.strip())
            else:
                if piece.strip() and current.x is None:
                    current.x, current.y, current.size = x, y, scale
                elif piece and not piece.strip() and not current.text:
                    current.space_x = x
                # A piece placed by a transformation of its own, which pypdf's spacing does not
                # see, starting beyond where the last piece can end.
                if (
                    layout
                    and placed != (cm[4], cm[5])
                    and _apart(last, piece, x, y)
                    and current.text[-1:].strip()
                ):
                    current.text += " "
                current.text += piece
                if piece.strip():
                    width = text_width(font, piece.rstrip())
                    end = None if width is None else x + width * scale
                    last, placed = Line(piece, x, y, scale, end=end), (cm[4], cm[5])
            if k < len(pieces) - 1:
                lines.append(current)
                current, last, placed = Line(""), Line(""), None

    with pdf_spacing.counted():
        page.extract_text(visitor_text=visit)
    lines.append(current)
    box = page.mediabox
    if not layout:
        return PageLines(_rows(lines), float(box.bottom), float(box.top))
    joined = _join_raised(_words_of_one_line(lines), notes)
    calls = {number for x in joined for number in x.calls}
    return PageLines(_columns(_rows(joined)), float(box.bottom), float(box.top), calls)


def _apart(last: Line, piece: str, x: float, y: float) -> bool:
    """Whether a piece drawn on the same baseline as the last starts beyond where the last
    ends (by its font's widths, and a sixth of an em; without them, four fifths of an em a
    character, which no glyph passes): cells of a table that a printer placed each with a
    transformation of its own came out glued ("54%56%62%62%", "20092010")."""
    if last.x is None or last.y is None or not piece[:1].strip():
        return False
    if abs(y - last.y) > 0.2 * last.size:
        return False
    if last.end is not None:
        return x > last.end + last.size / 6
    return x > last.x + 0.8 * last.size * len(last.text.rstrip())


def text_width(font, text: str) -> float | None:
    """The width of a text in ems, from a simple font's /Widths where the font's encoding
    puts printable ASCII at its own codes; None where the font does not say (a composite or
    re-encoded font, or a character outside that range)."""
    try:
        if font is None or "/Widths" not in font or font.get("/Subtype") == "/Type0":
            return None
        encoding = font.get("/Encoding")
        encoding = encoding.get_object() if hasattr(encoding, "get_object") else encoding
        if isinstance(encoding, dict):  # an encoding dictionary: its base, unless re-coded
            if "/Differences" in encoding:
                return None
            encoding = encoding.get("/BaseEncoding")
        if encoding not in _ASCII_ENCODINGS:
            return None
        widths = font["/Widths"].get_object()
        first = int(font.get("/FirstChar", 0))
        total = 0.0
        for char in text:
            code = ord(char) - first
            if not 32 <= ord(char) < 127 or not 0 <= code < len(widths):
                return None
            total += float(widths[code])
        return total / 1000
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


# Encodings that put the printable ASCII characters at their own codes (a TrueType font with
# no /Encoding may not: it is read with the font's own).
_ASCII_ENCODINGS = ("/WinAnsiEncoding", "/MacRomanEncoding", "/StandardEncoding")


def _words_of_one_line(lines: list[Line]) -> list[Line]:
    """A line a printer drew a word at a time, each word and each space its own text object
    (a browser's print does), put back together. pypdf ends a piece at each object, so such
    a line came out as a line a word; and a word like "the" or "with" at the top of most
    pages was then taken for a running head and dropped from the text. Pieces are joined
    when only a drawn space lies between them and the next starts further along the same
    baseline in the same type size, the space filling the gap between them: drawn after the
    first and at most half an em before the next. Cells of a table or a figure on one
    baseline stay apart, being further apart than a space."""
    out: list[Line] = []
    spaces: list[Line] = []
    for line in lines:
        if line.x is None and line.text and not line.text.strip():
            spaces.append(line)
            continue
        last = out[-1] if out else None
        gap = spaces[-1].space_x if len(spaces) == 1 else None
        if (
            gap is not None
            and last is not None
            and last.x is not None
            and line.x is not None
            and not last.cells
            and not last.text[-1:].isspace()
            and abs(line.y - last.y) <= 0.1 * line.size
            and abs(line.size - last.size) <= 0.05 * line.size
            and last.x < gap < line.x <= gap + 0.5 * line.size
            and _ends_near(last, gap)
        ):
            last.text = last.text.rstrip() + " " + line.text.lstrip()
            last.calls += line.calls
        else:
            out += spaces
            out.append(line)
        spaces = []
    return out + spaces


def _ends_near(line: Line, x: float) -> bool:
    """Whether the text of `line` may end at x: between a fifth of an em and four fifths a
    character (glyph widths are not read, so this bounds them)."""
    chars = len(line.text.rstrip())
    return line.x + 0.2 * line.size * chars <= x <= line.x + 0.8 * line.size * chars


def has_rows(page: PageLines) -> bool:
    """Whether the page shows rows of cells: a table may be there."""
    return sum(1 for x in page.lines if x.cells) >= 2


def place_table(page: PageLines, box: tuple[float, float, float, float], rows: tuple[str, ...]):
    """Puts a table's lines (see pdf_tables) where the lines drawn inside `box` (left, bottom,
    right, top) were, unless the table lost some of their words (a table found where dotted
    leaders or columns misled the finder): then pypdf's rows stay. Text drawn beside a row,
    right of the box (a note in the margin), is kept, after the table."""
    left, bottom, right, top = box
    inside = [
        i
        for i, x in enumerate(page.lines)
        # a baseline inside the box, not that of the line just above it
        if x.x is not None and left - 3 <= x.x <= right and bottom - 2 <= x.y <= top - 1
    ]
    if not inside:
        return
    # text drawn beside a row, right of the box (a note in the margin), which pypdf read as the
    # row's last cells: it is not the table's, and stays, after the table
    beside: list[Line] = []
    texts = []
    for i in inside:
        line = page.lines[i]
        out = [c for c in line.cells if c[0].x is not None and c[0].x > right]
        beside += [Line(_text(c), c[0].x, c[0].y, c[0].size) for c in out]
        texts += [_text(c) for c in line.cells if all(c is not o for o in out)] or [line.text]
    found = Counter(_words(" ".join(rows)))
    drawn = Counter(_words(" ".join(texts)))
    if sum((drawn - found).values()) > KEPT_WORDS_SLACK * sum(drawn.values()):
        return
    size = statistics.median(page.lines[i].size for i in inside)
    new = [Line(text, left, top - k * 0.01, size, [[Line(text)]]) for k, text in enumerate(rows)]
    at = inside[0]
    page.lines = [x for i, x in enumerate(page.lines) if i not in set(inside)]
    page.lines[at:at] = new + beside


def place_figure_tables(page: PageLines) -> None:
    """Tables drawn without rules under a header of figures (see tables.figure_tables), each
    row with its headers, in place of their lines."""
    for start, end, rows in reversed(figure_tables([x.text for x in page.lines])):
        first = page.lines[start]
        new = [
            Line(text, first.x, (first.y or 0.0) - k * 0.01, first.size, [[Line(text)]])
            for k, text in enumerate(rows)
        ]
        page.lines[start:end] = new


def _words(text: str) -> list[str]:
    """The words and figures of two characters or more (ligatures spelt out): a table's row
    and caption numbers ("Table 1.1 A") may go to its cells or not."""
    return [
        w for w in re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower()) if len(w) > 1
    ]


@dataclass
class PageText:
    text: str
    notes: list[tuple[str, str]] = field(default_factory=list)
    """The page's footnotes, set apart from its text: (number, note)."""


DISPLAY_TYPE = 1.6
"""A title page's title is set at least this many times the size of the document's body type:
a word processor's "Title" style is about 2.5 times its body, its first heading about 1.45."""
TITLE_CHARS = 200
"""A title shown on the first page is at most about this long; more in display type is a poster."""


def body_size(lines: Iterable[Line]) -> float | None:
    """The type size (to half a point) that sets the most characters of the lines: the body's."""
    weights: Counter[float] = Counter()
    for line in lines:
        weights[round(line.size * 2) / 2] += len(line.text)
    size, chars = weights.most_common(1)[0] if weights else (None, 0)
    return size if chars else None


def display_title(pages: list[PageLines], body_pages: int = 5) -> str:
    """What the first page sets in its largest type, where that is display type (DISPLAY_TYPE
    times the body's size, the body measured over the first pages): the document's title as a
    reader sees it. Empty where the first page has no such line, or only one word in it (a
    logo's name, a drop capital)."""
    if not pages:
        return ""
    body = body_size(line for page in pages[:body_pages] for line in page.lines)
    worded = [
        x
        for x in pages[0].lines
        if x.y is not None and not x.cells and sum(c.isalpha() for c in x.text) >= 2
    ]
    if body is None or not worded:
        return ""
    largest = max(x.size for x in worded)
    if largest < DISPLAY_TYPE * body:
        return ""
    shown: list[str] = []
    for line in sorted(
        (x for x in worded if x.size >= 0.95 * largest), key=lambda x: (-(x.y or 0.0), x.x or 0.0)
    ):
        text = " ".join(line.text.split())
        if len(" ".join([*shown, text])) > TITLE_CHARS:
            break
        shown.append(text)
    title = " ".join(shown)
    return title if len(title.split()) >= 2 else ""


def arrange(pages: list[PageLines], notes: bool = False) -> list[PageText]:
    """Each page's text, its furniture dropped; with `notes`, its footnotes set apart."""
    furniture = _furniture(pages)
    numbering = _numbering(pages)
    out = []
    for index, page in enumerate(pages):
        kept = []
        for line in page.lines:
            if not _at_edge(page, line):
                kept.append(line)
            elif line.cells:  # a running head may be drawn level with a table's or a figure's text
                cells = [c for c in line.cells if furniture_key(_text(c)) not in furniture]
                if cells:
                    line.cells, line.text = cells, " | ".join(_text(c) for c in cells)
                    kept.append(line)
            elif _page_number(line.text, index) in numbering:
                continue
            elif not furniture_key(line.text) and not line.text.strip().isdigit():
                continue  # a page reference alone: "Page 3 of 12", "3/12"
            elif furniture_key(line.text) not in furniture:
                kept.append(line)
        body, found = _footnotes(page, kept) if notes else (kept, [])
        out.append(PageText("\n".join(x.text for x in body), found))
    return out


def _footnotes(page: PageLines, lines: list[Line]) -> tuple[list[Line], list[tuple[str, str]]]:
    """The page's lines less its footnotes, and the footnotes: the lines in smaller type below
    the highest line that opens on a number in the lower half of the page, where nothing in
    body type or in a table is drawn among them, and the page calls some of the notes."""
    drawn = [x for x in lines if x.y is not None and x.text.strip()]
    if not drawn:
        return lines, []
    limit = NOTE_SIZE * (body_size(drawn) or 0.0)
    starts = [
        x
        for x in drawn
        if x.size < limit
        and not x.cells
        and _NOTE_START.match(x.text.strip())
        and (page.position(x) or 0) < 0.5
    ]
    if not starts:
        return lines, []
    top = max(x.y for x in starts)
    area = [x for x in drawn if x.y <= top + 0.5]
    if any(x.size >= limit or x.cells for x in area):
        return lines, []
    notes: list[list[str]] = []
    for x in sorted(area, key=lambda x: (-x.y, x.x)):
        text = x.text.strip()
        start = _NOTE_START.match(text)
        if start and (not notes or int(start.group(1)) == int(notes[-1][0]) + 1):
            notes.append([start.group(1), text[start.end() :].strip()])
        elif notes:
            notes[-1][1] += " " + text
        else:
            return lines, []
    inside = {id(x) for x in area}
    body = [x for x in lines if id(x) not in inside]
    found = [_call(body, number) for number, _ in notes if number not in page.calls]
    if len(notes) - found.count(None) < NOTES_CALLED * len(notes):
        return lines, []
    for line, start, end, number in sorted((f for f in found if f), key=lambda f: -f[1]):
        line.text = line.text[:start] + superscript(number) + line.text[end:]
    return body, [(n, t) for n, t in notes]


def _call(lines: list[Line], number: str) -> tuple[Line, int, int, str] | None:
    """The first place the body calls a note drawn with its text (a number right after a word
    or a stop, `country".57` or `research. 55 We`, not a decimal's or a paragraph number's
    digits; or glued to the end of a word, a bracket or a percentage, whatever follows:
    `available15.`, `age group28 that`, `90%29.`), to be written in superscript."""
    after_stop = rf"(?<=[a-z.,;:)\"'\u201d\u2019])(?<!\d[.,])\s?{number}(?=\s+[A-Z]|\s*$)"
    glued = rf"(?<=[a-z)%\"'\u201d\u2019]){number}(?!\w)"
    call = re.compile(f"{after_stop}|{glued}")
    for line in lines:
        found = None if line.cells else call.search(line.text)
        if found:
            return line, found.start(), found.end(), number
    return None


def furniture_key(text: str) -> str:
    """A line without the page number at either end, so that `12 BEHAVIOUR CHANGE` and
    `BEHAVIOUR CHANGE 13` are one line. Other figures stay (see _furniture)."""
    text = text.lower().strip()
    text = _PAGE_REF.sub("", text).strip()
    return re.sub(r"\s+", " ", text)


def _text(cell: list[Line]) -> str:
    return " ".join(x.text.strip() for x in cell if x.text.strip())


def _at_edge(page: PageLines, line: Line) -> bool:
    where = page.position(line)
    return where is not None and (where < EDGE or where > 1 - EDGE)


def _furniture(pages: list[PageLines]) -> set[str]:
    """The keys of the lines at the pages' edges that repeat on many pages, their figures
    aside, where few of those figures change from page to page: a printer's line whose frame
    number counts up is furniture, a table row whose label heads each page over other
    figures (`Engagement index 36% 34% ...`, one department a page) is not."""
    pages_with: dict[str, int] = {}
    keys: dict[str, set[str]] = {}
    with_text = 0
    for page in pages:
        edge = [x for x in page.lines if x.text.strip() and _at_edge(page, x)]
        here = {furniture_key(x.text) for x in edge}
        here |= {furniture_key(_text(c)) for x in edge for c in x.cells}
        with_text += any(x.text.strip() for x in page.lines)
        for shape in {_shape(key) for key in here}:
            pages_with[shape] = pages_with.get(shape, 0) + 1
        for key in here:
            keys.setdefault(_shape(key), set()).add(key)
    needed = max(3, REPEATS * with_text)

    def steady(shape: str) -> bool:
        figures = [re.findall(r"\d+", key) for key in keys[shape]]
        varying = sum(len(set(column)) > 1 for column in zip(*figures, strict=True))
        return varying <= max(1, len(figures[0]) // 4)

    found = {s for s, n in pages_with.items() if s and n >= needed and steady(s)}
    # A variant of one of those on fewer pages (three at least, twenty characters or more,
    # its figures as steady) is furniture too: a printed address that a browser cuts a
    # character shorter once the page count has two digits (`.../rapid-r... 9/84`,
    # `.../rapid-... 10/84`), a running foot that drops a word in an appendix.
    found |= {
        s
        for s, n in pages_with.items()
        if s not in found
        and n >= 3
        and len(s) >= 20
        and steady(s)
        and any(_alike(s, f) for f in found)
    }
    return {key for shape in found for key in keys[shape]}


def _alike(a: str, b: str) -> bool:
    """Whether two lines' shapes are nearly the same (difflib's ratio, its cheap bounds
    first)."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= ALIKE
        and matcher.quick_ratio() >= ALIKE
        and matcher.ratio() >= ALIKE
    )


def _shape(key: str) -> str:
    return re.sub(r"\d+", "#", key)


def _page_number(text: str, index: int) -> int | None:
    """For a line that is only a number, how far that number is from the page's index."""
    text = text.strip()
    return int(text) - index if text.isdigit() and len(text) <= 5 else None


def _numbering(pages: list[PageLines]) -> set[int]:
    """How far the printed page numbers run from the pages' indexes (a report whose page 1 is
    the PDF's fifth page: -4), where lines that are only a number keep one distance on many
    pages; a figure alone at a page's edge at any other distance is text (a year that a
    transcript drawn a word a line ends its page on)."""
    seen: dict[int, int] = {}
    for index, page in enumerate(pages):
        edge = [x for x in page.lines if _at_edge(page, x)]
        for offset in {_page_number(x.text, index) for x in edge} - {None}:
            seen[offset] = seen.get(offset, 0) + 1
    needed = max(3, REPEATS * len(pages))
    return {offset for offset, n in seen.items() if n >= needed}


def _raised(piece: str, y: float, size: float, line: Line) -> bool:
    """Whether a piece of text is a footnote's call on `line`: a number of up to three digits
    in smaller type, drawn a little above the line's baseline."""
    number = piece.strip()
    return (
        line.x is not None
        and line.y is not None
        and number.isdigit()
        and len(number) <= 3
        and size < 0.85 * line.size
        and 0 < y - line.y < line.size
    )


def _join_raised(lines: list[Line], superscripts: bool = False) -> list[Line]:
    """A small number drawn on its own just above the end of a line (a footnote's call) is
    part of that line, not the next cell of a row."""
    out: list[Line] = []
    after: float | None = None  # where a raised number ended a piece of its line
    for line in lines:
        last = out[-1] if out else None
        rest = after is not None and line.x is not None and line.x >= after
        if rest and abs(line.y - last.y) < 1:  # the rest of the line, after the raised number
            last.text += line.text
            continue
        after = None
        raised = (
            last is not None
            and line.x is not None
            and line.y is not None
            and _raised(line.text, line.y, line.size, last)
        )
        if raised:
            number = line.text.strip()
            last.text = last.text.rstrip() + (superscript(number) if superscripts else number)
            last.calls.append(line.text.strip())
            after = line.x
        else:
            out.append(line)
    return out


def _beside(line: Line, last: Line, top: float) -> bool:
    """Whether `line` starts a cell to the right of `last`: not lower, and within the row."""
    return line.x > last.x + 10 and line.y >= last.y - 1.5 and line.y <= top + 1.5 + 6 * line.size


def _rows(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    row: list[list[Line]] | None = None

    def close_row() -> None:
        nonlocal row
        if row is not None:
            cells = [_text(cell) for cell in row]
            first = row[0][0]
            text = " | ".join(c for c in cells if c)
            out.append(Line(text, first.x, max(x.y for c in row for x in c), first.size, row))
            row = None

    for line in lines:
        if line.x is None or line.y is None:
            close_row()
            out.append(line)
            continue
        if row is not None:
            top = max(x.y for cell in row for x in cell)
            cell = row[-1]
            if _beside(line, cell[-1], top) and line.x > cell[0].x + 10:
                row.append([line])  # the next cell of this row
                continue
            if abs(line.x - cell[0].x) <= 1 and line.y < cell[-1].y <= line.y + 2.5 * line.size:
                cell.append(line)  # the cell's text wraps onto another line
                continue
            close_row()
        first = _first_cell(out, line)
        if first:
            del out[len(out) - len(first) :]
            row = [first, [line]]
        else:
            out.append(line)
    close_row()
    return out


def _first_cell(out: list[Line], line: Line) -> list[Line]:
    """The lines just read that form the cell left of `line` (cells may sit at the top or the
    bottom of their row); empty when `line` does not start a second cell."""
    if not out or out[-1].x is None or out[-1].cells or not _beside(line, out[-1], out[-1].y):
        return []
    cell = [out[-1]]
    for previous in reversed(out[-8:-1]):
        if previous.x is None or previous.cells or abs(previous.x - cell[0].x) > 1:
            break
        if not cell[0].y < previous.y <= cell[0].y + 2.5 * previous.size:
            break  # not the line above in the same cell
        if previous.y > line.y + 1.5:
            break  # above the row's top: the text before the table
        cell.insert(0, previous)
    return cell


def _columns(lines: list[Line]) -> list[Line]:
    """Lines of prose columns drawn across the page (so that they came out as rows of two or
    three long cells at the same places) put back one column after another."""
    rows = [x for x in lines if x.cells]
    if len(rows) < 6:
        return lines
    widths = statistics.mode(len(x.cells) for x in rows)
    aligned = [x for x in rows if len(x.cells) == widths]
    if widths not in (2, 3) or len(aligned) < 0.8 * len(rows):
        return lines
    starts = [sorted(cell[0].x for cell in _cells(aligned, k)) for k in range(widths)]
    lefts = [s[len(s) // 2] for s in starts]
    steady = all(
        sum(abs(cell[0].x - lefts[k]) <= 6 for cell in _cells(aligned, k)) >= 0.8 * len(aligned)
        for k in range(widths)
    )
    # Prose fills its column: nearly every line of it is long. A table's cells are not.
    full = all(
        sum(len(_text(c)) >= 0.6 * most for c in cells) >= 0.8 * len(cells)
        for cells in (_cells(aligned, k) for k in range(widths))
        for most in [max(len(_text(c)) for c in cells)]
    )
    long = statistics.mean(len(x.text) for c in _all_cells(aligned) for x in c) >= 25
    if not (steady and long and full):
        return lines
    first = lines.index(rows[0])
    columns: list[list[Line]] = [[] for _ in range(widths)]
    for line in lines[first:]:
        parts = line.cells or [[line]]
        for cell in parts:
            x = cell[0].x if cell[0].x is not None else lefts[0]
            k = max((j for j in range(widths) if x >= lefts[j] - 6), default=0)
            columns[k].extend(cell)
    return lines[:first] + [x for column in columns for x in column]


def _cells(rows: list[Line], k: int) -> list[list[Line]]:
    return [x.cells[k] for x in rows]


def _all_cells(rows: list[Line]) -> list[list[Line]]:
    return [cell for x in rows for cell in x.cells]
