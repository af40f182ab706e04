"""Exports: a conversation, a briefing note or a comparison as Markdown or as a Word document,
with the citations as one numbered list of sources (document, page or paragraph, quote) and
the answer record that says what it was made from."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .citations import MARKER
from .models import QUOTE_CHECK_MEANING, Answer, Citation

if TYPE_CHECKING:
    from .drafting import Briefing, Comparison, Source

PREPARED = "Drafted from the indexed documents only; every claim cites its source."
# What no Word file (XML) can hold, and no terminal should be sent: control characters other
# than tab and newline (a question typed with one, a document title or page label carrying a
# terminal escape), lone surrogates and the two non-characters XML forbids.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    """A value as text that an export can hold: without the characters of _NOT_TEXT (python-docx
    refuses them, and the whole export would fail)."""
    return _NOT_TEXT.sub("", str(value))


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: the question asked and the answer given."""

    question: str
    answer: Answer | None
    """None for a question that could not be asked (the chat keeps its place)."""
    record: dict[str, Any] | None = None
    """What the answer was made from, kept when it was made (see record.answer_record)."""


def _sources(answer: Answer) -> list[list[Citation]]:
    """Each source an answer cites, in order, with every distinct quote the answer took from it."""
    seen: dict[int, dict[str, Citation]] = {}
    for citation in answer.citations:
        seen.setdefault(citation.n, {}).setdefault(citation.quote, citation)
    return [list(seen[n].values()) for n in sorted(seen)]


def _quotes(citations: Sequence[Citation]) -> str:
    """Each quote of one source, with its own page or paragraph where that differs from the
    first's."""
    first = citations[0]
    return " ".join(
        _quote(c) + (f" ({c.where})" if c.where != first.where else "") for c in citations
    )


def _numbered(
    turns: Sequence[Turn],
) -> list[tuple[Turn, str, list[tuple[int, list[Citation]]]]]:
    """Renumbers every turn's [n] into one running list of sources for the whole export."""
    out, counter = [], 0
    for turn in turns:
        mapping: dict[int, int] = {}
        sources = []
        for quoted in _sources(turn.answer):
            counter += 1
            mapping[quoted[0].n] = counter
            sources.append((counter, quoted))
        text = MARKER.sub(
            lambda m, new=mapping: f" [{new.get(int(m.group(1)), m.group(1))}]",
            turn.answer.answer,
        )
        out.append((turn, text, sources))
    return out


def evidence_line(answer: Answer) -> str:
    """How strong the answer's evidence is, worded as the chat shows it ("Evidence: weak
    (P = 0.20)"), so that an answer reads as no surer once exported; empty for a refusal,
    which answers nothing, or where no strength was judged."""
    if answer.refused or not answer.strength:
        return ""
    return f"Evidence: {answer.evidence()}"


def _cited(c: Citation) -> str:
    section = f", {c.section}" if c.section else ""
    origin = f" ({c.provenance})" if c.provenance else ""
    return f"{c.title}{origin}, {c.where}{section}"


def _quote(c: Citation) -> str:
    mark = "" if c.supported else " (quote not found in the passage)"
    return f"\u201c{c.quote}\u201d{mark}"


def _source_text(source: Source) -> tuple[str, str]:
    """(where, quotes) of a pooled source: the first quote's place, then each quote, with
    its own page or paragraph where that differs."""
    return _cited(source.first), _quotes(source.citations)


def _prepared(when: dt.datetime) -> str:
    return f"Prepared {when:%d %B %Y, %H:%M}. {PREPARED} {QUOTE_CHECK_MEANING}"


def _record_facts(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of each line of the answer record, for Markdown and Word alike."""
    documents = ", ".join(d["file"] or d["title"] for d in record.get("documents", []))
    return [
        ("Asked", str(record.get("question", ""))),
        ("At", str(record.get("at", ""))),
        ("Index version", str(record.get("index_version", ""))),
        ("Documents used", documents or "none"),
        ("Passages used", str(len(record.get("passages", [])))),
        (
            "Searched in",
            "; ".join(
                f"{name} {', '.join(map(str, values))}"
                for name, values in (record.get("filters") or {}).items()
            )
            or "all the indexed documents",
        ),
        (
            "Composer",
            f"{', '.join(record.get('composer', []))}; answer selector "
            f"{record.get('selector', '')}",
        ),
        ("Settings", json.dumps(record.get("settings", {}), sort_keys=True, default=str)),
    ]


def _record_lines(record: dict[str, Any] | None) -> list[str]:
    """The answer record in Markdown: the question and document titles shown as written, the
    settings as code."""
    if not record:
        return []
    lines = [
        f"- {label}: `{value}`" if label == "Settings" else f"- {label}: {_inline(value)}"
        for label, value in _record_facts(record)
    ]
    return ["## Answer record", "", *lines, ""]


def to_markdown(
    turns: Sequence[Turn],
    title: str = "Evidence briefing",
    records: Sequence[dict[str, Any]] = (),
) -> str:
    """The conversation as Markdown: each question and answer, the numbered sources, and the
    answer records."""
    lines = [
        f"# {_heading(title)}",
        "",
        f"Prepared {dt.date.today():%d %B %Y} from the indexed documents. "
        f"Every claim cites its source. {QUOTE_CHECK_MEANING}",
        "",
    ]
    all_sources: list[tuple[int, list[Citation]]] = []
    for turn, text, sources in _numbered(turns):
        lines += [f"## {_heading(turn.question)}", "", _as_written(text.strip()), ""]
        strength = evidence_line(turn.answer)
        lines += [strength, ""] if strength else []
        all_sources += sources
    if all_sources:
        lines += ["## Sources", ""]
        for n, quoted in all_sources:
            lines.append(f"{n}. {_as_written(f'{_cited(quoted[0])}: {_quotes(quoted)}')}")
        lines.append("")
    for record in records:
        lines += _record_lines(record)
    return _text("\n".join(lines).rstrip() + "\n")


def _word(title: str, author: str, record: dict[str, Any] | None):
    """A new Word document whose properties name the title, the author and now."""
    import docx

    document = docx.Document()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    properties = document.core_properties
    properties.title = _text(title)
    properties.author = _text(author)
    properties.last_modified_by = _text(author)
    properties.created = now
    properties.modified = now
    properties.revision = 1
    properties.subject = _text(record.get("question", "")) if record else ""
    properties.keywords = "evidence; briefing"
    properties.comments = _text(
        f"{PREPARED} Index version {record.get('index_version', '')}." if record else PREPARED
    )
    document.add_heading(_text(title), level=0)
    return document


def _word_sources(document, sources: Sequence[tuple[int, str, str]]) -> None:
    from docx.shared import Pt

    if not sources:
        return
    document.add_heading("Sources", level=1)
    for n, where, quotes in sources:
        paragraph = document.add_paragraph(style="List Number")
        paragraph.add_run(_text(f"[{n}] {where}. ")).bold = True
        run = paragraph.add_run(_text(quotes))
        run.italic = True
        run.font.size = Pt(10)


def _word_record(document, record: dict[str, Any] | None) -> None:
    if not record:
        return
    document.add_heading("Answer record", level=1)
    for label, value in _record_facts(record):
        document.add_paragraph(_text(f"{label}: {value}"), style="List Bullet")


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _flat(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()


# In words from a document, each character Markdown could read as markup: emphasis, code,
# links and images, raw HTML, table cells, strikethrough and backslash escapes; "&" only where
# it begins an entity. A citation marker such as [3] is kept (it is the draft's own, and no
# link definition can form, as a line never starts with "["), unless "(" makes it a link.
_INLINE = re.compile(r"(?P<marker>\[\d+\](?!\())|[\\`*_<\[\]|~]|&(?=#?\w+;)|!(?=\[)")
# What at the start of a line makes it a heading, quote, list, rule, setext underline or
# link definition (a number's list marker is its full stop or bracket, see _line).
_BLOCK = re.compile(r"^[#>+=\-\[]")
_NUMBERED = re.compile(r"^\d{1,9}(?=[.)])")


def _inline(text: str) -> str:
    """Words from a document for the middle of a Markdown line (a table cell, after a list
    marker): every character that could make emphasis, code, a link, HTML or a cell escaped,
    so that it is shown as written; the draft's citation markers stay as they are."""
    return _INLINE.sub(lambda m: m.group() if m.group("marker") else "\\" + m.group(), text)


def _line(line: str) -> str:
    """One line of a document's words as a Markdown line: escaped as by _inline, and with
    whatever at its start would make a heading, quote, list or rule escaped too. Leading and
    trailing blanks go, so that no indent makes a code block and no two spaces a line break."""
    line = _inline(line.strip())
    number = _NUMBERED.match(line)
    if number:  # "1. Tidal Scotland": escape the full stop, not the number
        return f"{number.group()}\\{line[number.end() :]}"
    return "\\" + line if _BLOCK.match(line) else line


def _as_written(text: str) -> str:
    """Words from a document (titles, quotes, claims) in Markdown, as the document wrote them:
    nothing in them can make a heading, a list, a link, HTML or emphasis. Paragraph breaks
    stay; the structure around them is the draft's own."""
    return "\n".join(_line(line) for line in text.split("\n"))


def _heading(text: str) -> str:
    """A title or question as the words of a Markdown heading: escaped as by _inline, and its
    hashes too, which at the end would be taken for the heading's closing."""
    return _inline(text).replace("#", "\\#")


def to_docx(
    turns: Sequence[Turn],
    title: str = "Evidence briefing",
    author: str = "Evidence assistant",
    records: Sequence[dict[str, Any]] = (),
) -> bytes:
    """The conversation as a Word document, with the sources as a numbered list."""
    document = _word(title, author, records[0] if records else None)
    document.add_paragraph(
        f"Prepared {dt.date.today():%d %B %Y} from the indexed documents. "
        f"Every claim cites its source. {QUOTE_CHECK_MEANING}"
    )
    all_sources: list[tuple[int, str, str]] = []
    for turn, text, sources in _numbered(turns):
        document.add_heading(_text(turn.question), level=1)
        for block in text.split("\n\n"):  # each part, and each document's evidence, apart
            if block.strip():
                document.add_paragraph(_text(re.sub(r"\s+", " ", block).strip()))
        strength = evidence_line(turn.answer)
        if strength:
            document.add_paragraph(strength)
        all_sources += [(n, _cited(quoted[0]), _quotes(quoted)) for n, quoted in sources]
    _word_sources(document, all_sources)
    for record in records:
        _word_record(document, record)
    return _save(document)


# Briefing notes --------------------------------------------------------------------------


def _briefing_sections(b: Briefing) -> list[tuple[str, list[str], bool]]:
    """(heading, paragraphs, as bullets) in the order a briefing note reads."""
    from .drafting import background_line

    if not b.covered:
        return [
            (
                "Summary",
                [
                    f"The indexed documents do not cover {b.topic}. "
                    + " ".join(n for n in b.notes if n)
                ],
                False,
            )
        ]
    sections = [("Summary", b.summary, True)]
    sections.append(
        (
            f"Background: {_documents(len(b.documents))} this note draws on",
            [background_line(r) for r in b.documents],
            True,
        )
    )
    sections.append(("Evidence", [], False))
    for side in b.sides:
        sections.append(
            (
                f"## {side.name}",
                [side.text or "Nothing found on this in the documents from here."],
                False,
            )
        )
    answered = [s for s in b.aspects if s.found]
    if answered:
        sections.append(("Questions a reader may ask", [], False))
        for side in answered:
            sections.append((f"## {side.name[:1].upper()}{side.name[1:]}", [side.text], False))
    if b.lessons:
        sections.append(
            (
                "Lessons",
                [
                    f"{lesson.title} ({lesson.id}): {lesson.statement} The evidence: {lesson.claim}"
                    for lesson in b.lessons
                ],
                True,
            )
        )
    sections.append(("Gaps", b.gaps or ["None found for the questions asked."], True))
    return sections


def _documents(count: int) -> str:
    """ "the document" or "the N documents", for the Background heading."""
    return "the document" if count == 1 else f"the {count} documents"


def briefing_markdown(b: Briefing) -> str:
    lines = [
        f"# {_heading(b.title)}",
        "",
        _prepared(b.prepared),
        "",
    ]
    for heading, paragraphs, bullets in _briefing_sections(b):
        level = "###" if heading.startswith("## ") else "##"
        lines += [f"{level} {_heading(heading.removeprefix('## '))}", ""]
        if bullets:
            lines += [f"- {_as_written(p)}" for p in paragraphs] + [""]
        else:
            for paragraph in paragraphs:
                lines += [_as_written(paragraph), ""]
    lines += _markdown_sources(b.sources)
    lines += _record_lines(b.record)
    return _text("\n".join(lines).rstrip() + "\n")


def _markdown_sources(sources: Sequence[Source]) -> list[str]:
    if not sources:
        return []
    lines = ["## Sources", ""]
    for s in sources:
        where, quotes = _source_text(s)
        lines.append(f"{s.n}. {_as_written(f'{where}: {quotes}')}")
    return lines + [""]


def briefing_docx(b: Briefing, author: str = "Evidence assistant") -> bytes:
    document = _word(b.title, author, b.record)
    document.add_paragraph(_prepared(b.prepared))
    for heading, paragraphs, bullets in _briefing_sections(b):
        sub = heading.startswith("## ")
        document.add_heading(_text(heading.removeprefix("## ")), level=2 if sub else 1)
        for paragraph in paragraphs:
            for block in paragraph.split("\n\n"):
                document.add_paragraph(
                    _text(_flat(block)), style="List Bullet" if bullets else None
                )
    _word_sources(document, [(s.n, *_source_text(s)) for s in b.sources])
    _word_record(document, b.record)
    return _save(document)


# Comparisons ------------------------------------------------------------------------------


def _row_text(text: str) -> str:
    from .drafting import NOT_FOUND

    return _flat(text.replace("\n\n", " ")) if text else NOT_FOUND


def _row_evidence(side, sources: Sequence[Source]) -> str:
    by_n = {s.n: s for s in sources}
    numbers = dict.fromkeys(int(n) for n in MARKER.findall(side.text))
    return "; ".join(f"[{n}] {_cited(by_n[n].first)}" for n in numbers if n in by_n) or "-"


def comparison_markdown(c: Comparison) -> str:
    def cell(text: str) -> str:
        return _inline(text.replace("\n", " "))

    lines = [
        f"# {_heading(c.title)}",
        "",
        _prepared(c.prepared),
        "",
        f"| {c.across.capitalize()} | Answer | Cited evidence |",
        "|---|---|---|",
    ]
    for side in c.sides:
        lines.append(
            f"| {cell(side.name)} | {cell(_row_text(side.text))} | "
            f"{cell(_row_evidence(side, c.sources))} |"
        )
    lines.append("")
    if c.elsewhere:
        titles = _inline("; ".join(c.elsewhere))
        lines += [f"Not compared, their passages ranked lower: {titles}.", ""]
    lines += _markdown_sources(c.sources)
    lines += _record_lines(c.record)
    return _text("\n".join(lines).rstrip() + "\n")


def comparison_docx(c: Comparison, author: str = "Evidence assistant") -> bytes:
    document = _word(c.title, author, c.record)
    document.add_paragraph(_prepared(c.prepared))
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells, (c.across.capitalize(), "Answer", "Cited evidence"), strict=True
    ):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for side in c.sides:
        cells = table.add_row().cells
        cells[0].text = _text(side.name)
        cells[1].text = _text(_row_text(side.text))
        cells[2].text = _text(_row_evidence(side, c.sources))
    if c.elsewhere:
        document.add_paragraph(
            _text(f"Not compared, their passages ranked lower: {'; '.join(c.elsewhere)}.")
        )
    _word_sources(document, [(s.n, *_source_text(s)) for s in c.sources])
    _word_record(document, c.record)
    return _save(document)
