"""Hybrid retrieval: dense (Chroma) and lexical (BM25) scores, fused by a weighted sum,
diversified."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from .config import Settings
from .embeddings import Embedder
from .lexical import LexicalIndex, ensure_lexical
from .models import MetaValue, Passage
from .store import Store, StoredChunk, StoreError, chunk_fields, source_key

FILTER_FIELDS = {
    "document": "doc_id",
    "jurisdiction": "doc_jurisdiction",
    "kind": "doc_kind",
    "year": "doc_year",
    "title": "doc_title",
}


def parse_filters(pairs: Sequence[str]) -> dict[str, list[str]]:
    """Turns `field=value` pairs (repeatable) into filters; raises ValueError naming a bad one."""
    filters: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not value:
            raise ValueError(f"filter {pair!r} must look like field=value")
        if name not in FILTER_FIELDS:
            raise ValueError(
                f"unknown filter field {name!r}; use one of {', '.join(FILTER_FIELDS)}"
            )
        filters.setdefault(name, []).append(value)
    return filters


def filters_match(meta: Mapping[str, MetaValue], filters: Mapping[str, Sequence[str]]) -> bool:
    """Whether a chunk's fields (or a document's, as its chunks carry them) are among those
    the filters keep: a document by its id or the start of it, each other field by its value,
    in any case."""
    for name, values in filters.items():
        stored = meta.get(FILTER_FIELDS[name])
        if stored is None:
            return False
        values = [values] if isinstance(values, str) else values  # one value, not its letters
        if name == "document":
            if not any(str(stored).casefold().startswith(str(v).casefold()) for v in values):
                return False
        elif str(stored).casefold() not in {str(v).casefold() for v in values}:
            return False
    return True


class HybridRetriever:
    """Ranks committed chunks for a query; dense and lexical scores fused by a weighted sum."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        settings: Settings,
        lexical: LexicalIndex | None = None,
        mode: str = "hybrid",
    ):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.mode = mode
        """hybrid (the default); dense or lexical alone, or rrf: the eval suite's baselines."""
        self._lexical = lexical
        self._committed: set[tuple[str, str]] | None = None
        self._fields: list[tuple[str, dict[str, MetaValue]]] = []
        """Each committed document's doc_id and fields as its chunks carry them (the same
        bytes at two sources are one doc_id with two sets of fields)."""
        self.version = ""
        """The index version this retriever reads (see Store.version)."""
        self._checked = 0.0

    def as_langchain(
        self, k: int | None = None, filters: Mapping[str, Sequence[str]] | None = None
    ) -> EvidenceRetriever:
        """This retriever as a LangChain BaseRetriever."""
        return EvidenceRetriever(
            hybrid=self, k=k, filters={f: list(v) for f, v in (filters or {}).items()}
        )

    def is_empty(self) -> bool:
        if self._committed is None:
            self.refresh()
        return not self._committed

    def refresh(self) -> None:
        """Re-reads what the index commits (after an ingest in this process)."""
        self.version = self.store.version()
        self._lexical = ensure_lexical(self.store)
        records = self.store.documents()
        self._committed = {(source_key(r.source), r.doc_id) for r in records}
        self._fields = [(r.doc_id, chunk_fields(r)) for r in records]
        self._checked = time.monotonic()

    def sync(self, every_s: float = 1.0) -> bool:
        """Re-reads the index when another process (an ingest or a removal from the command
        line) changed it; looks at most once every `every_s` seconds. Returns whether it did."""
        if self._committed is None:
            self.refresh()
            return True
        if time.monotonic() - self._checked < every_s:
            return False
        self._checked = time.monotonic()
        try:
            if self.store.version() == self.version:
                return False
        except StoreError:
            # The collections it holds are gone (the index was rebuilt by another process, or
            # a Chroma server came back with other data): it opens them afresh below, once.
            pass
        self.store.reopen()
        self.refresh()
        return True

    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None or self._committed is None:
            self.refresh()
        return self._lexical

    def _is_committed(self, chunk: StoredChunk) -> bool:
        if self._committed is None:
            self.refresh()
        return (chunk.metadata.get("source_key"), chunk.metadata.get("doc_id")) in self._committed

    def dense(
        self,
        query: str,
        n: int,
        filters: Mapping[str, Sequence[str]],
        vector: np.ndarray | None = None,
    ) -> list[tuple[StoredChunk, float]]:
        vector = self.embedder.embed_query(query) if vector is None else vector
        where = self._narrowed(filters)
        if where == {}:
            return []
        hits = self.store.query(vector, n, where=where)
        return [
            (c, s) for c, s in hits if self._is_committed(c) and filters_match(c.metadata, filters)
        ]

    def _narrowed(self, filters: Mapping[str, Sequence[str]]) -> dict[str, Any] | None:
        """A vector search narrowed by document fields, as the committed documents that have
        them (matched as filters_match does, so both vector views and the keyword view agree): None
        when nothing narrows it, {} when no document matches."""
        if not filters:
            return None
        if self._committed is None:
            self.refresh()
        wanted = sorted({d for d, meta in self._fields if filters_match(meta, filters)})
        return {"doc_id": {"$in": wanted}} if wanted else {}

    def lexical_hits(
        self, query: str, n: int, filters: Mapping[str, Sequence[str]]
    ) -> list[tuple[StoredChunk, float]]:
        where = self._narrowed(filters)
        if where == {}:
            return []
        # Narrowed before ranking, so that a document's own matches are not crowded out.
        documents = where["doc_id"]["$in"] if where else None
        ranked = self.lexical.search(query, n * (3 if filters else 1), documents)
        chunks = {c.chunk_id: c for c in self.store.get([cid for cid, _ in ranked])}
        hits = [(chunks[cid], s) for cid, s in ranked if cid in chunks]
        hits = [
            (c, s) for c, s in hits if self._is_committed(c) and filters_match(c.metadata, filters)
        ]
        return hits[:n]

    def sentence_hits(
        self, vector: np.ndarray, n: int, filters: Mapping[str, Sequence[str]]
    ) -> list[tuple[StoredChunk, float]]:
        """Chunks by their best sentence's cosine to the query: a fact said in one sentence of
        a long chunk is found though the chunk as a whole speaks of more."""
        where = self._narrowed(filters)  # sentences carry no document fields
        if where == {}:
            return []
        hits = self.store.query_sentences(vector, 3 * n, where=where)
        chunks = {c.chunk_id: c for c in self.store.get([cid for cid, _ in hits])}
        found = [(chunks[cid], score) for cid, score in hits if cid in chunks]
        return [
            (c, s) for c, s in found if self._is_committed(c) and filters_match(c.metadata, filters)
        ][:n]

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
        mode: str | None = None,
        per_document: int | None = None,
        vector: np.ndarray | None = None,
    ) -> list[Passage]:
        """Returns up to k passages, best first, numbered from 1, and at most per_document
        (max_per_document unless given) from one document; mode: hybrid, dense or lexical, or
        rrf (hybrid fused by reciprocal rank, the eval suite's baseline). `vector`: the query's
        embedding, where the caller has it already."""
        mode = mode or self.mode
        k = k or self.settings.top_k
        filters = filters or {}
        n = self.settings.candidates
        if vector is None and mode != "lexical":
            vector = self.embedder.embed_query(query)
        dense = self.dense(query, n, filters, vector) if mode != "lexical" else []
        sentences = self.sentence_hits(vector, n, filters) if mode != "lexical" else []
        lexical = self.lexical_hits(query, n, filters) if mode != "dense" else []
        chunks = {c.chunk_id: c for c, _ in dense + lexical + sentences}
        dense_scores = {c.chunk_id: s for c, s in dense}
        lexical_scores = {c.chunk_id: s for c, s in lexical}
        if mode == "rrf":
            fused = reciprocal_rank(dense, sentences, lexical)
        else:
            # Dense has two views, the chunk's vector and its best sentence's, sharing the
            # dense weight; BM25 has the rest.
            half = self.settings.dense_weight / 2
            fused = weighted_sum(
                [(dense, half), (sentences, half), (lexical, 1 - self.settings.dense_weight)]
            )
        # Ties fall to the document and position, not the chunk id, which carries the file's
        # path: the same documents rank the same wherever they are. Only the same file at two
        # paths falls to its path, so that which copy is cited does not change from run to run.
        order = sorted(
            fused,
            key=lambda cid: (
                -fused[cid],
                str(chunks[cid].metadata.get("doc_id")),
                int(chunks[cid].metadata.get("position", 0)),
                str(chunks[cid].metadata.get("doc_source")),
            ),
        )
        per_doc: Counter[str] = Counter()
        passages: list[Passage] = []
        for cid in order:
            chunk = chunks[cid]
            doc = str(chunk.metadata.get("doc_id"))
            if per_doc[doc] >= (per_document or self.settings.max_per_document):
                continue
            per_doc[doc] += 1
            passages.append(
                _passage(
                    len(passages) + 1,
                    chunk,
                    fused[cid],
                    dense_scores.get(cid),
                    lexical_scores.get(cid),
                )
            )
            if len(passages) == k:
                break
        return passages


RRF_K = 60  # the constant of Cormack, Clarke and Buettcher (2009)


def reciprocal_rank(*ranked: Sequence[tuple[StoredChunk, float]]) -> dict[str, float]:
    """Reciprocal-rank fusion: each list adds 1 / (RRF_K + rank) for a chunk it holds."""
    fused: dict[str, float] = {}
    for hits in ranked:
        for rank, (chunk, _) in enumerate(hits):
            fused[chunk.chunk_id] = fused.get(chunk.chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    return fused


def weighted_sum(
    lists: Sequence[tuple[Sequence[tuple[StoredChunk, float]], float]],
) -> dict[str, float]:
    """A convex combination of the lists' scores (each list with its weight), each divided by
    its list's best (scores have a floor of zero). Unlike reciprocal rank it keeps how far
    ahead a chunk is: a passage far ahead on its words is not overtaken by one middling on
    every list. A chunk a list lacks takes that list's lowest score, the most it could have."""
    fused: dict[str, float] = {}
    ids = {c.chunk_id for hits, _ in lists for c, _ in hits}
    for hits, weight in lists:
        if not hits or weight == 0:
            continue
        best = max(max(s for _, s in hits), 1e-9)
        scores = {c.chunk_id: max(s, 0.0) / best for c, s in hits}
        floor = min(scores.values())
        for cid in ids:
            fused[cid] = fused.get(cid, 0.0) + weight * scores.get(cid, floor)
    return fused


def _where(filters: Mapping[str, Sequence[str]]) -> dict[str, Any] | None:
    clauses = []
    for name, values in filters.items():
        if name == "document":
            continue  # prefixes are matched after the query
        field = FILTER_FIELDS[name]
        typed = [int(v) if name == "year" and str(v).isdigit() else v for v in values]
        clauses.append({field: {"$in": typed}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _passage(
    n: int, chunk: StoredChunk, score: float, dense: float | None, lexical: float | None
) -> Passage:
    meta = chunk.metadata
    try:
        spans = tuple(
            (int(a), int(b), str(number))
            for a, b, number in json.loads(str(meta.get("paragraphs") or "[]"))
        )
    except (ValueError, TypeError):
        spans = ()
    try:
        page_spans = tuple(
            (int(o), int(a), int(b), str(x), str(y))
            for o, a, b, x, y in json.loads(str(meta.get("page_spans") or "[]"))
        )
    except (ValueError, TypeError):
        page_spans = ()
    return Passage(
        n=n,
        chunk_id=chunk.chunk_id,
        doc_id=str(meta.get("doc_id", "")),
        title=str(meta.get("doc_title", "")),
        source=str(meta.get("doc_source", "")),
        page_start=int(meta.get("page_start", 0)),
        page_end=int(meta.get("page_end", 0)),
        section=str(meta.get("section", "")),
        text=chunk.text,
        score=score,
        dense_score=dense,
        lexical_score=lexical,
        meta={
            k[4:]: v
            for k, v in meta.items()
            if k.startswith("doc_") and k not in ("doc_id", "doc_title", "doc_source")
        },
        labels=(str(meta.get("label_start", "")), str(meta.get("label_end", ""))),
        paragraphs=spans,
        ocr=float(meta.get("ocr", 0.0) or 0.0),
        page_spans=page_spans,
    )


class EvidenceRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain BaseRetriever, so it composes with any chain."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    hybrid: HybridRetriever
    k: int | None = None
    filters: dict[str, list[str]] = Field(default_factory=dict)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                page_content=p.text,
                id=p.chunk_id,
                metadata={
                    "n": p.n,
                    "doc_id": p.doc_id,
                    "title": p.title,
                    "source": p.source,
                    "page_start": p.page_start,
                    "page_end": p.page_end,
                    "section": p.section,
                    "score": p.score,
                    **p.meta,
                },
            )
            for p in self.hybrid.retrieve(query, self.k, self.filters)
        ]
