"""Questions over the starter corpus: hybrid retrieval, the extractive composer, verification."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.chain import Assistant, QuestionError, carried_subject
from assistant.citations import Verifier, split_claims, split_sentences
from assistant.config import Settings
from assistant.generation import Composition
from assistant.ingest import Ingester
from assistant.lexical import LexicalIndex
from assistant.premise import _ahead_missing, _counts, answer_pattern
from assistant.retrieval import parse_filters, reciprocal_rank, weighted_sum
from assistant.store import StoredChunk
from tests.pdfs import make_pdf

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder) -> Assistant:
    settings = Settings(index_dir=tmp_path_factory.mktemp("answers") / "index", progress=False)
    report = Ingester(settings, embedder=embedder).ingest([CORPUS])
    assert report.ok and len(report.added) == 11
    return Assistant(settings)


def _name(passage) -> str:
    return Path(passage.source).name


def test_hybrid_retrieval_finds_the_document_and_respects_filters(assistant):
    passages = assistant.retriever.retrieve("five ways of working in Wales")
    assert "wales-future-generations-act.pdf" in [_name(p) for p in passages[:3]]
    assert [p.n for p in passages] == list(range(1, len(passages) + 1))
    per_doc = {}
    for p in passages:
        per_doc[p.doc_id] = per_doc.get(p.doc_id, 0) + 1
    assert max(per_doc.values()) <= assistant.settings.max_per_document
    scottish = assistant.retriever.retrieve(
        "legal duty on public bodies", filters=parse_filters(["jurisdiction=Scotland"])
    )
    assert scottish and all(p.meta["jurisdiction"] == "Scotland" for p in scottish)


def _chunks(*texts: str) -> list[StoredChunk]:
    return [StoredChunk(f"c{i}", text, {}) for i, text in enumerate(texts)]


def test_weighted_fusion_keeps_how_far_ahead_a_passage_is():
    far_ahead, middling, other = _chunks("a", "b", "c")
    dense = [(middling, 0.60), (far_ahead, 0.55), (other, 0.50)]
    lexical = [(far_ahead, 9.0), (middling, 3.0), (other, 2.0)]
    fused = weighted_sum(dense, lexical, 0.5)
    assert max(fused, key=fused.get) == "c0"
    # Reciprocal rank sees only that each is first once and second once: a tie.
    ranks = reciprocal_rank(dense, lexical)
    assert ranks["c0"] == ranks["c1"]
    # A chunk one list lacks takes that list's lowest score, and a weight of 1 is dense alone.
    alone = weighted_sum(dense, [(far_ahead, 9.0)], 0.5)
    assert alone["c1"] == pytest.approx(0.5 * 1.0 + 0.5 * 1.0)
    dense_only = weighted_sum(dense, lexical, 1.0)
    assert max(dense_only, key=dense_only.get) == "c1"


def test_lexical_search_matches_word_forms():
    chunks = _chunks(
        "The Commissioner is appointed for a term of seven years.",
        "Public bodies set well-being objectives.",
    )
    index = LexicalIndex.build(chunks, "test")
    assert [cid for cid, _ in index.search("Who were the commissioners?", 2)] == ["c0"]
    assert {"commissioner", "appointed"} <= index.vocabulary  # as written, not stemmed


def test_filters_are_checked():
    assert parse_filters(["kind=legislation", "year=2015"]) == {
        "kind": ["legislation"],
        "year": ["2015"],
    }
    with pytest.raises(ValueError, match="unknown filter field 'colour'"):
        parse_filters(["colour=blue"])
    with pytest.raises(ValueError, match="must look like field=value"):
        parse_filters(["jurisdiction"])


def test_answer_leads_with_the_sentence_that_answers_and_cites_it(assistant):
    answer = assistant.ask(
        "What are the five ways of working in the Well-being of Future Generations Act?"
    )
    assert not answer.refused
    lead = answer.answer.split(" [")[0]
    assert "long-term, prevention, integration, collaboration and involvement" in lead
    assert answer.citations and all(c.supported for c in answer.citations)
    passages = {p.n: p for p in answer.passages}
    for citation in answer.citations:
        assert citation.quote and citation.quote in passages[citation.n].text
        assert citation.page_start >= 1 and citation.title
    assert set(answer.timings_ms) == {"retrieve", "compose", "verify", "total"}


def test_figures_in_a_table_row_are_found_and_cited(assistant):
    answer = assistant.ask("What is the Plan for Change milestone for NHS waiting times?")
    assert "92% of patients seen within 18 weeks" in answer.answer
    cited = {c.n for c in answer.citations}
    assert any(
        _name(p) == "uk-missions-plan-for-change.pdf" for p in answer.passages if p.n in cited
    )


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What is the salary of the Future Generations Commissioner?", "salary"),
        ("How many indicators did the Northern Ireland Executive adopt in 2019?", "2019"),
        ("Who was the convener of the Finance and Public Administration Committee?", "convener"),
        (
            "How many serious violent crimes were recorded in England in 2024?",
            "a number of serious violent crimes",
        ),
        ("How many people work in the Future Generations Commissioner's office?", "of people"),
        ("How much will the five missions cost the Treasury?", "an amount"),
        ("What was Northern Ireland's wellbeing score in 2024?", "a figure for the score"),
        ("Who chairs the Public Accounts Committee?", "who chairs"),
        ("Who sits on the NHS mission board?", "who sits on the NHS mission board"),
        ("Who is the chair of the NHS mission board?", "who is the chair"),
        ("When will the next Future Generations Report come out?", "a date still to come"),
        ("How did the Welsh Government respond to Audit Wales?", "a reply from the Welsh"),
        (
            "Which department is accountable for the growth mission?",
            "the department responsible for the growth mission",
        ),
        ("What share of national outcomes has Scotland achieved?", "a share or percentage"),
        ("Where is the Carnegie UK Trust based?", "a place"),
        ("Did the Senedd repeal the Act?", "whether the Senedd did repeal the Act"),
        (
            "Which witnesses spoke to the Finance and Public Administration Committee?",
            "the witnesses who spoke",
        ),
        ("Which councils rejected the duty?", "which councils rejected the duty"),
        ("How long did the Carnegie UK roundtable meet for?", "a length of time"),
        ("Who will hold the Commissioner's office after Derek Walker?", "who it will be"),
        ("Who appoints the Future Generations Commissioner?", "who appoints"),
        (
            "What did the Liaison Committee say about Audit Wales?",
            "Liaison Committee and Audit Wales together",
        ),
        ("What is the Liaison Committee's view of the fusion doctrine?", "a view of the fusion"),
        ("Why did the Executive drop its 2016 framework?", "whether the Executive did drop"),
        ("How often does the Liaison Committee meet?", "how often it happens"),
        ("Has Wales published a mid-term review of the Act?", "mid-term"),
        ("Which public bodies in Wales have ignored the duty?", "have ignored the duty"),
        ("Who wrote the introduction to the Carnegie UK essay?", "who wrote"),
    ],
    ids=[
        "thing never mentioned",
        "year never mentioned",
        "office never named",
        "nothing counted",
        "no figure before the noun",
        "no amount",
        "no figure for the quantity",
        "no one named in the role",
        "no member named",
        "no one named near the role",
        "no date ahead, only dates past",
        "no reply, only a summary saying it leaves one out",
        "no department named",
        "no share given",
        "no place given",
        "nothing done, in any form",
        "no one named doing it",
        "nothing named doing it",
        "no length of time",
        "no one still to come",
        "no one named doing it, by a verb of office",
        "names that never meet in one passage",
        "no passage with both the holder and the thing",
        "why, of a deed never told",
        "no frequency",
        "a compound never used",
        "the deed, past words between",
        "no author named",
    ],
)
def test_a_false_premise_is_refused_with_what_is_missing(assistant, question, missing):
    answer = assistant.ask(question)
    assert answer.refused and not answer.citations
    assert answer.answer.startswith("The indexed documents do not answer this question.")
    assert missing in answer.answer and answer.passages


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who sits on a Public Services Board in Wales?", "the health board"),
        ("How many national milestones has Wales set?", "Seventeen national milestones"),
        ("How many examinations did the Auditor General's first round draw together?", "71"),
        ("Who was National Security Adviser when the fusion doctrine was set out?", "Sedwill"),
        ("Who is responsible for setting Scotland's national outcomes?", "Scottish Ministers"),
        ("When is the Plan for Change due to be completed?", "by the end of the Parliament"),
        ("When will clean power be delivered?", "by 2030"),
        ("What was the government's response to the call for a National School?", "silent"),
        ("Which minister is responsible for setting national indicators in Wales?", "Welsh"),
        ("What share of five-year-olds should be ready to learn?", "75%"),
        ("Where was the fusion doctrine set out?", "National Security Capability Review"),
        ("Has Scotland adopted the 2024 proposals?", "not adopted"),
        ("Which ministers set national indicators in Wales?", "Welsh Ministers"),
        ("How long is the Future Generations Commissioner's term?", "seven years"),
        ("How long did the 2023 consultation on Scotland's outcomes run?", "14 March to 12 June"),
        ("Which of the devolved outcomes frameworks have a statutory basis?", "statutory basis"),
        ("List the outcomes added in the May 2024 proposals.", "climate action"),
        ("What is the Liaison Committee's view of the Treasury?", "critical of the Treasury"),
        ("In which year will clean power be reached?", "2030"),
        ("How often must the national outcomes be reviewed?", "every five years"),
        (
            "Did the Finance and Public Administration Committee find the framework drove "
            "accountability?",
            "not seen to drive",
        ),
        ("What is the risk of a real-time missions dashboard?", "target-gaming"),
    ],
    ids=[
        "who sits, said otherwise",
        "a count in words",
        "a count in figures",
        "a role held",
        "a body responsible",
        "a deadline, said otherwise",
        "a deadline for the thing itself",
        "a reply given",
        "a minister by office",
        "a share as a percentage",
        "a place that is a document",
        "a thing not done is an answer",
        "people named by office",
        "a length of time",
        "a span, about the document's own subject",
        "'which of the': no deed",
        "a deed told in a sentence leaning on the one before",
        "a view, held and of what",
        "which year, ahead",
        "a frequency",
        "a deed in an irregular past: find, found",
        "a compound the documents use",
    ],
)
def test_a_true_premise_said_in_other_words_is_answered(assistant, question, expected):
    answer = assistant.ask(question)
    assert not answer.refused and expected in answer.answer


_HARBOUR = [
    "The Harbour Renewal Board was set up by the Island Council in 2021.",
    "Dr Morag Campbell chairs the Board.",
    "The Board will open its new ferry terminal in Tobermory in 2027.",
    "The terminal will cost £45 million.",
    "About 60% of islanders use the ferry each week.",
    "The Board meets every month in Oban.",
    "The Department for Transport is responsible for ferry safety.",
    "The Board published its first plan in March 2023 because the old pier was failing.",
    "In its response, the Island Council welcomed the plan.",
    "The consultation on the plan ran from January to March 2022 and received 412 responses.",
    "The Board has 9 members.",
]


@pytest.fixture(scope="module")
def harbour(tmp_path_factory, embedder) -> Assistant:
    """An assistant over one document it has never seen, written in its own words."""
    folder = tmp_path_factory.mktemp("harbour")
    make_pdf(
        folder / "harbour.pdf",
        [[("h", "Harbour renewal"), *[("p", text) for text in _HARBOUR]]],
        title="Harbour renewal note",
    )
    settings = Settings(index_dir=tmp_path_factory.mktemp("harbour-index"), progress=False)
    assert Ingester(settings, embedder=embedder).ingest([folder]).ok
    return Assistant(settings)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who chairs the Harbour Renewal Board?", "Morag Campbell"),
        ("When will the Board open its ferry terminal?", "2027"),
        ("How much will the terminal cost?", "£45 million"),
        ("What share of islanders use the ferry?", "60%"),
        ("How often does the Board meet?", "every month"),
        ("Where does the Harbour Renewal Board meet each month?", "Oban"),
        ("Where does the Board meet?", "Oban"),
        ("Which department is responsible for ferry safety?", "Department for Transport"),
        ("Why did the Board publish its first plan?", "because the old pier"),
        ("How did the Island Council respond to the plan?", "welcomed the plan"),
        ("How long did the consultation on the plan run?", "January to March 2022"),
        ("How many responses did the consultation receive?", "412 responses"),
        ("How many members does the Board have?", "9 members"),
        ("Did the Island Council set up the Board?", "set up by the Island Council"),
        ("What is the Island Council's view of the plan?", "welcomed"),
    ],
)
def test_every_kind_of_question_is_answered_from_a_document_that_answers_it(
    harbour, question, expected
):
    # Each of the premise check's question forms, over a document it was not written for:
    # where the answer is there, no rule may refuse it.
    answer = harbour.ask(question)
    assert not answer.refused, answer.answer
    assert expected in answer.answer


def test_the_lead_holds_the_kind_of_answer_asked_for(harbour):
    # "How often" wants a frequency: "The Board has 9 members" is about the Board, not an answer.
    assert harbour.ask("How often does the Board meet?").answer.startswith(
        "The Board meets every month in Oban [1]"
    )
    assert answer_pattern("How long did the consultation run?").search("from January to March")
    assert answer_pattern("Why did the Board publish a plan?").search("because the pier failed")
    assert answer_pattern("What does the Board do?") is None


def test_counting_needs_a_figure_for_the_thing_itself():
    assert _counts("Number of outcomes | 13, up from 11", "outcomes")
    assert _counts("1.5 million homes built in England", "homes")
    assert _counts("Seventeen national milestones were set.", "milestones")
    # A reference or a year is not a count of what follows it.
    assert not _counts(
        "Official source | Government response to the Committee, HC 846", "responses"
    )
    assert not _counts("Committee recommendation (HC 31) | Government response", "responses")
    assert not _counts("In 2015 public bodies took on the duty.", "bodies")


def test_a_date_ahead_is_a_deadline_or_a_plan_with_a_date():
    asked = "When will the Board open its ferry terminal?"
    assert (
        _ahead_missing(asked, ["The Board will open its ferry terminal in Tobermory in 2027."])
        is None
    )
    assert _ahead_missing(asked, ["The Board must open its ferry terminal by 2027."]) is None
    assert _ahead_missing(asked, ["The Board is expected to open its terminal in May."]) is None
    assert _ahead_missing(asked, ["The Board opened its ferry terminal in 2019."])
    assert _ahead_missing(asked, ["It does not cover terminals opened before 2030."])


def test_before_refusing_the_assistant_looks_past_the_cut(assistant):
    question = "When will clean power be delivered?"
    unrelated = assistant.retriever.retrieve("Scotland's national outcomes and values")
    assert assistant.missing_terms(question, unrelated) == ["a date still to come"]
    passages, missing = assistant.look_further(question, question, unrelated)
    assert missing == [] and len(passages) == len(unrelated)
    assert passages[:-1] == unrelated[:-1] and passages[-1].n == len(passages)
    assert "by 2030" in passages[-1].text
    # Where nothing further holds the premise, the passages stay as they were.
    asked = "Which department is accountable for the growth mission?"
    assert assistant.look_further(asked, asked, unrelated)[0] == unrelated


def test_the_lead_brings_the_sentence_that_completes_it(assistant):
    answer = assistant.ask("What did the May 2024 proposals for Scotland's framework include?")
    lead, follow = answer.answer.split(" [1]. ")[:2]
    assert lead == "In May 2024 the Scottish Government published proposals for a revised framework"
    assert follow.startswith("They would have raised the number of national outcomes from 11 to 13")


def test_a_sentence_announcing_a_list_comes_with_it_or_not_at_all(assistant):
    # "The report's main recommendations were:" once came without its list, and ran into the
    # next sentence as one claim that no passage holds.
    answer = assistant.ask("What did the Liaison Committee recommend for the Cabinet Office?")
    assert "A slimmer Cabinet Office" in answer.answer
    assert not re.search(r"\[\d+\]: [A-Z]", answer.answer)
    passages = {p.n: p for p in answer.passages}
    assert answer.citations and all(c.quote in passages[c.n].text for c in answer.citations)


def test_follow_up_carries_the_earlier_subject(assistant):
    history = [
        {"role": "user", "content": "What did the Liaison Committee recommend?"},
        {"role": "assistant", "content": "A national strategy [1]."},
    ]
    standalone = assistant.condense("And what did they say about a National School?", history)
    assert "Liaison Committee" in standalone and "National School" in standalone
    assert assistant.condense("What is a Public Services Board?", history) == (
        "What is a Public Services Board?"
    )


def test_a_follow_up_naming_its_own_subject_takes_the_rest_of_the_question():
    earlier = "How many national indicators does Wales have?"
    assert carried_subject(earlier, "And how many does Scotland have?") == "national indicators"
    # "they" points back: the earlier names stay.
    assert carried_subject(
        "What did the Liaison Committee recommend?", "Did they name a School?"
    ) == ("Liaison Committee recommend")


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("   ", "the question is empty"),
        ("why " * 5001, "characters long"),
        ("Beth yw'r nodau llesiant cenedlaethol yng Nghymru heddiw?", "does not look like English"),
    ],
    ids=["empty", "too long", "another language"],
)
def test_questions_that_cannot_be_asked(assistant, question, reason):
    with pytest.raises(QuestionError, match=reason):
        assistant.ask(question)


def test_verification_removes_what_the_passages_do_not_support(assistant):
    passages = assistant.retriever.retrieve("Future Generations Commissioner term of office")
    wales = next(
        p
        for p in passages
        if _name(p) == "wales-future-generations-act.pdf" and "seven years" in p.text
    )
    n = wales.n
    text = (
        f"The Commissioner is appointed for a term of seven years [{n}]. "
        f"The Commissioner is appointed for a term of nine years [{n}]. "
        f"Sir Humphrey Appleby approves every recommendation [{n}]. "
        f"The Commissioner reviews public bodies [{len(passages) + 5}]."
    )
    kept, citations, notes = assistant.verify(Composition(text, False, 1.0, "test"), passages)
    assert kept == f"The Commissioner is appointed for a term of seven years [{n}]."
    assert len(citations) == 1 and citations[0].supported
    assert any("figures 9" in note or "nine" in note or "not close" in note for note in notes)
    assert any("appleby" in note.lower() for note in notes)
    assert any("not retrieved" in note for note in notes)


def test_an_answer_splits_into_its_claims():
    answer = "The Act (asp 2015 no. 6) sets outcomes [1]. \u2022 In Scotland, budgets lag [2]."
    assert split_claims(answer) == [
        "The Act (asp 2015 no. 6) sets outcomes [1].",
        "\u2022 In Scotland, budgets lag [2].",
    ]


def test_a_sentence_with_an_abbreviation_is_verified_whole(assistant):
    passages = assistant.retriever.retrieve("Community Empowerment (Scotland) Act 2015 asp 2015")
    source = next(p for p in passages if "(asp 2015 no. 6)" in p.text)
    sentence = next(s for s in split_sentences(source.text) if "(asp 2015 no. 6)" in s)
    text = f"{sentence[:-1]} [{source.n}]."
    kept, citations, notes = assistant.verify(Composition(text, False, 1.0, "test"), passages)
    assert kept == text and not notes
    assert [c.quote for c in citations] == [sentence]


def test_verifier_checks_numbers_names_and_meaning(embedder, assistant):
    verifier = Verifier(embedder, threshold=0.6)
    (passage,) = [
        p
        for p in assistant.retriever.retrieve("Derek Walker Commissioner March 2023")
        if "Derek Walker" in p.text
    ][:1]
    assert verifier.check(
        "Derek Walker became Commissioner in March 2023 [1].", [passage]
    ).supported
    assert not verifier.check("Derek Walker became Commissioner in 2031 [1].", [passage]).supported
    assert not verifier.check(
        "Jane Doe became Commissioner in March 2023 [1].", [passage]
    ).supported
    assert not verifier.check("Bananas ripen faster beside apples [1].", [passage]).supported
    turned = verifier.check(
        "Derek Walker did not become Commissioner in March 2023 [1].", [passage]
    )
    assert not turned.supported and "turns round" in turned.reason


def test_the_retriever_composes_as_a_langchain_retriever(assistant):
    from langchain_core.runnables import RunnableLambda

    retriever = assistant.retriever.as_langchain(k=3, filters={"jurisdiction": ["Wales"]})
    chain = retriever | RunnableLambda(lambda docs: [d.metadata["source"] for d in docs])
    sources = chain.invoke("What does the Future Generations Commissioner do?")
    assert len(sources) == 3 and all("wales" in s for s in sources)
    (first,) = retriever.invoke("seven well-being goals")[:1]
    assert first.metadata["page_start"] >= 1 and first.metadata["jurisdiction"] == "Wales"
