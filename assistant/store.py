"""Chroma, embedded on disk or a Chroma server, behind one interface.

The chunks with their vectors (and their evidence sentences with theirs), and a ledger with
one row per source file. The ledger row is the commit point: a document's chunks count only
once its row names its doc_id, so a reader never sees half a document or a mix of old and new.
A fourth collection names the sources being written: what an interrupted write left behind is
found there, so an ingest need not read every row of the index to tidy up.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .config import Settings
from .models import Chunk, DocumentRecord, MetaValue

_LEDGER_VECTOR = [0.0]  # the ledger holds no vectors, but Chroma wants one per row
_PAGE = 5000
EF_SEARCH = 1000
"""How widely the HNSW graph is searched. Chroma builds the graph in the background, so two
builds from the same vectors in the same order differ; searched at 200, 2 to 4 of 100 queries
over the real documents' 11,000 sentences came back with other neighbours from another build,
which moved eval figures between builds. At 1000 every list matched exact search (100 of 100,
recall 1.0) on both builds, at 0.9 ms a query against 0.4 (top 50, measured on that index)."""
_HNSW = {"space": "cosine", "ef_search": EF_SEARCH, "ef_construction": 200}


class StoreError(Exception):
    """The index cannot be opened or written; str() says why and what to do."""


_MARKUP = re.compile(r"<[!/]?[A-Za-z][^>]*>")


def _one_line(err: Exception, limit: int = 200) -> str:
    """An error's message on one short line: a server that is not Chroma answers with a page
    of HTML, which is no message for a terminal (its words are kept, not its markup)."""
    text = " ".join(_MARKUP.sub(" ", str(err)).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the store holds it: its text, and metadata including its document's fields."""

    chunk_id: str
    text: str
    metadata: dict[str, MetaValue]


def source_key(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:20]


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as err:
            if _MARKUP.search(str(err)):  # a web page: something else listens on that port
                raise StoreError(
                    f"the server at {settings.chroma_url} is not a Chroma server (it answered "
                    f"{_one_line(err, 120)!r}); check the port in ASSISTANT_CHROMA_URL"
                ) from err
            raise StoreError(
                f"the Chroma server at {settings.chroma_url} is not reachable "
                f"({_one_line(err)}); start it, or unset ASSISTANT_CHROMA_URL to use the index "
                "on disk"
            ) from err
    path = settings.index_dir / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as err:
        raise StoreError(f"the index at {path} cannot be opened: {err}") from err


class Store:
    """The chunks and the ledger; every method names Chroma's failure in a StoreError."""

    def __init__(
        self, settings: Settings, embedder_name: str, create: bool = True, to_drop: bool = False
    ):
        """`to_drop`: opened only to be dropped (a rebuild), so vectors of another kind are no
        reason to refuse it."""
        self.settings = settings
        self.embedder_name = embedder_name
        self.location = settings.chroma_url or str(settings.index_dir / "chroma")
        self._to_drop = to_drop
        self._open(create)

    def _open(self, create: bool) -> None:
        self._client = _client(self.settings)
        prefix = self.settings.collection
        try:
            if create:
                self._chunks = self._client.get_or_create_collection(
                    f"{prefix}-chunks",
                    embedding_function=None,
                    configuration={"hnsw": _HNSW},
                    metadata={"embedder": self.embedder_name},
                )
                self._refuse_foreign_chunks()
                self._ledger = self._client.get_or_create_collection(
                    f"{prefix}-ledger", embedding_function=None
                )
            else:
                self._chunks = self._client.get_collection(
                    f"{prefix}-chunks", embedding_function=None
                )
                self._refuse_foreign_chunks()
                self._ledger = self._client.get_collection(
                    f"{prefix}-ledger", embedding_function=None
                )
            self._refuse_foreign_ledger()
            self._sentences = self._sentence_collection()
            self._pending = self._kept_pending()
            for collection in (self._chunks, self._sentences):
                _search_widely(collection)
        except StoreError:
            raise
        except Exception as err:
            if not create and "does not exist" in str(err).lower():
                named = Settings.model_fields["collection"].default
                named = "" if prefix == named else f" named {prefix!r} (ASSISTANT_COLLECTION)"
                raise StoreError(
                    f"there is no index{named} at {self.location}: run `assistant ingest "
                    "corpus/` first"
                ) from err
            raise StoreError(
                f"the index at {self.location} cannot be opened: {_one_line(err)}"
            ) from err
        built_with = (self._chunks.metadata or {}).get("embedder")
        other = built_with and built_with != self.embedder_name and not self._to_drop
        if other and self._chunks.count() > 0:
            from typing import get_args

            from .config import EmbeddingBackend
            from .embeddings import embedder_name

            made_now = {embedder_name(b) for b in get_args(EmbeddingBackend)}
            remedy = (
                "set ASSISTANT_EMBEDDING_BACKEND to match, or rebuild"
                if built_with in made_now
                else "this version does not make those vectors, so rebuild it"
            )
            raise StoreError(
                f"the index at {self.location} was built with embeddings {built_with!r}, but the "
                f"settings give {self.embedder_name!r}: {remedy} with "
                "`assistant ingest --rebuild`"
            )

    def _refuse_foreign_chunks(self) -> None:
        """Refuses a chunks collection of this name that this assistant did not make (another
        project's on the same Chroma server), before anything of the index is made beside it:
        it is never read as an index, written or dropped. This assistant marks its own with
        the embedder as it makes it; one made elsewhere, empty or not, may measure distance
        otherwise (l2, not cosine)."""
        if "embedder" not in (self._chunks.metadata or {}):
            raise StoreError(self._foreign(f"{self.settings.collection}-chunks"))

    def _refuse_foreign_ledger(self) -> None:
        """Refuses a ledger of this name whose rows this assistant did not write."""
        sample = self._ledger.get(limit=1, include=["metadatas"])
        if not all(_is_ledger_row(m) for m in sample["metadatas"] or []):
            raise StoreError(self._foreign(f"{self.settings.collection}-ledger"))

    def _foreign(self, name: str) -> str:
        return (
            f"the collection {name} at {self.location} was not made by this assistant "
            "(another project's?); set ASSISTANT_COLLECTION to another name for this index"
        )

    def _records(self, metas) -> list[DocumentRecord]:
        try:
            return [_record_from(meta) for meta in metas or []]
        except (KeyError, TypeError, ValueError) as err:
            raise StoreError(self._foreign(f"{self.settings.collection}-ledger")) from err

    def reopen(self) -> None:
        """Reads the index afresh after another process wrote to it: Chroma on disk keeps its
        vector indexes in memory, and would otherwise search what it loaded at first."""
        if not self.settings.chroma_url:
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
        self._open(create=True)

    def _sentence_collection(self):
        """The evidence sentences of the chunks, each with its own vector (an index made
        before sentences were kept gets an empty one, and its answers embed sentences)."""
        return self._client.get_or_create_collection(
            f"{self.settings.collection}-sentences",
            embedding_function=None,
            configuration={"hnsw": _HNSW},
        )

    def _kept_pending(self):
        """The index's collection of sources being written; None for an index made before it
        was kept, which is swept whole, once, before it is made (_ready_pending)."""
        try:
            return self._client.get_collection(
                f"{self.settings.collection}-pending", embedding_function=None
            )
        except Exception:
            return None

    def _pending_collection(self):
        return self._client.get_or_create_collection(
            f"{self.settings.collection}-pending", embedding_function=None
        )

    # The ledger --------------------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        """Returns the committed documents, in the order of their sources."""
        rows = self._call(lambda: self._ledger.get(include=["metadatas"]))
        return sorted(self._records(rows["metadatas"]), key=lambda r: r.source)

    def version(self) -> str:
        """A fingerprint of what the index commits: it changes with every ingest or removal,
        in this process or another, and an answer records it."""
        rows = self._call(lambda: self._ledger.get(include=["metadatas"]))
        keys = sorted(
            f"{m.get('doc_id')}|{m.get('source')}|{m.get('ingested_at')}|{m.get('meta_hash')}"
            for m in rows["metadatas"] or []
            if m
        )
        return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:16]

    def record_for(self, source: str) -> DocumentRecord | None:
        rows = self._call(lambda: self._ledger.get(ids=[source_key(source)], include=["metadatas"]))
        records = self._records(rows["metadatas"])
        return records[0] if records else None

    def commit(self, record: DocumentRecord, meta_hash: str) -> None:
        """Makes `record` the document for its source, in one write."""
        row = {
            "doc_id": record.doc_id,
            "source": record.source,
            "title": record.title,
            "pages": record.pages,
            "chunks": record.chunks,
            "ingested_at": record.ingested_at,
            "size_bytes": record.size_bytes,
            "content_hash": record.content_hash,
            "scheme": record.scheme,
            "meta": json.dumps(record.meta, sort_keys=True),
            "meta_hash": meta_hash,
        }
        self._call(
            lambda: self._ledger.upsert(
                ids=[source_key(record.source)], embeddings=[_LEDGER_VECTOR], metadatas=[row]
            )
        )

    def meta_hash(self, source: str) -> str | None:
        rows = self._call(lambda: self._ledger.get(ids=[source_key(source)], include=["metadatas"]))
        metas = rows["metadatas"] or []
        return str(metas[0].get("meta_hash", "")) if metas else None

    def uncommit(self, source: str) -> None:
        self._call(lambda: self._ledger.delete(ids=[source_key(source)]))

    # The chunks --------------------------------------------------------------------------

    def add_chunks(
        self,
        source: str,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        doc_meta: dict[str, MetaValue],
        sentences: Sequence[tuple[Sequence[tuple[int, int]], np.ndarray]] = (),
    ) -> None:
        """Writes a document's chunks, and each chunk's evidence sentences as (start, end)
        spans of its text with a vector each; they stay invisible until the ledger commits
        them. A sentence row holds its vector and what finds or deletes it, no text and no
        document fields: its text is its chunk's, cut at the span the chunk keeps, and a
        search narrowed by a field names the documents that have it (Retriever). Written that
        way, sentences cost half the time to store."""
        key = source_key(source)
        step = max(1, min(_PAGE, self._max_batch()))
        spans = [list(own) for own, _ in sentences] + [[]] * (len(chunks) - len(sentences))
        for start in range(0, len(chunks), step):
            part = chunks[start : start + step]
            metadatas = [
                {
                    **_chunk_meta(c, doc_meta),
                    "source_key": key,
                    # Written even when empty: Chroma keeps a key an upsert leaves out.
                    "sentence_spans": json.dumps(own),
                }
                for c, own in zip(part, spans[start : start + step], strict=True)
            ]
            self._call(
                lambda p=part, m=metadatas, s=start: self._chunks.upsert(
                    ids=[f"{key[:8]}-{c.chunk_id}" for c in p],
                    embeddings=vectors[s : s + len(p)],
                    documents=[c.text for c in p],
                    metadatas=m,
                )
            )
        rows = [
            (f"{key[:8]}-{c.chunk_id}", c, i, vector)
            for c, (_, found) in zip(chunks, sentences, strict=False)
            for i, vector in enumerate(found)
        ]
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            self._call(
                lambda p=part: self._sentences.upsert(
                    ids=[f"{cid}-{i:03d}" for cid, _, i, _ in p],
                    embeddings=np.asarray([v for *_, v in p], dtype=np.float32),
                    metadatas=[
                        {
                            "source_key": key,
                            "doc_id": c.doc_id,
                            "position": c.position,
                            "chunk": cid,
                            "index": i,
                        }
                        for cid, c, i, _ in p
                    ],
                )
            )

    def sentences_of(self, chunk_ids: Sequence[str]) -> dict[str, tuple[list[str], np.ndarray]]:
        """The kept evidence sentences of these chunks, in order, with their vectors."""
        if not chunk_ids:
            return {}
        rows = self._call(
            lambda: self._sentences.get(
                where={"chunk": {"$in": list(chunk_ids)}},
                include=["documents", "metadatas", "embeddings"],
            )
        )
        chunks = {c.chunk_id: c for c in self.get(chunk_ids)}
        found: dict[str, list[tuple[int, str, np.ndarray]]] = {}
        for text, meta, vector in zip(
            rows["documents"] or [], rows["metadatas"] or [], rows["embeddings"], strict=False
        ):
            if not meta or str(meta["chunk"]) not in chunks:
                continue
            chunk, index = chunks[str(meta["chunk"])], int(meta["index"])
            # Cut from its chunk. A row written before sentences were kept this way holds its
            # text, which only counts while its chunk has no spans: an upsert over the same id
            # keeps the old text.
            if "sentence_spans" in chunk.metadata:
                own = json.loads(str(chunk.metadata["sentence_spans"]))
                if index >= len(own):
                    continue
                text = chunk.text[own[index][0] : own[index][1]]
            elif not text:
                continue
            found.setdefault(chunk.chunk_id, []).append(
                (index, text, np.asarray(vector, dtype=np.float32))
            )
        out = {}
        for chunk_id, items in found.items():
            items.sort(key=lambda item: item[0])
            out[chunk_id] = ([t for _, t, _ in items], np.vstack([v for *_, v in items]))
        return out

    def query_sentences(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The chunks holding the k sentences nearest the vector: (chunk id, cosine), the
        best sentence's, nearest first."""
        if self._call(self._sentences.count) == 0:
            return []
        result = self._call(
            lambda: self._sentences.query(
                query_embeddings=[vector],
                n_results=k,
                where=where,
                include=["metadatas", "distances"],
            )
        )
        best: dict[str, float] = {}
        for meta, distance in zip(result["metadatas"][0], result["distances"][0], strict=True):
            if meta:
                best.setdefault(str(meta["chunk"]), 1.0 - float(distance))
        return list(best.items())

    def update_document_meta(
        self, source: str, doc_id: str, doc_meta: dict[str, MetaValue]
    ) -> None:
        """Rewrites the document fields carried by each of a document's chunks (its evidence
        sentences carry none); a field no longer given is removed (Chroma keeps a key an update
        leaves out, and drops one set to None)."""
        where = {"$and": [{"source_key": source_key(source)}, {"doc_id": doc_id}]}
        step = max(1, min(_PAGE, self._max_batch()))
        fields = _doc_fields(doc_meta)
        rows = self._call(lambda: self._chunks.get(where=where, include=["metadatas"]))
        ids, metas = rows["ids"], rows["metadatas"] or []
        fixed = [
            {
                **{k: v for k, v in m.items() if not k.startswith("doc_")},
                **{k: None for k in m if k.startswith("doc_")},
                **fields,
                "doc_id": doc_id,
            }
            for m in metas
        ]
        for start in range(0, len(ids), step):
            part, metadatas = ids[start : start + step], fixed[start : start + step]
            self._call(lambda p=part, m=metadatas: self._chunks.update(ids=p, metadatas=m))

    def delete_chunks_of(self, source: str, doc_id: str, from_position: int = 0) -> None:
        """Deletes the chunks one version of one source wrote (from a position on, where a
        re-chunked version wrote fewer over the same ids)."""
        clauses = [{"source_key": source_key(source)}, {"doc_id": doc_id}]
        if from_position:
            clauses.append({"position": {"$gte": from_position}})
        self._call(lambda: self._chunks.delete(where={"$and": clauses}))
        self._call(lambda: self._sentences.delete(where={"$and": clauses}))

    def delete_sentences_except(self, source: str, doc_id: str, keep: set[str]) -> int:
        """Deletes one version's evidence sentences but those in `keep` (by id): when the same
        bytes are chunked anew, a chunk that now holds fewer sentences would otherwise keep
        the old surplus under its id, sentences its text no longer has."""
        clauses = [{"source_key": source_key(source)}, {"doc_id": doc_id}]
        rows = self._call(lambda: self._sentences.get(where={"$and": clauses}, include=[]))
        stale = [i for i in rows["ids"] or [] if i not in keep]
        for start in range(0, len(stale), _PAGE):
            self._call(lambda s=start: self._sentences.delete(ids=stale[s : s + _PAGE]))
        return len(stale)

    @staticmethod
    def sentence_ids(source: str, chunks: Sequence[Chunk], counts: Sequence[int]) -> set[str]:
        """The ids add_chunks gives the evidence sentences of these chunks."""
        key = source_key(source)
        return {
            f"{key[:8]}-{c.chunk_id}-{i:03d}"
            for c, n in zip(chunks, counts, strict=False)
            for i in range(n)
        }

    @contextlib.contextmanager
    def writing(self, source: str) -> Iterator[None]:
        """Names `source` as being written while the block runs (its chunks added, its ledger
        row switched or removed, the old version's rows deleted): if the block is cut short,
        the next ingest finds what it left in delete_uncommitted."""
        pending = self._ready_pending()
        key = source_key(source)
        self._call(
            lambda: pending.upsert(
                ids=[key], embeddings=[_LEDGER_VECTOR], metadatas=[{"source": source}]
            )
        )
        yield
        self._call(lambda: pending.delete(ids=[key]))

    def delete_uncommitted(self) -> None:
        """Deletes what an interrupted write left behind (chunks and sentences that no ledger
        row commits, and a shorter version's surplus). Only the sources named as being written
        are looked at."""
        pending = self._ready_pending()
        rows = self._call(lambda: pending.get(include=["metadatas"]))
        for key, meta in zip(rows["ids"], rows["metadatas"] or [], strict=True):
            self._tidy(key, (meta or {}).get("source"))
            self._call(lambda k=key: pending.delete(ids=[k]))

    def _tidy(self, key: str, source: MetaValue) -> None:
        """Deletes one source's rows that its ledger row does not commit."""
        record = self.record_for(str(source)) if source else None
        stale: dict[str, Any] = {"source_key": key}
        if record is not None:
            stale = {
                "$and": [
                    stale,
                    {
                        "$or": [
                            {"doc_id": {"$ne": record.doc_id}},
                            {"position": {"$gte": record.chunks}},
                        ]
                    },
                ]
            }
        self._call(lambda: self._chunks.delete(where=stale))
        self._call(lambda: self._sentences.delete(where=stale))
        if record is not None:
            self._drop_surplus_sentences(key, record.doc_id)

    def _drop_surplus_sentences(self, key: str, doc_id: str) -> None:
        """Deletes the committed version's sentence rows past the spans their chunk keeps: the
        surplus of a document chunked anew into chunks holding fewer sentences, when the write
        stopped before it was deleted."""
        where = {"$and": [{"source_key": key}, {"doc_id": doc_id}]}
        chunks = self._call(lambda: self._chunks.get(where=where, include=["metadatas"]))
        kept: dict[str, int] = {}  # each chunk's count of sentences, by its id
        for chunk_id, meta in zip(chunks["ids"], chunks["metadatas"] or [], strict=True):
            if meta and "sentence_spans" in meta:
                kept[chunk_id] = len(json.loads(str(meta["sentence_spans"])))
        rows = self._call(lambda: self._sentences.get(where=where, include=["metadatas"]))
        surplus = []
        for row_id, meta in zip(rows["ids"], rows["metadatas"] or [], strict=True):
            chunk = str((meta or {}).get("chunk"))
            if chunk in kept and int(meta["index"]) >= kept[chunk]:
                surplus.append(row_id)
        for start in range(0, len(surplus), _PAGE):
            self._call(lambda s=start: self._sentences.delete(ids=surplus[s : s + _PAGE]))

    def _ready_pending(self):
        """The collection of sources being written; an index made before it was kept is first
        swept whole for rows no ledger row commits."""
        if self._pending is None:
            self._sweep()
            self._pending = self._pending_collection()
        return self._pending

    def _sweep(self) -> None:
        """Deletes every chunk and sentence that no ledger row commits, reading them all."""
        committed = {(source_key(r.source), r.doc_id) for r in self.documents()}
        for collection in (self._chunks, self._sentences):
            stale = [
                row_id
                for ids, metas, _ in self._pages(include=["metadatas"], collection=collection)
                for row_id, meta in zip(ids, metas, strict=True)
                if not meta or (meta.get("source_key"), meta.get("doc_id")) not in committed
            ]
            for at in range(0, len(stale), _PAGE):
                part = stale[at : at + _PAGE]
                self._call(lambda c=collection, p=part: c.delete(ids=p))

    def committed_chunks(
        self, records: Sequence[DocumentRecord] | None = None
    ) -> Iterator[StoredChunk]:
        """Yields every committed chunk with its text and metadata, in a stable order."""
        records = self.documents() if records is None else records
        committed = {(source_key(r.source), r.doc_id) for r in records}
        for ids, metas, texts in self._pages(include=["metadatas", "documents"]):
            for chunk_id, meta, text in zip(ids, metas, texts, strict=True):
                if meta and (meta.get("source_key"), meta.get("doc_id")) in committed:
                    yield StoredChunk(chunk_id, text or "", dict(meta))

    def drop(self) -> None:
        """Deletes the index's collections: the whole index, for a rebuild."""
        prefix = self.settings.collection
        for name in (f"{prefix}-{n}" for n in ("chunks", "ledger", "sentences", "pending")):
            with contextlib.suppress(Exception):  # already gone
                self._client.delete_collection(name)

    def get(self, chunk_ids: Sequence[str]) -> list[StoredChunk]:
        """Returns the chunks with these ids, in the order asked (missing ids are left out)."""
        if not chunk_ids:
            return []
        rows = self._call(
            lambda: self._chunks.get(ids=list(chunk_ids), include=["metadatas", "documents"])
        )
        found = {
            cid: StoredChunk(cid, text or "", dict(meta))
            for cid, meta, text in zip(
                rows["ids"], rows["metadatas"], rows["documents"], strict=True
            )
            if meta  # a chunk deleted while this was asked for
        }
        return [found[c] for c in chunk_ids if c in found]

    def count(self) -> int:
        return self._call(self._chunks.count)

    def contains(self, phrase: str, without: str | None = None) -> bool:
        """Whether any chunk's text holds the phrase as written (Chroma's full-text filter),
        and, given `without`, does not also hold that."""
        where: dict[str, Any] = {"$contains": phrase}
        if without:
            where = {"$and": [where, {"$not_contains": without}]}
        rows = self._call(lambda: self._chunks.get(where_document=where, limit=1, include=[]))
        return bool(rows["ids"])

    def one_name(self, whole: str, parts: Sequence[str]) -> bool:
        """Whether names joined by "and" are one name as the documents write it: the whole
        stands in them, and one of its parts never stands without it ("HM Revenue" only in "HM
        Revenue and Customs"; "Wales" stands alone beside "Wales and Northern Ireland")."""
        return self.contains(whole) and any(not self.contains(p, without=whole) for p in parts)

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """Returns up to k chunks nearest the vector, with their cosine similarity."""
        result = self._call(
            lambda: self._chunks.query(
                query_embeddings=[vector],
                n_results=k,
                where=where,
                include=["metadatas", "documents", "distances"],
            )
        )
        out = []
        for chunk_id, meta, text, distance in zip(
            result["ids"][0],
            result["metadatas"][0],
            result["documents"][0],
            result["distances"][0],
            strict=True,
        ):
            if meta is None:  # deleted by another process since the search began
                continue
            out.append((StoredChunk(chunk_id, text or "", dict(meta)), 1.0 - float(distance)))
        return out

    # Plumbing ----------------------------------------------------------------------------

    def _pages(
        self, include: list[str], collection=None
    ) -> Iterator[tuple[list[str], list[dict], list[str]]]:
        collection = collection if collection is not None else self._chunks
        offset = 0
        while True:
            rows = self._call(
                lambda o=offset: collection.get(limit=_PAGE, offset=o, include=include)
            )
            ids = rows["ids"]
            if not ids:
                return
            yield (
                ids,
                rows.get("metadatas") or [{}] * len(ids),
                rows.get("documents") or [""] * len(ids),
            )
            offset += len(ids)

    def _max_batch(self) -> int:
        try:
            return int(self._client.get_max_batch_size())
        except Exception:
            return _PAGE

    def _call(self, fn):
        try:
            return fn()
        except StoreError:
            raise
        except Exception as err:
            if self.settings.chroma_url and _unreachable(err):
                raise StoreError(
                    f"the Chroma server at {self.location} stopped answering "
                    f"({_one_line(err)}); start it again and run the same command"
                ) from err
            raise StoreError(f"the index at {self.location} failed: {_one_line(err)}") from err


def _unreachable(err: Exception) -> bool:
    """Whether the error is the server's going away (refused, reset, timed out), not its
    answer to what was asked."""
    import httpx

    return isinstance(err, httpx.TransportError | ConnectionError | TimeoutError)


def _search_widely(collection) -> None:
    """An index made before EF_SEARCH was raised is searched as widely as a new one."""
    with warnings.catch_warnings():  # reading the configuration warns of Chroma's own changes
        warnings.simplefilter("ignore", DeprecationWarning)
        hnsw = (collection.configuration or {}).get("hnsw") or {}
        if hnsw and hnsw.get("ef_search") != EF_SEARCH:
            collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})


def _doc_fields(doc_meta: dict[str, MetaValue]) -> dict[str, MetaValue]:
    return {f"doc_{k}": v for k, v in doc_meta.items() if v is not None and v != ""}


def record_meta(record: DocumentRecord) -> dict[str, MetaValue]:
    """A document's fields as its chunks are written with them."""
    fields = {k: v for k, v in record.meta.items() if k != "detected_title"}
    return {**fields, "title": record.title, "source": record.source}


def chunk_fields(record: DocumentRecord) -> dict[str, MetaValue]:
    """The document fields every chunk of a committed document carries, under their names."""
    return {**_doc_fields(record_meta(record)), "doc_id": record.doc_id}


def _chunk_meta(chunk: Chunk, doc_meta: dict[str, MetaValue]) -> dict[str, MetaValue]:
    meta: dict[str, MetaValue] = {
        **_doc_fields(doc_meta),
        "doc_id": chunk.doc_id,
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "section": chunk.section,
        "position": chunk.position,
    }
    if any(chunk.labels):
        meta["label_start"], meta["label_end"] = chunk.labels
    if chunk.ocr:
        meta["ocr"] = chunk.ocr
    if chunk.page_spans:
        meta["page_spans"] = json.dumps([list(p) for p in chunk.page_spans])
    if chunk.paragraphs:
        meta["paragraphs"] = json.dumps([list(p) for p in chunk.paragraphs])
    return meta


_LEDGER_KEYS = ("doc_id", "source", "title", "pages", "chunks", "ingested_at", "size_bytes")


def _is_ledger_row(meta: dict[str, Any] | None) -> bool:
    return bool(meta) and all(k in meta for k in _LEDGER_KEYS)


def _record_from(meta: dict[str, Any]) -> DocumentRecord:
    return DocumentRecord(
        doc_id=str(meta["doc_id"]),
        source=str(meta["source"]),
        title=str(meta["title"]),
        pages=int(meta["pages"]),
        chunks=int(meta["chunks"]),
        ingested_at=str(meta["ingested_at"]),
        size_bytes=int(meta["size_bytes"]),
        content_hash=str(meta.get("content_hash", "")),
        scheme=str(meta.get("scheme", "")),
        meta=json.loads(str(meta.get("meta") or "{}")),
    )
