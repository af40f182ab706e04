"""Shared fixtures: the real embedding model loaded once, and small indexes in tmp_path."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.embeddings import Embedder, get_embedder  # noqa: E402


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real offline model, in the variant the settings choose by default."""
    return get_embedder(Settings(progress=False))


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder):
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.embedded = 0

    def embed_documents(self, texts):
        self.embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_with_spans(self, texts, spans):
        self.embedded += len(texts)
        return self.inner.embed_with_spans(texts, spans)


@pytest.fixture
def counting(embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", progress=False, chroma_url=None)


@pytest.fixture(scope="session")
def starter_settings(tmp_path_factory, embedder) -> Settings:
    """An index of the starter corpus, built once per test session; tests only read it."""
    from assistant.ingest import Ingester

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    settings = Settings(index_dir=tmp_path_factory.mktemp("starter") / "index", progress=False)
    report = Ingester(settings, embedder=embedder).ingest([corpus])
    assert report.ok and len(report.added) == 11
    return settings
