"""The answer selector: a small learned model that turns the general signals of signals.py
into P(this sentence answers the question) and P(the evidence answers it at all).

Both models are stored as plain numbers in a JSON file (gradient-boosted trees as arrays, a
logistic regression as weights), evaluated here with numpy: no pickle, and no training library
at run time. `assistant train-selector` rebuilds the file (see the model card beside it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .reliability import fingerprint
from .signals import FEATURES, QUESTION_FEATURES

MODEL_PATH = Path(__file__).resolve().parent / "data" / "answer_selector.json"


class SelectorError(RuntimeError):
    """The model file is missing or does not fit this version's signals."""


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted regression trees over the raw score (log-odds), as flat arrays."""

    baseline: float
    feature: list[np.ndarray]
    threshold: list[np.ndarray]
    left: list[np.ndarray]
    right: list[np.ndarray]
    leaf: list[np.ndarray]
    value: list[np.ndarray]
    missing_left: list[np.ndarray]

    @classmethod
    def from_dict(cls, data: dict) -> Trees:
        trees = data["trees"]

        def column(name: str, kind) -> list[np.ndarray]:
            return [np.asarray(t[name], dtype=kind) for t in trees]

        return cls(
            float(data["baseline"]),
            column("feature", np.int64),
            column("threshold", np.float64),
            column("left", np.int64),
            column("right", np.int64),
            column("leaf", bool),
            column("value", np.float64),
            column("missing_left", bool),
        )

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The summed tree outputs for each row of x."""
        total = np.full(len(x), self.baseline, dtype=np.float64)
        rows = np.arange(len(x))
        for feature, threshold, left, right, leaf, value, missing in zip(
            self.feature,
            self.threshold,
            self.left,
            self.right,
            self.leaf,
            self.value,
            self.missing_left,
            strict=True,
        ):
            node = np.zeros(len(x), dtype=np.int64)
            while True:
                open_ = ~leaf[node]
                if not open_.any():
                    break
                values = x[rows, feature[node]]
                go_left = np.where(np.isnan(values), missing[node], values <= threshold[node])
                node = np.where(open_, np.where(go_left, left[node], right[node]), node)
            total += value[node]
        return total


@dataclass(frozen=True)
class Logistic:
    """A standardised logistic regression."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, data: dict) -> Logistic:
        return cls(
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
        )

    def raw(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _model(data: dict) -> Trees | Logistic:
    return Trees.from_dict(data) if data["kind"] == "trees" else Logistic.from_dict(data)


class AnswerSelector:
    """P(sentence answers) for each candidate, and P(the evidence answers) for a question."""

    def __init__(self, data: dict):
        if (
            tuple(data.get("features", ())) != FEATURES
            or tuple(data.get("question_features", ())) != QUESTION_FEATURES
        ):
            raise SelectorError(
                "the answer selector was trained on other signals than this version computes: "
                "rebuild it with `assistant train-selector`"
            )
        self.data = data
        self.sentence_model = _model(data["sentence_model"])
        self.sentence_calibration = data["sentence_calibration"]
        self.question_model = _model(data["question_model"])
        self.threshold = float(data["threshold"])
        """The one refusal threshold on P(the evidence answers), calibrated on tuning data."""
        self.fingerprint = fingerprint(data)
        """Its identity, which ties measurements of it (assistant.reliability) to it."""

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerSelector:
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except OSError as err:
            raise SelectorError(
                f"the answer selector's model is missing ({path}): "
                "rebuild it with `assistant train-selector`"
            ) from err
        except (ValueError, KeyError, TypeError) as err:  # cut short, or not the model's file
            raise SelectorError(
                f"the answer selector's model cannot be read ({path}: {err}): "
                "rebuild it with `assistant train-selector`"
            ) from err

    def sentence_probabilities(self, matrix: np.ndarray) -> np.ndarray:
        if not len(matrix):
            return np.zeros(0)
        a, b = self.sentence_calibration["a"], self.sentence_calibration["b"]
        return _sigmoid(a * self.sentence_model.raw(matrix.astype(np.float64)) + b)

    def answer_probability(self, question_row: np.ndarray) -> float:
        return float(_sigmoid(self.question_model.raw(question_row[None, :].astype(np.float64)))[0])


@cache
def default_selector() -> AnswerSelector:
    """The selector shipped with the package, loaded once."""
    return AnswerSelector.load()
