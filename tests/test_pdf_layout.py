"""Reading a PDF's pages in the order a person reads them: running heads and footers left
out, columns one after another, tables row by row with their headers. Each test builds its
own PDF with the layout it tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from assistant.chain import Assistant
from assistant.chunking import chunk_document
from assistant.config import Settings
from assistant.embeddings import count_tokens
from assistant.ingest import Ingester
from assistant.loaders import Bounds, load_file

WIDTH, HEIGHT = A4
LAYOUT = Bounds(layout=True)  # ASSISTANT_PDF_LAYOUT=true, the default
NOTES = Bounds(layout=True, footnotes=True)  # and ASSISTANT_PDF_FOOTNOTES=true

ISLANDS = ["Arran", "Islay", "Mull", "Barra", "Tiree"]
BODY = [
    "the regional transport partnership reviews the ferry timetable every spring.",
    "the board brings together the councils, the operators and the port authorities.",
    "passenger numbers fell during the pandemic and have since returned to their level.",
    "the partnership consults island communities before any change to sailings.",
]


def with_furniture(path: Path) -> Path:
    """Pages of prose under a running head (its page number on the outer side), with an
    address, a page count and a protective marking at the foot."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for number, island in enumerate(ISLANDS, start=1):
        pdf.setFont("Helvetica", 8)
        head = "ISLAND FERRIES REVIEW"
        pdf.drawString(
            72, HEIGHT - 40, f"{number} {head}" if number % 2 == 0 else f"{head} {number}"
        )
        pdf.setFont("Helvetica", 11)
        y = HEIGHT - 120
        for sentence in BODY:
            pdf.drawString(72, y, f"For {island}, {sentence}")
            y -= 16
        pdf.setFont("Helvetica", 8)
        address = "https://www.example.gov.uk/guidance/island-ferries"
        pdf.drawString(72, 30, f"{address}  {number}/{len(ISLANDS)}")
        pdf.drawString(400, 30, "OFFICIAL")
        pdf.showPage()
    pdf.save()
    return path


def test_running_heads_and_footers_stay_out_of_the_chunks(tmp_path):
    document = load_file(with_furniture(tmp_path / "ferries.pdf"), 10**7, LAYOUT)
    chunks = chunk_document(document, count_tokens, 200)
    text = "\n".join(c.text for c in chunks)
    assert "partnership reviews the ferry timetable" in text
    for furniture in ("ISLAND FERRIES REVIEW", "example.gov.uk", "OFFICIAL"):
        assert furniture not in text, furniture
    assert all(f"For {island}, the board brings" in text for island in ISLANDS)


LEFT = [
    "The first column opens the argument and",
    "carries it down the page in short lines",
    "until the reader reaches its closing words.",
]
RIGHT = [
    "The second column starts a new point that",
    "must not be read in between the lines of",
    "the first one, whatever order it was drawn.",
]


def two_columns(path: Path) -> Path:
    """Two columns of prose drawn across the page, a line of each column in turn: the order
    in which the text is drawn is not the order in which it is read."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(72, HEIGHT - 60, "Two columns")
    pdf.setFont("Helvetica", 10)
    y = HEIGHT - 100
    for _ in range(3):
        for left, right in zip(LEFT, RIGHT, strict=True):
            pdf.drawString(60, y, left)
            pdf.drawString(320, y, right)
            y -= 13
        y -= 8
    pdf.showPage()
    pdf.save()
    return path


def test_without_the_layout_setting_the_chunker_still_drops_repeated_heads(tmp_path):
    document = load_file(with_furniture(tmp_path / "ferries.pdf"), 10**7, Bounds(layout=False))
    assert not document.furniture_removed
    text = "\n".join(c.text for c in chunk_document(document, count_tokens, 200))
    assert "example.gov.uk" not in text and "For Tiree, the board brings" in text


def test_columns_are_read_one_after_the_other(tmp_path):
    document = load_file(two_columns(tmp_path / "columns.pdf"), 10**7, LAYOUT)
    text = " ".join(document.pages[0].text.split())
    left, right = " ".join(LEFT), " ".join(RIGHT)
    assert left in text and right in text
    assert text.rindex(left) < text.index(right), "the whole first column comes first"
    assert " | " not in text, "columns are not taken for a table"


SCORES = [
    ["Department", "Engagement index 2018", "Engagement index 2019"],
    ["HM Revenue and Customs", "59%", "63%"],
    ["Department for Transport", "61%", "62%"],
    ["Cabinet Office", "57%", "60%"],
]


def ruled_table(path: Path) -> Path:
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    style = getSampleStyleSheet()["BodyText"]
    table = Table(SCORES, colWidths=[180, 130, 130])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    SimpleDocTemplate(str(path), pagesize=A4).build(
        [Paragraph("Engagement scores by department, from the people survey.", style), table]
    )
    return path


def test_a_table_row_is_kept_with_its_column_headers(tmp_path):
    document = load_file(ruled_table(tmp_path / "scores.pdf"), 10**7, LAYOUT)
    lines = document.pages[0].text.splitlines()
    assert (
        "Department: HM Revenue and Customs | Engagement index 2018: 59% | "
        "Engagement index 2019: 63%"
    ) in lines
    assert lines[0].startswith("Engagement scores by department")
    chunks = chunk_document(document, count_tokens, 200)
    rows = [x for c in chunks for x in c.text.splitlines() if x.startswith("Department: ")]
    assert len(rows) == 3, "each row stays whole, a unit of evidence"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("layout")
    ruled_table(folder / "scores.pdf")
    with_furniture(folder / "ferries.pdf")
    settings = Settings(index_dir=folder / "index", progress=False)  # the default reading
    assert settings.pdf_layout
    assert Ingester(settings, embedder=embedder).ingest([folder]).ok
    return Assistant(settings)


def test_an_answer_from_a_table_quotes_the_row_with_its_headers(assistant):
    answer = assistant.ask("What was the engagement index of HM Revenue and Customs in 2019?")
    assert "63%" in answer.answer
    quoted = " ".join(c.quote for c in answer.citations)
    assert "Department: HM Revenue and Customs" in quoted and "Engagement index 2019: 63%" in quoted
    # One body, not two sides ("HM Revenue" and "Customs"), and the row read as cells after
    # their headers, not "Department: ...: ...".
    assert answer.answer.startswith("Department: HM Revenue and Customs; Engagement index 2018")
    assert "Engagement index 2019: 63% [1]." in answer.answer and "\n" not in answer.answer


def test_an_answer_never_quotes_the_furniture(assistant):
    answer = assistant.ask("How often does the transport partnership review the ferry timetable?")
    assert "every spring" in answer.answer
    assert "ISLAND FERRIES REVIEW" not in answer.answer and "example.gov.uk" not in answer.answer


def test_a_raised_footnote_call_stays_on_its_line(tmp_path):
    path = tmp_path / "called.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    text = "The committee took evidence from twelve harbour authorities,"
    pdf.drawString(72, 700, text)
    width = pdf.stringWidth(text, "Helvetica", 11)
    pdf.setFont("Helvetica", 7)
    pdf.drawString(72 + width + 1, 704, "1")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72 + width + 6, 700, " most of them small.")
    pdf.showPage()
    pdf.save()
    line = load_file(path, 10**7, LAYOUT).pages[0].text.splitlines()[0]
    assert line == f"{text}1 most of them small."
    line = load_file(path, 10**7, NOTES).pages[0].text.splitlines()[0]
    assert line == f"{text}\u00b9 most of them small."


def justified(path: Path, spacing: float) -> Path:
    """A justified line as typesetters draw it: word spacing widens each space, and the pen is
    moved to go on mid-word ("depar" then "tmental"), and again mid-word after a capital."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    line = pdf.beginText()
    line.setTextOrigin(72, 700)
    line.setFont("Helvetica", 11)
    line.setWordSpace(spacing)
    x = 0.0
    for piece in ("We ask that the depar", "tmental C", "hief Scientific Adviser reports."):
        line.textOut(piece)
        x += pdf.stringWidth(piece, "Helvetica", 11) + spacing * piece.count(" ")
        line.moveCursor(x, 0)  # from the line's start, as Td moves
        x = 0.0  # moveCursor set a new line start
    pdf.drawText(line)
    pdf.showPage()
    pdf.save()
    return path


@pytest.mark.parametrize("bounds", [LAYOUT, Bounds(layout=False)], ids=["closely", "plain"])
def test_a_justified_line_is_read_without_spaces_it_does_not_have(tmp_path, bounds):
    path = justified(tmp_path / "justified.pdf", spacing=4.0)
    text = load_file(path, 10**7, bounds).pages[0].text
    assert "We ask that the departmental Chief Scientific Adviser reports." in text


def test_the_plain_pypdf_reading_beside_ours_is_left_as_it_was(tmp_path):
    """The mend holds only within the assistant's reading: the plain pipeline it is measured
    against reads the same file as pypdf alone does, with the false spaces."""
    from pypdf import PdfReader

    path = justified(tmp_path / "justified.pdf", spacing=4.0)
    load_file(path, 10**7, LAYOUT)
    assert "depar tmental" in PdfReader(path).pages[0].extract_text()


def test_a_table_that_lost_a_figure_leaves_the_rows_as_drawn():
    """pdfplumber can find a table where dotted leaders and columns mislead it, and drop a
    cell: then the rows pypdf read stay, figures and all."""
    from assistant.pdf_layout import Line, PageLines, place_table

    def page() -> PageLines:
        drawn = ["Sensor test ....... 40 hours | $3,400 | $248,200", "Wiring change | $6,715"]
        return PageLines([Line(t, 72, 700 - 14 * k, 9) for k, t in enumerate(drawn)], 0, 842)

    box = (60, 670, 500, 720)
    lossy = page()
    place_table(lossy, box, ("Action: Sensor test 40 hours | Cost: $3,400", "Action: Wiring"))
    assert [x.text for x in lossy.lines] == [x.text for x in page().lines]
    whole = page()
    rows = ("Action: Sensor test 40 hours | Cost: $3,400 | Operators: $248,200",)
    place_table(whole, box, rows + ("Action: Wiring change | Cost: $6,715",))
    assert [x.text for x in whole.lines][0] == rows[0]


def test_a_table_row_at_the_top_of_every_page_is_not_a_running_head(tmp_path):
    """A row whose label repeats at the top of each page with other figures (one department a
    page) is evidence; the running head and the page numbers are furniture."""
    path = tmp_path / "scores.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for number, island in enumerate(ISLANDS, start=1):
        pdf.setFont("Helvetica", 8)
        pdf.drawString(72, HEIGHT - 30, "ISLAND FERRIES REVIEW")
        pdf.setFont("Helvetica", 11)
        pdf.drawString(72, HEIGHT - 60, f"Sailings on time {60 + number}% {70 + 2 * number}%")
        y = HEIGHT - 120
        for sentence in BODY:
            pdf.drawString(72, y, f"For {island}, {sentence}")
            y -= 16
        pdf.drawString(300, 30, str(number))
        pdf.showPage()
    pdf.save()
    pages = [p.text for p in load_file(path, 10**7, LAYOUT).pages]
    for number, text in enumerate(pages, start=1):
        assert f"Sailings on time {60 + number}% {70 + 2 * number}%" in text
        assert "ISLAND FERRIES REVIEW" not in text
        assert str(number) not in text.split()


HARBOUR = [
    "The committee found that most harbour authorities publish their accounts late,",
    "and that the smallest of them rarely hold the reserves they need. Boards asked",
    "for clearer guidance on the reserves a small harbour should hold in future.",
]


def with_footnotes(path: Path, out_of_order: bool = False) -> Path:
    """A paragraph that runs over a page break, with a footnote at the foot of the first page
    (a call raised above its line) and one called in the text's own type (`evidence. 2 The`).
    With `out_of_order`, the note's wrapped line is drawn before its first line."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    y = HEIGHT - 100
    lines = [
        "2.1 The review heard from forty harbour boards over two years.",
        "2.2 The boards sent written evidence. 2 The smallest asked for help.",
        *HARBOUR[:2],
    ]
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 16
    width = pdf.stringWidth(HARBOUR[1], "Helvetica", 11)
    pdf.setFont("Helvetica", 7)
    pdf.drawString(72 + width + 1, y + 20, "1")
    notes = [
        (72, 80, "1 Written evidence from the Harbour Masters Group (HMG 04), which the committee"),
        (82, 70, "published with its other evidence."),
        (72, 58, "2 Oral evidence, 3 May, Q 12."),
    ]
    pdf.setFont("Helvetica", 8)
    for x, y, text in [notes[1], notes[0], notes[2]] if out_of_order else notes:
        pdf.drawString(x, y, text)
    pdf.showPage()
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, HEIGHT - 100, HARBOUR[2])
    pdf.drawString(72, HEIGHT - 132, "2.3 The review will report again next year on the reserves.")
    pdf.showPage()
    pdf.save()
    return path


@pytest.mark.parametrize("out_of_order", [False, True])
def test_footnotes_are_set_apart_from_the_paragraph_they_interrupt(tmp_path, out_of_order):
    path = with_footnotes(tmp_path / "harbours.pdf", out_of_order)
    assert load_file(path, 10**7, LAYOUT).pages[0].notes == ()  # the default: left as drawn
    document = load_file(path, 10**7, NOTES)
    first = document.pages[0]
    assert "Harbour Masters" not in first.text and "Oral evidence" not in first.text
    assert first.notes == (
        (
            "1",
            "Written evidence from the Harbour Masters Group (HMG 04), which the committee "
            "published with its other evidence.",
        ),
        ("2", "Oral evidence, 3 May, Q 12."),
    )
    # Both calls are written in superscript: the raised one and the one in the text's type.
    assert "reserves they need. Boards asked\u00b9" in first.text.replace("\n", " ")
    assert "written evidence.\u00b2 The smallest asked for help." in first.text
    # The paragraph reads on over the page break; its notes follow it, each on its own line
    # opening on its call, cited by its number; the next paragraph keeps its own number.
    (chunk,) = chunk_document(document, count_tokens, 200)
    paragraph = " ".join(HARBOUR).replace("Boards asked", "Boards asked\u00b9")
    assert f"{paragraph}\n\u00b9 Written evidence from the Harbour Masters" in chunk.text
    assert "\n\u00b2 Oral evidence, 3 May, Q 12.\n2.3 The review will" in chunk.text
    numbers = [number for *_, number in chunk.paragraphs]
    assert numbers == ["2.1", "2.2", "note 1", "note 2", "2.3"]
    assert chunk.page_start == 1 and chunk.page_end == 2


def test_small_numbered_lines_that_nothing_calls_stay_in_the_text(tmp_path):
    """A list in small type at a page's foot is not footnotes unless the page calls them."""
    path = tmp_path / "list.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, HEIGHT - 100, "The board met four times this year and agreed two steps.")
    pdf.setFont("Helvetica", 8)
    pdf.drawString(72, 80, "1 Publish the accounts by the end of June.")
    pdf.drawString(72, 68, "2 Hold a reserve of three months' spending.")
    pdf.showPage()
    pdf.save()
    page = load_file(path, 10**7, NOTES).pages[0]
    assert page.notes == ()
    assert "Publish the accounts" in page.text and "Hold a reserve" in page.text


def test_calls_glued_to_a_word_are_found_whatever_follows_them(tmp_path):
    """Calls drawn with their text and glued to the word, bracket or percentage before them
    (`available1.`, `age group2 that`, `90%3.`), as a typesetter that sizes the call by the
    text matrix writes them; a figure glued to other figures ("aged 50-63") is not a call."""
    path = tmp_path / "glued.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    lines = [
        "Breakdowns by age and gender are not available1. The report concluded as much.",
        "Awareness among the 45-54 age group2 that the age was rising grew to 90%3.",
        "Women aged 50-63 read the letters less often than the rest.",
    ]
    for k, line in enumerate(lines):
        pdf.drawString(72, HEIGHT - 100 - 16 * k, line)
    pdf.setFont("Helvetica", 8)
    for k, note in enumerate(["Table 4 of the survey.", "The 2004 survey.", "The 2006 survey."]):
        pdf.drawString(72, 100 - 12 * k, f"{k + 1} {note}")
    pdf.showPage()
    pdf.save()
    page = load_file(path, 10**7, NOTES).pages[0]
    assert [number for number, _ in page.notes] == ["1", "2", "3"]
    assert "not available\u00b9. The report" in page.text
    assert "age group\u00b2 that" in page.text and "grew to 90%\u00b3." in page.text
    assert "aged 50-63 read" in page.text


@pytest.fixture(scope="module")
def noted(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("notes")
    with_footnotes(folder / "harbours.pdf")
    settings = Settings(index_dir=folder / "index", progress=False, pdf_footnotes=True)
    assert Ingester(settings, embedder=embedder).ingest([folder]).ok
    return Assistant(settings)


def test_a_footnote_is_cited_by_its_number_and_can_be_asked_for(noted):
    answer = noted.ask("What does footnote 1 say?")
    assert "Harbour Masters Group" in answer.answer
    assert any(c.where == "p. 1, note 1" for c in answer.citations)
    answer = noted.ask("What did boards ask for guidance on?")
    assert "reserves a small harbour should hold" in answer.answer
    assert "Harbour Masters" not in " ".join(c.quote for c in answer.citations)


ADDRESS = "https://www.example.gov.uk/government/publications/island-ferries-review/"


def with_a_varying_foot(path: Path, foot, pages: int = 12) -> Path:
    """Pages of prose whose foot line `foot(number)` changes a little on later pages."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for number in range(1, pages + 1):
        pdf.setFont("Helvetica", 11)
        pdf.drawString(72, HEIGHT - 120, f"Page {number} of the review: {BODY[number % 4]}")
        pdf.setFont("Helvetica", 8)
        pdf.drawString(72, 30, foot(number))
        pdf.showPage()
    pdf.save()
    return path


@pytest.mark.parametrize(
    "foot",
    [
        # a browser cuts its printed address a character shorter once the count has two digits
        lambda n: f"{ADDRESS[: 60 - len(str(n))]}... {n}/12",
        # a running foot that drops a word on the appendix's pages
        lambda n: f"Island Ferries Plan {'FY ' if n < 10 else ''}2018 - 2024 {n}",
    ],
    ids=["cut address", "appendix foot"],
)
def test_a_foot_line_that_changes_a_little_on_later_pages_is_still_furniture(tmp_path, foot):
    document = load_file(with_a_varying_foot(tmp_path / "foot.pdf", foot), 10**7, LAYOUT)
    assert len(document.pages) == 12
    for page in document.pages:
        assert "example.gov.uk" not in page.text and "2018" not in page.text, page.number
        assert "of the review" in page.text


def test_a_line_like_a_running_foot_on_only_two_pages_stays(tmp_path):
    def foot(n):
        return f"Island Ferries Plan {'FY ' if n < 11 else ''}2018 - 2024 {n}"

    document = load_file(with_a_varying_foot(tmp_path / "foot.pdf", foot), 10**7, LAYOUT)
    kept = [page.number for page in document.pages if "2018" in page.text]
    assert kept == [11, 12]


def test_words_a_false_space_broke_are_mended_from_the_document_itself():
    from assistant.pdf_spacing import mend_broken_words

    pages = [
        "The space sector grew. Sp ace debris is a risk. W hilst we agree, space is costly.",
        "Our space strategy: whilst funding grows, and whilst the offi ce and the Office act.",
        "The rulemaking began; rule making is slow. The rulemaking ended. A cross-party group.",
        "Costs are as set out in the asset register, as before; each asset is valued across.",
        "It goes a cross the road, across the bridge to the office.",
    ]
    mended = mend_broken_words(pages)
    assert "Space debris" in mended[0] and "Whilst we agree" in mended[0]
    assert "the office and" in mended[1], "a broken word after a lower-case word is found"
    assert "rule making is slow" in mended[2], "two English words stay apart"
    assert "as set out" in mended[3] and "a cross the road" in mended[4]
    assert "A cross-party" in mended[2]
    assert mend_broken_words(mended) == mended


def test_a_pdf_word_drawn_in_two_pieces_is_read_whole(tmp_path):
    path = tmp_path / "space.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, HEIGHT - 100, "The space economy is growing, and space matters.")
    line = pdf.beginText(72, HEIGHT - 116)
    line.setFont("Helvetica", 11)
    line._code.append("[(Sp) -400 (ace debris is a risk.)] TJ")  # kerned apart, as fonts do
    pdf.drawText(line)
    pdf.showPage()
    pdf.save()
    text = load_file(path, 10**7, LAYOUT).pages[0].text
    assert "Space debris is a risk." in text


def test_a_line_drawn_a_word_at_a_time_keeps_every_word(tmp_path):
    """A browser's print draws each word, and each space, as its own text object; the small
    words that open the top line of most pages are part of that line, not a running head."""
    path = tmp_path / "transcript.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    said_on = [
        ("with the ferry board and the harbour trust.", "The board met five times."),
        ("the islands and their schools.", "Each school reported its roll."),
        ("with a new pier at the north end.", "The pier opened in the spring."),
        ("the fares, which rose in April.", "Fares for children stayed free."),
        ("with the council's roads team.", "Roads were resurfaced in June."),
        ("the timetable for the winter.", "Winter sailings fell to two a day."),
    ]
    for lines in said_on:
        for row, line in enumerate(lines):
            x, y = 72.0, HEIGHT - 60 - 16 * row
            for word in line.split():
                pdf.setFont("Helvetica", 11)
                pdf.drawString(x, y, word)
                x += pdf.stringWidth(word, "Helvetica", 11)
                pdf.drawString(x, y, " ")
                x += pdf.stringWidth(" ", "Helvetica", 11)
        pdf.showPage()
    pdf.save()
    document = load_file(path, 10**7, LAYOUT)
    for page, lines in zip(document.pages, said_on, strict=True):
        assert " ".join(page.text.split()) == " ".join(lines)


def test_cells_on_one_baseline_with_a_space_drawn_between_stay_apart(tmp_path):
    path = tmp_path / "figure.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, HEIGHT - 100, "Persuasion")
    pdf.drawString(297, HEIGHT - 100, " ")  # a space drawn just before the second cell
    pdf.drawString(300, HEIGHT - 100, "Provision of information")
    pdf.showPage()
    pdf.save()
    lines = [x.strip() for x in load_file(path, 10**7, LAYOUT).pages[0].text.splitlines()]
    assert "Persuasion Provision of information" not in lines
    assert "Persuasion" in " ".join(lines) and "Provision of information" in " ".join(lines)


def test_figures_each_placed_by_its_own_transformation_stay_apart(tmp_path):
    """A survey's table draws each figure of a row in a text object placed by a transformation
    of its own; pypdf sees no gap between them."""
    path = tmp_path / "scores.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(72, HEIGHT - 100, "Scores by year for the ferry board.")
    for k, figure in enumerate(["54%", "56%", "62%", "62%"]):
        # as the survey draws them: the same text matrix each time, the place in the `cm`
        where = f"0.24 0 0 0.24 {300 + 32 * k} {HEIGHT - 700} cm"
        pdf._code.append(
            f"q {where} BT 41.66667 0 0 41.66667 0 2387 Tm /F1 1 Tf ({figure}) Tj ET Q"
        )
    pdf.showPage()
    pdf.save()
    text = load_file(path, 10**7, LAYOUT).pages[0].text
    assert "54% 56% 62% 62%" in text


def _with_widths(path: Path) -> None:
    """Writes each font's glyph widths into the file (/FirstChar, /Widths), as most PDF
    makers do for every font; reportlab leaves them out for the standard fonts."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, FloatObject, NameObject, NumberObject
    from reportlab.pdfbase.pdfmetrics import stringWidth

    writer = PdfWriter(clone_from=PdfReader(str(path)))
    for page in writer.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            name = str(font["/BaseFont"])[1:]
            widths = [FloatObject(stringWidth(chr(c), name, 1000)) for c in range(32, 127)]
            font[NameObject("/FirstChar")] = NumberObject(32)
            font[NameObject("/LastChar")] = NumberObject(126)
            font[NameObject("/Widths")] = ArrayObject(widths)
    writer.write(str(path))


SURVEY_ROWS = [
    ("Response rate", ["86%", "83%", "93%", "91%"]),
    ("Pay and benefits", ["44%", "34%", "29%", "28%"]),
    ("Employee engagement index", ["62%", "57%", "56%", "60%"]),
]


def _survey_table(path: Path, header: list[str], rows: list[tuple[str, list[str]]]) -> None:
    """A table drawn as a survey's report draws it, with no rules: the title, a row of years,
    then each row's label and figures, every piece placed by a transformation of its own
    (the same text matrix each time) in 10-point type, the figures closer together than four
    fifths of an em a character, and the first a little beyond the label's end."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(72, HEIGHT - 100, "Scores by year for the ferry board")

    def place(text: str, x: float, y: float) -> None:
        where = f"0.24 0 0 0.24 {x:.2f} {y - 0.24 * 2387:.2f} cm"
        pdf._code.append(f"q {where} BT 41.66667 0 0 41.66667 0 2387 Tm /F1 1 Tf ({text}) Tj ET Q")

    columns = [260 + 26 * k for k in range(len(header))]
    for x, year in zip(columns, header, strict=True):
        place(year, x, HEIGHT - 140)
    for row, (label, figures) in enumerate(rows):
        y = HEIGHT - 160 - 16 * row
        place(label, 72, y)
        for x, figure in zip(columns, figures, strict=True):
            place(figure, x, y)
    pdf.showPage()
    pdf.save()
    _with_widths(path)


def test_a_table_under_a_row_of_years_reads_each_figure_with_its_year(tmp_path):
    """Years four digits wide placed 26 points apart in 10-point type, and a figure a little
    beyond its label's end, are apart by the font's own widths (by four fifths of an em a
    character they would touch); each row is then read with its years."""
    path = tmp_path / "survey.pdf"
    _survey_table(path, ["2009", "2010", "2011", "2012"], SURVEY_ROWS)
    lines = [x.strip() for x in load_file(path, 10**7, LAYOUT).pages[0].text.splitlines()]
    assert "Response rate | 2009: 86% | 2010: 83% | 2011: 93% | 2012: 91%" in lines
    assert "Pay and benefits | 2009: 44% | 2010: 34% | 2011: 29% | 2012: 28%" in lines
    assert "Employee engagement index | 2009: 62% | 2010: 57% | 2011: 56% | 2012: 60%" in lines
    assert "Scores by year for the ferry board" in lines


@pytest.mark.parametrize("years", [4, 11])
def test_a_table_under_years_is_evidence_row_by_row(tmp_path, years):
    """Asked for one year's figure, the answer quotes the row, which holds it with its year,
    however many years the table runs to."""
    folder = tmp_path / "docs"
    folder.mkdir()
    rows = [(label, (figures * 3)[:years]) for label, figures in SURVEY_ROWS]
    _survey_table(folder / "survey.pdf", [str(2009 + k) for k in range(years)], rows)
    settings = Settings(index_dir=tmp_path / "index")
    assert not Ingester(settings).ingest([folder]).failed
    answer = Assistant(settings).ask("What was the ferry board's response rate in 2011?")
    assert "2011: 93%" in answer.answer
