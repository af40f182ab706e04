"""Briefing exports: a conversation or one answer as Markdown or a Word document, with the
citations as a numbered list of sources (document, page, quote)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .citations import MARKER
from .models import QUOTE_CHECK_MEANING, Answer, Citation


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: the question asked and the answer given."""

    question: str
    answer: Answer


def _sources(answer: Answer) -> list[Citation]:
    seen: dict[int, Citation] = {}
    for citation in answer.citations:
        seen.setdefault(citation.n, citation)
    return [seen[n] for n in sorted(seen)]


def _numbered(turns: Sequence[Turn]) -> list[tuple[Turn, str, list[tuple[int, Citation]]]]:
    """Renumbers every turn's [n] into one running list of sources for the whole export."""
    out, counter = [], 0
    for turn in turns:
        mapping: dict[int, int] = {}
        sources = []
        for citation in _sources(turn.answer):
            counter += 1
            mapping[citation.n] = counter
            sources.append((counter, citation))
        text = MARKER.sub(
            lambda m, new=mapping: f" [{new.get(int(m.group(1)), m.group(1))}]",
            turn.answer.answer,
        )
        out.append((turn, text, sources))
    return out


def to_markdown(turns: Sequence[Turn], title: str = "Evidence briefing") -> str:
    """The conversation as Markdown: each question and answer, then the numbered sources."""
    lines = [
        f"# {title}",
        "",
        f"Prepared {dt.date.today():%d %B %Y} from the indexed documents. "
        f"Every claim cites its source. {QUOTE_CHECK_MEANING}",
        "",
    ]
    all_sources: list[tuple[int, Citation]] = []
    for turn, text, sources in _numbered(turns):
        lines += [f"## {turn.question}", "", text.strip(), ""]
        all_sources += sources
    if all_sources:
        lines += ["## Sources", ""]
        for n, c in all_sources:
            section = f", {c.section}" if c.section else ""
            origin = f" ({c.provenance})" if c.provenance else ""
            mark = "" if c.supported else " (quote not found in the passage)"
            lines.append(f"{n}. {c.title}{origin}, {c.where}{section}{mark}: \u201c{c.quote}\u201d")
    return "\n".join(lines).rstrip() + "\n"


def to_docx(turns: Sequence[Turn], title: str = "Evidence briefing") -> bytes:
    """The conversation as a Word document, with the sources as a numbered list."""
    import docx
    from docx.shared import Pt

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=0)
    document.add_paragraph(
        f"Prepared {dt.date.today():%d %B %Y} from the indexed documents. "
        f"Every claim cites its source. {QUOTE_CHECK_MEANING}"
    )
    all_sources: list[tuple[int, Citation]] = []
    for turn, text, sources in _numbered(turns):
        document.add_heading(turn.question, level=1)
        document.add_paragraph(re.sub(r"\s+", " ", text).strip())
        all_sources += sources
    if all_sources:
        document.add_heading("Sources", level=1)
        for n, c in all_sources:
            section = f", {c.section}" if c.section else ""
            origin = f" ({c.provenance})" if c.provenance else ""
            paragraph = document.add_paragraph(style="List Number")
            paragraph.add_run(f"[{n}] {c.title}{origin}, {c.where}{section}. ").bold = True
            quote = paragraph.add_run(f"\u201c{c.quote}\u201d")
            quote.italic = True
            quote.font.size = Pt(10)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
