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
