"""The plain pipeline the eval suite and benchmarks hold this one against: LangChain's Chroma
similarity search, top-k, no lexical search, no fusion, no diversification."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .embeddings import as_langchain_embeddings
from .models import Passage
from .retrieval import HybridRetriever, _passage, _where
from .store import StoredChunk


class PlainChromaRetriever(HybridRetriever):
    """`Chroma.similarity_search_with_score` over the same collection and embedding model."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from langchain_chroma import Chroma

        self.mode = "plain"
        self._chroma = Chroma(
            client=self.store._client,
            collection_name=f"{self.settings.collection}-chunks",
            embedding_function=as_langchain_embeddings(self.embedder),
        )

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
        mode: str | None = None,
        per_document: int | None = None,
        vector=None,
    ) -> list[Passage]:
        hits = self._chroma.similarity_search_with_score(
            query, k=k or self.settings.top_k, filter=_where(filters or {})
        )
        return [
            _passage(
                i + 1,
                StoredChunk(doc.id or "", doc.page_content, dict(doc.metadata)),
                1.0 - float(distance),
                1.0 - float(distance),
                None,
            )
            for i, (doc, distance) in enumerate(hits)
        ]
