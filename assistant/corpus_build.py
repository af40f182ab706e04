"""The starter corpus: Markdown sources in corpus/sources/ built into real, multi-page PDFs.

The subset of Markdown: `#` title, `##`/`###` headings (they go into the PDF's outline),
paragraphs, `-` and `1.` lists, `|` tables, `**bold**`, and `---` for a page break.
Output is byte-for-byte repeatable, so rebuilding unchanged sources changes nothing in the
index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

AUTHOR = "Evidence assistant project (summary; not the official text)"


@dataclass
class Source:
    """One Markdown source, parsed into a title and a list of (kind, payload) parts."""

    title: str
    parts: list[tuple[str, object]] = field(default_factory=list)


def parse_markdown(text: str) -> Source:
    """Parses the Markdown subset; raises ValueError naming the line of anything else."""
    title = ""
    parts: list[tuple[str, object]] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_kind = ""
    rows: list[list[str]] = []

    def close() -> None:
        nonlocal paragraph, items, rows, list_kind
        if paragraph:
            parts.append(("p", " ".join(paragraph)))
        if items:
            parts.append((list_kind, items))
        if rows:
            parts.append(("table", rows))
        paragraph, items, rows, list_kind = [], [], [], ""

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            close()
            continue
        if line == "---":
            close()
            parts.append(("pagebreak", None))
            continue
        heading = re.match(r"^(#{1,3})\s+(.+)$", line)
        bullet = re.match(r"^[-*]\s+(.+)$", line)
        numbered = re.match(r"^\d+\.\s+(.+)$", line)
        if heading:
            close()
            level = len(heading.group(1))
            if level == 1:
                if title:
                    raise ValueError(f"line {number}: a second '# ' title")
                title = heading.group(2).strip()
            else:
                parts.append((f"h{level}", heading.group(2).strip()))
        elif line.startswith("|"):
            if paragraph or items:
                close()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                rows.append(cells)
        elif bullet or numbered:
            kind = "ul" if bullet else "ol"
            if paragraph or rows or (items and list_kind != kind):
                close()
            list_kind = kind
            items.append((bullet or numbered).group(1))
        elif items and raw.startswith("  "):
            items[-1] += " " + line  # a list item running over lines
        else:
            if items or rows:
                close()
            paragraph.append(line)
    close()
    if not title:
        raise ValueError("no '# ' title line")
    return Source(title, parts)


def _inline(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escape(text))


def build_pdf(source_path: Path, target: Path, subject: str = "") -> int:
    """Writes the PDF for one Markdown source; returns its page count."""
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        ListFlowable,
        ListItem,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    rl_config.invariant = 1  # no timestamps or random ids: the same source, the same bytes
    source = parse_markdown(source_path.read_text(encoding="utf-8"))
    styles = getSampleStyleSheet()
    body = ParagraphStyle(
        "body",
        parent=styles["BodyText"],
        fontName="Helvetica",
        fontSize=10.5,
        leading=15,
        spaceAfter=6,
    )
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11, spaceAfter=0)
    head = {
        "title": ParagraphStyle("title", parent=styles["Title"], fontSize=17, leading=21),
        "h2": ParagraphStyle(
            "h2", parent=styles["Heading2"], fontSize=13, leading=16, spaceBefore=10
        ),
        "h3": ParagraphStyle(
            "h3", parent=styles["Heading3"], fontSize=11, leading=14, spaceBefore=8
        ),
    }

    class Document(SimpleDocTemplate):
        def afterFlowable(self, flowable) -> None:
            level = getattr(flowable, "outline_level", None)
            if level is not None:
                key = f"s{id(flowable)}"
                self.canv.bookmarkPage(key)
                self.canv.addOutlineEntry(flowable.getPlainText(), key, level=level)

    short = source.title if len(source.title) <= 60 else source.title[:57].rsplit(" ", 1)[0] + "..."

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(15 * mm, 9 * mm, short)
        canvas.drawRightString(A5[0] - 15 * mm, 9 * mm, f"Page {doc.page}")
        canvas.restoreState()

    story = [Paragraph(_inline(source.title), head["title"]), Spacer(1, 4)]
    for kind, payload in source.parts:
        if kind == "pagebreak":
            story.append(PageBreak())
        elif kind in ("h2", "h3"):
            heading = Paragraph(_inline(str(payload)), head[kind])
            heading.outline_level = 0 if kind == "h2" else 1
            story.append(heading)
        elif kind == "p":
            story.append(Paragraph(_inline(str(payload)), body))
        elif kind in ("ul", "ol"):
            story.append(
                ListFlowable(
                    [ListItem(Paragraph(_inline(i), body), leftIndent=12) for i in payload],
                    bulletType="bullet" if kind == "ul" else "1",
                    start="\u2022" if kind == "ul" else 1,
                    leftIndent=12,
                    bulletFontSize=8,
                )
            )
        elif kind == "table":
            data = [[Paragraph(_inline(c), cell) for c in row] for row in payload]
            table = Table(data, repeatRows=1, hAlign="LEFT")
            table.setStyle(
                TableStyle(
                    [
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecef")),
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5ad")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story += [table, Spacer(1, 8)]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".pdf.partial")
    doc = Document(
        str(partial),
        pagesize=A5,
        title=source.title,
        author=AUTHOR,
        subject=subject,
        creator="assistant corpus build",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=17 * mm,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    partial.replace(target)
    return doc.page


def build_corpus(corpus_dir: Path) -> list[tuple[Path, int]]:
    """Builds every corpus/sources/NAME.md into corpus/NAME.pdf; returns (pdf, pages) pairs."""
    from .manifest import read_manifest

    entries = read_manifest(corpus_dir / "manifest.yaml")
    built = []
    for source in sorted((corpus_dir / "sources").glob("*.md")):
        target = corpus_dir / f"{source.stem}.pdf"
        entry = entries.get(target.name, {})
        if isinstance(entry, Exception):  # the manifest's entry for it is wrong
            raise entry
        official = entry.get("official_source")
        subject = f"A summary of: {official}" if official else ""
        built.append((target, build_pdf(source, target, subject)))
    return built
