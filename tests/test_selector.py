"""The answer selector: its stored trees and weights give what the trained models give, a file
that does not fit the signals is refused, and the shipped model is sane."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.selector import MODEL_PATH, AnswerSelector, Logistic, SelectorError, Trees
from assistant.selector_training import _logistic, _trees
from assistant.signals import FEATURES, QUESTION_FEATURES

sklearn = pytest.importorskip("sklearn")


def test_stored_trees_predict_what_the_trained_model_predicts():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values go the trained way
    y = ((np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) ** 2) > 0.8).astype(int)
    model = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=7).fit(x, y)
    trees = Trees.from_dict(_trees(model))
    assert np.allclose(trees.raw(x), model.decision_function(x), atol=1e-9)


def test_stored_logistic_weights_predict_what_the_trained_model_predicts():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4)) * [1, 5, 0.1, 2] + [0, 3, 1, -2]
    y = (x[:, 0] + x[:, 2] > 1).astype(int)
    scaler = StandardScaler().fit(x)
    model = LogisticRegression().fit(scaler.transform(x), y)
    stored = Logistic.from_dict(_logistic(model, scaler))
    assert np.allclose(stored.raw(x), model.decision_function(scaler.transform(x)))


def test_a_model_of_other_signals_is_refused():
    data = json.loads(MODEL_PATH.read_text())
    data["features"] = [*data["features"], "a signal this version does not compute"]
    with pytest.raises(SelectorError, match="train-selector"):
        AnswerSelector(data)


def test_a_model_file_cut_short_or_missing_a_part_is_refused_by_name(tmp_path):
    text = MODEL_PATH.read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    data = json.loads(text)
    del data["sentence_calibration"]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(data))
    for path in (cut, partial):
        with pytest.raises(SelectorError, match="cannot be read .*train-selector"):
            AnswerSelector.load(path)


def test_a_question_asked_with_a_damaged_model_file_says_why(
    starter_settings, monkeypatch, tmp_path
):
    from assistant import chain

    cut = tmp_path / "cut.json"
    cut.write_text(MODEL_PATH.read_text()[:1000])
    monkeypatch.setattr(chain, "default_selector", lambda: AnswerSelector.load(cut))
    with pytest.raises(SelectorError, match="cannot be read"):
        chain.Assistant(starter_settings).ask("How many national outcomes are there?")


def test_the_caches_of_vectors_and_entities_start_afresh_without_losing_a_batch():
    from assistant import signals

    signals.sentence_vectors(["A sentence met before."], lambda xs: np.ones((len(xs), 384)))
    signals.entities_of(["Alice met Bob in Oban."])
    for k in range(50_001):
        signals._VECTORS[f"filler {k}"] = np.zeros(384)
        signals._ENTITIES[f"filler {k}"] = ()
    batch = ["A sentence met before.", "A new sentence."]
    vectors = signals.sentence_vectors(batch, lambda xs: np.ones((len(xs), 384)))
    assert vectors.shape == (2, 384) and len(signals._VECTORS) == 2
    found = signals.entities_of(["Alice met Bob in Oban.", "Morag chairs the board."])
    assert len(found) == 2 and len(signals._ENTITIES) == 2


def test_the_shipped_selector_fits_this_version_and_keeps_its_card():
    selector = AnswerSelector.load()
    assert tuple(selector.data["features"]) == FEATURES
    assert 0.05 < selector.threshold < 0.95
    matrix = np.zeros((3, len(FEATURES)), dtype=np.float32)
    p = selector.sentence_probabilities(matrix)
    assert p.shape == (3,) and ((p >= 0) & (p <= 1)).all()
    assert 0 <= selector.answer_probability(np.zeros(len(QUESTION_FEATURES))) <= 1
    card = MODEL_PATH.with_name("ANSWER_SELECTOR.md").read_text()
    assert "Held out" in card and "assistant train-selector" in card
    assert set(selector.data["held_out"]) == {"realdocs", "squad"}


def _examples(rng, documents: int = 10, per_document: int = 6):
    """Questions over `documents` real documents, each with candidates whose first signal says
    which sentence answers, and a fifth of them unanswerable."""
    from assistant.evalsets import Question
    from assistant.selector_training import Example

    examples = []
    for d in range(documents):
        for k in range(per_document):
            answerable = k % 5 != 0
            matrix = rng.normal(size=(8, len(FEATURES))).astype(np.float32)
            labels = np.zeros(8, dtype=np.int8)
            if answerable:
                labels[k % 8] = 1
                matrix[k % 8, 0] += 3
            question = Question(f"d{d}-{k}", "q", answerable, "fact", documents=(f"doc{d}.pdf",))
            examples.append(Example(question, "realdocs", matrix, labels, answerable))
    return examples


def test_each_cross_fitted_selector_never_saw_the_documents_it_answers_for(tmp_path):
    """The five folds' selectors: each is a whole selector, trained without its fold's
    documents, and a question on one of those documents is answered by it; a question on a
    document no fold held out goes to the shipped selector (None)."""
    from assistant.evalsets import Question
    from assistant.selector_training import CrossFitted, train

    examples = _examples(np.random.default_rng(3))
    folds: list[dict] = []
    data = train(examples, lambda line: None, folds)
    assert len(folds) == 5
    held = [set(f["groups"]) for f in folds]
    assert set().union(*held) == {f"realdocs:doc{d}.pdf" for d in range(10)}
    assert all(not (a & b) for i, a in enumerate(held) for b in held[i + 1 :])
    for fold in folds:
        selector = AnswerSelector(fold["selector"])
        assert selector.threshold == data["threshold"]
        # trained on other documents: not the model trained on every document
        assert fold["selector"]["sentence_model"] != data["sentence_model"]
    path = tmp_path / "cross-fitted.json"
    path.write_text(json.dumps({"folds": folds}))
    selector_for = CrossFitted(path)
    first = sorted(folds[0]["groups"])[0].split(":", 1)[1]
    chosen = selector_for(Question("x", "q", True, "fact", documents=(first,)))
    assert chosen is not None and chosen.data is not None
    assert chosen.data["sentence_model"] == folds[0]["selector"]["sentence_model"]
    assert selector_for(Question("y", "q", True, "fact", documents=("other.pdf",))) is None


def test_a_file_without_cross_fitted_selectors_is_refused_by_name(tmp_path):
    from assistant.selector_training import CrossFitted

    path = tmp_path / "folds.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="folds.json.*train-selector --cross-fitted"):
        CrossFitted(path)


def test_a_rerun_asks_only_the_questions_it_has_no_kept_example_for(tmp_path, monkeypatch):
    """`train-selector --reuse` keeps each question's example: a second run asks nothing and
    builds no index; a question whose example is gone, or whose label changed, is the only one
    asked again, and its example takes its old place."""
    import pickle
    from dataclasses import replace

    from assistant import selector_training as training
    from assistant.config import Settings

    asked: list[tuple[str, str]] = []
    built: list[object] = []

    def collect(assistant, questions, source, say):
        asked.extend((source, q.id) for q in questions)
        empty = np.zeros((0, len(FEATURES)), dtype=np.float32)
        return [training.Example(q, source, empty, np.zeros(0, np.int8), False) for q in questions]

    def assistant(settings, corpus, say):
        built.append(corpus)
        return corpus

    monkeypatch.setattr(training, "collect", collect)
    monkeypatch.setattr(training, "_assistant", assistant)
    work = tmp_path / "work"
    settings = Settings(index_dir=tmp_path / "index", progress=False)
    written = {q.id for q in training.load_questions(training.REALDOCS_TRAINING)}
    # By default the training-only questions are not trained on: they stay questions the
    # selector never saw, for `make reliability`; asked for, they are.
    alone, _ = training._collected(settings, work, lambda line: None, 20, reuse=False)
    assert written and not written & {e.question.id for e in alone if e.source == "realdocs"}
    asked.clear()
    train, test = training._collected(
        settings, work, lambda line: None, 20, reuse=False, with_training=True
    )
    assert len(asked) == len(train) + len(test)
    real = [e.question.id for e in train if e.source == "realdocs"]
    assert written <= set(real)
    asked.clear()
    built.clear()
    again, _ = training._collected(
        settings, work, lambda line: None, 20, reuse=True, with_training=True
    )
    assert asked == [] and built == []
    assert [(e.source, e.question.id) for e in again] == [(e.source, e.question.id) for e in train]
    cache = work / "examples.pickle"
    kept = pickle.loads(cache.read_bytes())
    order = [(e.source, e.question.id) for e in kept["train"]]
    at = [
        i for i, e in enumerate(kept["train"]) if e.source == "realdocs" and e.question.answerable
    ]
    gone = kept["train"].pop(at[0]).question.id
    # A question relabelled since its example was kept (kept as not answerable; it is).
    changed = kept["train"][at[1] - 1]
    kept["train"][at[1] - 1] = replace(
        changed, question=replace(changed.question, answerable=False)
    )
    cache.write_bytes(pickle.dumps(kept))
    third, _ = training._collected(
        settings, work, lambda line: None, 20, reuse=True, with_training=True
    )
    assert asked == [("realdocs", gone), ("realdocs", changed.question.id)]
    assert built == [training.ROOT / "evals/realdocs/documents"]
    assert [(e.source, e.question.id) for e in third] == order
    assert next(e for e in third if e.question.id == changed.question.id).question.answerable
    # Documents read another way (footnotes set apart): nothing kept is reused.
    asked.clear()
    noted = settings.model_copy(update={"pdf_footnotes": not settings.pdf_footnotes})
    training._collected(noted, work, lambda line: None, 20, reuse=True, with_training=True)
    assert len(asked) == len(train) + len(test)
    # Other code (a signal that keeps its name and changes): nothing kept is reused either.
    training._collected(settings, work, lambda line: None, 20, reuse=False, with_training=True)
    asked.clear()
    monkeypatch.setattr(training, "_code", lambda: "other code")
    training._collected(settings, work, lambda line: None, 20, reuse=True, with_training=True)
    assert len(asked) == len(train) + len(test)


def test_a_training_sentence_holds_an_answer_as_the_eval_finds_it():
    from assistant.evalsets import Question
    from assistant.models import Passage
    from assistant.selector_training import is_answer
    from assistant.signals import Candidate

    question = Question(
        id="s1",
        question="When?",
        answerable=True,
        kind="squad",
        documents=("a.md",),
        answer_terms=(("17",),),
    )

    def candidate(sentence: str) -> Candidate:
        passage = Passage(1, "c", "d", "T", "/x/a.md", 1, 1, "", sentence, 1.0)
        return Candidate(passage, sentence, 0, np.zeros(384))

    assert is_answer(question, candidate("It began on 17 May."))
    assert not is_answer(question, candidate("The law was passed in 2017."))


def test_the_threshold_refuses_fewest_where_none_keeps_false_refusals_low():
    from assistant.selector_training import _threshold

    answerable = np.array([True] * 6 + [False] * 4)
    p = np.array([0.01, 0.02, 0.2, 0.25, 0.3, 0.3, 0.01, 0.02, 0.03, 0.04])
    threshold, table = _threshold(p, answerable)
    assert threshold == 0.05 and table[threshold][0] == pytest.approx(2 / 6)


def test_the_refusal_threshold_holds_false_refusals_down_on_every_source():
    """Set on the real documents alone, the best balanced accuracy may refuse many answerable
    questions of another source; the one threshold keeps each source's false refusals at
    most the limit as well."""
    from assistant.selector_training import MAX_FALSE_REFUSALS, _threshold

    rng = np.random.default_rng(7)
    real_p = np.concatenate([rng.uniform(0.5, 1.0, 90), rng.uniform(0.0, 0.5, 10)])
    real_p = np.concatenate([real_p, rng.uniform(0.0, 0.45, 100)])
    real_asked = np.array([True] * 100 + [False] * 100)
    other_p = np.concatenate([rng.uniform(0.3, 0.9, 100), rng.uniform(0.0, 0.3, 20)])
    other_asked = np.array([True] * 100 + [False] * 20)
    alone, _ = _threshold(real_p, real_asked)
    held, _ = _threshold(real_p, real_asked, [(other_p, other_asked)])
    assert np.mean(other_p[other_asked] < alone) > MAX_FALSE_REFUSALS
    assert np.mean(other_p[other_asked] < held) <= MAX_FALSE_REFUSALS
    assert np.mean(real_p[real_asked] < held) <= MAX_FALSE_REFUSALS and held < alone
