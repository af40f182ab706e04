"""Trains the answer selector (selector.py) from labelled questions, calibrates it, picks its
one refusal threshold on tuning data, measures it on held-out data and writes the model file
with its model card. `assistant train-selector` runs it (a few minutes on two cores).

Training data: SQuAD 2.0's training articles (evals/external/squad2/train.json) asked over a
corpus of all their paragraphs, and the tuning part of the real-document questions (with the
questions written on its documents for training only, evals/realdocs/training/) asked over the
real-document corpus. Held out, never trained or tuned on: SQuAD's test articles and the
real-document test part. scikit-learn is needed here only, not to answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chain import Assistant
from .config import Settings
from .evalsets import Question, load_questions, sample, squad_set
from .evaluation import eval_settings, evidence_coverage, holds_term
from .ingest import Ingester
from .selector import MODEL_PATH, AnswerSelector
from .signals import FEATURES, QUESTION_FEATURES, Candidate, fill_alone, question_features

ROOT = Path(__file__).resolve().parents[1]
# How much one question of each source counts: the real documents are the target; the
# starter summaries and SQuAD asked of its own paragraph keep the model sound where the
# evidence is one short document.
WEIGHTS = {"realdocs": 5.0, "starter": 2.0, "squad": 1.0, "squad-paragraph": 1.0}
REALDOCS_WEIGHT = WEIGHTS["realdocs"]
REALDOCS_TRAINING = ROOT / "evals/realdocs/training"
PARAGRAPH_QUESTIONS = 1500  # SQuAD training questions also asked of their own paragraph
MAX_FALSE_REFUSALS = 0.10  # the threshold keeps false refusals on tuning data at most this


@dataclass
class Example:
    """One question's candidates: their signals, labels, and the question's own label."""

    question: Question
    source: str
    matrix: np.ndarray
    labels: np.ndarray
    answerable: bool
    """The question can be answered, and a sentence that answers it was retrieved."""

    @property
    def group(self) -> str:
        """The document (a SQuAD article) the question is about: cross-validation keeps each
        group's questions in one fold, so no fold learns the document it is scored on."""
        documents = self.question.documents
        if not documents:
            return f"{self.source}:{self.question.id.split('-')[0]}"
        name = documents[0]
        squad = self.source.startswith("squad")
        return f"squad:{name.rsplit('-', 1)[0]}" if squad else f"{self.source}:{name}"


def is_answer(question: Question, candidate: Candidate) -> bool:
    """Whether a retrieved sentence is the gold answer: from a named document, and the gold
    evidence sentence (much the same words either way) or, where no evidence sentence is
    given, one holding an answer term."""
    if Path(candidate.passage.source).name not in question.documents:
        return False
    sentence = candidate.sentence
    if question.kind.startswith("squad") or not question.evidence:
        # No evidence sentence given (SQuAD, the starter questions): one holding an answer term.
        return any(holds_term(sentence, a) for alt in question.answer_terms for a in alt)
    words = len(sentence.split())
    return evidence_coverage(question.evidence, sentence) >= 0.6 or (
        words >= 5 and evidence_coverage(sentence, question.evidence) >= 0.8
    )


def collect(
    assistant: Assistant, questions: Sequence[Question], source: str, say: Callable[[str], None]
) -> list[Example]:
    """Asks for the evidence of each question and labels its candidates."""
    examples = []
    started = time.perf_counter()
    for i, q in enumerate(questions):
        evidence = assistant.evidence(q.question, list(q.history), q.filters or None)
        labels = np.array([is_answer(q, c) for c in evidence.candidates], dtype=np.int8)
        examples.append(
            Example(q, source, evidence.matrix, labels, q.answerable and bool(labels.any()))
        )
        if (i + 1) % 500 == 0:
            say(f"  {source}: {i + 1} of {len(questions)} ({time.perf_counter() - started:.0f} s)")
    return examples


def _stack(examples: Sequence[Example]):
    x = np.vstack([e.matrix for e in examples if len(e.matrix)])
    y = np.concatenate([e.labels for e in examples if len(e.matrix)])
    names = sorted({e.group for e in examples})
    groups = np.concatenate(
        [np.full(len(e.matrix), names.index(e.group)) for e in examples if len(e.matrix)]
    )
    weights = np.concatenate(
        [np.full(len(e.matrix), WEIGHTS.get(e.source, 1.0)) for e in examples if len(e.matrix)]
    )
    return x, y, groups, weights


def _trees(model) -> dict[str, Any]:
    """A fitted HistGradientBoostingClassifier's trees as plain arrays (see selector.Trees)."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        trees.append(
            {
                "feature": nodes["feature_idx"].tolist(),
                "threshold": nodes["num_threshold"].tolist(),
                "left": nodes["left"].tolist(),
                "right": nodes["right"].tolist(),
                "leaf": nodes["is_leaf"].astype(bool).tolist(),
                "value": nodes["value"].tolist(),
                "missing_left": nodes["missing_go_to_left"].astype(bool).tolist(),
            }
        )
    return {
        "kind": "trees",
        "baseline": float(model._baseline_prediction.ravel()[0]),
        "trees": trees,
    }


def _logistic(model, scaler) -> dict[str, Any]:
    return {
        "kind": "logistic",
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "coef": model.coef_.ravel().tolist(),
        "intercept": float(model.intercept_[0]),
    }


def _sentence_model():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=250,
        learning_rate=0.08,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=0,
    )


def _top1(examples: Sequence[Example], probabilities: Sequence[np.ndarray]) -> float:
    """The share of questions with a gold sentence retrieved whose best sentence is gold."""
    hits = [
        e.labels[int(np.argmax(p))] == 1
        for e, p in zip(examples, probabilities, strict=True)
        if e.labels.any()
    ]
    return float(np.mean(hits)) if hits else 0.0


def _split_probabilities(examples, raw: np.ndarray, a: float, b: float) -> list[np.ndarray]:
    out, start = [], 0
    for e in examples:
        n = len(e.matrix)
        out.append(1 / (1 + np.exp(-(a * raw[start : start + n] + b))))
        start += n
    return out


def _threshold(
    probabilities: np.ndarray, answerable: np.ndarray, others: Sequence[tuple] = ()
) -> tuple[float, dict]:
    """The refusal threshold: the best balanced accuracy whose false refusals stay at most
    MAX_FALSE_REFUSALS, over a grid of thresholds; where none keeps them that low, the one
    that refuses fewest answerable questions. `others` are further (probabilities,
    answerable) pairs, one a source, whose false refusals must stay as low too: the one
    threshold serves every kind of text."""
    best, chosen = -1.0, None
    table = {}
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        answered = probabilities >= t
        false_refusals = float(np.mean(~answered[answerable])) if answerable.any() else 0.0
        refused_right = float(np.mean(~answered[~answerable])) if (~answerable).any() else 0.0
        table[float(t)] = (false_refusals, refused_right)
        balanced = (1 - false_refusals + refused_right) / 2
        elsewhere = max((float(np.mean(p[a] < t)) for p, a in others if a.any()), default=0.0)
        if max(false_refusals, elsewhere) <= MAX_FALSE_REFUSALS and balanced > best:
            best, chosen = balanced, float(t)
    if chosen is None:
        chosen = min(table, key=lambda t: (table[t][0], -table[t][1]))
    return chosen, table


def _question_rows(examples, probabilities) -> np.ndarray:
    return np.vstack(
        [question_features(p, e.matrix) for e, p in zip(examples, probabilities, strict=True)]
    )


def train(
    examples: Sequence[Example],
    say: Callable[[str], None],
    cross_fitted: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Fits the sentence model (out of fold first, for its calibration and for the question
    model's inputs), the question model, and the threshold; returns the model file's content.
    Given a list, `cross_fitted` receives one selector per fold as well: trained as this one
    is, but without the fold's documents (see run_cross_fitted)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    examples = [e for e in examples if len(e.matrix)]
    x, y, groups, weights = _stack(examples)
    say(f"training on {len(examples)} questions, {len(x)} sentences ({int(y.sum())} answers)")
    folds = list(GroupKFold(n_splits=5).split(x, y, groups))
    raw = np.zeros(len(x))
    fold_models = []
    for train_rows, test_rows in folds:
        model = _sentence_model().fit(
            x[train_rows], y[train_rows], sample_weight=weights[train_rows]
        )
        raw[test_rows] = model.decision_function(x[test_rows])
        fold_models.append(model)
    platt = LogisticRegression(C=1e6).fit(raw[:, None], y, sample_weight=weights)
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    oof = _split_probabilities(examples, raw, a, b)
    final = _sentence_model().fit(x, y, sample_weight=weights)

    # The question model learns from questions that can be answered from what was retrieved
    # and questions that cannot be answered at all; its inputs are out of fold.
    qx = _question_rows(examples, oof)
    qy = np.array([e.answerable for e in examples], dtype=np.int8)
    qw = np.array([WEIGHTS.get(e.source, 1.0) for e in examples])
    trainable = np.array([e.answerable or not e.question.answerable for e in examples])
    scaler = StandardScaler().fit(qx[trainable])

    def fit(rows: np.ndarray):
        rows = rows[trainable[rows]]
        return LogisticRegression(C=1.0, max_iter=1000).fit(
            scaler.transform(qx[rows]), qy[rows], sample_weight=qw[rows]
        )

    q_oof = np.zeros(len(examples))
    question_groups = [e.group for e in examples]
    for train_rows, test_rows in GroupKFold(n_splits=5).split(qx, qy, question_groups):
        q_oof[test_rows] = fit(train_rows).predict_proba(scaler.transform(qx[test_rows]))[:, 1]
    question_model = fit(np.arange(len(qx)))
    real = np.array([e.source == "realdocs" for e in examples])
    asked = np.array([e.question.answerable for e in examples])
    # The one threshold, set on the real-document tuning questions (every answerable question
    # counts, whether or not its answer was retrieved), holding false refusals as low on each
    # other source: set on the real documents alone it refused twice as many answerable
    # questions of SQuAD's held-out articles.
    sources = np.array([e.source for e in examples])
    others = [
        (q_oof[rows], asked[rows])
        for s in set(sources) - {"realdocs"}
        if (rows := sources == s).any()
    ]
    threshold, table = _threshold(q_oof[real], asked[real], others)
    metrics = {
        "sentence_auc": round(float(roc_auc_score(y, raw)), 4),
        "top1": {
            source: round(
                _top1(
                    [e for e in examples if e.source == source],
                    [p for e, p in zip(examples, oof, strict=True) if e.source == source],
                ),
                4,
            )
            for source in sorted({e.source for e in examples})
        },
        "answerable_auc": {
            source: round(float(roc_auc_score(asked[rows], q_oof[rows])), 4)
            for source in sorted({e.source for e in examples})
            if len(set(asked[rows := np.array([e.source == source for e in examples])])) > 1
        },
        "threshold_table": {
            f"{t:.2f}": {"false_refusals": round(f, 3), "unanswerable_refused": round(r, 3)}
            for t, (f, r) in table.items()
            if round(t * 100) % 5 == 0
        },
    }
    if cross_fitted is not None:
        names = sorted({e.group for e in examples})
        for (_, test_rows), model in zip(folds, fold_models, strict=True):
            held = sorted({names[g] for g in np.unique(groups[test_rows])})
            rows = np.array([i for i, e in enumerate(examples) if e.group not in set(held)])
            cross_fitted.append(
                {
                    "groups": held,
                    "selector": {
                        "features": list(FEATURES),
                        "question_features": list(QUESTION_FEATURES),
                        "sentence_model": _trees(model),
                        "sentence_calibration": {"a": a, "b": b},
                        "question_model": _logistic(fit(rows), scaler),
                        "threshold": threshold,
                    },
                }
            )
    return {
        "features": list(FEATURES),
        "question_features": list(QUESTION_FEATURES),
        "sentence_model": _trees(final),
        "sentence_calibration": {"a": a, "b": b},
        "question_model": _logistic(question_model, scaler),
        "threshold": threshold,
        "trained": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "training": {
            "questions": {
                s: sum(1 for e in examples if e.source == s)
                for s in sorted({e.source for e in examples})
            },
            "sentences": int(len(x)),
            "answers": int(y.sum()),
        },
        "out_of_fold": metrics,
    }


def held_out(
    selector: AnswerSelector, examples: Sequence[Example]
) -> dict[str, dict[str, float | int]]:
    """The selector on questions it never saw: per source, how often its best sentence is a
    gold one, and at its threshold, the answerable answered and the unanswerable refused."""
    from sklearn.metrics import roc_auc_score

    out: dict[str, dict[str, float | int]] = {}
    for source in sorted({e.source for e in examples}):
        chosen = [e for e in examples if e.source == source and len(e.matrix)]
        probabilities = [selector.sentence_probabilities(e.matrix) for e in chosen]
        answers = np.array(
            [
                selector.answer_probability(question_features(p, e.matrix))
                for e, p in zip(chosen, probabilities, strict=True)
            ]
        )
        asked = np.array([e.question.answerable for e in chosen])
        answered = answers >= selector.threshold
        out[source] = {
            "questions": len(chosen),
            "top1": round(_top1(chosen, probabilities), 4),
            "answerable_auc": round(float(roc_auc_score(asked, answers)), 4)
            if len(set(asked)) > 1
            else None,
            "answered_when_answerable": round(float(answered[asked].mean()), 4),
            "refused_when_unanswerable": round(float((~answered[~asked]).mean()), 4)
            if (~asked).any()
            else None,
        }
    return out


def _assistant(settings: Settings, corpus: Path, say: Callable[[str], None]) -> Assistant:
    """An assistant over the corpus's own index (the eval suite's), without a selector."""
    own = eval_settings(settings, corpus)
    report = Ingester(own).ingest([corpus])
    if report.failed:
        raise RuntimeError("; ".join(str(f) for f in report.failed))
    say(f"{corpus}: {report.summary()}")
    assistant = Assistant(own)
    assistant.selector = None
    return assistant


def run_training(
    settings: Settings,
    out: Path = MODEL_PATH,
    say: Callable[[str], None] = print,
    squad_held_out: int = 600,
    reuse: bool = False,
    with_training: bool = False,
) -> dict[str, Any]:
    """Collects the examples (or, with reuse, reads those the last run kept), trains, measures
    on held-out questions, writes the model file and its card; returns the file's content.
    `with_training`: the questions written for training only are trained on too (see
    _collected)."""
    work = settings.index_dir / "train-selector"
    examples, test = _collected(settings, work, say, squad_held_out, reuse, with_training)
    data = train(examples, say)
    data["training"]["training_questions"] = with_training
    data["held_out"] = held_out(AnswerSelector(data), test)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    out.with_name("ANSWER_SELECTOR.md").write_text(model_card(data), encoding="utf-8")
    return data


CROSS_FITTED = "cross-fitted.json"


def run_cross_fitted(
    settings: Settings,
    say: Callable[[str], None] = print,
    reuse: bool = False,
    with_training: bool = False,
) -> Path:
    """Writes the selectors of the five folds (see train) to the index's training folder, and
    leaves the shipped model alone; returns the file's path. For a tuning question, the
    selector of the fold that held its document out gives the P the shipped selector gives on
    documents it never saw, where the shipped one, trained on the question, is surer than it
    will be for a user. Careful mode's weighing is fitted on those (cli: --careful-sweep
    --cross-fitted)."""
    work = settings.index_dir / "train-selector"
    examples, _ = _collected(settings, work, say, 600, reuse, with_training)
    folds: list[dict[str, Any]] = []
    train(examples, say, folds)
    path = work / CROSS_FITTED
    path.write_text(json.dumps({"folds": folds}, separators=(",", ":")), encoding="utf-8")
    return path


class CrossFitted:
    """Per question, the fold selector that never saw its document (None for a question on
    documents no fold held out: the shipped selector answers it)."""

    def __init__(self, path: Path):
        try:
            folds = json.loads(path.read_text(encoding="utf-8"))["folds"]
        except (OSError, ValueError, KeyError) as err:
            raise ValueError(
                f"{path} does not hold cross-fitted selectors ({err}): make them with "
                "`assistant train-selector --cross-fitted`"
            ) from err
        self._by_group: dict[str, AnswerSelector] = {}
        for fold in folds:
            selector = AnswerSelector(fold["selector"])
            self._by_group.update(dict.fromkeys(fold["groups"], selector))

    def __call__(self, question: Question) -> AnswerSelector | None:
        for name in question.documents:
            selector = self._by_group.get(f"realdocs:{name}")
            if selector is not None:
                return selector
        return None


def _key(part: str, source: str, question: Question) -> tuple[str, str, str]:
    """What makes a kept example still the example of a question: its part (training or held
    out), its source, and every field of the question (words, history, label, filters)."""
    return (part, source, repr(question))


def _code() -> str:
    """The SHA-256 of the package's code: a signal can change and keep its name, so examples
    collected by other code are not reused."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _reading(settings: Settings) -> str:
    """How the documents were read and chunked: examples read otherwise are not reused."""
    from .ingest import scheme

    return f"{scheme(settings)} {settings.embedding_backend} {settings.chunk_tokens}"


def _collected(
    settings, work: Path, say, squad_held_out: int, reuse: bool, with_training: bool = False
):
    """The training and held-out examples; kept in the work folder. With reuse, a question
    whose example was kept (the same question, signals and reading) is not asked again: only
    new or changed questions are. The questions written for training only are trained on
    only `with_training`: otherwise they stay questions the selector never saw, on which
    `make reliability` measures how often its answers are right."""
    import pickle

    cache = work / "examples.pickle"
    kept: dict[tuple, Example] = {}
    if reuse and cache.is_file():
        with cache.open("rb") as handle:
            stored = pickle.load(handle)  # written by this function, in this index folder
        if (
            stored.get("features") == list(FEATURES)
            and stored.get("reading") == _reading(settings)
            and stored.get("code") == _code()
        ):
            for part in ("train", "test"):
                for example in stored[part]:
                    example.matrix = fill_alone(example.matrix)
                    kept[_key(part, example.source, example.question)] = example
            say(f"reusing the {len(kept)} examples collected in {cache}")
        else:
            say("the kept examples are of other signals, code or reading: collecting afresh")
    squad_train, squad_questions = squad_set(
        ROOT / "evals/external/squad2/train.json", work / "train"
    )
    squad_test, squad_test_questions = squad_set(
        ROOT / "evals/external/squad2/test.json", work / "test", limit=squad_held_out
    )
    realdocs = ROOT / "evals/realdocs/documents"
    real_questions = load_questions(ROOT / "evals/realdocs/questions")
    # Questions written for training only, on the tuning part's documents (not in the eval).
    real_training = [q for q in real_questions if q.split == "tuning"]
    if with_training and any(REALDOCS_TRAINING.glob("*.yaml")):
        real_training += load_questions(REALDOCS_TRAINING)
    starter = [q for q in load_questions(ROOT / "evals/questions.yaml") if q.split == "tuning"]
    # SQuAD is asked of its whole corpus in training (what retrieval brings), and of its own
    # paragraph when held out (as the eval suite asks it).
    asked = [
        ("train", "squad", squad_train, [_unfiltered(q) for q in squad_questions]),
        ("train", "squad-paragraph", squad_train, sample(squad_questions, PARAGRAPH_QUESTIONS)),
        ("train", "realdocs", realdocs, real_training),
        ("train", "starter", ROOT / "corpus", starter),
        ("test", "squad", squad_test, squad_test_questions),
        ("test", "realdocs", realdocs, [q for q in real_questions if q.split == "test"]),
    ]
    assistants: dict[Path, Assistant] = {}
    parts: dict[str, list[Example]] = {"train": [], "test": []}
    for part, source, corpus, questions in asked:
        missing = [q for q in questions if _key(part, source, q) not in kept]
        if missing:
            if corpus not in assistants:
                assistants[corpus] = _assistant(settings, corpus, say)
            kept.update(
                (_key(part, source, e.question), e)
                for e in collect(assistants[corpus], missing, source, say)
            )
        parts[part] += [kept[_key(part, source, q)] for q in questions]
    work.mkdir(parents=True, exist_ok=True)
    with cache.open("wb") as handle:
        kept_as = {"features": list(FEATURES), "reading": _reading(settings), "code": _code()}
        pickle.dump({**kept_as, **parts}, handle)
    return parts["train"], parts["test"]


def _unfiltered(question: Question) -> Question:
    from dataclasses import replace

    return replace(question, filters={})


def model_card(data: dict[str, Any]) -> str:
    """The model card: what it is, its data and their licences, how to rebuild it, and what it
    scores on questions it never saw."""
    held = data.get("held_out", {})
    fold = data["out_of_fold"]
    with_training = data["training"].get("training_questions", False)
    lines = [
        "# Model card: the answer selector",
        "",
        "Two small models over the general signals of `assistant/signals.py` (dense and lexical "
        "scores of each sentence and its passage, the question's words weighed by rarity, the "
        "names and figures the question asserts, the kind of answer it wants against the named "
        "entities in the sentence):",
        "",
        f"- **P(this sentence answers)**: gradient-boosted trees "
        f"({len(data['sentence_model']['trees'])} trees, scikit-learn's "
        "HistGradientBoostingClassifier), calibrated by Platt scaling on out-of-fold scores.",
        "- **P(the evidence answers at all)**: a logistic regression over the best sentences' "
        "probabilities and a few aggregates of the question's signals.",
        f"- **The refusal threshold**: {data['threshold']:.2f} on P(the evidence answers), the "
        "best balanced accuracy on the real-document tuning questions (out of fold) whose false "
        f"refusals stay at or under {MAX_FALSE_REFUSALS:.0%}.",
        "",
        "Stored as numbers in `answer_selector.json` and evaluated with numpy (no pickle, no "
        "training library at run time).",
        "",
        "## Data",
        "",
        f"Trained {data['trained']} on {data['training']['sentences']:,} candidate sentences "
        f"({data['training']['answers']:,} answers) of "
        + ", ".join(f"{n} {s} questions" for s, n in data["training"]["questions"].items())
        + ":",
        "",
        "- SQuAD 2.0, the 10 training articles of the first half of its dev set "
        "(`evals/external/squad2/train.json`; CC BY-SA 4.0, Rajpurkar, Jia and Liang 2018), "
        "each question asked of a corpus of all those articles' paragraphs.",
        "- The tuning part of the real-document questions (`evals/realdocs/`, written for this "
        "project over public documents under the Open Government, Open Parliament and other "
        "licences listed in its NOTICE)"
        + (
            " and the questions written on the same documents for training only "
            "(`evals/realdocs/training/`, never asked by the eval)"
            if with_training
            else ""
        )
        + f", weighted {REALDOCS_WEIGHT:g} times a SQuAD question."
        + (
            ""
            if with_training
            else " The questions written on the same documents for training only "
            "(`evals/realdocs/training/`) are not trained on: they are the questions it never "
            "saw, on which `make reliability` measures how often its answers are right."
        ),
        f"- {PARAGRAPH_QUESTIONS} of the SQuAD training questions asked again of their own "
        "paragraph (as the eval suite asks SQuAD), and the tuning questions of the starter "
        f"corpus (the project's own summaries, weighted {WEIGHTS['starter']:g}; its held-out "
        "questions are never used).",
        "",
        "A sentence is labelled an answer when it comes from a document the question names and "
        "is the gold evidence sentence (much the same words), or for SQuAD holds the answer.",
        "",
        "## Rebuild",
        "",
        "```sh",
        ".venv/bin/assistant train-selector"
        + (" --with-training-questions" if with_training else "")
        + "      # a few minutes on two cores",
        "make reliability                        # then how often its answers are right, by P"
        if not with_training
        else "# (make reliability measures on the training-only questions: not for this model)",
        "```",
        "",
        "## Out of fold, on the training data",
        "",
        f"- sentence ranking ROC AUC {fold['sentence_auc']}; best sentence is an answer: "
        + ", ".join(f"{s} {v}" for s, v in fold["top1"].items()),
        "- answerable against unanswerable, ROC AUC: "
        + ", ".join(f"{s} {v}" for s, v in fold["answerable_auc"].items()),
        "",
        "## Held out: questions it never saw (SQuAD test articles, real-document test part)",
        "",
        "| questions | n | best sentence is an answer | answerable ROC AUC | answerable answered | "
        "unanswerable refused |",
        "|---|---|---|---|---|---|",
    ]
    for source, m in held.items():
        lines.append(
            f"| {source} | {m['questions']} | {m['top1']} | {m['answerable_auc']} | "
            f"{m['answered_when_answerable']} | {m['refused_when_unanswerable']} |"
        )
    lines += [
        "",
        "'Best sentence is an answer' counts the questions whose gold sentence was retrieved at "
        "all. The end-to-end figures (answered correctly, evidence quoted) are in the eval "
        "suite's reports.",
        "",
    ]
    return "\n".join(lines)
