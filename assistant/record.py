"""The answer record: what an answer, briefing or comparison was made from, so that a note
can be traced back months later (the question, when, the index's version, the documents and
passages used, the composer and the settings that shaped it)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .models import Answer

if TYPE_CHECKING:
    from .chain import Assistant

# The settings that change what an answer says (not where the app listens, nor paths). Those
# that change how a document is read and chunked are not the process's to report: the index
# may have been built under others, and each cited document's `scheme` says which.
SHAPING = (
    "embedding_backend",
    "evidence_passages",
    "candidates",
    "dense_weight",
    "max_per_document",
    "top_k",
    "support_threshold",
    "llm",
    "careful",
)


@cache
def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def _package_version() -> str:
    try:
        return version("evidence-assistant")
    except PackageNotFoundError:
        return ""


def answer_record(
    assistant: Assistant, kind: str, asked: str, answers: Sequence[Answer]
) -> dict[str, Any]:
    """The record of `answers` given to `asked` (kind: answer, briefing or comparison)."""
    # The same file may be indexed at two paths: each cited passage names its own.
    records = {(r.doc_id, r.source): r for r in assistant.retriever.store.documents()}
    passages: dict[str, dict[str, Any]] = {}
    cited_docs: dict[tuple[str, str], None] = {}
    for answer in answers:
        cited = {c.n for c in answer.citations}
        for p in answer.passages:
            if p.n not in cited:
                continue
            cited_docs.setdefault((p.doc_id, p.source))
            passages.setdefault(
                p.chunk_id,
                {"chunk_id": p.chunk_id, "doc_id": p.doc_id, "pages": p.pages},
            )
    documents = []
    for doc_id, source in cited_docs:
        r = records.get((doc_id, source))
        documents.append(
            {
                "doc_id": doc_id,
                "title": r.title if r else "",
                "file": Path(source).name,
                "content_hash": r.content_hash if r else "",
                "scheme": r.scheme if r else "",  # how it was read and chunked
            }
        )
    made = made_with(assistant)
    kept_to: dict[str, list[str]] = {}  # what the searches were kept to, if anything
    for answer in answers:
        for name, values in answer.filters.items():
            kept_to.setdefault(name, [])
            kept_to[name] += [v for v in values if v not in kept_to[name]]
    return {
        "kind": kind,
        "question": asked,
        "filters": kept_to,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "index_version": made["index_version"],
        "documents": documents,
        "passages": list(passages.values()),
        "composer": sorted({a.composer for a in answers}) or [assistant.composer.name],
        "selector": made["selector"],
        "settings": made["settings"],
        "assistant_version": made["assistant_version"],
    }


def made_with(assistant: Assistant) -> dict[str, Any]:
    """What shapes an answer besides its question: the index's version, the answer selector,
    the settings that change what an answer says, and the assistant's version."""
    from .selector import MODEL_PATH

    shaping: dict[str, Any] = {name: getattr(assistant.settings, name) for name in SHAPING}
    shaping["answer_threshold"] = round(assistant.threshold, 4)
    if assistant.careful is not None:
        # The weighing careful mode decided with, by its content (as the selector is).
        shaping["careful_weighing"] = hashlib.sha256(
            repr(assistant.careful.calibration).encode()
        ).hexdigest()[:16]
    return {
        "index_version": assistant.retriever.store.version(),
        "selector": _file_hash(MODEL_PATH),
        "settings": shaping,
        "assistant_version": _package_version(),
    }
