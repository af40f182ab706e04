"""The eval of briefing notes and comparisons: its case file, its scoring over a real index,
and its thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chain import Assistant
from assistant.drafts_eval import Case, DraftCaseError, check, load_cases, score, summarise

ROOT = Path(__file__).resolve().parents[1]
REALDOCS = ROOT / "evals" / "realdocs" / "documents"


def test_the_case_file_has_enough_cases_of_each_kind_on_both_corpora():
    cases = load_cases(ROOT / "evals" / "drafts.yaml")
    for kind in ("brief", "comparison"):
        assert len([c for c in cases if c.kind == kind]) >= 10
        real = [c for c in cases if c.kind == kind and c.set == "realdocs"]
        assert len(real) >= 5 and {c.split for c in real} == {"test", "tuning"}
    named = {k for c in cases if c.across == "document" and c.set == "realdocs" for k in c.sides}
    assert named and all((REALDOCS / name).is_file() for name in named)
    assert any(c.uncovered for c in cases if c.set == "starter")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("briefs:\n  - {id: a, topic: t}\n  - {id: a, topic: u}\n", "a: the id is used twice"),
        ("comparisons:\n  - {id: c, rows: {}}\n", "c: needs a question"),
        ("comparisons:\n  - {id: c, question: q, rows: [x]}\n", "c: rows must map a side"),
        ("briefs: [\n", "cannot be read as YAML"),
    ],
    ids=["duplicate id", "no question", "rows not a mapping", "not YAML"],
)
def test_a_bad_case_file_is_named_with_the_case_and_field(tmp_path, text, error):
    path = tmp_path / "cases.yaml"
    path.write_text(text)
    with pytest.raises(DraftCaseError, match=error) as caught:
        load_cases(path)
    assert str(path) in str(caught.value)


@pytest.fixture(scope="module")
def starter(starter_settings) -> Assistant:
    return Assistant(starter_settings)


def test_scoring_counts_sides_points_support_and_what_is_reported_missing(starter):
    files = {r.doc_id: Path(r.source).name for r in starter.documents()}
    brief = Case(
        "b",
        "brief",
        "starter",
        "tuning",
        "the well-being goals of the Wales Act",
        "jurisdiction",
        {"Wales": (), "": (("seven well-being goals", "seven goals"), ("a unicorn census",))},
        (),
        False,
    )
    row = score(starter, brief, files)
    assert row["side_coverage"] == 1.0 and row["missed"] == ["a unicorn census"]
    assert row["key_point_recall"] == 0.5
    assert row["unsupported"] == 0 and row["support_rate"] == 1.0
    assert 0 < row["side_precision"] <= 1
    compare = Case(
        "c",
        "comparison",
        "starter",
        "tuning",
        "How many well-being goals does the Act set?",
        "jurisdiction",
        {"Wales": (("seven",),)},
        ("Narnia",),
        False,
    )
    row = score(starter, compare, files)
    assert row["side_coverage"] == 1.0 and row["key_point_recall"] == 1.0
    assert row["absent_right"] == 0.0  # no side of that name: it was not reported as missing
    summary = summarise([row])
    assert summary["cases"] == 1 and summary["unsupported"] == 0
    results = {
        "starter": {"overall": summary, "per_kind": {"brief": summary, "comparison": summary}}
    }
    limits = {
        "drafts": {"starter": {"minimum": {"absent_right": 0.5}, "maximum": {"unsupported": 0}}}
    }
    assert check(results, limits) == ["drafts starter: absent_right 0.0 is under 0.5"]


def test_a_document_listed_as_not_compared_counts_as_rightly_absent(starter):
    """Across documents, the draft names the documents it has no row for (not compared) by
    title; a case names them by file, and one the draft leaves unfilled is reported right."""
    files = {r.doc_id: Path(r.source).name for r in starter.documents()}
    compare = Case(
        "d",
        "comparison",
        "starter",
        "tuning",
        "How is progress reported?",
        "document",
        {"wales-future-generations-act.pdf": (("annual well-being report",),)},
        ("fusion-doctrine.pdf", "wales-future-generations-act.pdf"),
        False,
    )
    draft = starter.compare(compare.ask, across="document")
    assert "The fusion doctrine: a summary" in draft.elsewhere
    row = score(starter, compare, files)
    assert row["side_coverage"] == 1.0
    # listed as not compared: right; given a row with evidence: wrongly "absent" in the case
    assert row["absent_right"] == 0.5
