"""Government documents cited the way they are cited: by printed page label and paragraph
number ("p. 3, para 2.4"), with a question able to name a paragraph."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from assistant.chain import Assistant
from assistant.chunking import chunk_document
from assistant.citations import citation_of, is_evidence, split_sentences
from assistant.config import Settings
from assistant.embeddings import count_tokens
from assistant.ingest import Ingester
from assistant.lexical import named_paragraphs, tokenize
from assistant.loaders import load_file
from assistant.models import LoadedDocument, Page, Passage
from tests.pdfs import make_pdf

PARAGRAPHS = {
    "2.3": "The committee heard from ports, airlines and regional councils across the country.",
    "2.4": "Witnesses told us that the licensing of new spaceports takes far too long.",
    "2.5": "Investors warned that delay would move launches to other countries.",
}


def report(path: Path) -> Path:
    """Two pages of front matter (i, ii), then the body numbered from 1, with paragraphs."""
    make_pdf(
        path,
        [
            [("h", "Summary"), ("p", "This report looks at the space economy.")],
            [("h", "Contents"), ("p", "Chapter 2: Licensing")],
            [("h", "Chapter 2: Licensing"), *[("p", f"{n} {t}") for n, t in PARAGRAPHS.items()]],
            [("h", "Chapter 3: Skills"), ("p", "3.1 The sector needs more engineers.")],
        ],
        title="Space report",
    )
    writer = PdfWriter(clone_from=str(path))
    writer.set_page_label(0, 1, style="/r")
    writer.set_page_label(2, 3, style="/D", start=1)
    with path.open("wb") as handle:
        writer.write(handle)
    assert PdfReader(path).page_labels == ["i", "ii", "1", "2"]
    return path


def test_printed_page_labels_and_paragraph_numbers_reach_the_chunks(tmp_path):
    document = load_file(report(tmp_path / "report.pdf"), 10**7)
    assert document.page_labels == ("i", "ii", "1", "2")
    chunks = chunk_document(document, count_tokens, 200)
    licensing = next(c for c in chunks if "spaceports" in c.text)
    assert licensing.labels == ("1", "1") and licensing.page_start == 3
    numbers = [n for *_, n in licensing.paragraphs]
    assert numbers == ["2.3", "2.4", "2.5"]
    start, end, _ = licensing.paragraphs[1]
    assert licensing.text[start:end].startswith("2.4 Witnesses told us")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder) -> Assistant:
    folder = tmp_path_factory.mktemp("official")
    report(folder / "report.pdf")
    settings = Settings(index_dir=folder / "index", progress=False)
    assert Ingester(settings, embedder=embedder).ingest([folder]).ok
    return Assistant(settings)


def test_a_citation_gives_the_printed_page_and_the_paragraph(assistant):
    answer = assistant.ask("What did witnesses say about how long spaceport licensing takes?")
    assert not answer.refused and "far too long" in answer.answer
    citation = next(c for c in answer.citations if "far too long" in c.quote)
    assert citation.where == "p. 1, para 2.4" and citation.page_start == 3


def test_a_question_can_name_the_paragraph(assistant):
    answer = assistant.ask("What does paragraph 2.5 say?")
    assert not answer.refused and "Investors warned" in answer.answer
    assert answer.citations[0].paragraph == "2.5"
    assert "Witnesses told us" not in answer.answer  # its neighbours are not quoted with it
    assert any("names paragraph 2.5" in note for note in answer.notes)


def test_a_paragraph_the_documents_do_not_have_is_not_invented(assistant):
    answer = assistant.ask("What does paragraph 9.7 say?")
    assert answer.refused and not answer.citations


def read_lines(pages: list[str], labels: tuple[str, ...] = ()) -> LoadedDocument:
    """A PDF's pages as the loader gives them, one visual line a line."""
    return LoadedDocument(
        doc_id="d" * 16,
        content_hash="0" * 64,
        source="report.pdf",
        title="Report",
        format="pdf",
        layout="lines",
        pages=tuple(Page(i + 1, text) for i, text in enumerate(pages)),
        page_labels=labels,
    )


def test_a_numbered_list_inside_a_paragraph_is_not_taken_for_paragraphs():
    pages = [
        "24. The committee heard from the ports.\n"
        "25. Three problems were put to us:\n"
        "1. Dredging costs have doubled.\n2. Berths are too short.\n3. Staff are hard to find.",
        "26. We recommend a review of harbour dues.\n27. The review should report within a year.",
    ]
    chunks = chunk_document(read_lines(pages), count_tokens, 200)
    spans = [(c.text[a:b], n) for c in chunks for a, b, n in c.paragraphs]
    assert [n for _, n in spans] == ["24", "25", "25", "25", "25", "26", "27"]
    assert [t for t, n in spans if n == "25"][-1].startswith("3. Staff")


def test_paragraphs_keep_their_own_numbers_where_the_run_leaps_and_notes_stand_between():
    """4.20 to 4.22 not read as paragraphs of their own: 4.23 and 4.24 are still 4.23 and 4.24,
    not more of 4.19, though a run could leap from 4.19 to 5.1 over them; the notes' bare
    numbers between them number no paragraph."""
    pages = [
        "4.17. The committee heard from the ports.\n4.18. Councils gave evidence on dues.\n"
        "4.19. Ferry crews spoke about their pay.\n70 Written evidence from the ports.\n"
        "71 Q 12.",
        "4.23. Government scientists have a role in the review of harbour dues.\n"
        "4.24. We recommend that the review report within a year.\n72 Q 14.\n73 Ibid.",
        "5.1. The next chapter turns to the islands and their berths.\n"
        "5.2. Berths on the islands are too short.\n5.3. Staff are hard to find.",
    ]
    chunks = chunk_document(read_lines(pages), count_tokens, 60)
    spans = {c.text[a:b]: n for c in chunks for a, b, n in c.paragraphs}
    assert spans["4.23. Government scientists have a role in the review of harbour dues."] == (
        "4.23"
    )
    assert spans["4.24. We recommend that the review report within a year."] == "4.24"
    assert not any(n in {"70", "71", "72", "73"} for n in spans.values())
    assert spans["5.1. The next chapter turns to the islands and their berths."] == "5.1"


def test_whole_numbers_and_their_parts_number_paragraphs_in_turn_but_not_a_reference():
    """ "1.", "1.1", "1.2", then "2.": the second chapter's opening paragraph is 2, not more of
    1.2; a paragraph's reference to another ("as set out at para. 2.2.") starts none; and a
    chart's scale, its figures alone on their lines, numbers nothing."""
    pages = [
        "1. The committee was appointed to look at harbour dues.\n"
        "1.1 It took evidence from ports and councils.\n"
        "1.2 It visited three islands in the spring.\n"
        "2. The committee's findings are set out in this chapter.\n"
        "2.1 Dredging costs have doubled, as set out at para. 2.2. The councils agree.\n"
        "2.2 Dues have not risen for ten years.\n"
        "Figure 1: dues per tonne\n2.5\n2.75\n3.0\n"
        "3.1 The next chapter turns to the islands.",
    ]
    chunks = chunk_document(read_lines(pages), count_tokens, 200)
    [chunk] = chunks

    def cited(words: str) -> str:
        at = chunk.text.find(words)
        return next((n for a, b, n in chunk.paragraphs if a <= at < b), "")

    assert cited("The committee's findings") == "2"
    assert cited("The councils agree") == "2.1"
    assert cited("Dues have not risen") == "2.2"
    assert not {"2.5", "2.75", "3.0"} & {n for *_, n in chunk.paragraphs}
    assert cited("The next chapter") == "3.1"


def test_notes_in_order_at_the_pages_feet_number_no_paragraphs():
    """A briefing with no numbered paragraphs: its notes' numbers run in order down the pages
    (10, 11, 12 ...), but a bare number with no stop opens a note, and the text after a note
    is no paragraph of its number."""
    said = [
        ("Patients described how they learned of their infection.", "Hearing transcript, day 4."),
        ("Clinicians explained the treatments of the 1970s.", "Written statement of Dr Rees."),
        ("The government set up a compensation scheme in 2024.", "HC Deb 14 May 2024 c381."),
        ("Support schemes in each nation paid interim sums.", "Cabinet Office, Interim report."),
        (
            "Campaigners asked for a statutory duty of candour.",
            "The Haemophilia Society, Statement.",
        ),
        (
            "The authority began making payments by the end of 2024.",
            "Compensation Authority, Update.",
        ),
    ]
    pages = [f"{text}\n{n} {note}" for n, (text, note) in enumerate(said, start=10)]
    chunks = chunk_document(read_lines(pages), count_tokens, 200)
    assert not [n for c in chunks for *_, n in c.paragraphs if n]


def test_a_paragraph_numbered_on_a_line_of_its_own_or_inside_the_one_before_has_its_number():
    """A report's paragraph numbers as a PDF may give them: "2.9." alone on its line, its
    text in the next block; and "4.21." run on after the call that ends paragraph 4.20, with
    no line ended between them."""
    pages = [
        "2.7. The committee heard from the ports.\n2.8. Councils gave evidence on dues.\n2.9.",
        "In our view the dues have not kept pace with the costs of dredging.\n"
        "2.10. The ports told us that berths were too short for the new ferries.79 "
        "2.11. Professor Marteau was critical of the harbour boards.\n"
        "2.12. We recommend a review of harbour dues.",
    ]
    document = read_lines(pages)
    chunks = chunk_document(document, count_tokens, 200)
    [chunk] = [c for c in chunks if "Marteau" in c.text]
    by_sentence = {
        s: chunk.paragraphs
        and next(n for a, b, n in chunk.paragraphs if a <= chunk.text.find(s) < b)
        for s in (
            "In our view the dues have not kept pace",
            "the new ferries",
            "Professor Marteau was critical",
            "We recommend a review",
        )
    }
    assert by_sentence == {
        "In our view the dues have not kept pace": "2.9",
        "the new ferries": "2.10",
        "Professor Marteau was critical": "2.11",
        "We recommend a review": "2.12",
    }


def test_a_numbered_paragraph_runs_over_a_page_and_no_further():
    pages = [
        "Our aims are these:\n1. Opportunity for all.\n2. Safe workplaces.\n"
        "3. A strong safety net for workers who lose their jobs.",
        "Each aim carries on here, on the next page, with more of what it means.",
        "The plan then describes how the department will measure progress.",
        "Annual reports will say what was achieved against each measure.",
    ]
    chunks = chunk_document(read_lines(pages), count_tokens, 200)
    spans = {c.text[a:b]: n for c in chunks for a, b, n in c.paragraphs}
    assert spans["3. A strong safety net for workers who lose their jobs."] == "3"
    assert spans[pages[1]] == "3"  # a paragraph may run over a page
    # Pages on, under no new number, the text is no numbered paragraph's.
    assert pages[2] not in spans and pages[3] not in spans


def test_a_numbered_section_title_labels_nothing_under_it():
    """A plan's numbered objectives ("1.1. Training & Employment") are titles: the text under
    them is no paragraph of that number, and a paragraph before a title stops at it."""
    pages = [
        "4. The department set out its plan for the coming four years in the spring.\n"
        "1. Opportunity & Equity\n1.1. Training & Employment\n"
        "Prepare workers for good jobs by investing in training programmes for the young.",
        "1.2. Safety & Health Standards\n"
        "Secure safe workplaces through inspection and guidance for employers.\n"
        "2. Jobs, Protections & Workplaces\n2.1. Workplaces\n"
        "Protect workers' pay and rights through enforcement of the labour laws.",
    ]
    # The file's outline names its chapters only, so the titles are read as lines of text.
    document = replace(read_lines(pages), outline=((1, "Strategic goals"),))
    chunks = chunk_document(document, count_tokens, 200)
    spans = {c.text[a:b]: n for c in chunks for a, b, n in c.paragraphs}
    assert not any(n in {"1", "1.1", "1.2", "2", "2.1"} for n in spans.values())
    assert not any("Prepare workers" in t or "Protect workers" in t for t in spans)


def test_a_quote_is_cited_at_its_own_page_when_its_passage_runs_over_two():
    pages = [
        "31. Ports told us that dredging costs had doubled since the last review.",
        "32. Councils said that harbour dues had not risen for ten years.\n"
        "33. We recommend that dues rise with inflation.",
    ]
    [chunk] = chunk_document(read_lines(pages, ("17", "18")), count_tokens, 200)
    assert (chunk.page_start, chunk.page_end) == (1, 2)

    passage = Passage(
        n=1,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        title="Report",
        source="report.pdf",
        page_start=1,
        page_end=2,
        section="",
        text=chunk.text,
        score=1.0,
        labels=chunk.labels,
        paragraphs=chunk.paragraphs,
        page_spans=chunk.page_spans,
    )
    second = citation_of(passage, "harbour dues had not risen for ten years", True)
    assert (second.page_start, second.page_end, second.where) == (2, 2, "p. 18, para 32")
    first = citation_of(passage, "dredging costs had doubled", True)
    assert (first.page_start, first.where) == (1, "p. 17, para 31")


def test_a_footnote_call_after_a_stop_ends_the_sentence_and_is_not_part_of_a_word():
    text = "A ban was announced in January.\u2075\u00b3 This policy has been criticised since."
    first, second = split_sentences(text)
    assert first == "A ban was announced in January.\u2075\u00b3"
    assert is_evidence(first) and second.startswith("This policy")
    assert "january" in tokenize(first) and not any(t.isdigit() for t in tokenize(first))
    said = "The minister said it was \u201cthe right step.\u201d Officials (in 2011.) Agreed."
    assert split_sentences(said)[:2] == [
        "The minister said it was \u201cthe right step.\u201d",
        "Officials (in 2011.)",
    ]


def test_a_footnote_call_in_plain_digits_after_a_stop_ends_the_sentence():
    text = (
        "Witnesses welcomed the reforms across a range of areas.190 Professor Dame Sally "
        "Davies noted the health lens\u201d.191 Dr Frank Atherton agreed. In section 3.2 The "
        "rule holds. See fig.3 Below. It rose to 219.10 The end."
    )
    assert split_sentences(text) == [
        "Witnesses welcomed the reforms across a range of areas.190",
        "Professor Dame Sally Davies noted the health lens\u201d.191",
        "Dr Frank Atherton agreed.",
        "In section 3.2 The rule holds.",
        "See fig.3 Below.",
        "It rose to 219.10 The end.",
    ]


def test_a_call_after_a_years_stop_ends_the_sentence():
    """`by 2050.255 What`: a year, its stop and a call. A decimal of four figures before its
    point is written with a comma or a currency sign, and stays inside its sentence."""
    text = (
        "Obesity would cost society \u00a349.9 billion a year by 2050.255 What do we know? "
        "Smoking fell in 1995.343 A 2007 report agreed. The report was published on 20 May "
        "2024.14 It comprises seven volumes."
    )
    assert split_sentences(text) == [
        "Obesity would cost society \u00a349.9 billion a year by 2050.255",
        "What do we know?",
        "Smoking fell in 1995.343",
        "A 2007 report agreed.",
        "The report was published on 20 May 2024.14",
        "It comprises seven volumes.",
    ]
    for whole in (
        "It cost \u00a32019.50 The rest was paid later.",
        "It came to 12,2019.5 The rest was paid later.",
        "It came to 2019.5 tonnes in all.",
    ):
        assert split_sentences(whole) == [whole]


@pytest.mark.parametrize("gap", [" ", "\n"])
def test_a_call_before_the_next_paragraphs_number_ends_the_sentence(gap):
    """A committee report's paragraph may end on a call, the next open on its number: the
    sentence stops at the call, not at the number's stop ("... this kind of work.67 4.15.")."""
    text = (
        f"There is little capacity in academia for this kind of work.67{gap}4.15. We were, "
        f"nonetheless, given evidence of good practice.{gap}4.16. Funding was cut by 3.2 "
        "per cent in the year."
    )
    sentences = split_sentences(text)
    assert sentences[0] == "There is little capacity in academia for this kind of work.67"
    assert "We were, nonetheless, given evidence of good practice." in sentences
    assert not any(s.endswith(("4.15.", "4.16.")) and len(s) > 6 for s in sentences)
    # a decimal before a capital stays inside its sentence, a paragraph's number or not
    assert split_sentences("Costs rose by 2.5 In all areas. The end.")[0] == (
        "Costs rose by 2.5 In all areas."
    )


def test_a_call_set_a_space_after_the_stop_stays_with_its_sentence():
    """`inquiries. 125 However` is a call, where the next sentence opens on a word; a figure
    after a year's stop, a number opening a line (a note's, a paragraph's) and a number
    before a word in lower case open their own sentence."""
    text = "It welcomed a role for Parliament in public inquiries. 125 However, it said no more."
    assert split_sentences(text) == [
        "It welcomed a role for Parliament in public inquiries. 125",
        "However, it said no more.",
    ]
    for text, second in [
        ("The vote was held in 2019. 125 Members voted against it.", "125 Members voted"),
        ("The bill was agreed.\n12 The committee met again.", "12 The committee"),
        ("Many were counted. 12 departments met the target.", "12 departments"),
    ]:
        assert split_sentences(text)[1].startswith(second)


def test_a_question_can_name_a_footnote():
    assert named_paragraphs("What does footnote 53 say?") == ["para_note_53"]
    assert named_paragraphs("and note 7 of the report") == ["para_note_7"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("the discretionary budget, excluding the Office of the", "Inspector General, was $2m."),
        ("In April 2019,", "The agency ran a pulse survey of its leaders."),
    ],
)
def test_a_sentence_broken_where_no_sentence_ends_is_one_sentence(first, second):
    """A line that stops on a comma or on a word such as "the" runs on into the next, even
    where that one starts with a capital; a line that stops on a full stop does not."""
    assert split_sentences(f"{first}\n{second}") == [f"{first}\n{second}"]
    assert split_sentences(f"The budget was agreed.\n{second}") == [
        "The budget was agreed.",
        second,
    ]


def test_a_sentence_that_opens_on_its_own_figure_is_evidence():
    assert is_evidence("16 million forecasts were sent between December 2004 and December 2006.")
    assert is_evidence("12 departments met the target in the first year of the plan.")
    # A note's or an item's own number before a capital is still set aside to read the rest.
    assert is_evidence("2 The office took this to cover women born in the 1950s.")
    assert not is_evidence("3. the rest")


def test_a_labelled_table_row_is_evidence_however_many_columns_it_has():
    years = [f"{2009 + k}: {80 + k}%" for k in range(11)]
    assert is_evidence(" | ".join(["Response rate", *years]))
    assert is_evidence(" | ".join(["Response rate", *years[:3]]))
    assert is_evidence("Commissioner | Sophie Howe")


def test_a_row_of_figures_that_says_of_what_is_not_evidence():
    # A chart's axis, or a year split in two by its drawing: nothing a quote could say.
    assert not is_evidence("20 09 | 20 19")
    assert not is_evidence("1970 | 1980 | 1990 | 2000 | 2010")
    assert not is_evidence("$35.3 | $42.4 $45.5 | $59.4 $63.5")


def test_the_entries_of_a_contents_list_are_not_evidence():
    from assistant.citations import evidence_spans

    text = "\n".join(
        [
            "Contents",
            "Chapter 1: The harbour board and the ferry routes it keeps 7",
            "Scope of the inquiry into the winter sailings 1.4 9",
            "Chapter 2: Seminar on fares held at the island councils' offices 12",
            "Case Study 1: Cancelled sailings in storms 2.6 15",
            "The board said that 4 crossings a day would run in the winter of 2024.",
        ]
    )
    quoted = [text[a:b] for a, b in evidence_spans(text)]
    assert quoted == ["The board said that 4 crossings a day would run in the winter of 2024."]


def test_a_table_s_rows_of_figures_are_no_contents_list():
    from assistant.citations import evidence_spans

    rows = [
        "Completed interviews face to face 11 5 3",
        "Completed interviews by telephone 13 5 4",
        "Completed interviews in total 24 10 7",
        "Interviews held in each of the years 2019 2020 2021",
    ]
    text = "\n".join(rows)
    assert [text[a:b] for a, b in evidence_spans(text)] == rows


def test_a_contents_entry_led_by_dots_to_its_page_is_not_evidence():
    assert not is_evidence("Training & Employment ......................................... 4")
    assert not is_evidence("Benefits . . . . . . . . . . .7 Vetting . . . . . . . . . . .8")
    assert is_evidence("The board met... and it agreed the winter timetable for 2025.")


def test_a_note_at_the_page_s_foot_carries_no_paragraph_s_number():
    pages = [
        "25. The committee took evidence from the ports, the councils and the ferry crews.\n"
        "26. Ports told us that dredging costs had doubled since the last review of dues.\n"
        "27. Councils said that harbour dues had not risen for ten years.\n"
        "320 Written evidence from the Harbour Board (HB 12).\n321 Q 45.",
        "The councils added that berths had fallen on the islands' own budgets.\n"
        "28. We recommend a review of harbour dues.",
    ]
    chunks = chunk_document(read_lines(pages), count_tokens, 200)
    spans = {c.text[a:b]: n for c in chunks for a, b, n in c.paragraphs}
    assert spans[pages[1].split("\n")[0]] == "27"  # the paragraph runs on past its notes
    assert not any(t.startswith(("320 ", "321 ")) for t in spans)
