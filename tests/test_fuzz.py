"""Property tests of the loaders and the chunker on random bytes and random text."""

from __future__ import annotations

import os
import string
import tempfile
from collections import Counter
from pathlib import Path
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import chunking
from assistant.chunking import chunk_document
from assistant.loaders import SUPPORTED_SUFFIXES, LoadError, load_file
from assistant.models import LoadedDocument, Page

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
HEADS = [b"", b"%PDF-1.4\n", b"PK\x03\x04", b"<html><body>", b"# Title\n\n"]


@FUZZ
@given(
    suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)),
    head=st.sampled_from(HEADS),
    body=st.binary(max_size=4000),
)
def test_any_bytes_load_or_fail_with_a_load_error(suffix, head, body):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"random{suffix}"
        path.write_bytes(head + body)
        try:
            document = load_file(path, 10**6)
        except LoadError as err:
            assert str(path) in str(err) and err.reason
            return
        assert document.pages and all(p.number == i + 1 for i, p in enumerate(document.pages))


def _words(n: int) -> int:
    return max(1, n // 4)


def count(texts):
    return [_words(len(t)) for t in texts]


# Text with no Markdown marks (those are format, not words): letters, figures, punctuation.
WORDS = st.text(alphabet=string.ascii_letters + string.digits + ".,;:!?'()%", min_size=1)
LINES = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)
PAGES = st.lists(st.lists(LINES, min_size=1, max_size=8).map("\n".join), min_size=1, max_size=4)


def _document(pages: list[str], layout: str) -> LoadedDocument:
    return LoadedDocument(
        doc_id="f" * 16,
        content_hash="f" * 64,
        source="random",
        title="Random",
        format="txt",
        layout=layout,
        pages=tuple(Page(i + 1, text) for i, text in enumerate(pages)),
    )


def _squeezed(text: str) -> str:
    return "".join(text.split())


@FUZZ
@given(pages=PAGES, limit=st.integers(min_value=8, max_value=200))
def test_every_character_of_a_text_lands_in_a_chunk_in_order(pages, limit):
    # A chunk a document repeats word for word is kept once by design; with that turned off,
    # nothing is lost.
    with patch.object(chunking, "REPEATS", 10**9):
        chunks = chunk_document(_document(pages, "blocks"), count, limit)
    assert _squeezed("".join(c.text for c in chunks)) == _squeezed("".join(pages))
    spans = [(c.page_start, c.page_end) for c in chunks]
    assert all(a <= b for a, b in spans)
    assert spans == sorted(spans)
    assert [c.position for c in chunks] == list(range(len(chunks)))


@FUZZ
@given(pages=PAGES, limit=st.integers(min_value=8, max_value=200))
def test_only_a_chunk_met_three_times_loses_its_later_copies(pages, limit):
    document = _document(pages, "blocks")
    with patch.object(chunking, "REPEATS", 10**9):
        every = [" ".join(c.text.split()) for c in chunk_document(document, count, limit)]
    chunks = chunk_document(document, count, limit)
    met, seen = Counter(every), set()
    expected = []
    for text in every:
        if met[text] < chunking.REPEATS or text not in seen:
            expected.append(text)
        seen.add(text)
    assert [" ".join(c.text.split()) for c in chunks] == expected
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def _numbered_lines(pages: list[str]) -> list[str]:
    """Each line made unique and given a word: a lone figure at a page's edge is its page
    number, and a line on every page is a running head; both are dropped by design."""
    return [
        "\n".join(
            f"Line{string.ascii_lowercase[p]}{string.ascii_lowercase[i]} {line}"
            for i, line in enumerate(page.splitlines())
        )
        for p, page in enumerate(pages)
    ]


@FUZZ
@given(pages=PAGES.map(_numbered_lines), limit=st.integers(min_value=8, max_value=200))
def test_every_word_of_a_pdf_page_lands_in_a_chunk_or_its_heading(pages, limit):
    chunks = chunk_document(_document(pages, "lines"), count, limit)
    found = "".join(_squeezed(c.section) + _squeezed(c.text) for c in chunks)
    for page in pages:
        for word in page.split():
            assert word in found
    spans = [(c.page_start, c.page_end) for c in chunks]
    assert all(a <= b for a, b in spans) and spans == sorted(spans)
