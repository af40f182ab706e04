"""Careful mode: a chat model judges the borderline answers.

The answer selector decides most questions alone. Where its P(the evidence answers) falls in
a band around the refusal threshold, a chat model is asked, of each of the selector's best
few sentences, whether that sentence answers the question (YES or NO), and gives P(yes). A
small logistic regression, fitted on tuning questions (`assistant eval --careful-sweep`),
weighs the selector's P and the model's best P(yes) into the decision: answer, led by the
sentence the model found likeliest, or refuse. The band and the weights are kept in
`assistant/data/careful.json`, with the model they were fitted for. Never a default: it costs
about a second a sentence on two cores with the local 1.5B model.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .prompts import escape_passage, render
from .signals import Candidate

_VERDICT = re.compile(r"^\W*(yes|no)\b", re.I)
# A reasoning model's thinking, written before its reply ("<think>...</think>YES").
_THINKING = re.compile(r"^\s*<(think|thinking|reasoning)>.*?</\1>", re.I | re.S)
CALIBRATION_PATH = Path(__file__).resolve().parent / "data" / "careful.json"


@dataclass(frozen=True)
class Calibration:
    """When careful mode asks the model, and how its word is weighed."""

    low: float
    high: float
    """The band of the selector's P(the evidence answers) in which the model is asked."""
    weights: tuple[float, float, float]
    """Of P, the model's best P(yes), and their product, in the logistic regression."""
    intercept: float
    threshold: float
    """Answer when the regression's P reaches this."""
    model: str
    """The judging model the weights were fitted for (ASSISTANT_CAREFUL)."""
    fitted_on: str
    sentences: int = 3
    """How many of the selector's likeliest sentences the model judges (the best P(yes) of
    three is not the best of five: the weights hold for the number they were fitted with)."""

    def answers(self, p: float, yes: float) -> float:
        """The regression's P(the evidence answers), given the selector's P and P(yes)."""
        z = self.intercept + float(np.dot(self.weights, (p, yes, p * yes)))
        return 1.0 / (1.0 + math.exp(-z))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = CALIBRATION_PATH) -> Calibration:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{**data, "weights": tuple(data["weights"])})


@dataclass(frozen=True)
class Judgement:
    """What the model said of the sentences it was shown."""

    chosen: int | None
    """The place, among the sentences shown, of the one the model found likeliest to answer,
    when the weighing answers the question; None: it refuses."""
    yes: float | None
    """The highest P(yes) the model gave; None when no reply could be read."""
    judged: int
    seconds: float


def _attribute(text: str) -> str:
    return escape_passage(text).replace('"', "'").replace("\n", " ")


def messages(question: str, candidate: Candidate) -> list:
    """The two messages that ask whether one sentence answers the question."""
    from langchain_core.messages import HumanMessage, SystemMessage  # only in careful mode

    passage = candidate.passage
    user = render(
        "careful_user",
        question=question,
        title=_attribute(passage.title),
        heading=_attribute(passage.section or ""),
        sentence=escape_passage(candidate.sentence),
    )
    return [SystemMessage(content=render("careful_system")), HumanMessage(content=user)]


def read_verdict(reply: str) -> float | None:
    """1.0 for a reply that opens with YES, 0.0 for NO (after any thinking a reasoning model
    writes first), None for anything else."""
    match = _VERDICT.match(_THINKING.sub("", reply or "", count=1))
    if not match:
        return None
    return 1.0 if match.group(1).lower() == "yes" else 0.0


class CarefulJudge:
    """Judges the borderline answers with `model` (a LangChain chat model). A model that can
    say how likely its first word is (the local GGUF model: `yes_probability`) gives P(yes);
    any other gives 1 or 0 from its reply. The whole judgement must come within `timeout_s`
    (ASSISTANT_LLM_TIMEOUT_S when not given), or it raises TimeoutError: a model that hangs
    leaves the decision to the selector, as one that fails does."""

    def __init__(
        self, model, calibration: Calibration, name: str = "", timeout_s: float | None = None
    ):
        self.model = model
        self.calibration = calibration
        self.name = name
        if timeout_s is None:
            from .config import get_settings

            timeout_s = get_settings().llm_timeout_s
        self.timeout_s = timeout_s

    def weighs(self, p: float | None) -> bool:
        """Whether an answer with the selector's P(the evidence answers) `p` is borderline."""
        return p is not None and self.calibration.low <= p < self.calibration.high

    def yes_probability(self, question: str, candidate: Candidate) -> float | None:
        asked = messages(question, candidate)
        if hasattr(self.model, "yes_probability"):
            return self.model.yes_probability(asked)
        from .llm import reply_text  # langchain's messages, only in careful mode

        return read_verdict(reply_text(self.model.invoke(asked)))

    def _within(self, deadline: float, question: str, candidate: Candidate) -> float | None:
        """yes_probability, waited for until the deadline (see llm.within: a model that hangs
        keeps only a daemon thread)."""
        from .llm import within

        try:
            return within(deadline - time.monotonic(), self.yes_probability, question, candidate)
        except TimeoutError:
            raise TimeoutError(f"no verdict within {self.timeout_s:g} s") from None

    def judge(
        self, question: str, ranked: Sequence[tuple[Candidate, float]], p: float
    ) -> Judgement:
        """Asks of the selector's best sentences (most likely first) whether each answers,
        and decides with the calibration from the selector's P and the best P(yes)."""
        started = time.perf_counter()
        deadline = time.monotonic() + self.timeout_s
        shown = [candidate for candidate, _ in ranked[: self.calibration.sentences]]
        said = [self._within(deadline, question, candidate) for candidate in shown]
        readable = [(y, i) for i, y in enumerate(said) if y is not None and not math.isnan(y)]
        seconds = time.perf_counter() - started
        if not readable:
            return Judgement(None, None, len(shown), seconds)
        # The most likely by the model; on a tie, the selector's order.
        yes, place = max(readable, key=lambda pair: (pair[0], -pair[1]))
        answers = self.calibration.answers(p, yes) >= self.calibration.threshold
        return Judgement(place if answers else None, yes, len(shown), seconds)


def fit_calibration(
    alone: Sequence[dict],
    judged: Sequence[dict],
    threshold: float,
    model: str,
    fitted_on: str,
    sentences: int = 3,
) -> tuple[Calibration, list[dict[str, float]]]:
    """Fits the weighing on questions asked twice with no threshold: by the selector alone
    (`confidence` = its P; it refuses under `threshold`) and with the model judging every one
    (`judged` = its best P(yes) of `sentences`).
    The regression learns P(answerable); its threshold is the one of the best balanced
    accuracy (answerable answered correctly, unanswerable refused, each counted with the
    answer the model's choice led) with false refusals at most 10%, read off out-of-fold
    predictions; the band is the range of P in which, on these questions, the model's word
    changed a decision. Returns the calibration and the threshold table behind it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    by_id = {r["id"]: r for r in judged}
    rows = [(a, by_id[a["id"]]) for a in alone if by_id.get(a["id"], {}).get("judged") is not None]
    p = np.array([a.get("confidence") or 0.0 for a, _ in rows])
    yes = np.array([j["judged"] for _, j in rows])
    x = np.c_[p, yes, p * yes]
    answerable = np.array([bool(a["answerable"]) for a, _ in rows])
    if min(answerable.sum(), (~answerable).sum()) < 5:
        raise ValueError(
            "fitting careful mode needs at least 5 answerable and 5 unanswerable questions that "
            f"the model judged; these give {answerable.sum()} and {(~answerable).sum()}"
        )
    right = np.array([j.get("answered_correctly") == 1.0 for _, j in rows])
    oof = np.zeros(len(rows))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for train, test in folds.split(x, answerable):
        fitted = LogisticRegression().fit(x[train], answerable[train])
        oof[test] = fitted.predict_proba(x[test])[:, 1]
    table = []
    for cut in np.round(np.arange(0.2, 0.9 + 1e-9, 0.025), 3):
        answered = oof >= cut
        table.append(
            {
                "threshold": float(cut),
                "answered_correctly": float(np.mean((answered & right)[answerable])),
                "false_refusals": float(np.mean(~answered[answerable])),
                "unanswerable_refused": float(np.mean(~answered[~answerable])),
            }
        )
    allowed = [t for t in table if t["false_refusals"] <= 0.10] or table[:1]
    best = max(allowed, key=lambda t: t["answered_correctly"] + t["unanswerable_refused"])
    fitted = LogisticRegression().fit(x, answerable)
    weights = tuple(round(float(w), 6) for w in fitted.coef_[0])
    calibration = Calibration(
        0.0,
        1.0,
        weights,
        round(float(fitted.intercept_[0]), 6),
        best["threshold"],
        model,
        fitted_on,
        sentences,
    )
    changed = [
        pi
        for pi, yi in zip(p, yes, strict=True)
        if (calibration.answers(pi, yi) >= calibration.threshold) != (pi >= threshold)
    ]
    if not changed:  # the model's word changed nothing: it need never be asked
        return replace(calibration, low=threshold, high=threshold), table
    low = math.floor(min(changed) * 20) / 20
    high = min(1.0, math.ceil(max(changed) * 20 + 1e-9) / 20)
    return replace(calibration, low=low, high=high), table


EVERY = Calibration(0.0, 1.0, (0.0, 0.0, 0.0), 0.0, 0.0, "", "")
"""Judges every question and always answers, led by the sentence the model finds likeliest:
what `fit_calibration` learns from."""
