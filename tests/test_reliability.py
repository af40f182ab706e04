"""How often answers as sure were right: measured in bands of P, tied to its selector, and
shown with every answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import reliability
from assistant.chain import Assistant
from assistant.reliability import Band, Reliability, fingerprint, measure
from assistant.selector import default_selector

ASSISTANT = str(Path(sys.executable).with_name("assistant"))


def _row(p: float, right: bool, answerable: bool = True, refused: bool = False) -> dict:
    row = {"confidence": p, "refused": refused, "answerable": answerable}
    if answerable:
        row["answered_correctly"] = float(right)
    return row


def test_answers_are_cut_into_bands_of_equal_counts_each_with_its_right_ones():
    rows = [_row(0.35 + 0.01 * i, right=i >= 6) for i in range(9)]
    rows += [_row(0.9, right=False, answerable=False)]  # answered, but nothing answers it
    rows += [_row(0.2, right=False, refused=True)]  # a refusal states no answer
    bands = measure(rows, bands=2)
    assert [(round(b.low, 2), round(b.high, 2)) for b in bands] == [(0.35, 0.4), (0.4, 1.0)]
    assert [(b.answers, b.right) for b in bands] == [(5, 0), (5, 3)]
    assert sum(b.answers for b in bands) == 10
    # the lowest band reaches down to the refusal threshold, where it is lower
    assert measure(rows, bands=2, floor=0.3)[0].low == 0.3
    with pytest.raises(ValueError, match="cannot be cut"):
        measure(rows[:1], bands=2)


def test_a_band_is_found_by_its_p_and_said_in_words():
    table = Reliability([Band(0.32, 0.5, 40, 10), Band(0.5, 1.0, 40, 20)])
    assert table.band(0.31) is None
    assert table.band(0.32) == table.bands[0] and table.band(0.5) == table.bands[1]
    assert table.band(1.0) == table.bands[1] and table.band(None) is None
    said = table.band(0.7).said()
    assert "20 of 40" in said and "P 0.50 to 1.00" in said and "never saw" in said


def test_a_table_holds_only_for_the_selector_it_was_measured_with(tmp_path):
    path = tmp_path / "reliability.json"
    ours, theirs = {"threshold": 0.3, "w": [1, 2]}, {"threshold": 0.3, "w": [1, 3]}
    reliability.write(path, [Band(0.3, 1.0, 12, 5)], ours, "twelve questions")
    assert Reliability.load(path, fingerprint(ours)).bands == [Band(0.3, 1.0, 12, 5)]
    assert Reliability.load(path, fingerprint(theirs)) is None
    path.write_text("{not json", encoding="utf-8")
    assert Reliability.load(path, fingerprint(ours)) is None
    assert Reliability.load(tmp_path / "none.json", fingerprint(ours)) is None


def test_the_shipped_table_was_measured_with_the_shipped_selector():
    """A retrained selector needs `make reliability` again: its answers would otherwise carry
    figures measured with another model."""
    selector = default_selector()
    data = json.loads(reliability.RELIABILITY_PATH.read_text(encoding="utf-8"))
    assert data["selector_sha256"] == selector.fingerprint
    table = reliability.shipped(selector.fingerprint)
    assert table is not None and len(table.bands) == reliability.BANDS
    assert table.bands[0].low == selector.threshold
    assert table.bands[-1].high == 1.0
    assert all(a.high == b.low for a, b in zip(table.bands, table.bands[1:], strict=False))
    assert all(0 <= b.right <= b.answers for b in table.bands)


def test_an_answer_says_how_often_answers_as_sure_were_right(starter_settings):
    assistant = Assistant(starter_settings)
    answer = assistant.ask("What is the Plan for Change milestone for NHS waiting times?")
    assert not answer.refused and answer.reliability is not None
    assert answer.reliability.holds(answer.confidence)
    assert answer.reliability.said() in answer.evidence()
    assert answer.to_dict()["reliability"]["answers"] == answer.reliability.answers
    refusal = assistant.ask("What did the Welsh Government spend on ferries to Patagonia?")
    assert refusal.refused and refusal.reliability is None
    assert refusal.to_dict()["reliability"] is None


def test_the_table_is_measured_on_one_whole_set_only(tmp_path):
    """A sample, several sets or fold selectors would give a table that is not the shipped
    selector's on questions it never saw: refused in one line, nothing written."""
    out = tmp_path / "reliability.json"
    for args in (["--quick"], ["--set", "ukri", "--set", "mixed"], ["--configs", "plain"]):
        result = subprocess.run(
            [ASSISTANT, "eval", *args, "--reliability", str(out)],
            capture_output=True,
            text=True,
            env={**os.environ, "ASSISTANT_INDEX_DIR": str(tmp_path / "index")},
            timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert "--reliability measures the shipped selector on one set" in result.stderr
        assert not out.exists()


def test_the_table_is_not_measured_on_questions_the_selector_was_trained_on(
    tmp_path, monkeypatch, capsys
):
    """A selector trained with the training-only questions (train-selector
    --with-training-questions) has seen them: measured on them, its table would say how often
    it is right on its own training questions. Refused before any question is asked."""
    from assistant import cli, selector
    from assistant.selector import AnswerSelector

    trained = json.loads(selector.MODEL_PATH.read_text(encoding="utf-8"))
    trained["training"]["training_questions"] = True
    monkeypatch.setattr(selector, "default_selector", lambda: AnswerSelector(trained))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    out = tmp_path / "reliability.json"
    realdocs = Path(__file__).resolve().parents[1] / "evals/realdocs"
    args = ["eval", "--corpus", str(realdocs / "documents"), "--questions"]
    for questions in (realdocs / "training", next((realdocs / "training").glob("*.yaml"))):
        code = cli.main([*args, str(questions), "--reliability", str(out)])
        assert code == 2 and "trained on these questions" in capsys.readouterr().err
        assert not out.exists() and not (tmp_path / "index").exists()
