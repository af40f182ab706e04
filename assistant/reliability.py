"""How often answers as sure as this one were right, on questions the answer selector never
saw: the evidence strength a reader can weigh.

P(the evidence answers) is the selector's own figure; on questions it never saw it is surer
than it is right. This table is measured: the answers of an eval run on such questions
(`make reliability`: the 289 training-only real-document questions, which the shipped
selector was never trained on), cut at P into bands of equal counts, each band with how many
of its answers were right (the right document cited and the answer's terms present; an
answer to a question the documents do not answer is never right). It holds only for the
selector it was measured with: a retrained selector has none until it is measured again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

RELIABILITY_PATH = Path(__file__).resolve().parent / "data" / "answer_reliability.json"
BANDS = 3
"""Bands of P the answers are cut into, each holding about as many answers."""


@dataclass(frozen=True)
class Band:
    """Answers with P(the evidence answers) from `low` up to `high`: how many, how many right."""

    low: float
    high: float
    answers: int
    right: int

    def holds(self, confidence: float) -> bool:
        return self.low <= confidence < self.high or (self.high >= 1.0 and confidence >= 1.0)

    def said(self) -> str:
        """The band in words, for the answer's evidence line."""
        return (
            f"{self.right} of {self.answers} answers as sure as this (P {self.low:.2f} to "
            f"{min(self.high, 1.0):.2f}) to questions the selector never saw were right"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint(selector_data: Mapping[str, Any]) -> str:
    """A selector's identity: the SHA-256 of its model, written canonically."""
    text = json.dumps(selector_data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _answered(rows: Sequence[Mapping[str, Any]]) -> list[tuple[float, bool]]:
    """(P, right) for each answered question of an eval run's rows, as the eval scores them."""
    return [
        (float(r["confidence"]), bool(r.get("answered_correctly")))
        for r in rows
        if not r.get("refused") and r.get("confidence") is not None
    ]


def tally(rows: Sequence[Mapping[str, Any]], bands: Sequence[Band]) -> list[Band]:
    """The answers of a run counted into the given bands: on another run than the one they
    were measured on (the test part), whether the table holds there."""
    answered = _answered(rows)
    out = []
    for band in bands:
        inside = [right for p, right in answered if band.holds(p)]
        out.append(Band(band.low, band.high, len(inside), sum(inside)))
    return out


def measure(
    rows: Sequence[Mapping[str, Any]], bands: int = BANDS, floor: float | None = None
) -> list[Band]:
    """The bands of an eval run's answered questions: cut where the answers' P divides them
    into `bands` groups of about equal counts, the lowest band from the lowest P answered (or
    `floor`, the refusal threshold, where lower), the highest up to 1."""
    answered = sorted(p for p, _ in _answered(rows))
    if len(answered) < bands:
        raise ValueError(f"{len(answered)} answers cannot be cut into {bands} bands")
    cuts = [answered[len(answered) * k // bands] for k in range(bands)] + [1.0]
    if floor is not None:
        cuts[0] = min(cuts[0], floor)
    empty = [Band(low, high, 0, 0) for low, high in zip(cuts, cuts[1:], strict=False)]
    return [b for b in tally(rows, empty) if b.answers]


def write(
    path: Path, bands: Sequence[Band], selector_data: Mapping[str, Any], measured_on: str
) -> None:
    """Writes the table, tied to the selector it was measured with."""
    payload = {
        "measured_on": measured_on,
        "selector_sha256": fingerprint(selector_data),
        "bands": [b.to_dict() for b in bands],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


class Reliability:
    """The measured bands of one selector."""

    def __init__(self, bands: Sequence[Band], measured_on: str = ""):
        self.bands = list(bands)
        self.measured_on = measured_on

    @classmethod
    def load(cls, path: Path, selector_fingerprint: str) -> Reliability | None:
        """The table at `path`, or None where there is none, it cannot be read, or it was
        measured with another selector than the one with this fingerprint."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("selector_sha256") != selector_fingerprint:
                return None
            bands = [Band(**b) for b in data["bands"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return cls(bands, str(data.get("measured_on", "")))

    def band(self, confidence: float | None) -> Band | None:
        """The band an answer this sure falls in; None below the lowest measured."""
        if confidence is None:
            return None
        return next((b for b in self.bands if b.holds(confidence)), None)


@cache
def shipped(selector_fingerprint: str) -> Reliability | None:
    """The table shipped with the package, for the selector with this fingerprint."""
    return Reliability.load(RELIABILITY_PATH, selector_fingerprint)
