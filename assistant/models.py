"""The data types that travel between the stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Layout = Literal["lines", "blocks"]
"""How a page's text is laid out: visual lines from a PDF, or blank-line separated blocks."""

MetaValue = str | int | float | bool


@dataclass(frozen=True)
class Page:
    """One page of a document; `number` is 1-based, as a PDF reader prints it."""

    number: int
    text: str


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
        }

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.failed)} failed; {self.pages} pages, {self.chunks} chunks "
            f"in {self.seconds:.1f} s"
        )


def page_label(start: int, end: int) -> str:
    """`p. 3`, or `pp. 3-4` for a span."""
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def pages(self) -> str:
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def pages(self) -> str:
        return page_label(self.page_start, self.page_end)


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "composer": self.composer,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "notes": self.notes,
        }
