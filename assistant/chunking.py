"""Pages to chunks that follow the structure of the text: sections, paragraphs, lists, rows."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .citations import PLAIN_CALL, ends_in_abbreviation
from .models import (
    CALLS,
    FUNCTION_WORDS,
    Chunk,
    LoadedDocument,
    stops_mid_sentence,
    superscript,
    without_calls,
)
from .tables import rows_with_headers

TokenCounter = Callable[[Sequence[str]], list[int]]

_MARK = r"[-*\u2022\u25aa\u25cf\u2013\u25e6]"
_ENUM = r"\(?(\d{1,2}|[a-z]|[ivx]{1,4})"
_BULLET = re.compile(rf"^({_MARK}\s*|{_ENUM}[.)]\s+)")
_UNDERLINE = re.compile(r"^(=+|-+)$")
_RULE = re.compile(r"^([-*_]\s*){3,}$")
_LONE_MARKER = re.compile(rf"^({_MARK}|{_ENUM}[.)]?)$")
_NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?|(?i:part|chapter|section) \d+)\s+[A-Z]")
# The number a committee or inquiry report gives its paragraphs, or a recommendation's.
_PARAGRAPH = re.compile(
    r"^(?:(?P<number>\d{1,3}(?:\.\d{1,3}){0,2})\.?\s+(?=[A-Z\u201c\"'(])"
    r"|(?P<named>(?:Recommendation|Conclusion)\s+\d{1,3}[a-z]?)\b)"
)
# A paragraph's number set on a line of its own with its stop, its text in the block after
# ("2.9." / "In our view, ..."; "117."): a page's number, a chart's scale ("2.5") or a
# heading's number has none. (`named` never matches: the match reads as _PARAGRAPH's does.)
_LONE_PARAGRAPH = re.compile(r"^(?P<number>\d{1,3}(?:\.\d{1,3}){0,2})\.$(?P<named>(?!))?")
_NOTE_AT_FOOT = re.compile(r"^\d{1,4}\s+(?=[^\W\d])")
_PAGE_NUMBER = re.compile(r"^(page\s*)?\d{1,4}(\s*(of|/)\s*\d{1,4})?$", re.I)
_SENTENCE_END = re.compile(rf"[.!?][\"')\]{CALLS}]*{PLAIN_CALL}(\s+)(?=[\"'(\[]?[A-Z0-9])")
_TERMINAL = (".", "!", "?", ":", ";", ",")
TITLE_LINE = 0.5
"""A line of a wrapped title is shorter than this share of the page's text width."""
_STOPS = (".", "!", "?", ":", ";")
_ENDS_ON_A_STOP = re.compile(r"[\w)\]\"'\u201d\u2019][.:;,]$")
_MD_INLINE = re.compile(r"(\*\*|__|`)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


@dataclass
class Block:
    """A unit of text that is never split unless it alone is too long for a chunk."""

    text: str
    page_start: int
    page_end: int
    heading: bool = False
    continues: bool = False  # a later piece of a block split for length
    guessed: bool = False  # a heading found by its look, not named by the file's structure
    note: str = ""  # a footnote's number: the block is that note, set apart from the text


def _norm_boilerplate(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower()).strip()


def _boilerplate_lines(pages: Sequence[Sequence[str]]) -> set[str]:
    """Returns normalised lines that repeat at the top or bottom of many pages: headers, footers."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        edge = {_norm_boilerplate(x) for x in list(lines[:3]) + list(lines[-3:]) if x}
        counts.update(edge)
    threshold = max(3, len(pages) // 2)
    return {line for line, n in counts.items() if n >= threshold and line}


def _looks_like_heading(line: str, outline: set[str] | None, next_line: str = "") -> bool:
    """Whether a line is a heading: named in the outline (for this page), or by its look."""
    key = line.lower().rstrip(" .")
    if outline is not None:
        # A sentence is no heading, though the outline names it: a word processor may bookmark
        # every numbered paragraph ("5.1.1 UKRI as the employer."), and a heading's words are
        # kept only as the section of the text under it. A heading may ask a question.
        return key in outline and not _ENDS_ON_A_STOP.search(without_calls(line))
    if len(line) > 80 or len(line.split()) > 12 or without_calls(line).endswith(_TERMINAL):
        return False
    if next_line[:1].islower() or line.split()[-1].lower() in FUNCTION_WORDS:
        return False  # the line runs on: a wrapped sentence or title, not a heading
    if _BULLET.match(line) and not _NUMBERED_HEADING.match(line):
        return False
    if _NUMBERED_HEADING.match(line):
        return True
    if _in_capitals(line):
        return True
    return line[0].isupper() and _title_cased(line)


def _title_cased(text: str) -> bool:
    """Whether most of a line's words of four letters or more (three in five) open on a
    capital, as a heading's do."""
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", text) if len(w) > 3]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) >= 0.6


def _in_capitals(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def _join(left: str, right: str, vocabulary: set[str]) -> str:
    """Joins two wrapped lines, mending a word hyphenated across them."""
    match = re.search(r"(\w+)-$", left)
    if match and right[:1].islower():
        head, tail = match.group(1), re.match(r"[\w]*", right).group(0)
        if (head + tail).lower() in vocabulary or f"{head}-{tail}".lower() not in vocabulary:
            return left[:-1] + right
        return left + right
    return f"{left} {right}"


def _vocabulary(document: LoadedDocument) -> set[str]:
    words: set[str] = set()
    for page in document.pages:
        words.update(w.lower() for w in re.findall(r"\w+(?:-\w+)*", page.text))
    return words


def _line_blocks(document: LoadedDocument) -> list[Block]:
    """Blocks from a PDF's visual lines: wrapped lines are joined, short lines end a block."""
    pages = [[x for x in p.text.splitlines() if x.strip()] for p in document.pages]
    boilerplate = set() if document.furniture_removed else _boilerplate_lines(pages)
    outline: dict[int, set[str]] = {}
    for number, title in document.outline:
        outline.setdefault(number, set()).add(title.lower().rstrip(" ."))
    vocabulary = _vocabulary(document)
    lengths = sorted(len(x) for lines in pages for x in lines if len(x) >= 20)
    width = lengths[int(len(lengths) * 0.9)] if lengths else 80
    # Lines the document sets on their own: first on a page, or after a full line or a stop, not
    # after a short line they may finish (a title's last line, wrapped the same way twice).
    set_alone = Counter(
        x.strip()
        for lines in pages
        for k, x in enumerate(lines)
        if k == 0
        or len(lines[k - 1]) >= TITLE_LINE * width
        or lines[k - 1].rstrip().endswith(_TERMINAL)
    )
    blocks: list[Block] = []
    for page, lines in zip(document.pages, pages, strict=True):
        # A page set in columns wraps its lines far short of the document's widest measure: a
        # line is short against its own page's measure, or every wrapped line there would end
        # a paragraph and cut a sentence at each line that opens with a name.
        measure = _measure(lines)
        page_width = min(width, measure) if measure else width
        kept: list[str] = []
        for i, line in enumerate(lines):
            at_edge = i < 3 or i >= len(lines) - 3
            if at_edge and (_norm_boilerplate(line) in boilerplate or _PAGE_NUMBER.match(line)):
                continue
            if kept and _LONE_MARKER.match(kept[-1]):
                kept[-1] = f"{kept[-1]} {line}"  # a list marker drawn apart from its item
                continue
            kept.append(line)
        # Only headings the outline places on this page count: a contents page names them all.
        page_outline = outline.get(page.number, set()) if document.outline else None
        if page_outline:
            kept = _join_wrapped_headings(kept, page_outline)
        elif page_outline is None:
            kept = _join_wrapped_titles(kept, width, set_alone)
        open_block: Block | None = None
        block_width = 0  # the longest line of the open block
        for i, line in enumerate(kept):
            following = kept[i + 1] if i + 1 < len(kept) else ""
            if _looks_like_heading(line, page_outline, following):
                blocks.append(
                    Block(
                        line, page.number, page.number, heading=True, guessed=page_outline is None
                    )
                )
                open_block = None
                continue
            if " | " in line:  # a table row stands alone
                blocks.append(Block(line, page.number, page.number))
                open_block = None
                continue
            numbered = bool(_PARAGRAPH.match(line)) and (
                open_block is None
                or without_calls(open_block.text).rstrip("\"')\u201d\u2019").endswith(_STOPS)
            )
            item = _opens_item(line, open_block.text if open_block else "")
            if open_block is not None and not item and not numbered:
                open_block.text = _join(open_block.text, line, vocabulary)
                block_width = max(block_width, len(line))
            else:
                open_block = Block(line, page.number, page.number)
                blocks.append(open_block)
                block_width = len(line)
            # A short line ends its paragraph, unless the next one plainly carries on from it
            # (narrow columns beside an infobox or a figure wrap early), or it stops where no
            # sentence can.
            # A name's initial ("President Chester A.") stops no sentence either.
            initial = bool(_NAME_INITIAL.search(line))
            carried = following[:1].islower() or stops_mid_sentence(line) or initial
            runs_on = carried and (initial or not without_calls(line).endswith((".", "!", "?")))
            # A line as long as its page's prose lines is wrapped prose when it reads as prose
            # or runs on a paragraph, and does not end on a figure (a contents entry's page); a
            # title-cased line that opens a block there is a heading. Inside a paragraph, a
            # line as long as the paragraph's own lines is wrapped too (an indented list item).
            inside = open_block is not None and open_block.text != line
            wrapped = not line.rstrip()[-1:].isdigit() and (
                (len(line) >= 0.7 * page_width and (inside or _reads_as_prose(line)))
                or (inside and len(line) >= 0.7 * block_width)
            )
            if len(line) < 0.7 * width and not wrapped and not runs_on:
                open_block = None
    return _merge_across_pages(blocks, vocabulary)


def _measure(lines: Sequence[str]) -> int | None:
    """The length a page's prose lines run to (the 90th percentile of its lines of 20
    characters or more, table rows aside), or None where too few lines show it."""
    lengths = sorted(len(x) for x in lines if len(x) >= 20 and " | " not in x)
    return lengths[int(len(lengths) * 0.9)] if len(lengths) >= _MEASURED_LINES else None


_MEASURED_LINES = 8
_NAME_INITIAL = re.compile(r"\b[A-Z][a-z]+ [A-Z]\.$")


def _reads_as_prose(line: str) -> bool:
    """Whether a line reads as running text rather than a heading, a name or a contents
    entry: two in five of its words or more in lower case."""
    words = [w for w in line.split() if w[:1].isalpha()]
    return bool(words) and sum(w[:1].islower() for w in words) >= 0.4 * len(words)


def _opens_item(line: str, before: str) -> bool:
    """Whether a line opens a list item: a bullet, or an enumerator ("3.", "b)", "iv.") unless
    the text before stops on a word such as "to" or "by", which the line's figure or
    abbreviation carries on ("... aged 20 to" / "64. Carers ...", "... as required by" /
    "s. 3 of the Act ...")."""
    if not _BULLET.match(line):
        return False
    if re.match(_MARK, line):
        return True
    words = before.split()
    return not (words and words[-1].lower() in FUNCTION_WORDS)


def _join_wrapped_titles(lines: list[str], width: int, set_alone: Counter[str]) -> list[str]:
    """Rejoins a heading (guessed by its look, the file having no outline) that the page
    wrapped over two or three short lines ("Department for" / "International" /
    "Development"): a short line that would run on (it ends on "for" or a comma, or the next
    starts in lower case) is joined with the short lines after it when together they read as a
    heading, the most lines first. `set_alone` counts the lines the document sets on their
    own: one set so elsewhere is a heading of its own ("Overview"), never a title's third
    line."""
    # A line that is a heading in its own right (numbered, or in capitals), a table row or
    # a line ending in a stop is not part of a wrapped one.
    short = [
        len(x) < TITLE_LINE * width
        and not x.rstrip().rstrip(",").endswith(_TERMINAL)  # a comma may run on
        and " | " not in x
        and not _NUMBERED_HEADING.match(x)
        and not _in_capitals(x)
        for x in lines
    ]

    def runs_on(k: int) -> bool:
        if k + 1 >= len(lines):
            return False
        last = lines[k].split()[-1].lower()
        # a name listed with commas ("Ministry of Housing," / "Communities & Local"), not a
        # field and its value ("Headquarters 70 Whitehall," / "London")
        listed = last.endswith(",") and not re.search(r"\d", lines[k] + lines[k + 1])
        return last in FUNCTION_WORDS or listed or lines[k + 1][:1].islower()

    out: list[str] = []
    i = 0
    while i < len(lines):
        line, joined = lines[i], None
        if short[i] and runs_on(i) and not _BULLET.match(line):
            for j in (i + 2, i + 1):
                # a line with a figure or a colon starts something of its own ("Chapter 1:"),
                # and so does a line the document sets on its own elsewhere ("Overview")
                plain = all(not re.search(r"[\d:]", x) for x in lines[i + 1 : j + 1])
                alone = j == i + 2 and j < len(lines) and set_alone[lines[j].strip()] > 0
                # short lines that run on after it are a narrow column of text, not a title
                column = j + 1 < len(lines) and short[j + 1] and runs_on(j + 1)
                if j < len(lines) and all(short[i : j + 1]) and plain and not alone and not column:
                    text = " ".join(lines[i : j + 1])
                    following = lines[j + 1] if j + 1 < len(lines) else ""
                    if _looks_like_heading(text, None, following):
                        joined = (text, j)
                        break
        if joined:
            out.append(joined[0])
            i = joined[1] + 1
        else:
            out.append(line)
            i += 1
    return out


def _join_wrapped_headings(lines: list[str], titles: set[str]) -> list[str]:
    """Rejoins an outline heading that the page wrapped over two or three lines."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        joined, j = lines[i], i
        while j + 1 < len(lines) and j - i < 2:
            key = joined.lower()
            if key.rstrip(" .") in titles or not any(t.startswith(key + " ") for t in titles):
                break
            j += 1
            joined = f"{joined} {lines[j]}"
        if joined.lower().rstrip(" .") in titles:
            out.append(joined)
            i = j + 1
        else:
            out.append(lines[i])
            i += 1
    return out


def _merge_across_pages(blocks: list[Block], vocabulary: set[str]) -> list[Block]:
    merged: list[Block] = []
    for block in blocks:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and not previous.heading
            and not block.heading
            and block.page_start == previous.page_end + 1
            and not without_calls(previous.text).endswith((".", "!", "?", ":"))
            and block.text[:1].islower()
        ):
            previous.text = _join(previous.text, block.text, vocabulary)
            previous.page_end = block.page_end
            continue
        merged.append(block)
    return merged


def _clean_markdown(line: str) -> str:
    line = _MD_LINK.sub(r"\1", line)
    return _MD_INLINE.sub("", line).strip()


def _with_notes(blocks: list[Block], document: LoadedDocument) -> list[Block]:
    """The blocks with each footnote set apart from the page's text (see pdf_layout) placed
    right after the block that calls it, or after its page's text where no block does: the
    note stays with what it annotates and never splits a sentence. A note opens on its call
    in superscript, as the text calls it."""
    on_page: dict[int, list[int]] = {}  # a page -> the blocks of text drawn on it, in order
    for i, block in enumerate(blocks):
        if not block.heading:
            for number in range(block.page_start, block.page_end + 1):
                on_page.setdefault(number, []).append(i)
    after: dict[int, list[Block]] = {}  # a block -> the notes placed after it, in order
    for page in document.pages:
        for number, text in page.notes:
            call = superscript(number)
            here = on_page.get(page.number, [])
            calling = next((i for i in here if call in blocks[i].text), None)
            at = calling if calling is not None else here[-1] if here else len(blocks) - 1
            note = Block(f"{call} {text}", page.number, page.number, note=number)
            after.setdefault(at, []).append(note)
    out = after.get(-1, [])  # no blocks at all: the notes alone
    for i, block in enumerate(blocks):
        out += [block, *after.get(i, [])]
    return out


def _paragraph_blocks(document: LoadedDocument) -> list[Block]:
    """Blocks from blank-line separated text (Markdown, HTML, Word, plain text)."""
    blocks: list[Block] = []
    for page in document.pages:
        for para in re.split(r"\n\s*\n", page.text):
            blocks.extend(_blocks_of(para, page.number))
    return [b for b in blocks if b.text]


def _blocks_of(para: str, page: int) -> list[Block]:
    """One paragraph's blocks: its headings, table rows and list items, and its running text."""
    blocks: list[Block] = []
    running: list[str] = []
    lines = [x.strip() for x in para.splitlines() if x.strip()]
    at = 0
    while at < len(lines):
        line = lines[at]
        at += 1
        units: list[Block] = []
        underlined = at < len(lines) and _UNDERLINE.match(lines[at]) and not _BULLET.match(line)
        if _RULE.match(line):
            continue  # a horizontal rule ("---", "* * *") is no text
        if underlined:  # a heading underlined with "===" or "---"
            units = [Block(_clean_markdown(line), page, page, heading=True)]
            at += 1
        elif re.match(r"^#{1,6}\s", line):
            units = [Block(_clean_markdown(line.lstrip("#")), page, page, heading=True)]
        elif line.startswith("|"):
            end = at
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            rows = _markdown_rows(lines[at - 1 : end])
            units = [Block(_clean_markdown(row), page, page) for row in rows]
            at = end
        elif _opens_item(line, running[-1] if running else "") or " | " in line:
            units = [Block(_clean_markdown(line), page, page)]
        if not units:
            running.append(line)
            continue
        if running:
            blocks.append(Block(_clean_markdown(" ".join(running)), page, page))
            running = []
        blocks.extend(units)
    if running:
        blocks.append(Block(_clean_markdown(" ".join(running)), page, page))
    return blocks


def _markdown_rows(lines: list[str]) -> tuple[str, ...]:
    """A Markdown table's rows, each cell after its column's header when a rule (`|---|`)
    marks the first row as the header (see tables.py); without one, cells as `a | b`."""
    grid = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    rule = [all(re.fullmatch(r":?-{2,}:?", c) for c in row if c) for row in grid]
    body = [row for row, is_rule in zip(grid, rule, strict=True) if not is_rule and any(row)]
    if len(grid) >= 2 and rule[1] and not rule[0]:
        return rows_with_headers(body, marked=True)
    return tuple(" | ".join(c for c in row if c) for row in body)


def _split_long(text: str, limit: int, count: TokenCounter) -> list[str]:
    """Splits a block that is too long for one chunk at sentence ends (not after "Dr." or
    "e.g."), then a sentence still too long at words, so that no piece is over the limit."""
    sentences, start = [], 0
    for end in _SENTENCE_END.finditer(text):  # a closing quote or bracket stays with its sentence
        if ends_in_abbreviation(text[start : end.start(1)], text[end.end(1) :]):
            continue
        sentences.append(text[start : end.start(1)])
        start = end.end(1)
    sentences = [s for s in [*sentences, text[start:]] if s.strip()]
    pieces: list[str] = []
    for sentence, n in zip(sentences, count(sentences), strict=True):
        if n <= limit:
            pieces.append(sentence)
            continue
        # runs of as many words as fit on average, a margin under the limit; a run of longer
        # words than most (long names, an address) that is still over it, cut word by word
        words = sentence.split()
        step = max(1, int(len(words) * limit / n * 0.9))
        runs = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
        for run, m in zip(runs, count(runs), strict=True):
            pieces.extend([run] if m <= limit else _by_words(run, limit, count))
    return pieces


def _by_words(sentence: str, limit: int, count: TokenCounter) -> list[str]:
    """A run of words cut into pieces of at most `limit` tokens, each word counted (long names
    take many). A word is never cut: one longer than the limit alone (an address) is a piece
    of its own, which the model reads as far as it can."""
    words = sentence.split()
    pieces: list[str] = []
    piece: list[str] = []
    used = 0
    for word, n in zip(words, count(words), strict=True):
        if piece and used + n > limit:
            pieces.append(" ".join(piece))
            piece, used = [], 0
        piece.append(word)
        used += n
    return [*pieces, " ".join(piece)] if piece else pieces


def _headings_with_text(blocks: list[Block]) -> list[Block]:
    """A heading heads the text that follows it. A line guessed to be a heading by its look
    that is followed by another heading, or by nothing, heads nothing: it is kept as text, so
    that no words are lost (such lines are often infobox entries or table labels)."""
    out = []
    for i, block in enumerate(blocks):
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if block.heading and block.guessed and (following is None or following.heading):
            block = Block(block.text, block.page_start, block.page_end)
        out.append(block)
    return out


def _units(blocks: list[Block], count: TokenCounter, max_tokens: int):
    """Yields (block, tokens, heading) for each body block, splitting blocks that are too long."""
    blocks = _headings_with_text(blocks)
    body = [b for b in blocks if not b.heading]
    tokens = iter(count([b.text for b in body]))
    heading = Block("", 0, 0, heading=True)
    for block in blocks:
        if block.heading:
            heading = block
            continue
        n = next(tokens)
        if n <= max_tokens:
            yield block, n, heading
            continue
        parts = _split_long(block.text, max_tokens, count)
        for i, (part, m) in enumerate(zip(parts, count(parts), strict=True)):
            piece = Block(part, block.page_start, block.page_end, continues=i > 0, note=block.note)
            yield piece, m, heading


def _numbered_paragraphs(blocks: list[Block]) -> dict[int, re.Match]:
    """The blocks that open a numbered paragraph, by id: those named so ("Recommendation 7"),
    and those whose numbers make the document's longest run in order (26, 27, 28 ...; 2.3,
    2.4, 3.1 ...), any other long run clear of it (an annex numbered afresh), and those that
    fall in order between two numbers of these runs (see _between). A numbered list, a
    question's number in a survey or a numbered heading starts again or jumps, and is left
    out."""
    found = []
    for block in blocks:
        match = _LONE_PARAGRAPH.match(block.text) if block.continues else _opening(block.text)
        if match and (match.group("named") or not _numbered_title(block.text)):
            found.append((block, match))
    named = {id(b): m for b, m in found if m.group("named")}
    # A bare number with no stop after it opens a note at a page's foot ("10 Infected Blood
    # Inquiry, ..."); a paragraph's bare number has its stop ("26. Ports told us").
    numbered = [
        (b, m, tuple(int(x) for x in m.group("number").split(".")))
        for b, m in found
        if m.group("number") and not _NOTE_AT_FOOT.match(b.text)
    ]
    chain: dict[int, re.Match] = {}
    taken: list[tuple[int, int]] = []  # the spans (first and last place) of the runs kept
    kept: list[int] = []  # the places of the numbers kept
    left = list(range(len(numbered)))
    for _ in range(20):  # runs enough for any annexes; each pass costs a look over all numbers
        if len(left) < 3:
            break
        run = _longest_run([numbered[i][2] for i in left])
        places = [left[k] for k in run]
        span = (places[0], places[-1])
        # The first run must be 3 long; a later one (an annex numbered afresh) 5, and clear
        # of the others: a list numbered inside a paragraph lies within the main run.
        if len(run) < (5 if taken else 3):
            break
        if not any(span[0] <= b and a <= span[1] for a, b in taken):
            taken.append(span)
            kept += places
        used = set(places)
        left = [i for i in left if i not in used]
    kept = sorted(kept + _between([n for _, _, n in numbered], sorted(kept)))
    chain.update((id(numbered[i][0]), numbered[i][1]) for i in kept)
    return {**chain, **named}


def _between(numbers: list[tuple[int, ...]], kept: list[int]) -> list[int]:
    """The places of numbers that fall in order between two neighbours of the runs kept, at
    the depth of either (4.23 and 4.24 between 4.19 and 5.1, where 4.20 to 4.22 were not read
    as paragraphs of their own and the run leapt to the next chapter): a note's bare number
    there (5, 70) is not of that depth, and a list's starts again below its neighbour."""
    found = []
    for before, after in zip(kept, kept[1:], strict=False):
        last = numbers[before]
        depths = {len(last), len(numbers[after])}
        for place in range(before + 1, after):
            n = numbers[place]
            if len(n) in depths and last < n < numbers[after]:
                found.append(place)
                last = n
    return found


# A paragraph's number after the stop (and call) that ends the paragraph before it, in the
# same block: "... at the moment”.79 4.21. Professor Marteau ..." (no line ended between them).
_INSIDE = re.compile(
    rf"[.!?][\"')\]\u201d\u2019{CALLS}]*\d{{0,3}}\s+(?P<number>\d{{1,3}}(?:\.\d{{1,3}}){{1,2}})\."
    r"(\s+(?=[A-Z\u201c\"'(])|$)"
)


def _starting_inside(text: str, number: str) -> list[tuple[int, str]]:
    """The paragraphs that start inside a block of paragraph `number`, where its text holds
    their numbers after a sentence's end, each the next in order after the one before (4.20,
    then 4.21): (offset, number). A number written with its stop only, as such paragraphs
    are ("4.21."), not a figure ("in 2019. 2.3 million")."""
    if not number[0].isdigit():
        return []  # "Recommendation 7": no number in parts for the next to follow
    found = []
    last = tuple(int(x) for x in number.split("."))
    for match in _INSIDE.finditer(text):
        if ends_in_abbreviation(text[: match.start("number")].rstrip()):
            continue  # a reference: "as set out at para. 4.21. The committee", "Fig. 4.20."
        n = tuple(int(x) for x in match.group("number").split("."))
        if _follows(last, n):
            found.append((match.start("number"), match.group("number")))
            last = n
    return found


def _opening(text: str) -> re.Match | None:
    """The number a block opens with as a paragraph's: before its text, or alone."""
    return _PARAGRAPH.match(text) or _LONE_PARAGRAPH.match(text)


def _numbered_title(text: str) -> bool:
    """A numbered line that heads what follows rather than saying anything: one short line
    with no stop at its end, most of its words capitalised ("1.1. Training & Employment").
    It numbers a section, and the paragraphs under it are not its paragraph."""
    if "\n" in text or len(text) > 80 or len(text.split()) > 12:
        return False
    if without_calls(text).rstrip("\"')\u201d\u2019").endswith(_STOPS):
        return False
    return _title_cased(text)


def _longest_run(numbers: list[tuple[int, ...]]) -> list[int]:
    """The places of the longest run in which each number follows the one before it."""
    best = [1] * len(numbers)
    before = [-1] * len(numbers)
    for j in range(len(numbers)):
        for i in range(max(0, j - 60), j):
            if best[i] + 1 > best[j] and _follows(numbers[i], numbers[j]):
                best[j], before[j] = best[i] + 1, i
    j = best.index(max(best))
    run = []
    while j >= 0:
        run.append(j)
        j = before[j]
    return run[::-1]


def _follows(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether paragraph number b can come next after a: a little further on at the first
    place they differ, and starting low below it (2.4 -> 2.5, 2.9 -> 3.1, 5.1 -> 5.1.1)."""
    for k, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return 0 < y - x <= 3 and all(z <= 3 for z in b[k + 1 :])
    return len(b) > len(a) and all(z <= 3 for z in b[len(a) :])


def chunk_document(document: LoadedDocument, count: TokenCounter, max_tokens: int) -> list[Chunk]:
    """Returns the document's chunks in reading order, each within max_tokens model tokens.

    Blocks are packed whole; a chunk never spans two sections.
    """
    blocks = _line_blocks(document) if document.layout == "lines" else _paragraph_blocks(document)
    blocks = _with_notes(blocks, document)
    chunks: list[Chunk] = []
    current: list[Block] = []
    numbers: dict[int, str] = {}  # id(block) -> the numbered paragraph it belongs to
    inside: dict[int, list[tuple[int, str]]] = {}  # id(block) -> paragraphs starting in it
    used = 0
    current_section = ""
    labels = document.page_labels
    ocr = {p.number: p.ocr for p in document.pages if p.ocr is not None}

    def label(page: int) -> str:
        return labels[page - 1] if 0 < page <= len(labels) else ""

    def confidence(start: int, end: int) -> float:
        read = [ocr[n] for n in range(start, end + 1) if n in ocr]
        return min(read) if read else 0.0

    def flush() -> None:
        if not current:
            return
        position = len(chunks)
        text, spans, pages = "", [], []
        for i, b in enumerate(current):
            text += "" if i == 0 else " " if b.continues else "\n"
            start = len(text)
            text += b.text
            if numbers.get(id(b)):
                # a paragraph whose number stands inside the block starts there
                starts = [(start, numbers[id(b)])]
                starts += [(start + at, number) for at, number in inside.get(id(b), ())]
                ends = [at for at, _ in starts[1:]] + [len(text)]
                spans += [(a, z, n) for (a, n), z in zip(starts, ends, strict=True)]
            pages.append((start, b.page_start, b.page_end, label(b.page_start), label(b.page_end)))
        start_page, end_page = current[0].page_start, max(b.page_end for b in current)
        chunks.append(
            Chunk(
                chunk_id=f"{document.doc_id}-{position:05d}",
                doc_id=document.doc_id,
                text=text,
                page_start=start_page,
                page_end=end_page,
                section=current_section,
                position=position,
                paragraphs=tuple(spans),
                labels=(label(start_page), label(end_page)),
                ocr=confidence(start_page, end_page),
                page_spans=tuple(pages) if start_page != end_page else (),
            )
        )
        current.clear()

    paragraph, under = "", None
    numbered_on = 0  # the page the current numbered paragraph starts on

    # Text under a guessed heading this small (infobox and table fragments, mostly) shares a
    # chunk with what follows on the same page rather than standing alone.
    small = max_tokens // 6
    placed: Block | None = None  # a guessed heading whose words went into the current chunk
    units = list(_units(blocks, count, max_tokens))
    paragraph_starts = _numbered_paragraphs([b for b, _, _ in units if not b.note])
    for block, n, heading in units:
        fragment = (
            heading.guessed and used < small and block.page_start == current[-1].page_end
            if current
            else False
        )
        new_section = heading.text != current_section and not fragment
        # Text read by OCR is never in a chunk with text from a text layer: its citation says so.
        switch = bool(current) and (block.page_start in ocr) != (current[0].page_start in ocr)
        # A fragment under another heading brings the heading's words with it: they count too.
        joining = fragment and bool(heading.text) and placed is not heading
        extra = count([heading.text])[0] + 1 if joining and not switch else 0
        if current and (new_section or switch or used + n + extra > max_tokens):
            flush()
            used = 0
            placed = None
        if not current:
            current_section = heading.text
        elif heading.text != current_section and heading.text and placed is not heading:
            # A fragment joins this chunk under another section: its heading's words go too.
            current.append(Block(heading.text, heading.page_start, heading.page_end))
            used += count([heading.text])[0] + 1
            placed = heading
        # A numbered paragraph ("26. A third challenge ...", "2.4 The ...", "Recommendation
        # 7") runs on through unnumbered blocks (quotes, lists) until the next number or heading.
        if heading is not under:
            under, paragraph = heading, ""
        found = paragraph_starts.get(id(block))
        if found:
            paragraph = found.group("number") or found.group("named")
            numbered_on = block.page_start
        elif _PARAGRAPH.match(block.text) and _numbered_title(block.text):
            paragraph = ""  # a numbered section's title: what follows is not the paragraph before
        elif paragraph and block.page_start > numbered_on + 1:
            # A paragraph may run over a page, not over several: text this far on under no
            # new number is not that paragraph's (a numbered heading or list that stopped).
            paragraph = ""
        if block.note:
            numbers[id(block)] = f"note {block.note}"
        else:
            # A block opening on a bare number ("320 BC 127.", "21 London Economics, ...") is
            # a note at the page's foot: the paragraph above it runs on past it, not into it.
            noted = not found and bool(_NOTE_AT_FOOT.match(block.text))
            numbers[id(block)] = "" if noted else paragraph
            starting = _starting_inside(block.text, paragraph) if paragraph and not noted else []
            if starting:
                inside[id(block)] = starting
                paragraph, numbered_on = starting[-1][1], block.page_end
        current.append(block)
        used += n + 1
    flush()
    return _without_repeats(chunks)


REPEATS = 3
"""A chunk met word for word this many times in one document is a template's (a chart's labels
and notes on every slide), kept once."""


def _without_repeats(chunks: list[Chunk]) -> list[Chunk]:
    """The chunks with each one the document repeats word for word REPEATS times or more kept
    only where it is first met: the copies say nothing it does not, and each would take a
    place among a search's results."""
    key = [" ".join(c.text.split()) for c in chunks]
    met = Counter(key)
    kept, seen = [], set()
    for c, k in zip(chunks, key, strict=True):
        if met[k] < REPEATS or k not in seen:
            kept.append(c)
        seen.add(k)
    if len(kept) == len(chunks):
        return chunks
    return [replace(c, chunk_id=f"{c.doc_id}-{i:05d}", position=i) for i, c in enumerate(kept)]
