"""Thumbs up or down on an answer, with an optional comment, kept locally as JSON lines."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from pathlib import Path
from typing import Any

_lock = threading.Lock()
MAX_COMMENT_CHARS = 4000
"""The longest comment kept; a longer one is refused whole, never cut."""


class FeedbackError(ValueError):
    """Feedback that is not kept; str() says why."""


def _comment(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise FeedbackError(
            f"a comment may be at most {MAX_COMMENT_CHARS:,} characters, and this one is "
            f"{len(text):,}: shorten it and send it again."
        )
    return text


def record(
    path: Path,
    question: str,
    answer: str,
    liked: bool,
    comment: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Appends one line to the feedback file; returns what it wrote, with the rating's id (for
    a comment sent after it). Raises FeedbackError for a comment over MAX_COMMENT_CHARS."""
    comment = _comment(comment)
    entry = {
        "id": uuid.uuid4().hex[:12],
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "liked": liked,
        "question": question,
        "answer": answer,
        "comment": comment,
        **(extra or {}),
    }
    _append(path, entry)
    return entry


def add_comment(path: Path, rating_id: str, comment: str) -> dict[str, Any]:
    """Appends a comment on a rating already kept (a rating is given first, with one click,
    and the comment after it, if at all); returns what it wrote. Raises FeedbackError for a
    comment over MAX_COMMENT_CHARS, and writes nothing."""
    entry = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "comment_on": rating_id,
        "comment": _comment(comment),
    }
    _append(path, entry)
    return entry


def _append(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
