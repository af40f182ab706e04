"""Words from documents in the Markdown exports: shown as written, never making structure (a
heading, a list, a link, HTML, a table cell) of their own; and the Word exports untouched."""

from __future__ import annotations

import datetime as dt
import io
import re

import docx
from markdown_it import MarkdownIt

from assistant.drafting import Briefing, Comparison, Side, Source
from assistant.exports import (
    Turn,
    briefing_docx,
    briefing_markdown,
    comparison_docx,
    comparison_markdown,
    to_docx,
    to_markdown,
)
from assistant.models import Answer, Citation, DocumentRecord

# What documents have held: each would be a list, a heading, HTML, a link, an image, a table
# cell, an entity, emphasis, strikethrough, a quote, a setext heading or a code block.
HOSTILE = {
    "first": "1. Tidal Scotland: review",
    "second": "# Tidal Wales: <b>a</b> summary",
    "third": "[Tidal](http://example.org) ![map](map.png) | notes #",
    "quote": "- Owned by a *cooperative*, M&amp;S and ~~others~~, see <http://x.org>.",
    "claim": "> Quoted 2) second + more\n===\n\n    indented `code` [a]: http://y.org",
}


def _plain(text: str) -> str:
    """The same words with every mark a letter and no indent: what can make no structure."""
    return "\n".join(line.strip() for line in re.sub(r"[^\w\s]", "x", text).split("\n"))


def _citation(n: int, title: str, quote: str) -> Citation:
    return Citation(n, f"d{n}", title, f"/c/d{n}.pdf", 1, 1, "", quote, 0.5, True)


def _record(words: dict[str, str]) -> dict:
    return {
        "question": words["second"],
        "documents": [{"file": None, "title": words["first"]}, {"file": "d2.pdf", "title": ""}],
        "settings": {"top_k": 6},
    }


def _briefing(words: dict[str, str], documents: int = 3) -> Briefing:
    """A briefing note whose titles, quotes and claims are `words`."""
    titles = [words["first"], words["second"], words["third"]][:documents]
    sources = [
        Source(1, "c1", [_citation(1, titles[0], words["quote"])]),
        Source(2, "c2", [_citation(2, titles[-1], words["first"])]),
    ]
    text = f"{words['first']} began in 2012 [1].\n\n{words['claim']} [2]."
    return Briefing(
        f"tidal lagoons {words['second']}",
        dt.datetime(2026, 1, 2, 3, 4),
        [Side("Wales", None, text, "Wales"), Side("Scotland", None, "", "Scotland")],
        [],
        [],
        [DocumentRecord(f"d{i}", f"/c/d{i}.pdf", t, 1, 1, "", 1) for i, t in enumerate(titles)],
        sources,
        _record(words),
    )


def _comparison(words: dict[str, str]) -> Comparison:
    """A comparison across documents whose rows, cells and titles are `words`."""
    sources = [Source(1, "c1", [_citation(1, words["second"], words["quote"])])]
    sides = [
        Side(words["second"], None, f"{words['claim']} [1].", "d1"),
        Side(words["first"], None, "", "d2"),
    ]
    return Comparison(
        words["quote"],
        "document",
        dt.datetime(2026, 1, 2, 3, 4),
        sides,
        [words["third"]],
        sources,
        _record(words),
    )


def _turns(words: dict[str, str]) -> list[Turn]:
    citations = [_citation(1, words["second"], words["quote"])]
    text = f"{words['claim']} [1]. {words['first']} [1]."
    answer = Answer("q", "q", text, False, citations, [], "extractive", strength="weak")
    answer.confidence = 0.2  # the strength line is the export's own words, never escaped
    return [Turn(words["third"], answer)]


def _shape(markdown: str) -> list:
    """The structure Markdown (CommonMark with tables) reads: every block, and every inline
    part but plain text."""
    shape = []
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        if token.type == "inline":
            kinds = (c.type for c in token.children)
            shape.append(tuple(k for k in kinds if k not in ("text", "text_special")))
        else:
            shape.append(token.type)
    return shape


def _shown(markdown: str) -> str:
    """The text a reader of the rendered Markdown sees, block by block."""
    parsed = MarkdownIt("commonmark").enable("table").parse(markdown)
    return "\n".join(
        "".join(c.content if c.type != "softbreak" else "\n" for c in token.children)
        for token in parsed
        if token.type == "inline"
    )


def _check_as_written(make) -> str:
    """Asserts the export of hostile words has the structure of the export of plain ones, and
    shows each hostile line as written; returns the hostile export."""
    hostile = make(HOSTILE)
    plain = make({k: _plain(v) for k, v in HOSTILE.items()})
    assert _shape(hostile) == _shape(plain)
    shown = _shown(hostile)
    for words in HOSTILE.values():
        for line in words.split("\n"):
            assert line.strip() in shown
    return hostile


def test_a_briefing_shows_document_words_as_written_and_keeps_its_own_structure():
    markdown = _check_as_written(lambda w: briefing_markdown(_briefing(w)))
    # the note's own structure and citation markers are still there
    assert "\n## Evidence\n" in markdown and "\n### Wales\n" in markdown
    assert "began in 2012 [1]." in markdown and "\n## Sources\n\n1. " in markdown
    assert re.search(r"^1\. 1\\\. Tidal Scotland", markdown, re.M)


def test_a_comparison_table_keeps_three_cells_whatever_the_documents_hold():
    markdown = _check_as_written(lambda w: comparison_markdown(_comparison(w)))
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Document | Answer | Cited evidence |"
    assert "\\<b>a\\</b>" in rows[1] and "| [1] # Tidal Wales" in rows[1]
    assert "Not compared, their passages ranked lower: \\[Tidal\\]" in markdown


def test_a_conversation_export_shows_document_words_as_written():
    markdown = _check_as_written(lambda w: to_markdown(_turns(w)))
    assert " [1]. 1. Tidal Scotland: review [1]." in markdown
    assert "\n\nEvidence: weak (P = 0.20)\n\n" in markdown


def test_the_background_heading_counts_one_document_or_several():
    assert "## Background: the document this note draws on\n" in briefing_markdown(
        _briefing(HOSTILE, documents=1)
    )
    assert "## Background: the 3 documents this note draws on\n" in briefing_markdown(
        _briefing(HOSTILE)
    )


def _word_text(data: bytes) -> list[str]:
    document = docx.Document(io.BytesIO(data))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return [p.text for p in document.paragraphs] + cells


def test_word_exports_show_document_words_with_no_markdown_escapes():
    for data in (
        briefing_docx(_briefing(HOSTILE)),
        comparison_docx(_comparison(HOSTILE)),
        to_docx(_turns(HOSTILE), records=[_record(HOSTILE)]),
    ):
        text = _word_text(data)
        assert not any("\\" in t for t in text)
        assert any(HOSTILE["second"] in t for t in text)
        assert f"Documents used: {HOSTILE['first']}, d2.pdf" in text
        assert 'Settings: {"top_k": 6}' in text
