"""The data types that travel between the stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .reliability import Band

Layout = Literal["lines", "blocks"]
"""How a page's text is laid out: visual lines from a PDF, or blank-line separated blocks."""

MetaValue = str | int | float | bool

CALLS = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
"""Superscript digits: how a footnote's call is written in a page's text."""
_SUPERSCRIPT = str.maketrans("0123456789", CALLS)


def superscript(digits: str) -> str:
    """A footnote's number as its call is written: "53" -> "\u2075\u00b3"."""
    return digits.translate(_SUPERSCRIPT)


_CALLS_AS_SPACES = {ord(c): " " for c in CALLS}


def calls_as_spaces(text: str) -> str:
    """The text with each footnote call's digit read as a space, one for one, so that
    character spans stay where they were and a call is not part of the word it follows."""
    return text.translate(_CALLS_AS_SPACES)


def without_calls(text: str) -> str:
    """The text without the footnote calls that end it ("plus VAT.\u2075\u00b3" -> "plus VAT.")."""
    return text.rstrip().rstrip(CALLS).rstrip()


FUNCTION_WORDS = frozenset(
    {"of", "and", "the", "to", "for", "in", "on", "a", "an", "with", "by", "or", "at"}
)
"""English words a sentence does not end on: a line that ends on one runs on."""


def stops_mid_sentence(line: str) -> bool:
    """Whether a line stops where no sentence can: on a comma or a word such as "the"
    ("... excluding the Office of the" / "Inspector General, was ..."), so the next line
    carries it on even where that line starts with a capital."""
    words = line.split()
    return bool(words) and (words[-1] in FUNCTION_WORDS or words[-1].endswith(","))


@dataclass(frozen=True)
class Page:
    """One page of a document; `number` is 1-based, as a PDF reader prints it."""

    number: int
    text: str
    ocr: float | None = None
    """Tesseract's mean word confidence (0-100) where the text came from OCR; None otherwise."""
    notes: tuple[tuple[str, str], ...] = ()
    """The page's footnotes, set apart from its text: (number, note)."""


@dataclass(frozen=True)
class LoadedDocument:
    """A file read into pages, before chunking."""

    doc_id: str
    content_hash: str
    source: str
    title: str
    format: str
    layout: Layout
    pages: tuple[Page, ...]
    outline: tuple[tuple[int, str], ...] = ()
    """(page number, heading) pairs from the file's own outline, where it has one."""
    author: str = ""
    """The author or publisher the file's own metadata names, where it names one."""
    page_labels: tuple[str, ...] = ()
    """Each page's printed label ("iv", "12"), where the PDF gives labels other than 1, 2, 3."""
    created: str = ""
    """The date the file's own metadata gives (YYYY-MM-DD), where it gives one."""
    notes: tuple[str, ...] = ()
    """Pages that were left out, and why ("page 3: OCR unusable (confidence 31%)")."""
    furniture_removed: bool = False
    """Whether the loader already dropped running heads and footers (pdf_layout)."""


@dataclass(frozen=True)
class Chunk:
    """A span of a document, with the pages it covers and the section it falls under."""

    chunk_id: str
    doc_id: str
    text: str
    page_start: int
    page_end: int
    section: str
    position: int
    paragraphs: tuple[tuple[int, int, str], ...] = ()
    """(start, end, number) of the text's numbered paragraphs: "26", "2.4", "Recommendation 7"."""
    labels: tuple[str, str] = ("", "")
    """The printed page labels of its first and last page, where the PDF gives them."""
    ocr: float = 0.0
    """The lowest OCR confidence (0-100) of its pages read by OCR; 0 when none was."""
    page_spans: tuple[tuple[int, int, int, str, str], ...] = ()
    """Where it runs over pages: (offset, first page, last page, their printed labels) of each
    of its blocks, so that a quote is cited at its own page."""

    def embedding_text(self, title: str) -> str:
        """The text the embedding model sees: the chunk with its heading for context."""
        heading = " - ".join(x for x in (title, self.section) if x)
        return f"{heading}\n{self.text}" if heading else self.text


@dataclass(frozen=True)
class DocumentRecord:
    """What the index holds about one document (a row of the ledger)."""

    doc_id: str
    source: str
    title: str
    pages: int
    chunks: int
    ingested_at: str
    size_bytes: int
    content_hash: str = ""
    """The SHA-256 of the file's bytes; doc_id is its first 16 digits."""
    meta: dict[str, MetaValue] = field(default_factory=dict)
    scheme: str = ""
    """The chunking and embedding scheme that made the chunks (see ingest.SCHEME)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FileFailure:
    """A file that could not be ingested, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class IngestReport:
    """The closing summary of one ingest run."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    skipped: list[FileFailure] = field(default_factory=list)
    """Links inside a folder that lead out of it: not followed, and not a failure."""
    warnings: list[FileFailure] = field(default_factory=list)
    """Pages of indexed documents that were left out, each with its reason."""
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "pages": self.pages,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "documents": {
                "added": self.added,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "removed": self.removed,
            },
            "failures": [{"file": f.source, "reason": f.reason} for f in self.failed],
            "skips": [{"file": f.source, "reason": f.reason} for f in self.skipped],
            "warnings": [{"file": f.source, "reason": f.reason} for f in self.warnings],
        }

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.failed)} failed"
            + (f", {len(self.skipped)} skipped" if self.skipped else "")
            + (f", {len(self.warnings)} warnings" if self.warnings else "")
            + f"; {self.pages} pages, {self.chunks} chunks "
            f"in {self.seconds:.1f} s"
        )


def page_label(start: int | str, end: int | str) -> str:
    """`p. 3`, or `pp. 3-4` for a span (printed labels such as `iv` alike)."""
    return f"p. {start}" if start == end else f"pp. {start}-{end}"


@dataclass(frozen=True)
class Passage:
    """A chunk as retrieved for a question: its text, where it comes from, and its scores."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    source: str
    page_start: int
    page_end: int
    section: str
    text: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    meta: dict[str, MetaValue] = field(default_factory=dict)
    labels: tuple[str, str] = ("", "")
    """The printed labels of its first and last page, where the PDF gives them."""
    paragraphs: tuple[tuple[int, int, str], ...] = ()
    """(start, end, number) of its numbered paragraphs."""
    ocr: float = 0.0
    """The lowest OCR confidence of its pages read by OCR; 0 when its text layer was read."""
    page_spans: tuple[tuple[int, int, int, str, str], ...] = ()
    """(offset, first page, last page, labels) of each block where it runs over pages."""
    rank: int = 0
    """Its place in what the search found (1: first), whatever number the answer gives it;
    0 where it was not set (the passages' order is then the search's)."""

    def pages_of(self, start: int, end: int) -> tuple[int, int, str, str]:
        """The pages (and their printed labels) that characters start:end of the text are on."""
        if not self.page_spans or start < 0:
            return self.page_start, self.page_end, *self.labels
        held = [s for s in self.page_spans if s[0] < max(end, start + 1)]
        first = [s for s in held if s[0] <= start][-1:] or held[:1] or [self.page_spans[0]]
        last = held[-1] if held else first[0]
        return first[0][1], last[2], first[0][3], last[4]

    def paragraph_at(self, offset: int) -> str:
        """The number of the numbered paragraph that holds a character offset of the text,
        or ""."""
        for start, end, number in self.paragraphs:
            if start <= offset < end:
                return str(number)
        return ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def pages(self) -> str:
        """As the document prints them (`p. iv`), else the PDF's own numbering."""
        if all(self.labels):
            return page_label(*self.labels)
        return page_label(self.page_start, self.page_end)


@dataclass(frozen=True)
class Citation:
    """`[n]` in an answer: the passage it points at and the exact span quoted from it."""

    n: int
    doc_id: str
    title: str
    source: str
    page_start: int
    page_end: int
    section: str
    quote: str
    score: float
    supported: bool
    """The quote stands in the cited passage (see QUOTE_CHECK): not a judgement of truth."""
    publisher: str = ""
    published: str = ""
    """Who published the document and when, where the manifest or the file says."""
    label_start: str = ""
    label_end: str = ""
    """The printed page labels, where the PDF gives them (page_start stays the PDF's index,
    for opening the file at the page)."""
    paragraph: str = ""
    """The numbered paragraph the quote stands in ("26", "2.4", "Recommendation 7")."""
    ocr: float = 0.0
    """The OCR confidence (0-100) of the passage's text where it was read by OCR, else 0."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def pages(self) -> str:
        """As the document prints them (`p. iv`), else the PDF's own numbering."""
        if self.label_start and self.label_end:
            return page_label(self.label_start, self.label_end)
        return page_label(self.page_start, self.page_end)

    @property
    def where(self) -> str:
        """Pages and paragraph, as an official cites them (`p. 18, para 26`), and whether the
        text was read by OCR (`p. 3, text from OCR, confidence 91%`)."""
        where = self.pages
        if self.paragraph:
            number = self.paragraph
            where += f", {number if number[:1].isalpha() else 'para ' + number}"
        if self.ocr:
            where += f", text from OCR, confidence {self.ocr:.0f}%"
        return where

    @property
    def provenance(self) -> str:
        """`publisher, date` where known, for showing beside the title."""
        return ", ".join(x for x in (self.publisher, self.published) if x)


QUOTE_CHECK = "quote checked"
QUOTE_CHECK_MEANING = (
    "'quote checked' means the quoted words stand in the cited passage of that document. "
    "It does not mean that what the document says is true: check who published it and when."
)


@dataclass
class Answer:
    """The assistant's answer to one question, with its evidence; to_dict() is the JSON contract."""

    question: str
    standalone_question: str
    answer: str
    refused: bool
    citations: list[Citation]
    passages: list[Passage]
    composer: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    strength: str = ""
    """How surely the evidence answers: strong, partial or weak (refused)."""
    confidence: float | None = None
    """The answer selector's P(the evidence answers the question); in careful mode, raised to
    the refusal threshold or lowered under it where the chat model's word decided."""
    judged: float | None = None
    """Careful mode: the chat model's P(a sentence answers), where it judged; else None."""
    filters: dict[str, list[str]] = field(default_factory=dict)
    """What the search was kept to (jurisdictions, documents ...): none, everything."""
    reliability: Band | None = None
    """How often answers as sure were right to questions the selector never saw; None
    for a refusal, in careful mode, or where no table was measured for this selector."""

    def evidence(self) -> str:
        """How strong the answer's evidence is, in words, as the chat, the terminal and exports
        show it: "partial (P = 0.62); 32 of 80 answers as sure as this (P 0.58 to 1.00) to
        questions the selector never saw were right"; empty where none was judged."""
        if not self.strength:
            return ""
        said = self.strength
        said += f" (P = {self.confidence:.2f})" if self.confidence is not None else ""
        said += f"; {self.judgement()}" if self.judged is not None else ""
        return said + (f"; {self.reliability.said()}" if self.reliability else "")

    def judgement(self) -> str:
        """Careful mode's word on the answer, for people; empty where it did not judge."""
        if self.judged is None:
            return ""
        return f"checked in careful mode: the chat model's P(yes) {self.judged:.2f}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.answer,
            "refused": self.refused,
            "strength": self.strength,
            "confidence": self.confidence,
            "judged": self.judged,
            "reliability": self.reliability.to_dict() if self.reliability else None,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "composer": self.composer,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "notes": self.notes,
            "filters": self.filters,
        }
