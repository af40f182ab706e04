"""The lexical (BM25) index, derived from the committed chunks and rebuilt when they change."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import re
import shutil
from collections.abc import Collection, Iterable, Sequence
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from .acronyms import acronym_table
from .models import DocumentRecord, calls_as_spaces
from .store import Store, StoredChunk

logging.getLogger("bm25s").setLevel(logging.WARNING)
_TOKEN = re.compile(r"\w\w+|\d")
SCHEME = "bm25-snowball-5"
"""How chunk texts become index terms; an index made another way is rebuilt."""


@cache
def stopwords() -> frozenset[str]:
    """English stopwords, as bm25s ships them."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(text: str, stop: frozenset[str] | None = None) -> list[str]:
    """Lower-cased word tokens without English stopwords; numbers are kept."""
    stop = stopwords() if stop is None else stop
    text = calls_as_spaces(text.lower())  # a footnote's call is not part of its word
    return [t for t in _TOKEN.findall(text) if t not in stop]


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def index_terms(tokens: Sequence[str]) -> list[str]:
    """Snowball (Porter 2) stems of the tokens, so that commissioners finds commissioner."""
    return _stemmer().stemWords(list(tokens))


def fingerprint(records: Iterable[DocumentRecord]) -> str:
    """Names the set of committed documents; the lexical index is valid only for this one."""
    parts = sorted(
        f"{r.source}:{r.doc_id}:{r.chunks}:{r.title}:{json.dumps(r.meta, sort_keys=True)}"
        # a document chunked anew (another scheme, the same number of chunks) is another index
        f":{r.scheme}:{r.content_hash}:{r.ingested_at}"
        for r in records
    )
    parts.append(SCHEME)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


class LexicalIndex:
    """BM25 over the stemmed words of chunk texts (with their section and title), keyed by
    chunk id."""

    def __init__(
        self,
        retriever,
        chunk_ids: list[str],
        fingerprint: str,
        headings: Sequence[str] = (),
        vocabulary: Iterable[str] = (),
        frequencies: dict[str, int] | None = None,
        acronyms: dict[str, str] | None = None,
    ):
        self._retriever = retriever
        self.chunk_ids = chunk_ids
        self.fingerprint = fingerprint
        self.headings = frozenset(headings)
        """The section headings of the indexed documents, case-folded."""
        self.vocabulary = frozenset(vocabulary)
        """Every word the indexed chunks contain, as written (lower-cased), not stemmed."""
        self.frequencies = frequencies or {}
        """How many chunks hold each stem: what makes a word rare, and so telling."""
        self.acronyms = acronyms or {}
        """The names the chunks give, by the acronyms they could be shortened to (see
        acronyms.py)."""
        self._stop = stopwords()

    @classmethod
    def build(cls, chunks: Sequence[StoredChunk], fingerprint: str) -> LexicalIndex:
        import bm25s

        stop = stopwords()
        texts = [lexical_text(c) for c in chunks]
        words = [tokenize(text, stop) for text in texts]
        corpus = [index_terms(w) or ["\u2205"] for w in words]
        retriever = bm25s.BM25()
        if corpus:
            retriever.index(corpus, show_progress=False)
        headings = sorted({str(c.metadata.get("section", "")).casefold() for c in chunks} - {""})
        vocabulary = {t for w in words for t in w}
        frequencies: dict[str, int] = {}
        for stems in corpus:
            for stem in set(stems):
                frequencies[stem] = frequencies.get(stem, 0) + 1
        return cls(
            retriever if corpus else None,
            [c.chunk_id for c in chunks],
            fingerprint,
            headings,
            vocabulary,
            frequencies,
            acronym_table(_named_texts(chunks)),
        )

    def save(self, folder: Path) -> None:
        """Writes the index beside a file naming its fingerprint, swapped in as one rename;
        one writer at a time (the app and an ingest may both write it)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        with open(folder.with_name(folder.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._save(folder)

    def _save(self, folder: Path) -> None:
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        if self._retriever is not None:
            self._retriever.save(str(partial), show_progress=False)
        (partial / "chunks.json").write_text(
            json.dumps(
                {
                    "fingerprint": self.fingerprint,
                    "chunk_ids": self.chunk_ids,
                    "headings": sorted(self.headings),
                    "vocabulary": sorted(self.vocabulary),
                    "frequencies": self.frequencies,
                    "acronyms": self.acronyms,
                }
            )
        )
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        partial.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        import bm25s

        try:
            info = json.loads((folder / "chunks.json").read_text())
            retriever = (
                bm25s.BM25.load(str(folder), show_progress=False) if info["chunk_ids"] else None
            )
        except (OSError, ValueError, KeyError):
            return None
        return cls(
            retriever,
            list(info["chunk_ids"]),
            str(info["fingerprint"]),
            info.get("headings", []),
            info.get("vocabulary", []),
            info.get("frequencies", {}),
            info.get("acronyms", {}),
        )

    def idf(self, stem: str) -> float:
        """BM25's inverse document frequency of a stem; a stem no chunk holds weighs most."""
        n = len(self.chunk_ids)
        df = self.frequencies.get(stem, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """Returns the BM25 score of every chunk for the query, in chunk_ids order."""
        tokens = index_terms(tokenize(query, self._stop)) + named_paragraphs(query) * 3
        if self._retriever is None or not tokens:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)

    @cached_property
    def _owners(self) -> np.ndarray:
        """Each chunk's doc id, read once from its stored id ("<source key>-<doc id>-<n>")."""
        return np.array([c.rsplit("-", 2)[-2] if c.count("-") >= 2 else c for c in self.chunk_ids])

    def search(
        self, query: str, k: int, documents: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Returns up to k (chunk id, score) pairs with a positive score, best first; with
        `documents`, only chunks of those documents (by doc id)."""
        scores = self.scores(query)
        if not len(scores):
            return []
        if documents is not None:
            scores = np.where(np.isin(self._owners, list(documents)), scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]


def paragraph_token(number: str) -> str:
    """One index term for a paragraph number, so that "paragraph 2.4" finds it exactly."""
    return "para_" + re.sub(r"\W+", "_", number.strip().lower())


_NAMED_PARAGRAPH = re.compile(
    r"\b(?:paragraphs?|paras?\.?)\s+(\d{1,3}(?:\.\d{1,3}){0,2})"
    r"|\b((?:recommendation|conclusion)\s+\d{1,3}[a-z]?)\b"
    r"|\b(?:foot)?notes?\s+(\d{1,3})\b",
    re.I,
)


def without_named_paragraphs(text: str) -> str:
    """The text less the paragraphs, recommendations and notes it names ("as we noted in
    paragraph 7.41"): a reference to a place in a document, not a figure it states."""
    return _NAMED_PARAGRAPH.sub(" ", text)


def named_paragraphs(text: str) -> list[str]:
    """The paragraph terms a question names: "paragraph 3.12", "recommendation 7", "footnote
    53" (a footnote is cited as `note 53`)."""
    return [paragraph_token(a or b or f"note {c}") for a, b, c in _NAMED_PARAGRAPH.findall(text)]


def _named_texts(chunks: Sequence[StoredChunk]) -> Iterable[str]:
    """What names are read from: each chunk's text, and each title and heading once (a heading
    repeats on every chunk under it, and would otherwise run into the text after it)."""
    yield from (c.text for c in chunks)
    for field in ("doc_title", "section"):
        yield from sorted({str(c.metadata.get(field, "")) for c in chunks} - {""})


def lexical_text(chunk: StoredChunk) -> str:
    meta = chunk.metadata
    try:
        numbers = {str(n) for *_, n in json.loads(str(meta.get("paragraphs") or "[]"))}
    except (ValueError, TypeError):
        numbers = set()
    return " ".join(
        [
            str(meta.get("doc_title", "")),
            str(meta.get("section", "")),
            chunk.text,
            *sorted(paragraph_token(n) for n in numbers),
        ]
    )


def lexical_dir(store: Store) -> Path:
    return store.settings.index_dir / "lexical" / store.settings.collection


def ensure_lexical(store: Store, rebuild: bool = False) -> LexicalIndex:
    """Returns the lexical index for what the store holds now, rebuilding it if it is stale."""
    records = store.documents()
    wanted = fingerprint(records)
    folder = lexical_dir(store)
    if not rebuild:
        cached = LexicalIndex.load(folder)
        if cached is not None and cached.fingerprint == wanted:
            return cached
    index = LexicalIndex.build(list(store.committed_chunks(records)), wanted)
    index.save(folder)
    return index
