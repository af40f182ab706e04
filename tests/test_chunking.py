"""Pages to chunks: sections, page spans, sizes within the model's limit, clean text."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chunking import chunk_document
from assistant.embeddings import count_tokens
from assistant.loaders import load_file
from tests.pdfs import make_pdf

MB = 1024 * 1024

GOALS = (
    "Section 4 of the Act sets seven well-being goals: a prosperous Wales, a resilient Wales, "
    "a healthier Wales, a more equal Wales, a Wales of cohesive communities, a Wales of vibrant "
    "culture and thriving Welsh language, and a globally responsible Wales."
)
WAYS = (
    "The sustainable development principle has five ways of working: long-term, prevention, "
    "integration, collaboration and involvement."
)
FILLER = (
    "Public bodies report each year on the steps they take to meet their objectives, and the "
    "Auditor General examines how they apply the principle in what they do. "
)


def _report(tmp_path: Path, outline: bool = True) -> Path:
    return make_pdf(
        tmp_path / "act.pdf",
        [
            [("h", "Well-being Goals"), ("p", GOALS), ("p", FILLER * 3)],
            [
                ("h", "Ways of Working"),
                ("p", WAYS),
                ("li", "Long-term thinking"),
                ("li", "Prevention of problems"),
            ],
            [("h", "Reporting Duties"), ("p", FILLER * 12)],
        ],
        title="Well-being of Future Generations (Wales) Act 2015: a summary",
        outline=outline,
        footer="Summary of the Act",
    )


@pytest.mark.parametrize("outline", [True, False], ids=["with outline", "headings by heuristics"])
def test_chunks_carry_their_pages_and_sections(tmp_path: Path, outline: bool):
    chunks = chunk_document(load_file(_report(tmp_path, outline), MB), count_tokens, 200)
    goals = next(c for c in chunks if "seven well-being goals" in c.text)
    assert (goals.page_start, goals.page_end, goals.section) == (1, 1, "Well-being Goals")
    ways = next(c for c in chunks if "five ways of working" in c.text)
    assert (ways.page_start, ways.section) == (2, "Ways of Working")
    reporting = [c for c in chunks if c.section == "Reporting Duties"]
    assert len(reporting) >= 2 and all(c.page_start == 3 for c in reporting)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(c.text.strip() for c in chunks)


def test_chunks_fit_the_model_and_end_at_sentence_or_block_ends(tmp_path: Path):
    chunks = chunk_document(load_file(_report(tmp_path), MB), count_tokens, 120)
    sizes = count_tokens([c.text for c in chunks])
    assert max(sizes) <= 120
    for chunk in chunks:
        assert chunk.text.rstrip().endswith((".", ":", "g", "s")), chunk.text[-40:]


def test_headers_footers_and_page_numbers_are_dropped(tmp_path: Path):
    chunks = chunk_document(load_file(_report(tmp_path), MB), count_tokens, 200)
    text = "\n".join(c.text for c in chunks)
    assert "Page 2 of 3" not in text and "Summary of the Act" not in text


def test_list_items_stay_whole_units(tmp_path: Path):
    chunks = chunk_document(load_file(_report(tmp_path), MB), count_tokens, 200)
    lines = [line for c in chunks for line in c.text.splitlines()]
    assert "\u2022 Long-term thinking" in lines and "\u2022 Prevention of problems" in lines


def test_a_paragraph_running_over_a_page_break_is_one_block(tmp_path: Path):
    long = (
        "The commissioner reviews how public bodies safeguard the ability of future "
        "generations to meet their needs. It makes recommendations to them "
    ) * 30
    head, tail = (
        long[:3000].rsplit(" ", 1)[0],
        "which they must take all reasonable steps to follow.",
    )
    path = make_pdf(tmp_path / "run.pdf", [[("p", head)], [("p", tail)]])
    chunks = chunk_document(load_file(path, MB), count_tokens, 250)
    last = chunks[-1]
    assert last.page_start == 1 and last.page_end == 2
    assert "which they must take all reasonable steps" in last.text


def test_words_hyphenated_at_a_line_end_are_mended(tmp_path: Path):
    from assistant.models import LoadedDocument, Page

    text = (
        "This long line of the report wraps at the right margin of the page in the govern-\n"
        "ment's own words about well-\nbeing, which the report spells well-being elsewhere."
    )
    doc = LoadedDocument("d" * 16, "d" * 64, "x.pdf", "X", "pdf", "lines", (Page(1, text),))
    chunk = chunk_document(doc, count_tokens, 200)[0]
    assert "government's" in chunk.text and "well-being, which" in chunk.text


def test_markdown_tables_and_headings(tmp_path: Path):
    md = tmp_path / "npf.md"
    md.write_text(
        "# Scotland's framework\n\n## Revisions\n\n| Year | Outcomes |\n|---|---|\n"
        "| 2007 | 15 |\n| 2018 | 11 |\n\nThe **2018** revision set 11 outcomes.\n"
    )
    chunks = chunk_document(load_file(md, MB), count_tokens, 200)
    assert chunks[0].section == "Revisions"
    lines = chunks[0].text.splitlines()
    # The rule under the first row marks it as the header: each row carries its column names.
    assert "Year: 2018 | Outcomes: 11" in lines and "The 2018 revision set 11 outcomes." in lines
    assert not any(set(line) <= set("|-: ") for line in lines)
    assert "Year | Outcomes" not in lines  # the header is in every row, not a row of its own


def test_a_markdown_table_without_a_header_rule_keeps_its_cells(tmp_path: Path):
    md = tmp_path / "plain-table.md"
    md.write_text("# Dates\n\n| Royal Assent | 29 April 2015 |\n| In force | 1 April 2016 |\n")
    lines = chunk_document(load_file(md, MB), count_tokens, 200)[0].text.splitlines()
    assert "Royal Assent | 29 April 2015" in lines and "In force | 1 April 2016" in lines


@pytest.mark.parametrize(
    "title",
    [
        ["Department for", "International", "Development"],  # the first line ends on "for"
        ["Department of Health", "and Social Care"],  # the next line starts in lower case
        ["Ministry of Ferries,", "Harbours & Island", "Transport"],  # a name listed with commas
    ],
)
def test_a_title_wrapped_over_short_lines_without_an_outline_is_one_heading(title):
    """A page's title set in large type over two or three short lines, in a file with no
    outline, heads the page's text whole, not its last line alone."""
    from assistant.models import LoadedDocument, Page

    body = (
        "The department reported a response rate of 86 percent in 2019, the highest since "
        "the survey began, and its engagement index rose by three points over the year."
    )
    before = "Scores by department follow, one department a page, with the response rate."
    pages = (Page(1, before), Page(2, "\n".join([*title, body])))
    doc = LoadedDocument("e" * 16, "e" * 64, "x.pdf", "X", "pdf", "lines", pages)
    chunk = next(c for c in chunk_document(doc, count_tokens, 200) if "86 percent" in c.text)
    assert chunk.section == " ".join(title)
    assert chunk.text == body


def test_a_narrow_column_of_text_is_not_read_as_a_wrapped_title():
    from assistant.models import LoadedDocument, Page

    column = [
        "sailings are cancelled in a storm.",
        "The Harbour and Ferries Board",
        "publishes Notices to Island Councils",
        "Ahead of the Winter and the annual",
        "report contains the sailing figures",
        "for each route and each month.",
    ]
    wide = (
        "The board said that the timetable for the coming winter would follow in September, "
        "and that each island council would be told."
    )
    text = "\n".join([wide, wide, *column])  # the page's full width, then a narrow column
    doc = LoadedDocument("e" * 16, "e" * 64, "x.pdf", "X", "pdf", "lines", (Page(1, text),))
    (chunk,) = chunk_document(doc, count_tokens, 200)
    assert "The Harbour and Ferries Board publishes Notices" in chunk.text.replace("\n", " ")


def test_a_wrapped_title_leaves_a_heading_the_document_sets_alone_elsewhere():
    """ "Overview" heads a page of its own elsewhere: it is not the title's third line."""
    from assistant.models import LoadedDocument, Page

    body = (
        "The department reported a response rate of 86 percent in 2019, the highest since "
        "the survey began, and its engagement index rose by three points over the year."
    )
    pages = (
        Page(1, f"Overview\n{body}"),
        Page(2, "\n".join(["Department for", "Transport", "Overview", body.replace("86", "84")])),
    )
    doc = LoadedDocument("e" * 16, "e" * 64, "x.pdf", "X", "pdf", "lines", pages)
    chunk = next(c for c in chunk_document(doc, count_tokens, 200) if "84 percent" in c.text)
    assert chunk.section == "Overview"


def test_a_wrapped_title_does_not_take_in_a_numbered_heading():
    from assistant.models import LoadedDocument, Page

    body = " ".join(
        f"The committee took evidence from {n} witnesses and visited a launch site in Scotland."
        for n in ("forty", "six", "ten", "twelve", "nine")
    )
    summary = body.replace("committee", "inquiry").replace("witnesses", "experts")
    text = f"{summary}\nIsland Ferries: Act Now or\nChapter 1: Introduction\n{body}"
    doc = LoadedDocument("e" * 16, "e" * 64, "x.pdf", "X", "pdf", "lines", (Page(1, text),))
    chunk = next(c for c in chunk_document(doc, count_tokens, 200) if "forty witn" in c.text)
    assert chunk.section == "Chapter 1: Introduction"


def test_a_long_outline_heading_wrapped_over_lines_is_one_heading(tmp_path: Path):
    from assistant.models import LoadedDocument, Page

    text = (
        "Contents\nThe sustainable development principle and the\nfive ways of working\n"
        "Every body must take account of the five ways of working."
    )
    doc = LoadedDocument(
        "e" * 16,
        "e" * 64,
        "x.pdf",
        "X",
        "pdf",
        "lines",
        (Page(1, text),),
        outline=((1, "The sustainable development principle and the five ways of working"),),
    )
    chunk = chunk_document(doc, count_tokens, 200)[-1]
    assert chunk.section == "The sustainable development principle and the five ways of working"
    assert chunk.text == "Every body must take account of the five ways of working."


def test_a_short_line_that_stops_on_a_word_like_the_carries_its_sentence_on():
    """A column wraps early: "... excluding the Office of the" / "Inspector General, was ..."
    is one sentence of one paragraph, though the second line starts with a capital; a chunk
    that must end near it does not end between the two lines."""
    from assistant.citations import split_sentences
    from assistant.models import LoadedDocument, Page

    wide = (
        "The agency had five thousand staff in the year, and its gross budget, with its "
        "revolving funds, came to more than two billion dollars."
    )
    lines = [
        *[wide] * 4,
        "Its discretionary budget, excluding the Office of the",
        "Inspector General, was $265,655,000.",
    ]
    page = Page(1, "\n".join(lines))
    doc = LoadedDocument("e" * 16, "e" * 64, "x.pdf", "X", "pdf", "lines", (page,))
    (tokens,) = count_tokens(["\n".join(lines[:5])])
    chunks = chunk_document(doc, count_tokens, tokens + 2)
    assert any("Inspector" in c.text and "Office" in c.text for c in chunks)
    for chunk in chunks:
        for sentence in split_sentences(chunk.text):
            assert "Office of the" not in sentence or sentence.endswith("$265,655,000.")


def test_a_number_that_carries_a_sentence_over_a_line_is_not_a_list_item():
    from assistant.models import LoadedDocument, Page

    text = "\n".join(
        [
            "The scheme paid a weekly allowance to carers of working age, that is those aged 20 to",
            "64. Carers over that age were paid from the pension budget instead, the report says.",
            "1. Health",
            "2. Education",
        ]
    )
    doc = LoadedDocument("f" * 16, "f" * 64, "x.pdf", "X", "pdf", "lines", (Page(1, text),))
    lines = "\n".join(c.text for c in chunk_document(doc, count_tokens, 200)).splitlines()
    assert any("aged 20 to 64. Carers over" in line for line in lines)
    # A numbered list still has an item a line.
    assert "1. Health" in lines and "2. Education" in lines


def test_a_chunk_repeated_word_for_word_in_a_document_is_kept_once(tmp_path: Path):
    notes = "Each chart shows trend lines for the main departments; bold lines mark this one."
    md = tmp_path / "survey.md"
    md.write_text(
        "".join(
            f"## Department {n}\n\nDepartment {n} had a response rate of {60 + n} percent.\n\n"
            f"## Chart notes\n\n{notes}\n\n"
            for n in range(1, 5)
        )
    )
    chunks = chunk_document(load_file(md, MB), count_tokens, 200)
    texts = [c.text for c in chunks]
    assert sum(notes in t for t in texts) == 1
    assert all(any(f"rate of {60 + n} percent" in t for t in texts) for n in range(1, 5))
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def _plain(text: str, layout: str = "paragraphs"):
    from assistant.models import LoadedDocument, Page

    return LoadedDocument("g" * 16, "g" * 64, "x.txt", "X", "txt", layout, (Page(1, text),))


@pytest.mark.parametrize("limit", [100, 200])
def test_no_chunk_is_over_its_size_however_long_its_words(limit):
    welsh = "the board met and it said that " * 20 + "Llanfairpwllgwyngyllgogerychwyrndrobwll " * 15
    chunks = chunk_document(_plain(welsh.strip()), count_tokens, limit)
    assert max(count_tokens([c.text for c in chunks])) <= limit
    assert " ".join(c.text for c in chunks).split() == welsh.split()
    # A word longer than a chunk (an address) is never cut: it is a piece of its own.
    address = "https://example.org/" + "/".join(f"x{i}y{i}z" for i in range(200))
    text = "the board met and it said that " * 20 + address + " was its page"
    chunks = chunk_document(_plain(text), count_tokens, limit)
    assert address in [c.text for c in chunks]
    over = [c.text for c in chunks if count_tokens([c.text])[0] > limit]
    assert over == [address]


def test_a_fragment_that_brings_its_heading_still_fits_the_chunk():
    from assistant.models import LoadedDocument, Page

    sentence = "The operator reported that the ferry sailed on time on most days in the winter"
    words = (sentence + " months of the year and ").split() * 20
    heading = "Ferry Services Winter Timetable Review Findings"
    for size in range(150, 200, 2):
        body = []
        while count_tokens([" ".join(body)])[0] < size:
            body.append(words[len(body)])
        lines = [""]
        for word in f"{' '.join(body)}.".split():  # wrapped as a page wraps it
            wrap = len(lines[-1]) + len(word) + 1 > 88
            lines[-1:] = [lines[-1], word] if wrap else [f"{lines[-1]} {word}".strip()]
        text = "\n".join(["Overview", "Short intro text here.", heading, *lines])
        doc = LoadedDocument("e" * 16, "e" * 64, "x.pdf", "X", "pdf", "lines", (Page(1, text),))
        chunks = chunk_document(doc, count_tokens, 200)
        assert max(count_tokens([c.text for c in chunks])) <= 200, size


def test_a_long_paragraph_is_not_cut_after_an_abbreviation():
    said = "The committee heard evidence from many witnesses over the course of the inquiry. "
    text = said * 3 + "The chair thanked Dr. Smith for her evidence on ferries. " + said * 3
    for limit in range(40, 80, 3):
        chunks = chunk_document(_plain(text.strip()), count_tokens, limit)
        assert not any(c.text.rstrip().endswith("Dr.") for c in chunks)


@pytest.mark.parametrize("layout", ["paragraphs", "lines"])
def test_a_line_opening_on_an_abbreviation_carries_its_sentence_on(layout):
    text = (
        "Every public body must publish its well-being objectives and steps, as required by\n"
        "s. 3 of the Act, and must report each year on the progress it has made towards them."
    )
    (chunk,) = chunk_document(_plain(text, layout), count_tokens, 200)
    assert "as required by s. 3 of the Act" in chunk.text


def test_a_wrapped_line_opening_on_a_figure_is_no_heading():
    lines = [
        "The board has agreed a new plan for the ferry services to the islands, after a review",
        "that took evidence from councils, operators and passengers over two winters and found",
        "that fares are high. It has set out what it will do first. Over the next",
        "12 months the board will write to Transport",
        "Scotland and to each island council about the timetable, the fares and the vessels.",
    ]
    (chunk,) = chunk_document(_plain("\n".join(lines), "lines"), count_tokens, 200)
    assert chunk.section == "" and "Over the next 12 months the board" in chunk.text


def test_headings_underlined_and_rules_in_markdown(tmp_path: Path):
    md = tmp_path / "review.md"
    md.write_text(
        "Ferry Review\n============\n\nThe board met in Oban.\n\n---\n\n"
        "Fares\n-----\n\nFares rose by 4% in 2023.\n\n* * *\n\nThe end of the report.\n"
    )
    chunks = chunk_document(load_file(md, MB), count_tokens, 200)
    assert [(c.section, c.text) for c in chunks] == [
        ("Ferry Review", "The board met in Oban."),
        ("Fares", "Fares rose by 4% in 2023.\nThe end of the report."),
    ]


def test_a_long_paragraph_is_cut_where_a_sentence_ends_on_its_footnote_s_call():
    said = "The committee heard evidence from many witnesses over the course of the inquiry"
    text = " ".join(f"{said} on day {k} of its hearings.{k + 180}" for k in range(12))
    for limit in (60, 90, 120):
        chunks = chunk_document(_plain(text), count_tokens, limit)
        assert len(chunks) > 1
        assert all(c.text.startswith(said) for c in chunks)


def _column_document(column: list[str]):
    """A document whose first page runs the full width and whose second is set in columns,
    so the second page's lines are far shorter than the document's widest."""
    from assistant.models import LoadedDocument, Page

    wide = (
        "The board said that the timetable for the coming winter would follow in September, "
        "and that each island council would be told of it."
    )
    pages = (Page(1, "\n".join([wide] * 12)), Page(2, "\n".join(column)))
    return LoadedDocument("e" * 16, "e" * 64, "x.pdf", "X", "pdf", "lines", pages)


_COLUMN = [
    "The harbour board keeps the timetables for all",
    "of the island routes and publishes them twice a",
    "year. The board insures the vessels of more than",
    "Eighteen Island Councils and their ferry crews,",
    "and it meets in the spring and in the autumn.",
    "Crossings and Sailings Overview",
    "The winter timetable was drawn up by President",
    "Margaret H. Lewis of the board in its meeting,",
    "and it runs from the first week of November to",
    "the last week of March in each of the years.",
]


def test_a_sentence_wrapped_in_a_column_before_a_name_is_one_sentence():
    from assistant.citations import split_sentences

    chunks = chunk_document(_column_document(_COLUMN), count_tokens, 200)
    sentences = [s.replace("\n", " ") for c in chunks for s in split_sentences(c.text)]
    assert (
        "The board insures the vessels of more than Eighteen Island Councils and their ferry "
        "crews, and it meets in the spring and in the autumn." in sentences
    )


def test_a_name_s_initial_at_a_line_s_end_carries_the_sentence_on():
    from assistant.citations import split_sentences

    column = [*_COLUMN]
    column[6:8] = [
        "The winter timetable was drawn up by Margaret H.",
        "Lewis of the board in its meeting,",
    ]
    chunks = chunk_document(_column_document(column), count_tokens, 200)
    sentences = [s.replace("\n", " ") for c in chunks for s in split_sentences(c.text)]
    assert any(
        s.startswith("The winter timetable was drawn up by Margaret H. Lewis") for s in sentences
    )


def test_a_title_cased_line_in_a_column_stays_a_heading_of_its_own():
    from assistant.citations import split_sentences

    chunks = chunk_document(_column_document(_COLUMN), count_tokens, 200)
    sentences = [s.replace("\n", " ") for c in chunks for s in split_sentences(c.text)]
    assert not any("Overview The winter" in s for s in sentences)
    assert any(
        s.startswith("The winter timetable was drawn up by President Margaret") for s in sentences
    )


def test_contents_entries_in_a_column_are_not_run_together():
    column = [
        "Chapter 1: The harbour board and its duties 12",
        "Chapter 2: The winter timetable and sailings 19",
        "Chapter 3: Fares for islanders and for visitors 27",
        "Chapter 4: The vessels, their crews and repair 35",
        "Chapter 5: Councils on each of the islands, 2024 41",
        "Chapter 6: What the board will do next, in brief 48",
        "Chapter 7: Evidence taken from the ferry crews 53",
        "Chapter 8: The board's reply to the councils, 61",
    ]
    chunks = chunk_document(_column_document(column), count_tokens, 200)
    text = "\n".join(c.text for c in chunks)
    assert "duties 12\nChapter 2" in text and "brief 48\nChapter 7" in text


def test_paragraphs_a_word_processor_bookmarked_are_text_not_headings(tmp_path: Path):
    """Every numbered paragraph is in the outline: those that are sentences are still read."""
    path = make_pdf(
        tmp_path / "framework.pdf",
        [
            [
                ("h", "5. Responsibilities"),
                ("h", "5.1 There are three parties essential to the ferry policy:"),
                ("h", "5.1.1 The harbour board as the employer."),
                ("h", "5.1.2 The duty master."),
                ("h", "5.1.3 The crew."),
                ("h", "What does the board do?"),
                ("p", FILLER * 2),
            ]
        ],
        title="Ferry policy framework",
    )
    chunks = chunk_document(load_file(path, MB), count_tokens, 200)
    text = "\n".join(c.text for c in chunks)
    for sentence in ["three parties essential", "harbour board as the employer.", "The crew."]:
        assert sentence in text
    assert {c.section for c in chunks} >= {"5. Responsibilities", "What does the board do?"}


def test_an_indented_list_item_wrapped_before_a_name_is_one_sentence():
    """The item's lines are far shorter than the page's, but as long as each other."""
    from assistant.models import LoadedDocument, Page

    wide = (
        "The board said that the timetable for the coming winter would follow in September, "
        "as ever."
    )
    item = [
        "• Provide funding for the ferry crews to the councils of the islands, the",
        "harbour board, the users' group, the pilots, the Northern",
        "Ireland Ferries Company, and the Island Hauliers' Society.",
    ]
    page = "\n".join([wide] * 10 + item + [wide])
    doc = LoadedDocument("e" * 16, "e" * 64, "x.pdf", "X", "pdf", "lines", (Page(1, page),))
    from assistant.citations import split_sentences

    chunks = chunk_document(doc, count_tokens, 200)
    sentences = [s.replace("\n", " ") for c in chunks for s in split_sentences(c.text)]
    assert any("the Northern Ireland Ferries Company, and the" in s for s in sentences)
