"""Questions over the starter corpus: hybrid retrieval, the extractive composer, verification."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.chain import Assistant, QuestionError, carried_subject
from assistant.citations import Verifier, altered, split_claims, split_sentences
from assistant.config import Settings
from assistant.generation import Composition
from assistant.ingest import Ingester
from assistant.lexical import LexicalIndex
from assistant.readability import leans_back
from assistant.retrieval import parse_filters, reciprocal_rank, weighted_sum
from assistant.store import StoredChunk
from tests.pdfs import make_pdf

# Where the learned answer selector (issue 13) still falls short of what a reader expects:
# these run and are reported (xfail, or xpass once it gets them right), and do not gate CI.
SELECTOR_GAP = pytest.mark.xfail(
    reason="answer selector: ranking or answerability still wrong here (issue 13)", strict=False
)


@pytest.fixture(scope="module")
def assistant(starter_settings) -> Assistant:
    return Assistant(starter_settings)


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


def test_a_question_searched_in_no_document_is_refused_by_its_filters(assistant):
    with pytest.raises(
        QuestionError, match=r"no indexed document matches the filters \(year 1066\)"
    ):
        assistant.ask("What does the Act require?", filters={"year": ["1066"]})
    # Any case of a field's value keeps its documents, as the search does; so does a
    # document's id by its start in any case, and one value given alone, not as a list.
    answer = assistant.ask("What does the Act require?", filters={"jurisdiction": ["wales"]})
    assert answer.filters == {"jurisdiction": ["wales"]}
    wales = next(r for r in assistant.documents() if "wales" in r.source)
    for filters in ({"document": [wales.doc_id[:6].upper()]}, {"jurisdiction": "Wales"}):
        assert not assistant.ask("What does the Act require?", filters=filters).refused


def _chunks(*texts: str) -> list[StoredChunk]:
    return [StoredChunk(f"c{i}", text, {}) for i, text in enumerate(texts)]


def test_weighted_fusion_keeps_how_far_ahead_a_passage_is():
    far_ahead, middling, other = _chunks("a", "b", "c")
    dense = [(middling, 0.60), (far_ahead, 0.55), (other, 0.50)]
    lexical = [(far_ahead, 9.0), (middling, 3.0), (other, 2.0)]
    fused = weighted_sum([(dense, 0.5), (lexical, 0.5)])
    assert max(fused, key=fused.get) == "c0"
    # Reciprocal rank sees only that each is first once and second once: a tie.
    ranks = reciprocal_rank(dense, lexical)
    assert ranks["c0"] == ranks["c1"]
    # A chunk one list lacks takes that list's lowest score, and a weight of 1 is dense alone.
    alone = weighted_sum([(dense, 0.5), ([(far_ahead, 9.0)], 0.5)])
    assert alone["c1"] == pytest.approx(0.5 * 1.0 + 0.5 * 1.0)
    dense_only = weighted_sum([(dense, 1.0), (lexical, 0.0)])
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


@SELECTOR_GAP
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


_TENANCY = [
    "The Tenancy Standards Agency was created in 2019 to inspect rented homes.",
    "The agency's headquarters are in Leeds.",
    "The board is chaired by Dr Amina Shah.",
    "Inspectors visit each large landlord fortnightly.",
    "Nine in ten tenants said they were satisfied with their repairs.",
    "The agency spent £3.2 million on inspections last year.",
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
    make_pdf(
        folder / "tenancy.pdf",
        [[("h", "Tenancy standards"), *[("p", text) for text in _TENANCY]]],
        title="Tenancy standards agency: annual note",
    )
    settings = Settings(index_dir=tmp_path_factory.mktemp("harbour-index"), progress=False)
    assert Ingester(settings, embedder=embedder).ingest([folder]).ok
    return Assistant(settings)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        pytest.param("Who chairs the Harbour Renewal Board?", "Morag Campbell", marks=SELECTOR_GAP),
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
    # Every kind of question, over a document no rule or weight was fitted to: where the
    # answer is there, it is answered, and its evidence says how surely.
    answer = harbour.ask(question)
    assert answer.strength in ("strong", "partial")
    assert not answer.refused, answer.answer
    assert expected in answer.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        pytest.param("Where is the Tenancy Standards Agency based?", "Leeds", marks=SELECTOR_GAP),
        ("Who chairs the agency's board?", "Amina Shah"),
        ("How often do inspectors visit large landlords?", "fortnightly"),
        ("What share of tenants were happy with repairs?", "Nine in ten"),
        ("How much did the agency spend on inspections?", "£3.2 million"),
        ("When was the Tenancy Standards Agency set up?", "2019"),
    ],
)
def test_plain_english_answers_are_found_among_two_documents(harbour, question, expected):
    answer = harbour.ask(question)
    assert not answer.refused and expected in answer.answer
    assert {c.title for c in answer.citations} == {"Tenancy standards agency: annual note"}


@SELECTOR_GAP
def test_the_lead_is_the_sentence_that_answers(harbour):
    # "How often" wants a frequency: "The Board has 9 members" is about the Board, not an answer.
    assert harbour.ask("How often does the Board meet?").answer.startswith(
        "The Board meets every month in Oban [1]"
    )
    assert harbour.ask("How many members does the Board have?").answer.startswith(
        "The Board has 9 members [1]"
    )


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        pytest.param(
            *("When did the Harbour Renewal Board open its terminal in Mallaig?", "Mallaig"),
            marks=SELECTOR_GAP,
        ),
        pytest.param("What did the Board decide at its 2019 meeting?", "2019", marks=SELECTOR_GAP),
        ("Who chairs the Ferry Users Forum?", "Ferry Users Forum"),
    ],
    ids=["a place never mentioned", "a year never mentioned", "a body never mentioned"],
)
def test_a_question_about_what_the_documents_never_mention_is_refused(harbour, question, missing):
    answer = harbour.ask(question)
    assert answer.refused and not answer.citations and answer.strength == "weak"
    assert answer.answer.startswith("The indexed documents do not answer this question.")
    assert (
        missing in answer.answer and "nearest passage is in Harbour renewal note" in answer.answer
    )


@pytest.mark.parametrize(
    "question",
    [
        pytest.param(
            "What is the salary of the chair of the Harbour Renewal Board?", marks=SELECTOR_GAP
        ),
        pytest.param("How many ferries does the Board own?", marks=SELECTOR_GAP),
        "Who designed the new terminal?",
    ],
)
def test_a_question_the_document_does_not_answer_is_refused(harbour, question):
    answer = harbour.ask(question)
    assert answer.refused and answer.confidence is not None and answer.confidence < 0.5


@pytest.mark.parametrize(
    ("situation", "question", "expected"),
    [
        pytest.param(
            "I'm briefing the minister before a visit to Portree tomorrow; ",
            "who chairs the Harbour Renewal Board?",
            "Morag Campbell",
            marks=SELECTOR_GAP,
        ),
        (
            "My mother lives in Kent and uses the ferry. ",
            "How often does the Board meet?",
            "every month",
        ),
        (
            "Sorry if this is basic, I'm new to the brief - ",
            "how much will the terminal cost?",
            "£45 million",
        ),
    ],
)
def test_the_askers_own_situation_is_not_a_premise(harbour, situation, question, expected):
    answer = harbour.ask(situation + question)
    assert not answer.refused and expected in answer.answer
    assert any("asker's own situation" in note for note in answer.notes)
    assert answer.answer == harbour.ask(question[0].upper() + question[1:]).answer


@SELECTOR_GAP
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
    # "such" points back as "that" does; "such as" introduces examples of its own.
    assert "Liaison Committee" in assistant.condense("Why such a strategy?", history)
    plain = "Which bodies, such as a Public Services Board, must report?"
    assert assistant.condense(plain, history) == plain


def test_a_follow_up_to_a_follow_up_keeps_the_first_subject(assistant):
    history = [
        {"role": "user", "content": "What did the Liaison Committee recommend?"},
        {"role": "assistant", "content": "A national strategy [1]."},
        {"role": "user", "content": "Why did they want it?"},
        {"role": "assistant", "content": "To join up government [1]."},
    ]
    standalone = assistant.condense("Who would run it?", history)
    assert standalone.startswith("Who would run it?") and "Liaison Committee" in standalone
    # A question that stands alone starts the subject afresh for the turns after it.
    history[2] = {"role": "user", "content": "What is a Public Services Board?"}
    standalone = assistant.condense("Who would run it?", history)
    assert "Public Services Board" in standalone and "Liaison" not in standalone


def test_an_existential_there_points_back_to_nothing(assistant):
    history = [{"role": "user", "content": "Who chairs the Liaison Committee?"}]
    asked = "Is there a national school of government?"
    assert assistant.condense(asked, history) == asked
    assert "Liaison Committee" in assistant.condense("Who else sits there?", history)


def test_a_later_part_that_points_back_leans_on_the_part_before(assistant):
    history = [
        {"role": "user", "content": "What does the fusion doctrine say about national security?"},
        {"role": "assistant", "content": "It joins up the tools of national security [1]."},
    ]
    asked = "How many missions does the UK government have and what are they?"
    first, second = assistant.ask(asked, history=history).standalone_question.split(" | ")
    # "they" are the missions of the part before, not the earlier turn's doctrine.
    assert first == "How many missions does the UK government have?"
    assert second.startswith("what are they?") and "missions" in second
    assert "fusion" not in second


def test_a_question_with_markup_pasted_in_is_answered_as_without_it(assistant):
    asked = "How many well-being goals does the Wales Act set?"
    plain = assistant.ask(asked)
    marked = assistant.ask(f'<b>{asked}</b> <img src=x onerror="alert(2)">')
    assert not plain.refused and not marked.refused
    assert marked.answer == plain.answer


def test_a_follow_up_naming_its_own_subject_takes_the_rest_of_the_question():
    earlier = "How many national indicators does Wales have?"
    assert carried_subject(earlier, "And how many does Scotland have?") == "national indicators"
    # "they" points back: the earlier names stay.
    assert carried_subject(
        "What did the Liaison Committee recommend?", "Did they name a School?"
    ) == ("Liaison Committee recommend")


def test_a_question_whose_pointing_word_points_within_it_stands_alone(assistant):
    history = [{"role": "user", "content": "Who chairs the Liaison Committee?"}]
    for standing in (
        "How many national outcomes does Scotland's framework set out in its 2018 version?",
        "What is the duty that applies to public bodies?",
    ):
        assert assistant.condense(standing, history) == standing
    for leaning in ("Who leads its board?", "What did the committee say about it?"):
        assert assistant.condense(leaning, history) != leaning


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


def test_a_control_character_or_an_empty_turn_is_no_part_of_a_question(assistant):
    assert assistant.check_question("Who chairs\x1b[2J the Liaison Committee?\x08") == (
        "Who chairs[2J the Liaison Committee?"
    )
    turns = [{"role": "user", "content": None}, {"role": "user"}]
    assert assistant.condense("And what does it say?", turns) == "And what does it say?"


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


def test_a_sentence_leaning_on_a_removed_one_goes_with_it(assistant):
    """ "It is appointed ..." after the sentence that said what "It" is was removed would lean
    on nothing: it goes too, and the answer never opens on a pronoun with no subject."""
    passages = assistant.retriever.retrieve("Future Generations Commissioner term of office")
    wales = next(
        p
        for p in passages
        if _name(p) == "wales-future-generations-act.pdf" and "seven years" in p.text
    )
    n = wales.n
    leaning = f"It is appointed for a term of seven years [{n}]."
    removed = f"Sir Humphrey Appleby chairs the Commission [{n}]. "
    kept, _, notes = assistant.verify(Composition(removed + leaning, False, 1.0, "t"), passages)
    assert kept == "" and any("leaning on nothing kept" in note for note in notes)
    standing = next(s for s in split_sentences(wales.text) if not leans_back(s))
    first = f"{standing.rstrip('.')} [{n}]. "
    kept, _, notes = assistant.verify(Composition(first + leaning, False, 1.0, "t"), passages)
    assert kept.endswith(leaning) and not any("leaning" in note for note in notes)


def test_the_sentence_another_leans_on_stays_though_it_is_off_the_question(assistant, embedder):
    """The sentence before "It ..." says what "It" is: it stays as its subject even where it
    does not itself speak to the question, which a sentence on its own must."""
    passages = assistant.retriever.retrieve("Future Generations Commissioner term of office")
    wales = next(p for p in passages if "seven years" in p.text)
    spans = split_sentences(wales.text)
    standing = next(s for s in spans if not leans_back(s) and "seven years" not in s)
    term = next(s for s in spans if "seven years" in s)
    question = "How long is the term of office?"
    vectors = embedder.embed_documents([question, standing, term])
    off, on = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert off < on
    first = f"{standing.rstrip('.')} [{wales.n}]."
    text = f"{first} It is appointed for a term of seven years [{wales.n}]."
    shipped = assistant.verifier
    assistant.verifier = Verifier(embedder, shipped.threshold, relevance=(off + on) / 2)
    try:
        alone, _, _ = assistant.verify(Composition(first, False, 1.0, "t"), passages, question)
        kept, _, notes = assistant.verify(Composition(text, False, 1.0, "t"), passages, question)
    finally:
        assistant.verifier = shipped
    assert alone == ""  # off the question on its own
    assert kept == text, notes


def test_the_items_of_an_announced_list_stay_though_each_is_off_the_question(assistant, embedder):
    """ "5.1.2 The line manager." alone does not speak to "What are the three parties to
    policy?", but said after the claim that announces its list it is part of the answer, as
    its neighbours are; the same item said alone, or a note after the list that is not its
    next item, goes."""
    from assistant.models import Passage

    lead = "5.1 There are three parties essential to the harbour policy:"
    note = "6 Oban Ferry Trust, Accounts, April 2023"
    items = ["5.1.1 The harbour board as the employer.", "5.1.2 The line manager."]
    items.append("5.1.3 The employee.")
    text = "\n".join([lead, *items, note])
    passages = [Passage(1, "c1", "d", "Harbour policy", "h.pdf", 4, 4, "", text, 1.0)]
    question = "What are the three parties essential to the harbour policy in section 5.1?"
    vectors = embedder.embed_documents([question, lead, *items, note])
    near = [float(vectors[0] @ v) for v in vectors[1:]]
    assert near[0] > max(near[1:])  # the lead-in speaks to the question, the rest less
    said = f"{lead[:-1]} [1]: " + " ".join(f"{item[:-1]} [1]." for item in items)
    alone = f"{items[1][:-1]} [1]."
    shipped = assistant.verifier
    assistant.verifier = Verifier(embedder, shipped.threshold, relevance=max(near[1:]) + 0.01)
    try:
        kept, _, notes = assistant.verify(Composition(said, False, 1.0, "t"), passages, question)
        assert kept == said, notes
        kept, _, _ = assistant.verify(Composition(alone, False, 1.0, "t"), passages, question)
        assert kept == ""
        noted = Composition(f"{said} {note} [1].", False, 1.0, "t")
        kept, _, _ = assistant.verify(noted, passages, question)
        assert kept == said
    finally:
        assistant.verifier = shipped


def test_a_documents_own_bracketed_references_are_not_read_as_citations(tmp_path, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "harbour.md").write_text(
        "# Harbour dredging review\n\n"
        "The Port Authority dredged the main channel of Kelby harbour to 14 metres in 2021 [2]. "
        "Silt returned to the channel within two years of each dredge [3]. "
        "Dredging costs at Kelby rose to 3 million pounds a year after the channel was deepened "
        "[4].\n"
    )
    for name, text in {
        "lighthouse.md": "# Lighthouse history\n\nThe Kelby light was first lit in 1871.\n",
        "fleet.md": "# Fishing fleet report\n\nThe Kelby fleet landed 800 tonnes in 2022.\n",
        "ferry.md": "# Ferry timetable\n\nThe ferry to Kelby sails twice a day in summer.\n",
    }.items():
        (folder / name).write_text(text)
    settings = Settings(index_dir=tmp_path / "index", progress=False)
    assert Ingester(settings, embedder=embedder).ingest([folder]).ok
    answer = Assistant(settings).ask("How deep was the main channel of Kelby harbour dredged?")
    assert "14 metres" in answer.answer
    assert {Path(c.source).name for c in answer.citations} == {"harbour.md"}
    assert all(c.quote for c in answer.citations)
    assert "2021 (2)" in answer.answer


def test_an_answer_splits_into_its_claims():
    answer = "The Act (asp 2015 no. 6) sets outcomes [1]. \u2022 In Scotland, budgets lag [2]."
    assert split_claims(answer) == [
        "The Act (asp 2015 no. 6) sets outcomes [1].",
        "\u2022 In Scotland, budgets lag [2].",
    ]
    # An initialism ends a sentence only where a capital starts the next.
    answer = "In 2020 the U.K. government paid for dredging [1]. It went to the U.S. Then [2]."
    assert split_claims(answer) == [
        "In 2020 the U.K. government paid for dredging [1].",
        "It went to the U.S.",
        "Then [2].",
    ]
    # No sentence opens in lower case: a quote's ellipsis, or a stop the document left inside
    # its sentence, goes on in the same claim.
    answer = "He agreed, stating: \u201c... there is expertise ... but little funding\u201d [1]."
    assert split_claims(answer) == [answer]
    assert len(split_claims("Rules ban claims in ads. for children's food [1]. It ends [2].")) == 2
    # a word in capitals goes on with an initialism: a document's name introducing its claims
    answer = "U.S. DEPARTMENT OF LABOR FY 2022: Inspections give data on mine safety [5]."
    assert split_claims(answer) == [answer]
    # a citation's mark ends its claim, whatever the next one opens with
    assert split_claims("Engagement rose to 65% [1]. median: 2019 63% [2].") == [
        "Engagement rose to 65% [1].",
        "median: 2019 63% [2].",
    ]


def test_a_quote_with_an_ellipsis_is_answered_whole(tmp_path, embedder):
    """Quoted evidence given with an ellipsis ("stating: "... there is") is one sentence of the
    answer: not cut at the ellipsis, its opening dropped as uncited and the rest shown alone."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "funding.md").write_text(
        "# Research funding\n\nThe committee heard evidence on the capacity for research into "
        "behaviour change. Professor Karen Lucas agreed, stating: \u201c... there is sufficient "
        "research expertise, but insufficient research funding and not enough "
        "interdisciplinary interaction on this subject ...\u201d61\n\n4.13. In relation to "
        "dredging, Dr Halpern cited a report from 2006.\n",
        encoding="utf-8",
    )
    settings = Settings(index_dir=tmp_path / "index", progress=False)
    assert Ingester(settings, embedder=embedder).ingest([corpus]).ok
    answer = Assistant(settings).ask("What did Professor Karen Lucas say about research funding?")
    claims = split_claims(answer.answer)
    assert any(
        c.startswith("Professor Karen Lucas agreed") and "insufficient research funding" in c
        for c in claims
    ), answer.answer
    assert not [n for n in answer.notes if n.startswith("removed")]
    assert all(not c[:1].islower() for c in claims)


def test_a_sentence_with_an_abbreviation_is_verified_whole(assistant):
    passages = assistant.retriever.retrieve("Community Empowerment (Scotland) Act 2015 asp 2015")
    source = next(p for p in passages if "(asp 2015 no. 6)" in p.text)
    spans = split_sentences(source.text)
    sentence = next(s for s in spans if "(asp 2015 no. 6)" in s)
    # (The sentence opens on "It": a sentence of its document that does not goes first.)
    standing = next(s for s in spans if not leans_back(s))
    text = f"{standing[:-1]} [{source.n}]. {sentence[:-1]} [{source.n}]."
    kept, citations, notes = assistant.verify(Composition(text, False, 1.0, "test"), passages)
    assert kept == text and not notes
    assert [c.quote for c in citations] == [standing, sentence]


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


KELBY = "Costs at Kelby rose to 3 million pounds after the channel was deepened"


@pytest.mark.parametrize(
    "claim, change",
    [
        (KELBY.replace("rose", "fell"), ("fell", "rose")),
        (KELBY.replace("after", "before"), ("before", "after")),
        (KELBY.replace("deepened", "dredged"), None),  # "dredged" is in the passage
        (KELBY.replace("after", "once"), None),
        ("Kelby's bill came to 3 million pounds once it was deepened", None),  # a paraphrase
        ("After the channel was deepened, Kelby's costs rose to 3 million pounds", None),
        ("The Port Authority spends 3 million pounds a year keeping Kelby open", None),
        (KELBY.replace("channel", "harbour"), None),
    ],
)
def test_a_copy_with_its_words_changed_is_told_from_a_paraphrase(claim, change):
    passage = f"The Port Authority dredged the channel of Kelby harbour. {KELBY}."
    assert altered(claim, KELBY, passage) == change


def test_the_retriever_composes_as_a_langchain_retriever(assistant):
    from langchain_core.runnables import RunnableLambda

    retriever = assistant.retriever.as_langchain(k=3, filters={"jurisdiction": ["Wales"]})
    chain = retriever | RunnableLambda(lambda docs: [d.metadata["source"] for d in docs])
    sources = chain.invoke("What does the Future Generations Commissioner do?")
    assert len(sources) == 3 and all("wales" in s for s in sources)
    (first,) = retriever.invoke("seven well-being goals")[:1]
    assert first.metadata["page_start"] >= 1 and first.metadata["jurisdiction"] == "Wales"


@pytest.mark.parametrize(
    "question",
    [
        "What are the five ways of working in the Well-being of Future Generations Act?",
        "How many national outcomes did Scotland's 2018 framework set?",
        "What did the Liaison Committee recommend?",
        "Who have been Wales' Future Generations Commissioners?",
        "What is the Plan for Change milestone for NHS waiting times?",
    ],
)
def test_every_extractive_sentence_is_an_exact_checked_quote(assistant, question):
    # Invariants of the extractive composer (the eval suite does not gate on them): every
    # sentence of the answer carries a citation, and every citation quotes its passage word
    # for word and passed the verifier.
    answer = assistant.ask(question)
    assert not answer.refused
    passages = {p.n: p for p in answer.passages}
    assert all(re.search(r"\[\d+\]", claim) for claim in split_claims(answer.answer))
    assert answer.citations and all(c.supported for c in answer.citations)
    assert all(c.quote and c.quote in passages[c.n].text for c in answer.citations)
    assert not any(note.startswith("removed") for note in answer.notes)


@SELECTOR_GAP
def test_a_figure_the_documents_never_give_is_refused(assistant):
    # The summaries describe the Commissioner's role at length but give no salary.
    answer = assistant.ask("What is the salary of the Future Generations Commissioner?")
    assert answer.refused and not answer.citations


def test_an_answer_does_not_depend_on_what_was_asked_before(assistant):
    """The sentence vectors the signals keep across questions are each made alone: were they
    embedded in batches, a sentence's vector would depend on the sentences beside it (int8
    activations are scaled over the batch), and so an answer on what was asked before it."""
    from assistant import signals

    question = "How long is the Future Generations Commissioner appointed for?"
    signals._VECTORS.clear()
    first = assistant.ask(question)
    signals._VECTORS.clear()
    for other in (
        "Who is the Future Generations Commissioner for Wales?",
        "What does the Commissioner do?",
        "Which bodies hold Welsh public bodies to account?",
    ):
        assistant.ask(other)
    again = assistant.ask(question)
    assert again.answer == first.answer
    assert again.confidence == pytest.approx(first.confidence, abs=1e-9)
    assert [c.quote for c in again.citations] == [c.quote for c in first.citations]


def test_two_places_the_documents_also_name_apart_stay_two_sides(assistant):
    store = assistant.retriever.store
    assert store.contains("Scotland and Wales")  # written together, yet each also alone
    assert not store.one_name("Scotland and Wales", ("Scotland", "Wales"))
    assert store.contains("Wales", without="Scotland and Wales")
    answer = assistant.ask("Compare how Scotland and Wales put wellbeing into law")
    labels = [p.split(":", 1)[0] for p in answer.answer.split("\n\n")]
    assert labels[:2] == ["Scotland", "Wales"]


def test_a_passage_found_for_two_sides_is_one_source(assistant):
    answer = assistant.ask("How do Scotland and Wales measure progress?")
    assert len(answer.answer.split("\n\n")) >= 2  # side by side
    chunks = [p.chunk_id for p in answer.passages]
    assert len(chunks) == len(set(chunks))
    assert sorted(p.n for p in answer.passages) == list(range(1, len(chunks) + 1))
    by_n = {p.n: p.chunk_id for p in answer.passages}
    assert all(c.n in by_n for c in answer.citations)
