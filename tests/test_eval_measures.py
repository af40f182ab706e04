"""The eval's measures, each on hand-made answers: what every metric counts at its edges (a
refusal, a figure written another way, a sentence the reading split in two, the baseline's
passages, the threshold sweep, the drafts' key points)."""

from __future__ import annotations

import pytest

from assistant.evaluation import EVAL_K, PLAIN_K, PlainPipeline, Scorer, threshold_sweep
from assistant.models import Answer
from tests.test_eval import _citation, _passage, _question


def _said(text: str) -> Answer:
    """An answer that says `text`, citing a.pdf."""
    return Answer(
        "?",
        "?",
        f"{text} [1].",
        False,
        [_citation(1, f"{text}.")],
        [_passage(1, "a.pdf", f"{text}.")],
        "extractive",
    )


def test_a_refusal_states_none_of_the_answer_terms(embedder):
    # A refusal names the nearest passage's document and what the documents do not mention:
    # those words are not an answer.
    refusal = Answer(
        "?",
        "?",
        "The indexed documents do not answer this question. They do not mention 'Ofcom'. The "
        "nearest passage is in Cabinet Office annual report, p. 2.",
        True,
        [],
        [_passage(1, "a.pdf", "The Cabinet Office said so.")],
        "extractive",
    )
    row = Scorer(embedder).score(_question(answer_terms=(("Cabinet Office",), ("Ofcom",))), refusal)
    assert row["key_point_recall"] == 0.0
    assert [p["matched"] for p in row["key_points"]] == [None, None]
    assert row["answered_correctly"] == 0.0


@pytest.mark.parametrize(
    ("term", "said", "held"),
    [
        # a number in words with a hyphen is one figure, not two
        ("5", "The board has thirty-five members", False),
        ("five", "The board has thirty-five members", False),
        ("30", "The board has thirty-five members", False),
        ("35", "The board has thirty-five members", True),
        ("twenty-one", "It has 21 members", True),
        # dashes and quote marks of any kind
        ("2022-26", "The plan for 2022\u201326 was agreed", True),
        ("2022\u201326", "The plan for 2022-26 was agreed", True),
        ("\u201cgolden thread\u201d", 'It is the "golden thread" of the plan', True),
        ("Queen\u2018s", "Queen's University Belfast", True),
        # a figure with or without its thousands separator
        ("1,250", "It has 1250 staff", True),
        ("1250", "It has 1,250 staff", True),
        ("1,250", "It has 11,250 staff", False),
        ("1250", "It has 1,250,000 staff", False),
        ("250", "It has 1,250 staff", False),
        ("1", "It cost 1,200, rising later", False),
        # a share as a per cent sign or in words
        ("40%", "Turnout was 40 per cent", True),
        ("40 per cent", "Turnout was 40%", True),
        ("40%", "Turnout was 140 per cent", False),
        # a word may run into a footnote's call, not into a longer word
        ("\u00a310.5 billion", "It cost between \u00a33.5 billion and \u00a310.5 billion18", True),
        ("90%", "It had increased to 90%29 by then", True),
        ("Commission", "The Commissioner reports", False),
    ],
)
def test_answer_terms_match_whatever_form_the_figure_or_mark_takes(embedder, term, said, held):
    row = Scorer(embedder).score(_question(answer_terms=((term,),)), _said(said))
    assert row["answered_correctly"] == float(held)


def test_evidence_the_reading_split_in_two_is_quoted_when_both_halves_are(embedder):
    text = (
        "Completion is voluntary. Fieldwork for the 2018 survey began on 1st\nOctober and was "
        "completed on 31st October."
    )
    passages = [_passage(1, "a.pdf", text)]
    halves = [
        "October and was completed on 31st October.",
        "Fieldwork for the 2018 survey began on 1st",
    ]
    answer = Answer(
        "?",
        "?",
        f"{halves[0]} [1]. {halves[1]} [1].",
        False,
        [_citation(1, h) for h in halves],
        passages,
        "extractive",
    )
    evidence = (
        "Fieldwork for the 2018 survey began on 1st October and was completed on 31st October."
    )
    row = Scorer(embedder).score(
        _question(evidence=evidence, answer_terms=(("31st October",),)), answer
    )
    assert row["evidence_quoted"] == 1.0
    # Halves with other text between them in the passage are two quotes, not one.
    apart = "Fieldwork for the 2018 survey began on 1st. It rained. October and was completed."
    answer = Answer(
        "?",
        "?",
        "Fieldwork for the 2018 survey began on 1st [1]. October and was completed [1].",
        False,
        [
            _citation(1, "Fieldwork for the 2018 survey began on 1st."),
            _citation(1, "October and was completed."),
        ],
        [_passage(1, "a.pdf", apart)],
        "extractive",
    )
    row = Scorer(embedder).score(_question(evidence=evidence), answer)
    assert row["evidence_quoted"] == 0.0
    # Halves from a document not expected do not count.
    other = Answer(
        "?",
        "?",
        "x [1].",
        False,
        [_citation(1, h) for h in halves],
        [_passage(1, "b.pdf", text)],
        "extractive",
    )
    assert Scorer(embedder).score(_question(evidence=evidence), other)["evidence_quoted"] == 0.0


def test_the_plain_pipeline_is_scored_on_as_many_passages_as_the_assistant(
    starter_settings, embedder
):
    from assistant.evaluation import _name
    from assistant.ingest import open_store

    answer = PlainPipeline(open_store(starter_settings), embedder, starter_settings).ask(
        "What is the salary of the Future Generations Commissioner?"
    )
    # It answers with its top 4 chunks, as LangChain's retriever does ...
    assert len(answer.citations) == PLAIN_K == 4
    assert [c.n for c in answer.citations] == [1, 2, 3, 4]
    assert "[5]" not in answer.answer
    # ... but hit@5, MRR and page hit@5 look at the first five passages its search found.
    assert len(answer.passages) == EVAL_K == 5
    fifth = _name(answer.passages[4])
    row = Scorer(embedder).score(_question(documents=(fifth,)), answer)
    first = next(i for i, p in enumerate(answer.passages) if _name(p) == fifth)
    assert row["hit_at_5"] == 1.0 and row["mrr"] == 1.0 / (first + 1)


def test_the_threshold_sweep_keeps_a_refusal_refused_at_every_threshold():
    rows = [
        # refused with no threshold at all: nothing was composed, whatever its P
        {"answerable": True, "refused": True, "confidence": 0.6, "answered_correctly": 0.0},
        {"answerable": True, "refused": False, "confidence": 0.6, "answered_correctly": 1.0},
        {"answerable": False, "refused": True, "confidence": 0.6},
        {"answerable": False, "refused": False, "confidence": 0.6},
    ]
    at_zero = threshold_sweep(rows)[0]
    assert at_zero["threshold"] == 0.0
    assert at_zero["false_refusals"] == 0.5
    assert at_zero["unanswerable_refused"] == 0.5
    assert at_zero["answered_correctly"] == 0.5


def test_rows_carry_the_pairs_the_report_sums_up(embedder):
    from assistant.evaluation import context_pairs

    questions = [
        _question(id="plain", answer_terms=(("46",),)),
        _question(id="situated", answer_terms=(("46",),), context=True, variant_of="plain"),
    ]
    answer = _said("Wales has 46 indicators")
    rows = [Scorer(embedder).score(q, answer) for q in questions]
    assert rows[1]["variant_of"] == "plain" and "variant_of" not in rows[0]
    # The pairs table, recomputed from the rows alone, is the one the report gives.
    by_id = {r["id"]: r for r in rows}
    pairs = [(r, by_id[r["variant_of"]]) for r in rows if r.get("variant_of") in by_id]
    assert context_pairs(rows, questions)["pairs"] == len(pairs) == 1


@pytest.mark.parametrize(
    ("points", "text", "stated"),
    [
        (("50 indicators",), "There are 150 indicators [1].", False),
        (("73%",), "It rose to 173% [1].", False),
        (("MCAS",), "The MCASX flag [1].", False),
        (("50 indicators",), "There are fifty indicators [1].", True),
        (("73%",), "It rose to 73 per cent [1].", True),
        (("five missions",), "The 5 missions [2] are set.", True),
        (("28-month delay",), "A 28\u2011month delay [1].", True),
    ],
)
def test_a_draft_states_a_key_point_as_whole_words_and_figures(points, text, stated):
    from assistant.drafts_eval import _stated

    assert _stated(points, text) is stated


def test_citation_precision_is_the_share_of_citations_from_an_expected_document(embedder):
    # Three claims cite the right document's passage, one claim the wrong one's: three of the
    # four citations are to the expected document (by passage, one of two).
    passages = [_passage(1, "a.pdf", "A one. A two. A three."), _passage(2, "b.pdf", "B one.")]
    answer = Answer(
        "?",
        "?",
        "A one [1]. A two [1]. A three [1]. B one [2].",
        False,
        [
            _citation(1, "A one."),
            _citation(1, "A two."),
            _citation(1, "A three."),
            _citation(2, "B one."),
        ],
        passages,
        "extractive",
    )
    row = Scorer(embedder).score(_question(answer_terms=(("one",),)), answer)
    assert row["citation_precision"] == 0.75
    assert row["answered_correctly"] == 1.0


def test_careful_mode_is_never_fitted_on_a_test_part():
    from assistant.cli import fitting_rows

    rows = [
        {"id": "realdocs/a", "split": "tuning"},
        {"id": "realdocs/b", "split": "test"},
        {"id": "squad/c", "split": "test"},
        {"id": "starter/d", "split": None},
    ]
    assert [r["id"] for r in fitting_rows(rows)] == ["realdocs/a", "starter/d"]
