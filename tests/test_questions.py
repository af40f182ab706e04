"""Reading a question: the question proper apart from the asker's situation, the kind of
answer it wants, and the names and figures it asserts."""

from __future__ import annotations

import pytest

from assistant.questions import analyse, plan


@pytest.mark.parametrize(
    ("asked", "proper", "context"),
    [
        (
            "I live in Kent and my mother has dementia. Can I register the power of attorney?",
            "Can I register the power of attorney?",
            "I live in Kent and my mother has dementia.",
        ),
        (
            "I'm briefing the minister before a visit to Cardiff; what did the committee say?",
            "what did the committee say?",
            "I'm briefing the minister before a visit to Cardiff",
        ),
        (
            "Sorry if this is basic - what is the UK Space Agency?",
            "what is the UK Space Agency?",
            "Sorry if this is basic",
        ),
        (
            "What did the committee recommend on spectrum?",
            "What did the committee recommend on spectrum?",
            "",
        ),
        ("List the recommendations on data.", "List the recommendations on data.", ""),
        (
            "When was Our Plan: Doing What Matters Most published?",
            "When was Our Plan: Doing What Matters Most published?",
            "",
        ),
        (
            "What did Promoting national strategy - HC 31 - say about the Cabinet Office?",
            "What did Promoting national strategy - HC 31 - say about the Cabinet Office?",
            "",
        ),
    ],
    ids=[
        "a sentence of situation",
        "a clause of situation",
        "an apology",
        "none",
        "a request",
        "a title with a colon",
        "a title with dashes",
    ],
)
def test_the_question_proper_is_read_apart_from_the_askers_situation(asked, proper, context):
    analysis = analyse(asked)
    assert analysis.proper == proper and analysis.context == context


@pytest.mark.parametrize(
    ("asked", "wh", "types"),
    [
        ("Who chairs the board?", "who", {"PERSON", "ORG", "NORP"}),
        ("When did the Act pass?", "when", {"DATE", "TIME"}),
        (
            "How many members does it have?",
            "how many",
            {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"},
        ),
        ("Which department sponsors the agency?", "which", {"ORG"}),
        ("What share of tenants were satisfied?", "what", {"PERCENT", "CARDINAL"}),
        ("What was the budget in 2019?", "what", {"MONEY", "CARDINAL"}),
        ("What did the committee say about spaceports?", "what", set()),
        ("Did the government accept it?", "yes-no", set()),
        ("Why did the Board publish a plan?", "why", set()),
    ],
)
def test_the_kind_of_answer_a_question_wants(asked, wh, types):
    analysis = analyse(asked)
    assert analysis.wh == wh and analysis.answer_types == frozenset(types)


def test_what_a_question_asserts_and_what_it_does_not():
    analysis = analyse("Why did Sage pull out of HMRC's pilot in 2019?")
    assert {"Sage", "2019"} <= set(analysis.asserted) and "HMRC" in " ".join(analysis.asserted)
    # The asker's situation asserts nothing: Kent is where the asker lives.
    situated = analyse("I live in Kent. Who chairs the board?")
    assert not any("Kent" in term for term in situated.asserted)
    # A count asked for is not a figure asserted.
    assert analyse("How many routes are there?").asserted == ()


@pytest.mark.parametrize(
    ("asked", "planned"),
    [
        ("Who chairs the board?", [("", "Who chairs the board?")]),
        (
            "Who chairs the board? When does it meet?",
            [("Who chairs the board?",) * 2, ("When does it meet?",) * 2],
        ),
        (
            "What did the committee recommend and how did the government respond?",
            [
                ("What did the committee recommend?",) * 2,
                ("how did the government respond?",) * 2,
            ],
        ),
        (
            "Compare how Scotland and Wales put wellbeing into law",
            [
                ("Scotland", "Compare how Scotland put wellbeing into law"),
                ("Wales", "Compare how Wales put wellbeing into law"),
            ],
        ),
        (
            "Is the duty in law in Scotland, Wales and Northern Ireland?",
            [
                ("Scotland", "Is the duty in law in Scotland?"),
                ("Wales", "Is the duty in law in Wales?"),
                ("Northern Ireland", "Is the duty in law in Northern Ireland?"),
            ],
        ),
    ],
    ids=["one question", "two sentences", "two clauses", "two sides", "three sides"],
)
def test_a_question_is_answered_whole_in_parts_or_side_by_side(asked, planned):
    assert plan(analyse(asked)) == planned


@pytest.mark.parametrize(
    "asked",
    [
        "How does the report define a nudge, quoting Thaler and Sunstein?",
        "How does the report define a nudge, according to Thaler and Sunstein?",
        "What did the government, responding to Scotland and Wales, say about funding?",
    ],
)
def test_names_in_a_phrase_that_qualifies_the_question_are_not_sides(asked):
    assert plan(analyse(asked)) == [("", asked)]


@pytest.mark.parametrize(
    "asked",
    [
        "What are the duties placed on public bodies in Scotland and Wales?",
        "What do the plans covering Scotland and Wales say about funding?",
    ],
)
def test_names_in_a_phrase_that_qualifies_a_noun_stay_sides(asked):
    assert [side for side, _ in plan(analyse(asked))] == ["Scotland", "Wales"]


def test_a_name_the_documents_write_with_and_is_one_side_not_two():
    asked = "What was the engagement index of HM Revenue and Customs in 2019?"
    split = plan(analyse(asked))  # the tagger reads two bodies, "HM Revenue" and "Customs"
    assert [label for label, _ in split] == ["HM Revenue", "Customs"]

    def one_name(whole, parts):
        return whole == "HM Revenue and Customs"

    assert plan(analyse(asked), one_name) == [("", asked)]
    both = "Compare how Scotland and Wales put wellbeing into law"
    assert [label for label, _ in plan(analyse(both), one_name)] == [
        "Scotland",
        "Wales",
    ]


def test_markup_pasted_with_a_question_is_not_read_as_its_words():
    marked = analyse('Who chairs the <b>Harbour Board</b>? <img src=x onerror="alert(2)">')
    assert marked.proper == "Who chairs the Harbour Board?"
    assert not any("src" in t or "alert" in t for t in marked.asserted)
    # A "<" that compares is no tag.
    assert analyse("Is spending < 5% of GDP?").proper == "Is spending < 5% of GDP?"
