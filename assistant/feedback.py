"""Thumbs up or down on an answer, with an optional comment, kept locally as JSON lines."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def record(
    path: Path,
    question: str,
    answer: str,
    liked: bool,
    comment: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Appends one line to the feedback file; returns what it wrote."""
    entry = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "liked": liked,
        "question": question,
        "answer": answer,
        "comment": comment.strip(),
        **(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry
