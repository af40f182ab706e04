"""How an answer reads, claim by claim: claims that lean on nothing, claims that lean on
another document's claim, and fragments, as the English pipeline's tagger reads them."""

from __future__ import annotations

import pytest

from assistant.readability import read


def test_a_claim_that_leans_on_another_documents_claim_is_a_join():
    answer = (
        "The Commissioner is appointed for seven years [1]. She advises public bodies [1]. "
        "Its annual budget is 2.4 million pounds [2]."
    )
    reading = read(answer, {1: "wales-act", 2: "cornwall-memo"})
    assert [c.leans_back for c in reading.claims] == [False, True, True]
    assert reading.joins == 1 and reading.dangling == 0


def test_each_documents_own_paragraph_under_its_name_is_not_a_join():
    answer = (
        "Wales Act summary: The Commissioner is appointed for seven years [1].\n\n"
        "Cornwall memo: The Council of the Isles holds a budget of 2.4 million pounds [2]."
    )
    assert read(answer, {1: "wales-act", 2: "cornwall-memo"}).joins == 0


@pytest.mark.parametrize(
    "answer",
    [
        "The fusion doctrine: It is the project's own account of the doctrine [1].",
        "They were published in March 2018 [1].",
        "This summary does not describe the Act's guidance documents [1].",
    ],
)
def test_a_claim_that_opens_on_a_pronoun_with_nothing_before_it_dangles(answer):
    reading = read(answer, {1: "doc"})
    assert reading.dangling == 1 and reading.joins == 0


def test_the_author_speaking_is_not_a_claim_that_leans_back():
    answer = "We recommend that the Government appoint a Chief Social Scientist [1]."
    reading = read(answer, {1: "d"})
    assert not reading.claims[0].leans_back and reading.dangling == 0


def test_a_pronoun_after_a_claim_of_its_own_document_does_not_dangle():
    answer = "The Act names seven well-being goals [1]. They apply to 48 public bodies [1]."
    assert read(answer, {1: "doc"}).dangling == 0


@pytest.mark.parametrize(
    ("answer", "fragments"),
    [
        ("Structure of the report 1.8 8 [1].", 1),  # a contents line
        ("The Act received Royal Assent on 29 April 2015 [1].", 0),
        ("Royal Assent | 29 April 2015 [1].", 0),  # a table row is read with its cells
    ],
)
def test_a_claim_without_a_verb_is_a_fragment_unless_a_table_row(answer, fragments):
    reading = read(answer, {1: "doc"})
    assert reading.fragments == fragments
    assert reading.claims[0].table_row == (" | " in answer)


def test_notes_and_parts_without_citations_are_not_claims():
    answer = (
        "How many goals?: Section 4 sets out seven well-being goals [1].\n\n"
        "what are they?: The indexed documents do not say."
    )
    reading = read(answer, {1: "doc"})
    assert len(reading.claims) == 1 and reading.claims[0].text.startswith("Section 4")


@pytest.mark.parametrize(
    ("sentence", "finite"),
    [
        ("The Board meets every month in Oban.", True),
        ("That is approximately 23,000 fewer deaths.", True),
        ("We recommend that the Government appoint a Chief Social Scientist.", True),
        ("Structure of the report 1.8 8", False),
        ("171 Written evidence from a trade body (TRA0085) 172 Q 35 (Ms Jones)", False),
        ("Evaluating the benefits of the investments: executive summary", False),
    ],
)
def test_a_sentence_has_a_finite_verb_and_headings_and_footnote_runs_do_not(sentence, finite):
    from assistant.readability import has_finite_verb

    assert has_finite_verb(sentence) is finite


def test_the_lead_is_never_a_run_of_footnotes_or_a_heading_though_rows_and_items_may_be():
    from assistant.generation import _heading_like

    assert _heading_like("171 Written evidence from a trade body (TRA0085) 172 Q 35 (Ms Jones)")
    assert _heading_like("Structure of the report 1.8 8")
    assert not _heading_like("The Board meets every month in Oban.")
    assert not _heading_like("Royal Assent: 29 April 2015")  # a field
    assert not _heading_like("Commissioner | Term | 7 years")  # a table row
    assert not _heading_like("\u2022 Improving access to services for veterans")  # a list item


def test_a_tables_header_row_is_not_a_claim_but_its_rows_are():
    import numpy as np

    from assistant.generation import _not_a_claim
    from assistant.models import Passage
    from assistant.signals import Candidate

    text = (
        "The Act names the public bodies under the duty.\n"
        "Date | Public bodies under the duty\nAt the start | 44\nFrom 30 June 2024 | 56\n"
        "Each region has a lead body.\n"
        "Region | Lead body\nNorth | Council\n"
        "The outcomes are set in law.\n"
        "Who sets the outcomes | The Scottish Ministers\nHow often | Every 5 years\n"
    )
    passage = Passage(1, "c", "d", "A summary", "a.pdf", 1, 1, "", text, 1.0)

    def claim(sentence: str) -> bool:
        return not _not_a_claim(Candidate(passage, sentence, 0, np.zeros(384)))

    assert not claim("Date | Public bodies under the duty")  # labels over figures
    assert claim("At the start | 44") and claim("From 30 June 2024 | 56")
    assert claim("Region | Lead body")  # no figure below it: it may be a row of its own
    # A table of names and values where only some values are figures keeps every row.
    assert claim("Who sets the outcomes | The Scottish Ministers")
    assert claim("The Act names the public bodies under the duty.")


def test_a_sentence_that_leans_on_nothing_its_passage_shows_does_not_lead(embedder):
    """The likeliest sentence opens its passage on "This standard ...": with nothing before it
    to say which, it would read as a claim without a subject, so the next likeliest that
    stands on its own leads, and the leaning one is left out. Given what it leans on, it may
    lead, shown after it."""
    import numpy as np

    from assistant.generation import ExtractiveComposer
    from assistant.models import Passage
    from assistant.signals import Candidate

    leaning = "This standard was made in 2007 and applies to the newest aircraft only."
    alone = "The design standard for wiring was published by the regulator in 2007."
    first = Passage(1, "c1", "d", "Notice", "a.pdf", 2, 2, "", f"{leaning} Other text.", 1.0)
    second = Passage(2, "c2", "d", "Notice", "a.pdf", 3, 3, "", alone, 0.9)
    composer = ExtractiveComposer(embedder)

    def candidate(passage: Passage, sentence: str) -> Candidate:
        return Candidate(passage, sentence, 0, np.asarray(embedder.embed_query(sentence)))

    answer = composer.compose([(candidate(first, leaning), 0.8), (candidate(second, alone), 0.5)])
    assert answer.text.startswith("The design standard for wiring was published")
    assert "This standard" not in answer.text
    before = "The regulator set a wiring standard for new designs."
    shown = Passage(1, "c3", "d", "Notice", "a.pdf", 2, 2, "", f"{before} {leaning}", 1.0)
    answer = composer.compose([(candidate(shown, leaning), 0.8), (candidate(second, alone), 0.5)])
    assert answer.text.startswith(f"{before[:-1]} [1]. {leaning[:-1]} [1].")


def _alone(embedder, *sentences: tuple[str, float]) -> list:
    """Each sentence in a passage of its own, ranked with the probability given."""
    import numpy as np

    from assistant.models import Passage
    from assistant.signals import Candidate

    return [
        (
            Candidate(
                Passage(n, f"c{n}", "d", "Harbour", "h.pdf", n, n, "", s, 1.0),
                s,
                0,
                np.asarray(embedder.embed_query(s)),
            ),
            p,
        )
        for n, (s, p) in enumerate(sentences, 1)
    ]


def test_a_side_of_a_comparison_says_less_than_an_answer(embedder):
    """A supporting sentence a third as likely to answer as the lead is said in an answer, and
    left out of one side of a comparison, a short paragraph beside the others."""
    from assistant.generation import PART_REACH, ExtractiveComposer

    lead = "The harbour board meets four times a year in Oban."
    support = "The board publishes its minutes within a month of each meeting."
    ranked = _alone(embedder, (lead, 0.9), (support, 0.3))
    composer = ExtractiveComposer(embedder)
    assert support[:-1] in composer.compose(ranked).text
    side = composer.compose(ranked, PART_REACH).text
    assert side.startswith(lead[:-1]) and support[:-1] not in side


def test_a_note_or_a_numbered_line_without_a_verb_does_not_support_an_answer(embedder):
    """A note or list item with no verb ("9 Harbour Trust, Annual Report, 5 April 2023") says
    something only within its list: out of it, as support, it would be a fragment. A footnote
    set apart from the text (opening on its call) speaks of the text that calls it."""
    from assistant.generation import ExtractiveComposer

    ranked = _alone(
        embedder,
        ("The harbour board meets four times a year in Oban.", 0.9),
        ("9 Harbour Trust, Annual Report of the Oban board, 5 April 2023", 0.8),
        ("\u00b9 Evidence from the Harbour Trust, which the board published.", 0.8),
        ("2 The board publishes its minutes within a month.", 0.7),
    )
    text = ExtractiveComposer(embedder).compose(ranked).text
    assert "Annual Report" not in text and "Evidence from" not in text
    assert "publishes its minutes" in text
    note_first = ExtractiveComposer(embedder).compose(ranked[2:]).text
    assert note_first.startswith("\u00b9 Evidence from the Harbour Trust")  # it may lead


def test_a_less_likely_sentence_is_said_from_the_leads_own_document_only(embedder):
    """Beside the lead, its own document may go on with its subject in a less likely
    sentence; another document's sentence as unlikely would be a claim of its own on perhaps
    another subject, so it is left out."""
    import numpy as np

    from assistant.generation import ExtractiveComposer
    from assistant.models import Passage
    from assistant.signals import Candidate

    lead = "The harbour board meets four times a year in Oban."
    own = "The board's budget for the coming year is 2.4 million pounds."
    other = "The island council's budget for the coming year is 1.1 million pounds."

    def candidate(n: int, doc_id: str, sentence: str) -> Candidate:
        passage = Passage(n, f"c{n}", doc_id, doc_id, f"{doc_id}.pdf", n, n, "", sentence, 1.0)
        return Candidate(passage, sentence, 0, np.asarray(embedder.embed_query(sentence)))

    ranked = [
        (candidate(1, "board", lead), 0.6),
        (candidate(2, "council", other), 0.12),
        (candidate(3, "board", own), 0.1),
    ]
    text = ExtractiveComposer(embedder).compose(ranked).text
    assert text.startswith(lead[:-1]) and own[:-1] in text
    assert "island council" not in text


def test_a_sentence_that_does_not_speak_to_the_question_is_not_offered(embedder):
    """The verifier removes a quote that does not speak to the question; the composer asks it
    first, so such a sentence is never offered (and never reported as removed)."""
    import numpy as np

    from assistant.citations import Verifier
    from assistant.generation import ExtractiveComposer
    from assistant.models import Passage
    from assistant.signals import Candidate

    question = "How often does the harbour board meet?"
    lead = "The harbour board meets four times a year in Oban."
    off = "Early years: a record 75% of five-year-olds are ready to learn at school."
    passage = Passage(1, "c1", "d", "Harbour", "h.pdf", 1, 1, "", f"{lead} {off}", 1.0)
    ranked = [
        (Candidate(passage, s, i, np.asarray(embedder.embed_query(s))), p)
        for i, (s, p) in enumerate([(lead, 0.6), (off, 0.1)])
    ]
    verifier = Verifier(embedder, threshold=0.6)
    assert (
        verifier.relevance_of(off, question)
        < verifier.relevance
        <= verifier.relevance_of(lead, question)
    )
    composer = ExtractiveComposer(embedder)
    assert "Early years" in composer.compose(ranked).text
    text = composer.compose(ranked, speaks=verifier.speaks_to(question)).text
    assert text.startswith(lead[:-1]) and "Early years" not in text


def test_the_verifier_weighs_a_sentence_against_a_question_once(embedder):
    """The composer asks whether a sentence speaks to the question, and the check asks again
    of the sentence it then quotes: the second time costs no embedding, and gives the same."""
    from assistant.citations import Verifier

    calls = []

    class Counting:
        def embed_documents(self, texts):
            calls.append(list(texts))
            return embedder.embed_documents(texts)

    verifier = Verifier(Counting(), threshold=0.6)
    question = "How often does the harbour board meet?"
    sentence = "The harbour board meets four times a year in Oban."
    first = verifier.relevance_of(sentence, question)
    assert verifier.speaks_to(question)(sentence)
    assert verifier.relevance_of(sentence, question) == first and len(calls) == 1
    verifier.relevance_of(sentence, "Who chairs the harbour board?")
    assert len(calls) == 2


def test_a_numbered_list_is_quoted_after_its_lead_in_to_its_last_item(embedder):
    """Items numbered at a deeper level ("5.1.2 The line manager.") are too short to be
    claims of their own, but announced by a lead-in they are its answer: quoted with it, in
    order, to the item the numbering ends on, not on into the next list ("5.2 Other ...")."""
    import numpy as np

    from assistant.generation import ExtractiveComposer
    from assistant.models import Passage
    from assistant.signals import Candidate

    lead = "5.1 There are three parties to the harbour agreement:"
    text = "\n".join(
        [
            lead,
            "5.1.1 The harbour board.",
            "5.1.2 The island council.",
            "5.1.3 The ferry operator.",
            "5.2 Other bodies consulted include:",
            "5.2.1 The coastguard, on safety.",
        ]
    )
    passage = Passage(1, "c1", "d", "Harbour", "h.pdf", 4, 4, "", text, 1.0)
    ranked = [(Candidate(passage, lead, 0, np.asarray(embedder.embed_query(lead))), 0.8)]
    answer = ExtractiveComposer(embedder).compose(ranked).text
    assert "5.1.1 The harbour board" in answer and "5.1.3 The ferry operator" in answer
    assert answer.index("harbour board") < answer.index("island council") < answer.index("ferry")
    assert "Other bodies" not in answer and "coastguard" not in answer
    # Numbering that does not go on ("5.1.3" after "5.1.1") is not the same list.
    skipped = text.replace("5.1.2 The island council.\n", "")
    ranked = [
        (
            Candidate(
                Passage(1, "c2", "d", "Harbour", "h.pdf", 4, 4, "", skipped, 1.0),
                lead,
                0,
                ranked[0][0].vector,
            ),
            0.8,
        )
    ]
    answer = ExtractiveComposer(embedder).compose(ranked).text
    assert "harbour board" in answer and "ferry operator" not in answer


def test_a_line_without_a_verb_that_ends_on_a_colon_leads_only_with_its_list(embedder):
    """A run of notes or a heading that ends on a colon ("... 173 Guidance: Ferry timing:")
    announces nothing its passage gives: it does not lead, and the likeliest sentence does.
    With the items it announces after it, a lead-in without a verb leads."""
    import numpy as np

    from assistant.generation import ExtractiveComposer
    from assistant.models import Passage
    from assistant.signals import Candidate

    notes = "171 Harbour Economics, Benefits of resilient ferries, 2022 172 Guidance: Ferry timing:"
    claim = "A 2022 study estimated that losing the ferry would cost the island £1 million a day."
    passage = Passage(1, "c1", "d", "Harbour", "h.pdf", 9, 9, "", f"{notes}\n{claim}", 1.0)

    def ranked(passage: Passage, *sentences: str) -> list:
        return [
            (Candidate(passage, s, i, np.asarray(embedder.embed_query(s))), 0.8 - i / 10)
            for i, s in enumerate(sentences)
        ]

    composer = ExtractiveComposer(embedder)
    assert composer.compose(ranked(passage, notes, claim)).text.startswith(claim[:-1])
    lead_in = "Ferry services by season:"
    listed = Passage(
        2,
        "c2",
        "d",
        "Harbour",
        "h.pdf",
        3,
        3,
        "",
        f"{lead_in}\n- Summer: daily.\n- Winter: twice weekly.",
        1.0,
    )
    text = composer.compose(ranked(listed, lead_in)).text
    assert text.startswith("Ferry services by season") and "twice weekly" in text
    # A lead-in with a verb whose list the passage does not give as one ("Morag Campbell
    # (Chair)" on a line of its own) says nothing by itself: the likeliest claim leads.
    members = "The members of the harbour board which carried out this review are:"
    board = Passage(
        3,
        "c3",
        "d",
        "Harbour",
        "h.pdf",
        2,
        2,
        "",
        f"{members}\nMorag Campbell (Chair)\nIain Ross",
        1.0,
    )
    text = composer.compose(ranked(board, members) + ranked(passage, claim)).text
    assert text.startswith(claim[:-1]) and "members of the harbour board" not in text


@pytest.mark.parametrize(
    "before, line, follows",
    [
        ("", "5.1.1 The harbour board.", True),  # the first item of a list
        ("5.1.1 The harbour board.", "5.1.2 The line manager.", True),
        ("5.1.3 The employee.", "5.2 Other bodies consulted include:", False),
        ("5.1.1 The harbour board.", "5.1.3 The employee.", False),  # a number skipped
        ("1. set objectives", "2. publish them", True),  # an item may open in lower case
        ("2) set objectives", "3. publish them", False),  # written otherwise
        ("(a) the board", "(b) the council", True),
        ("(a) the board", "b) the council", False),
        ("h) the board", "i) the council", True),  # a letter after h
        ("iii. the board", "iv. the council", True),  # a roman numeral after iii
        ("\u2022 The board", "\u2022 The council", True),
        ("\u2022 The board", "\u25aa The council", False),  # another list's bullet
        ("\u2022 The board", "96 Infected Blood Inquiry, The Report", False),  # a note
        ("", "16 million letters were sent.", False),  # the sentence's own figure
        ("", "2.5 million people were asked.", False),
        ("", "e.g. the board", False),
    ],
)
def test_a_list_goes_on_while_its_items_share_their_mark_or_numbering(before, line, follows):
    from assistant.citations import continues_list

    assert continues_list(before, line) is follows


def test_an_answer_says_its_sentences_without_the_footnote_calls_that_end_them(embedder):
    """`for the consumer.292` is said `for the consumer [1].`: the call points into the
    document, not into the answer, and glued to the citation it read as part of a figure.
    The claim is still found word for word in its passage, which keeps the call. After a
    year the digits stay: alone, "2024.14" may be a decimal, and a figure is never changed."""
    from assistant.citations import Verifier, without_end_call
    from assistant.generation import ExtractiveComposer

    said = [
        "Calorie information should be displayed clearly for the consumer.292",
        "The harbour board said so in its report of 2024.14",
        "The board described it as \u201cthe health lens\u201d.191",
        "Oban asked the board to meet more often.\u00b9\u00b2",
    ]
    ranked = _alone(embedder, *((s, 0.9 - i / 10) for i, s in enumerate(said)))
    text = ExtractiveComposer(embedder).compose(ranked).text
    assert "consumer [1]." in text and "2024.14 [2]." in text
    assert "lens\u201d [3]." in text and "often [4]." in text
    verifier = Verifier(embedder, threshold=0.6)
    claim = "Calorie information should be displayed clearly for the consumer [1]."
    check = verifier.check(claim, [ranked[0][0].passage])
    assert check.supported and check.reason == "quoted exactly"
    assert check.quote == said[0]  # the source is quoted as it is, call and all
    # what is no call stays: an abbreviation's or a section's number, a decimal, a price, a
    # bare figure, a table's last cell
    for kept in (
        "See fig.3",
        "as on p.4",
        "see ch. 5",
        "see Part II.3",
        "It was 3.5",
        "The mean score was 1987.5",
        "It cost \u00a32019.50",
        "in Q 332",
        "Total | 1,000 | 2019.5",
    ):
        assert without_end_call(kept) == kept
