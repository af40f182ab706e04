"""Files to pages: each format, and each kind of bad input with its one clear reason."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from assistant.loaders import Bounds, LoadError, load_file, normalise_text
from tests.pdfs import make_pdf, make_scanned_pdf

MB = 1024 * 1024


def test_pdf_pages_are_numbered_from_one_with_metadata_title(tmp_path: Path):
    path = make_pdf(
        tmp_path / "a.pdf",
        [[("p", "Alpha text on the first page.")], [("p", "Beta text on the second page.")]],
        title="The Alpha Report",
    )
    doc = load_file(path, MB)
    assert doc.title == "The Alpha Report"
    assert [p.number for p in doc.pages] == [1, 2]
    assert "Beta text" in doc.pages[1].text and "Beta" not in doc.pages[0].text
    assert doc.layout == "lines" and len(doc.doc_id) == 16


def test_pdf_outline_gives_headings_with_their_pages(tmp_path: Path):
    path = make_pdf(
        tmp_path / "o.pdf",
        [
            [("h", "Introduction"), ("p", "Some words here.")],
            [("h", "Findings"), ("p", "More words here.")],
        ],
    )
    assert load_file(path, MB).outline == ((1, "Introduction"), (2, "Findings"))


def test_title_falls_back_to_first_heading_then_file_name(tmp_path: Path):
    md = tmp_path / "notes_on_wales.md"
    md.write_text("Intro line without heading.\n\nMore text that is long enough.\n")
    assert load_file(md, MB).title == "notes on wales"
    md.write_text("# Wales and its goals\n\nText of the note, long enough.\n")
    assert load_file(md, MB).title == "Wales and its goals"


@pytest.mark.parametrize(
    "meta",
    [
        "about:blank",
        "https://example.org/report",
        "file:///C:/x/y.html",
        "www.example.org",
        "example.org/a/b",
        "Untitled",
        " - ",
        "",
    ],
)
def test_a_pdf_titled_with_an_address_or_nothing_is_named_by_its_heading(tmp_path, meta):
    """A browser's "Save as PDF" writes the page's address (about:blank) as the title."""
    pages = [[("h", "Harbour Review 2024"), ("p", "The review found three things of note.")]]
    path = make_pdf(tmp_path / "saved_page.pdf", pages, title=meta, outline=False)
    assert load_file(path, MB).title == "Harbour Review 2024"
    # with no heading to be had, the file's name
    path = make_pdf(tmp_path / "saved_page.pdf", [[("p", "12")] * 20], title=meta)
    assert load_file(path, MB).title == "saved page"
    # nor is the address a browser prints above the page its heading
    pages[0].insert(0, ("p", "about:blank"))
    path = make_pdf(tmp_path / "saved_page.pdf", pages, title=meta, outline=False)
    assert load_file(path, MB).title == "Harbour Review 2024"


BODY = ("p", "The review looked at the harbour's dredging, its moorings and its costs. " * 3)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        # a template's or a file's name, which no reader would call the document
        ("Committee Report 4.3", "Harbour Review: dredging and moorings"),
        ("HR2024", "Harbour Review: dredging and moorings"),
        ("Microsoft Word - hr_final_v3", "Harbour Review: dredging and moorings"),
        ("", "Harbour Review: dredging and moorings"),
        # the same title, or the title more fully: the metadata's words are kept (None: as stored)
        ("Kelby Harbour Review: dredging and moorings 2024", None),
        ("Harbour review - dredging and moorings - GOV.UK", None),
    ],
)
def test_a_pdf_is_titled_as_its_first_page_shows_it(tmp_path: Path, stored, expected):
    """The title set in display type on the first page, its lines joined, names the document
    where the file's metadata calls it something else."""
    pages = [
        [("t", "Harbour Review:\ndredging and moorings"), BODY],
        [("h", "Findings"), BODY],
    ]
    path = make_pdf(tmp_path / "review.pdf", pages, title=stored, outline=False)
    assert load_file(path, MB).title == (expected or stored)


def test_a_first_heading_in_heading_type_is_no_title(tmp_path: Path):
    """A section heading (14 pt over 10 pt text) is not a title page's title: the metadata's
    title stands, and without one the heading names the document as before."""
    pages = [[("h", "Introduction"), BODY], [("h", "Findings"), BODY]]
    path = make_pdf(tmp_path / "review.pdf", pages, title="The Alpha Report", outline=False)
    assert load_file(path, MB).title == "The Alpha Report"
    # a page that sets a heading alone in large type, with no body text, is measured against
    # the document's body type, not its own
    cover = [[("t", "Harbour Review")], [("h", "Findings"), BODY], [BODY]]
    path = make_pdf(tmp_path / "review.pdf", cover, title="HR2024", outline=False)
    assert load_file(path, MB).title == "Harbour Review"


def test_a_real_title_with_a_colon_or_a_dot_is_kept(tmp_path: Path):
    for title in ("Data: a review of 2024", "About: the harbour", "Review v2.1 of the plan"):
        path = make_pdf(
            tmp_path / "t.pdf", [[("p", "Text of the review, long enough.")]], title=title
        )
        assert load_file(path, MB).title == title


def test_markdown_html_and_text_become_blocks(tmp_path: Path):
    html = tmp_path / "page.html"
    html.write_text(
        "<html><head><title>Page title</title><script>var x=1;</script></head>"
        "<body><h2>Goals</h2><p>Seven goals are set.</p><ul><li>A prosperous Wales</li>"
        "</ul><table><tr><td>2016</td><td>46 indicators</td></tr></table></body></html>"
    )
    doc = load_file(html, MB)
    assert doc.title == "Page title"
    text = doc.pages[0].text
    assert "## Goals" in text and "- A prosperous Wales" in text and "2016 | 46 indicators" in text
    assert "var x" not in text
    txt = tmp_path / "plain.txt"
    txt.write_text("First page of plain text.\fSecond page of plain text.")
    assert [p.number for p in load_file(txt, MB).pages] == [1, 2]


def test_docx_headings_lists_tables_and_page_breaks(tmp_path: Path):
    path = tmp_path / "brief.docx"
    document = docx.Document()
    document.core_properties.title = "A Word brief"
    document.add_heading("Background", level=1)
    document.add_paragraph("The brief explains the background in a sentence.")
    document.add_paragraph("First point", style="List Bullet")
    document.add_page_break()
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "2018", "11 outcomes"
    document.save(path)
    doc = load_file(path, MB)
    assert doc.title == "A Word brief"
    assert "# Background" in doc.pages[0].text and "- First point" in doc.pages[0].text
    assert "2018 | 11 outcomes" in doc.pages[1].text


def test_html_table_rows_carry_the_header_cells(tmp_path: Path):
    html = tmp_path / "commissioners.html"
    html.write_text(
        "<html><body><h2>Commissioners</h2><table>"
        "<tr><th>Commissioner</th><th>Period in office</th></tr>"
        "<tr><td>Sophie Howe</td><td>2016 to January 2023</td></tr>"
        "<tr><td><p>Derek Walker</p></td><td>from 2023</td></tr></table></body></html>"
    )
    lines = load_file(html, MB).pages[0].text.split("\n\n")
    assert "Commissioner: Sophie Howe | Period in office: 2016 to January 2023" in lines
    assert "Commissioner: Derek Walker | Period in office: from 2023" in lines
    assert "Derek Walker" not in lines  # a paragraph inside a cell is read with its row
    assert "Commissioner | Period in office" not in lines


def test_docx_table_of_three_columns_reads_rows_with_headers(tmp_path: Path):
    path = tmp_path / "survey.docx"
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [("Department", "Index 2019", "Index 2020"), ("HMRC", "63%", "65%"), ("DfE", "", "70%")]
    ):
        for k, value in enumerate(row):
            table.rows[r].cells[k].text = value
    document.save(path)
    text = load_file(path, MB).pages[0].text
    assert "Department: HMRC | Index 2019: 63% | Index 2020: 65%" in text
    assert "Department: DfE | Index 2020: 70%" in text  # an empty cell does not shift the headers


def _corrupt(tmp_path: Path) -> Path:
    good = make_pdf(tmp_path / "good.pdf", [[("p", "Some text to corrupt in the middle.")]] * 3)
    data = bytearray(good.read_bytes())
    data[: len(data) // 2] = bytes(len(data) // 2)  # header and objects gone
    bad = tmp_path / "corrupt.pdf"
    bad.write_bytes(bytes(data))
    return bad


def _truncated(tmp_path: Path) -> Path:
    good = make_pdf(tmp_path / "whole.pdf", [[("p", "Text of a file that will be cut short.")]] * 3)
    cut = tmp_path / "truncated.pdf"
    cut.write_bytes(good.read_bytes()[:300])
    return cut


RESOURCES = Path(__file__).parent / "resources"
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def _write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return path


BAD_INPUTS = {
    "corrupt PDF": (_corrupt, "not a readable PDF"),
    "truncated PDF": (_truncated, "not a readable PDF"),
    "encrypted PDF": (
        lambda d: make_pdf(d / "locked.pdf", [[("p", "Secret words.")]], encrypt="hunter2"),
        "encrypted",
    ),
    "scanned PDF": (lambda d: make_scanned_pdf(d / "scan.pdf"), "OCR gave no usable text"),
    "empty file": (lambda d: _write(d / "empty.pdf", b""), "is empty"),
    "HTML posing as PDF": (
        lambda d: _write(d / "fake.pdf", "<!DOCTYPE html><html>no</html>"),
        "content is HTML, not what its .pdf extension says",
    ),
    "text posing as Word": (
        lambda d: _write(d / "fake.docx", "just some words"),
        "content is plain text, not what its .docx extension says",
    ),
    "PDF posing as text": (
        lambda d: make_pdf(d / "x.txt", [[("p", "words")]]),
        "content is a PDF, not what its .txt extension says",
    ),
    "Word file locked by a password": (
        lambda d: _write(d / "locked.docx", (RESOURCES / "locked.docx").read_bytes()),
        "is encrypted: it needs a password to be read",
    ),
    "Word 97-2003 file named .docx": (
        lambda d: _write(d / "old.docx", _OLE_MAGIC + bytes(504)),
        "is an older Word file (.doc), not a .docx",
    ),
    "missing file": (lambda d: d / "nowhere.pdf", "cannot be read"),
    "broken link": (
        lambda d: (d / "link.pdf").symlink_to(d / "gone.pdf") or d / "link.pdf",
        "cannot be read",
    ),
    "a folder": (lambda d: (d / "dir.pdf").mkdir() or d / "dir.pdf", "not a regular file"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_gets_one_line_naming_file_and_reason(tmp_path: Path, case: str):
    make, reason = BAD_INPUTS[case]
    path = make(tmp_path)
    with pytest.raises(LoadError) as caught:
        load_file(path, MB)
    message = str(caught.value)
    assert reason in message
    assert message.startswith(str(path)) and "\n" not in message


def test_file_over_the_size_limit_is_refused(tmp_path: Path):
    path = make_pdf(tmp_path / "big.pdf", [[("p", "x " * 400)]] * 5)
    with pytest.raises(LoadError, match=r"over the 0\.0 MB limit"):
        load_file(path, 1000)


def test_pdf_table_rows_are_rebuilt_as_cell_lines(tmp_path: Path):
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

    style = getSampleStyleSheet()["BodyText"]
    rows = [
        ["Milestone", "Figure"],
        [
            "NHS waiting times",
            "92% of patients seen within 18 weeks for elective treatment, "
            "a cell long enough to wrap onto a second line",
        ],
        ["Clean power", "At least 95% by 2030"],
    ]
    path = tmp_path / "table.pdf"
    doc = SimpleDocTemplate(str(path), pagesize=A5)
    doc.build(
        [
            Paragraph("Milestones of the plan, in a table.", style),
            Table([[Paragraph(c, style) for c in r] for r in rows], colWidths=[100, 220]),
        ]
    )
    lines = load_file(path, MB).pages[0].text.splitlines()
    assert "Milestone | Figure" in lines
    assert (
        "NHS waiting times | 92% of patients seen within 18 weeks for elective treatment, "
        "a cell long enough to wrap onto a second line"
    ) in lines
    assert "Clean power | At least 95% by 2030" in lines
    assert "Milestones of the plan, in a table." in lines


def _words_drawn_apart(path: Path, paragraphs: list[str], blank_between: bool) -> Path:
    """A page drawn one word a line, as some converters write a transcript: with a blank line
    between words and two between paragraphs, or with no blank lines at all."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    # A page tall enough that every word lies on it: text below the page is seen by no one.
    pdf = canvas.Canvas(str(path), pagesize=(A4[0], 1000))
    y = 980
    for paragraph in paragraphs:
        for word in paragraph.split():
            pdf.drawString(72, y, word)
            y -= 14
            if blank_between:
                pdf.drawString(72, y, " ")
                y -= 14
        if blank_between:
            pdf.drawString(72, y, " ")
            y -= 14
    pdf.showPage()
    pdf.save()
    return path


@pytest.mark.parametrize("blank_between", [True, False], ids=["blank lines", "no blank lines"])
def test_a_page_drawn_one_word_a_line_is_read_as_prose(tmp_path: Path, blank_between: bool):
    from assistant.chunking import chunk_document
    from assistant.embeddings import count_tokens

    paragraphs = [
        "Today I publish the second Report of the Inquiry.",
        "This Report concerns the decisions made across the UK in the pandemic and what they "
        "cost. It covers the period from January 2020 until May 2022.",
    ]
    path = _words_drawn_apart(tmp_path / "statement.pdf", paragraphs, blank_between)
    document = load_file(path, 10**7)
    text = document.pages[0].text
    assert "the decisions made across the UK in the pandemic and what they cost." in text
    if blank_between:
        assert text.splitlines() == paragraphs
    (chunk,) = chunk_document(document, count_tokens, 200)
    assert "It covers the period from January 2020 until May 2022." in chunk.text


def test_normalising_text_keeps_a_footnote_call_in_superscript():
    text = "\ufb01ve boards\u00b9\u2075 and m\u00b2"
    assert normalise_text(text) == "five boards\u00b9\u2075 and m\u00b2"


def test_figures_under_a_header_of_years_are_read_as_rows_with_their_years():
    from assistant.tables import figure_tables

    lines = [
        "Chart notes: each line is one board.",
        "Ferry board | 2016 2017 2018 2019",
        "Response rate 86% 90% 95% 92%",
        "Leadership and managing",
        "change 41% 51% 57% 57%",
        "The boards are compared on page 21.",
    ]
    assert figure_tables(lines) == [
        (
            1,
            5,
            (
                "Ferry board",
                "Response rate | 2016: 86% | 2017: 90% | 2018: 95% | 2019: 92%",
                "Leadership and managing change | 2016: 41% | 2017: 51% | 2018: 57% | 2019: 57%",
            ),
        )
    ]


@pytest.mark.parametrize(
    "lines",
    [
        # one row is not a table
        ["2009 2010 2011", "Response rate 86% 83% 93%", "The rate rose."],
        # two years are a range, not columns
        ["2018 2019", "Response rate 86% 83%", "Pay 44% 34%"],
        # rows with more figures of one kind than the header has columns
        ["2009 2010 2011", "Response rate 80% 86% 83% 93%", "Pay 40% 44% 34% 40%"],
        ["2009 2010 2011", "Aged 16 to 24 45 50 52", "Aged 25 to 34 40 41 43"],
        # prose that ends in figures
        ["Sailings in 2009 2010 2011", "were cut by 5% 6% 7%", "and by 8% 9% 10%"],
        # a row of shares is a row, never the header of the rows under it
        ["86% 83% 93%", "Response rate 86% 83% 93%", "Pay 44% 34% 40%"],
        ["£12 £14 £15", "Ferry fares 10 11 12", "Bus fares 2 3 4"],
    ],
)
def test_lines_that_are_not_a_table_under_figures_are_left_alone(lines):
    from assistant.tables import figure_tables

    assert figure_tables(lines) == []


def test_a_number_in_a_row_label_is_never_read_as_a_years_figure():
    """A label may end in a number of another kind than the row's figures (`Grade 7`, `aged
    under 25` before shares): the row's figures are the run of one kind at its end. A row with
    a figure too few keeps its line as drawn, since which year lacks one is not known."""
    from assistant.tables import figure_tables

    lines = [
        "2016 2017 2018 2019",
        "All staff 58% 59% 61% 62%",
        "Grade 7 61% 62% 63% 64%",
        "Apprentices aged under 25 48% 52% 55%",
        "Fast stream 64% 66% 65% 67%",
        "Aged 16 to 24 45% 50% 52% 54%",
    ]
    assert figure_tables(lines) == [
        (
            0,
            6,
            (
                "All staff | 2016: 58% | 2017: 59% | 2018: 61% | 2019: 62%",
                "Grade 7 | 2016: 61% | 2017: 62% | 2018: 63% | 2019: 64%",
                "Apprentices aged under 25 48% 52% 55%",
                "Fast stream | 2016: 64% | 2017: 66% | 2018: 65% | 2019: 67%",
                "Aged 16 to 24 | 2016: 45% | 2017: 50% | 2018: 52% | 2019: 54%",
            ),
        )
    ]


def test_a_table_keeps_its_title_row_and_uses_a_header_of_years():
    """A merged title row above the header, or captions above rows of figures, stay as lines;
    a header row whose cells are a label and years heads the figures under it."""
    from assistant.tables import rows_with_headers

    grid = [
        ["Staff engagement", None, None, None],
        ["Department", "2017", "2018", "2019"],
        ["HMRC", "50%", "51%", "52%"],
        ["DfT", "51%", "52%", "53%"],
    ]
    assert rows_with_headers(grid) == (
        "Staff engagement",
        "Department: HMRC | 2017: 50% | 2018: 51% | 2019: 52%",
        "Department: DfT | 2017: 51% | 2018: 52% | 2019: 53%",
    )
    years = [["", "2017", "2018", "2019"], ["HMRC", "50%", "51%", "52%"], ["DfT", "1%", "2%", "3%"]]
    assert rows_with_headers(years)[0] == "HMRC | 2017: 50% | 2018: 51% | 2019: 52%"
    captions = [
        ["Table 3", None, None],
        ["Source: ONS", None, None],
        ["10%", "20%", "30%"],
        ["40%", "50%", "60%"],
    ]
    assert rows_with_headers(captions) == (
        "Table 3",
        "Source: ONS",
        "10% | 20% | 30%",
        "40% | 50% | 60%",
    )


@pytest.mark.parametrize("drawn", ["through a form", "inline"])
def test_a_scan_drawn_through_a_form_or_inline_is_seen_as_an_image(tmp_path: Path, drawn: str):
    """A page's picture wrapped in a Form XObject (forms within forms too), or drawn inline in
    its content, makes it a scan to OCR, not an empty page."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (200, 280), 255)
    ImageDraw.Draw(image).rectangle((20, 20, 180, 40), fill=0)
    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    if drawn != "inline":
        pdf.beginForm("scan")
        pdf.drawImage(ImageReader(image), 72, 100, width=400, height=560)
        pdf.endForm()
        pdf.beginForm("page")
        pdf.doForm("scan")
        pdf.endForm()
    for _ in range(2):
        if drawn == "inline":
            pdf.drawInlineImage(image, 72, 100, width=400, height=560)
        else:
            pdf.doForm("page")
        pdf.showPage()
    pdf.save()
    with pytest.raises(LoadError) as raised:
        load_file(path, 10**7, Bounds(ocr=False))
    assert "pages 1-2: no text layer, and OCR is turned off" in str(raised.value)
