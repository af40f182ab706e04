"""The eval suite: scoring rules on hand-made answers, question files, thresholds, and a real
run that repeats exactly, from Python and from the command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assistant.config import Settings
from assistant.eval_report import write
from assistant.evalsets import EvalSet, Question, QuestionFileError, load_questions, sample
from assistant.evaluation import (
    CONFIGS,
    METRICS,
    PlainPipeline,
    RunOptions,
    Scorer,
    check,
    run_set,
    threshold_sweep,
)
from assistant.models import Answer, Citation, Passage

ROOT = Path(__file__).resolve().parents[1]


def _passage(n: int, source: str, text: str, pages=(1, 1)) -> Passage:
    return Passage(n, f"c{n}", f"d{n}", "T", f"/x/{source}", pages[0], pages[1], "", text, 0.5)


def _question(**fields) -> Question:
    base = dict(id="q", question="?", answerable=True, kind="fact", documents=("a.pdf",))
    return Question(**{**base, **fields})


def _citation(n: int, quote: str) -> Citation:
    return Citation(n, f"d{n}", "T", "s", 1, 1, "", quote, 0.5, True)


def _answer(text: str, citations, passages, refused: bool = False) -> Answer:
    return Answer("?", "?", text, refused, citations, passages, "extractive")


def test_an_answer_is_right_when_it_cites_the_document_and_holds_every_term(embedder):
    passages = [
        _passage(1, "b.pdf", "Other text."),
        _passage(2, "a.pdf", "Wales has 46 national indicators since 2016.", (4, 5)),
    ]
    answer = _answer(
        "Wales has 46 national indicators since 2016 [2].",
        [_citation(2, "Wales has 46 national indicators since 2016.")],
        passages,
    )
    question = _question(
        answer_terms=(("46", "forty-six"), ("2016",)),
        pages=(5,),
        evidence="Wales has 46 national indicators since 2016.",
    )
    row = Scorer(embedder).score(question, answer)
    assert row["answered_correctly"] == 1.0 and row["evidence_quoted"] == 1.0
    assert row["hit_at_5"] == 1.0 and row["mrr"] == 0.5 and row["page_hit"] == 1.0
    assert row["citation_precision"] == 1.0 and row["false_refusal_rate"] == 0.0
    assert row["answer_words"] == 7
    wrong_term = Scorer(embedder).score(
        _question(answer_terms=(("47",),), evidence=question.evidence), answer
    )
    assert wrong_term["answered_correctly"] == 0.0 and wrong_term["evidence_quoted"] == 1.0
    wrong_document = Scorer(embedder).score(
        _question(documents=("b.pdf",), answer_terms=(("46",),)), answer
    )
    assert wrong_document["answered_correctly"] == 0.0
    assert wrong_document["citation_precision"] == 0.0


def test_evidence_is_quoted_only_when_one_quote_holds_most_of_it(embedder):
    passages = [_passage(1, "a.pdf", "The Board meets monthly. It has nine members.")]
    answer = _answer("It has nine members [1].", [_citation(1, "It has nine members.")], passages)
    row = Scorer(embedder).score(
        _question(evidence="The Board meets monthly in Oban.", answer_terms=(("monthly",),)),
        answer,
    )
    assert row["evidence_quoted"] == 0.0 and row["answered_correctly"] == 0.0


def test_key_points_match_by_text_or_meaning_but_figures_only_by_text(embedder):
    answer = _answer(
        "The Commissioner serves for seven years in office [1].", [], [_passage(1, "a.pdf", "x")]
    )
    points = Scorer(embedder).key_points(
        _question(
            answer_terms=(
                ("seven years",),
                ("the commissioner serves seven years",),
                ("7",),
                ("8", "eight"),
            )
        ),
        answer,
    )
    matched = {p["point"]: p["matched"] for p in points}
    assert matched["seven years"] == "text"
    assert matched["the commissioner serves seven years"].startswith("meaning")
    assert matched["7"] == "text" and matched["8"] is None


@pytest.mark.parametrize(
    ("term", "said", "held"),
    [
        ("17", "The Act came into force in 2017", False),
        ("40%", "Turnout was 140% of the estimate", False),
        ("ten", "The strategy was published in 2010", False),
        ("one", "The board has 21 members", False),
        ("3", "It grew by 3.5 per cent", False),
        ("17", "It came into force on 17 May", True),
        ("1.2", "The scheme cost \u00a31.2bn", True),
        ("ten", "It has ten members", True),
        ("September 2025", "It starts by September 2025.116 The next", True),  # a note's call
        ("1", "It cost 1,200 pounds", False),
        ("2027", "It will be ready by 2027.61 The next", True),
        ("20", "It rose by 20.61 per cent", False),
        ("Commission", "The Commissioner reports", False),
    ],
)
def test_an_answer_term_is_found_only_as_whole_words_and_figures(embedder, term, said, held):
    answer = _answer(f"{said} [1].", [_citation(1, f"{said}.")], [_passage(1, "a.pdf", said)])
    row = Scorer(embedder).score(_question(answer_terms=((term,),)), answer)
    assert row["answered_correctly"] == float(held)


def test_retrieval_is_scored_in_the_order_the_search_found_the_passages(embedder):
    from dataclasses import replace

    # The answer lists the passage it cites first; the search found it second, the right
    # document's passage only sixth.
    found = [_passage(n, "b.pdf", f"Text {n}.") for n in range(1, 6)]
    found.append(_passage(6, "a.pdf", "Wales has 46 national indicators.", (4, 4)))
    listed = [found[1], found[0], *found[2:]]
    passages = [replace(p, n=i + 1, rank=p.n) for i, p in enumerate(listed)]
    answer = _answer("Text 2 [1].", [_citation(1, "Text 2.")], passages)
    row = Scorer(embedder).score(_question(answer_terms=(("2",),), pages=(4,)), answer)
    assert row["hit_at_5"] == 0.0 and row["mrr"] == 0.0 and row["page_hit"] == 0.0
    cites_gold = _answer(
        "Wales has 46 national indicators [1].",
        [_citation(1, "Wales has 46 national indicators.")],
        [replace(p, n=i + 1, rank=p.n) for i, p in enumerate([found[5], *found[:5]])],
    )
    row = Scorer(embedder).score(_question(answer_terms=(("46",),), pages=(4,)), cites_gold)
    assert row["answered_correctly"] == 1.0 and row["hit_at_5"] == 0.0


def test_an_answer_s_citation_markers_are_not_its_words(embedder):
    passages = [_passage(n, "a.pdf", "Staff get 5 days of leave.") for n in (1, 2, 3)]
    question = _question(expected_answer="3 days")
    rows = [
        Scorer(embedder).score(
            question,
            _answer(
                f"Staff get 5 days of leave [{n}].", [_citation(n, "Staff get 5 days.")], passages
            ),
        )
        for n in (1, 3)
    ]
    assert rows[0]["answer_recall"] == rows[1]["answer_recall"] == 0.5


def test_a_judge_keeps_a_claim_that_opens_with_a_figure():
    from assistant.judge import _lines

    reply = "3.5 million people live in Wales.\n-2% was the change.\n12) Twelve boards met.\n- A"
    assert _lines(reply) == [
        "3.5 million people live in Wales.",
        "-2% was the change.",
        "Twelve boards met.",
        "A",
    ]


def test_refusals_are_scored_by_whether_the_question_can_be_answered(embedder):
    refused = _answer("Not found.", [], [_passage(1, "a.pdf", "x")], refused=True)
    scorer = Scorer(embedder)
    assert (
        scorer.score(_question(answerable=False, documents=()), refused)["refusal_accuracy"] == 1.0
    )
    row = scorer.score(_question(answer_terms=(("x",),), evidence="x y"), refused)
    assert row["false_refusal_rate"] == 1.0 and row["answered_correctly"] == 0.0
    assert row["evidence_quoted"] == 0.0


def test_question_files_in_both_forms_and_their_errors(tmp_path):
    (tmp_path / "a.yaml").write_text(
        yaml.safe_dump(
            {
                "questions": [
                    {"id": "n1", "question": "Q?", "kind": "unanswerable", "key_points": []},
                    {"id": "n2", "question": "R?", "key_points": ["46", 2016]},
                ]
            }
        )
    )
    (tmp_path / "b.yaml").write_text(
        yaml.safe_dump(
            {
                "questions": [
                    {
                        "id": "r1",
                        "question": "S?",
                        "answerable": True,
                        "answer_terms": [["40%", "40 per cent"]],
                        "split": "test",
                    }
                ]
            }
        )
    )
    questions = load_questions(tmp_path)
    assert [q.id for q in questions] == ["n1", "n2", "r1"]
    assert not questions[0].answerable and questions[1].answer_terms == (("46",), ("2016",))
    assert questions[2].answer_terms == (("40%", "40 per cent"),) and questions[2].split == "test"
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"questions": [{"id": "n1", "question": "?"}]}))
    with pytest.raises(QuestionFileError, match="the id 'n1' is used twice"):
        load_questions(tmp_path)
    (tmp_path / "c.yaml").write_text(
        yaml.safe_dump({"questions": [{"id": "x", "question": "Q?", "history": "hi"}]})
    )
    with pytest.raises(QuestionFileError, match="c.yaml: x: history must be"):
        load_questions(tmp_path)


def test_a_question_file_field_given_as_one_value_is_a_list_of_one(tmp_path):
    entry = {"id": "x", "question": "Q?", "answer_terms": "Ofcom", "documents": "report.pdf"}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"questions": [{**entry, "pages": "12"}]}))
    (question,) = load_questions(tmp_path)
    assert question.answer_terms == (("Ofcom",),) and question.documents == ("report.pdf",)
    assert question.pages == (12,)
    (tmp_path / "a.yaml").write_text(
        yaml.safe_dump({"questions": [{**entry, "answerable": "false"}]})
    )
    with pytest.raises(QuestionFileError, match="a.yaml: x: answerable must be true or false"):
        load_questions(tmp_path)


def test_a_fixed_sample_keeps_both_kinds_in_proportion():
    questions = [_question(id=f"q{i}", answerable=i % 3 != 0, kind="fact") for i in range(90)]
    chosen = sample(questions, 30)
    assert chosen == sample(questions, 30) and len(chosen) == 30
    assert sum(not q.answerable for q in chosen) == 10


def test_the_shipped_thresholds_hold_every_set_under_its_own_key(tmp_path):
    """A set's limits placed under another key (under `drafts:`, say) are never checked; every
    eval set has its limits under `sets:`, each naming a configuration and metric that exist,
    and `drafts:` names only the sets the briefing cases are drafted over."""
    from assistant.evalsets import load_sets

    thresholds = yaml.safe_load((ROOT / "evals" / "thresholds.yaml").read_text())
    sets = load_sets(ROOT / "evals" / "sets.yaml", ROOT, tmp_path)
    assert set(thresholds["sets"]) == set(sets)
    for name, limits in thresholds["sets"].items():
        for config, bounds in limits["configs"].items():
            assert config in CONFIGS, name
            groups = [bounds, *(bounds.get("splits") or {}).values()]
            for group in groups:
                named = {*(group.get("minimum") or {}), *(group.get("maximum") or {})}
                assert named <= set(METRICS), (name, named - set(METRICS))
    cases = yaml.safe_load((ROOT / "evals" / "drafts.yaml").read_text())
    drafted = {case["set"] for kind in cases.values() for case in kind}
    assert set(thresholds["drafts"]) == drafted


def test_thresholds_name_each_metric_that_falls_short():
    scores = {
        "overall": {"answered_correctly": 0.7, "false_refusal_rate": 0.2},
        "per_split": {"test": {"answered_correctly": 0.6}},
    }
    results = {
        "real": {
            "configs": {"assistant": scores, "plain": {"overall": {"answered_correctly": 0.8}}}
        }
    }
    thresholds = {
        "sets": {
            "real": {
                "configs": {
                    "assistant": {
                        "minimum": {"answered_correctly": 0.75},
                        "maximum": {"false_refusal_rate": 0.1},
                        "splits": {"test": {"minimum": {"answered_correctly": 0.5}}, "x": {}},
                    }
                },
                "ahead": [
                    {"metric": "answered_correctly", "of": "plain"},
                    {"metric": "answered_corectly", "of": "plain"},
                    {"metric": "answered_correctly", "of": "not asked"},
                ],
            },
            "absent": {"configs": {"assistant": {"minimum": {"mrr": 1}}}},
        }
    }
    assert check(results, thresholds) == [
        "real/assistant: answered_correctly is 0.7, below its threshold 0.75",
        "real/assistant: false_refusal_rate is 0.2, above its threshold 0.1",
        "real/assistant: the x split has no questions",
        "real: assistant answered_correctly 0.7 is not ahead of plain 0.8",
        "real: answered_corectly is missing, so assistant cannot be ahead",
    ]


def test_evidence_in_any_script_is_matched_word_for_word():
    from assistant.evaluation import evidence_coverage

    assert evidence_coverage("Mae dŵr Cymru yn lân.", "Mae dŵr Cymru yn lân.") == 1.0
    assert evidence_coverage("Mae dŵr Cymru yn lân.", "Mae d r Cymru yn lân.") < 1.0
    assert evidence_coverage("Το νερό είναι καθαρό.", "Το νερό είναι καθαρό.") == 1.0


SMALL = {
    "wales-ways-of-working",
    "plan-for-change-nhs",
    "follow-wales-commissioner",
    "unanswerable-commissioner-salary",
    "compare-legal-duties",
    "wales-royal-assent",
}


@pytest.fixture(scope="module")
def small_questions(tmp_path_factory) -> Path:
    questions = yaml.safe_load((ROOT / "evals" / "questions.yaml").read_text())["questions"]
    kept = [q for q in questions if q["id"] in SMALL]
    for q in kept:
        q["split"] = "test" if q["id"] == "wales-royal-assent" else "tuning"
    path = tmp_path_factory.mktemp("evalq") / "questions.yaml"
    path.write_text(yaml.safe_dump({"questions": kept}))
    return path


def _set(corpus: Path, questions: Path) -> EvalSet:
    return EvalSet("small", corpus, load_questions(questions), ("assistant", "lexical", "plain"))


def test_a_real_run_repeats_exactly_and_writes_its_report(tmp_path, small_questions):
    settings = Settings(index_dir=tmp_path / "index", progress=False)
    first = run_set(settings, _set(ROOT / "corpus", small_questions))
    second = run_set(settings, _set(ROOT / "corpus", small_questions))
    assert [r["answer"] for r in first["per_question"]] == [
        r["answer"] for r in second["per_question"]
    ]
    scores = first["configs"]["assistant"]
    assert first["questions"] == 6 and list(first["configs"]) == ["assistant", "lexical", "plain"]
    assert list(scores["per_split"]) == ["tuning", "test"]
    assert scores["per_split"]["test"]["questions"] == 1
    # Refusal accuracy is the share of the unanswerable questions the assistant refused.
    unanswerable = [r for r in first["per_question"] if not r["answerable"]]
    assert len(unanswerable) == 1
    assert scores["overall"]["refusal_accuracy"] == float(unanswerable[0]["refused"])
    assert first["configs"]["plain"]["overall"]["refusal_accuracy"] == 0.0  # it cannot refuse
    assert scores["overall"]["answer_words"] < first["configs"]["plain"]["overall"]["answer_words"]
    paths = write({"small": first}, tmp_path / "reports")
    page = paths["small"].read_text()
    assert "| answered correctly |" in page and "wales-ways-of-working" in page
    assert "### test" in page
    # this run's answers counted into the bands of P that answers show, beside their figures
    answered = sum(not r["refused"] for r in first["per_question"])
    rows = page.split("## How often answers were right")[1].split("##")[0].splitlines()
    counts = [row.split("|")[2].split("/") for row in rows if row.startswith("| 0.")]
    assert len(counts) == 3 and sum(int(n) for _, n in counts) == answered
    assert paths["chart"].read_bytes()[:4] == b"\x89PNG"
    assert "## small: 6 questions" in paths["markdown"].read_text()
    assert json.loads((tmp_path / "reports" / "small.json").read_text())["questions"] == 6


def test_the_plain_pipeline_answers_with_its_top_chunks(tmp_path, embedder):
    from assistant.ingest import Ingester, open_store

    settings = Settings(index_dir=tmp_path / "index", progress=False)
    Ingester(settings, embedder=embedder).ingest([ROOT / "corpus"])
    answer = PlainPipeline(open_store(settings), embedder, settings).ask(
        "What is the salary of the Future Generations Commissioner?"
    )
    assert not answer.refused and len(answer.citations) == 4
    assert all(c.quote in answer.answer for c in answer.citations)


def test_eval_from_the_command_line_on_your_own_corpus(tmp_path, small_questions):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text(
        yaml.safe_dump(
            {
                "sets": {
                    "custom": {"configs": {"assistant": {"minimum": {"answered_correctly": 1.01}}}}
                }
            }
        )
    )
    assistant = str(Path(sys.executable).with_name("assistant"))
    command = [
        assistant,
        "eval",
        "--corpus",
        str(corpus),
        "--questions",
        str(small_questions),
        "--configs",
        "assistant",
        "--thresholds",
        str(thresholds),
        "--reports",
        str(tmp_path / "r"),
        "--check",
        "--json",
    ]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "ASSISTANT_INDEX_DIR": str(tmp_path)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 1
    assert "custom/assistant: answered_correctly is" in result.stderr
    assert list(json.loads(result.stdout)["custom"]["configs"]) == ["assistant"]  # JSON only
    result = subprocess.run(
        command[:4] + ["--questions", str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 2 and "none.yaml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_llm_judge_scores_as_ragas_defines_it(embedder):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.judge import Judge

    passages = [_passage(1, "a.pdf", "Wales has 46 indicators. The Act dates from 2015.")]
    answer = Answer(
        "How many national indicators does Wales have?",
        "How many national indicators does Wales have?",
        "Wales has 46 indicators [1]. The Act dates from 2015 [1].",
        False,
        [_citation(1, "Wales has 46 indicators.")],
        passages,
        "extractive",
    )
    model = FakeListChatModel(
        responses=[
            "- Wales has 46 indicators.\n- The Act dates from 2015.\n- Scotland has 81.",
            "1: yes\n2: yes\n3: no",
            "How many national indicators does Wales have?\nWhen does the Act date from?\n"
            "What is the capital of France?",
        ]
    )
    row = Scorer(embedder, judge=Judge(model, embedder)).score(
        _question(answer_terms=(("46",),)), answer
    )
    assert row["judge_faithfulness"] == pytest.approx(2 / 3)
    asked = embedder.embed_query(answer.question)
    france = float(embedder.embed_query("What is the capital of France?") @ asked)
    assert france < 0.3 and 0.4 < row["judge_relevancy"] < 1.0
    silent = Judge(FakeListChatModel(responses=["", "I cannot say", "no idea"]), embedder)
    row = Scorer(embedder, judge=silent).score(_question(answer_terms=(("46",),)), answer)
    assert "judge_faithfulness" not in row and "judge_relevancy" not in row


def test_the_same_documents_score_the_same_wherever_they_lie(tmp_path, small_questions):
    """Chunk ids carry the file's path; no ranking may depend on them."""
    runs = []
    for place in ("one", "two/deeper"):
        corpus = tmp_path / place / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        settings = Settings(index_dir=tmp_path / place / "index", progress=False)
        eval_set = EvalSet("small", corpus, load_questions(small_questions), ("assistant",))
        runs.append(run_set(settings, eval_set, RunOptions()))
    assert [r["answer"] for r in runs[0]["per_question"]] == [
        r["answer"] for r in runs[1]["per_question"]
    ]


def test_a_run_can_ask_each_question_with_a_selector_of_its_own(tmp_path, small_questions):
    """Fitting careful mode asks each question with the selector that never saw its document
    (RunOptions.selector_for); a question given none is asked with the shipped one."""
    from assistant.selector import MODEL_PATH, AnswerSelector

    settings = Settings(index_dir=tmp_path / "index", progress=False)
    eval_set = EvalSet("small", ROOT / "corpus", load_questions(small_questions), ("assistant",))
    shipped = run_set(settings, eval_set, RunOptions())["per_question"]
    data = json.loads(MODEL_PATH.read_text())
    strict = AnswerSelector({**data, "threshold": 1.0})  # no P reaches it: refuses all
    asked = []

    def selector_for(question):
        asked.append(question.id)
        return strict if question.id == "wales-ways-of-working" else None

    own = run_set(settings, eval_set, RunOptions(selector_for=selector_for))["per_question"]
    assert asked == [r["id"] for r in shipped]
    by_id = {r["id"]: r for r in own}
    assert by_id["wales-ways-of-working"]["refused"]
    assert not next(r for r in shipped if r["id"] == "wales-ways-of-working")["refused"]
    assert [r["answer"] for r in own if r["id"] != "wales-ways-of-working"] == [
        r["answer"] for r in shipped if r["id"] != "wales-ways-of-working"
    ]


def test_the_threshold_sweep_counts_what_each_threshold_trades():
    rows = [
        {"answerable": True, "confidence": 0.9, "answered_correctly": 1.0},
        {"answerable": True, "confidence": 0.4, "answered_correctly": 1.0},
        {"answerable": True, "confidence": 0.6, "answered_correctly": 0.0},
        {"answerable": False, "confidence": 0.5},
        {"answerable": False, "confidence": 0.1},
    ]
    table = {row["threshold"]: row for row in threshold_sweep(rows, step=0.5, also=[0.45])}
    assert sorted(table) == [0.0, 0.45, 0.5, 1.0]
    assert table[0.0] == {
        "threshold": 0.0,
        "answered_correctly": round(2 / 3, 3),
        "false_refusals": 0.0,
        "unanswerable_refused": 0.0,
    }
    assert table[0.45]["answered_correctly"] == round(1 / 3, 3)
    assert table[0.45]["false_refusals"] == round(1 / 3, 3)
    assert table[0.45]["unanswerable_refused"] == 0.5
    assert table[1.0]["false_refusals"] == 1.0 and table[1.0]["unanswerable_refused"] == 1.0


def test_eval_can_ask_each_question_of_the_fold_selector_that_never_saw_its_document(
    tmp_path, small_questions, monkeypatch, capsys
):
    """`eval --cross-fitted FILE`: the tuning part measured out of fold. Here the one fold's
    selector refuses everything (a threshold P never reaches), so every question on its
    documents must come back refused, where the shipped selector answers some."""
    from assistant.cli import main
    from assistant.config import get_settings
    from assistant.selector import MODEL_PATH

    refusing = {**json.loads(MODEL_PATH.read_text()), "threshold": 1.01}
    documents = {d for q in load_questions(small_questions) for d in q.documents}
    assert documents
    folds = tmp_path / "folds.json"
    groups = [f"realdocs:{d}" for d in sorted(documents)]
    folds.write_text(json.dumps({"folds": [{"groups": groups, "selector": refusing}]}))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    get_settings.cache_clear()
    command = ["eval", "--corpus", str(ROOT / "corpus"), "--questions", str(small_questions)]
    command += ["--configs", "assistant", "--reports", str(tmp_path / "r"), "--json"]
    try:
        assert main(command) == 0
        shipped = json.loads(capsys.readouterr().out)["custom"]["per_question"]
        assert main(command + ["--cross-fitted", str(folds)]) == 0
        folded = json.loads(capsys.readouterr().out)["custom"]["per_question"]
        assert len(folded) == len(shipped) == 6
        named = {q.id for q in load_questions(small_questions) if q.documents}
        assert not all(r["refused"] for r in shipped if r["id"] in named)
        assert all(r["refused"] for r in folded if r["id"] in named)
        # A question naming no document is answered by the shipped selector, as before.
        assert [r["answer"] for r in folded if r["id"] not in named] == [
            r["answer"] for r in shipped if r["id"] not in named
        ]
        # Thresholds hold the shipped selector, so --check with fold selectors is refused.
        assert main(command + ["--cross-fitted", str(folds), "--check"]) == 2
        assert "--cross-fitted" in capsys.readouterr().err
        assert main(command + ["--cross-fitted", str(tmp_path / "none.json")]) == 2
        assert "none.json" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


def test_an_answer_keeps_the_order_the_search_found_its_passages_in(starter_settings):
    from assistant.chain import Assistant

    assistant = Assistant(starter_settings)
    question = "How many public bodies are covered by the well-being duty in Wales?"
    answer = assistant.ask(question)
    assert not answer.refused
    found = [p.chunk_id for p in assistant.evidence(question).passages]
    assert [p.chunk_id for p in sorted(answer.passages, key=lambda p: p.rank)] == found
