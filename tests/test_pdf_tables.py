"""Tables in PDFs read row by row with their headers: a ruled table (pdfplumber's) and one
drawn without rules under a header of years. Each test builds its own PDF."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

from assistant.loaders import Bounds, load_file

WIDTH, HEIGHT = A4
LAYOUT = Bounds(layout=True)
BOARDS = ["Arran", "Islay", "Mull", "Barra", "Tiree", "Coll"]


def ruled_table(path: Path) -> Path:
    """A ruled table: a title row merged across it, a header of a label and years, then a row
    of figures for each board."""
    data = [["Staff engagement", "", "", ""], ["Board", "2017", "2018", "2019"]]
    data += [[b, f"{50 + i}%", f"{51 + i}%", f"{52 + i}%"] for i, b in enumerate(BOARDS)]
    table = Table(data)
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black"), ("SPAN", (0, 0), (-1, 0))])
    )
    styles = getSampleStyleSheet()
    intro = Paragraph("Annex A. Results by board.", styles["Normal"])
    SimpleDocTemplate(str(path), pagesize=A4).build([intro, table])
    return path


def test_a_ruled_table_keeps_its_title_row_and_reads_rows_under_its_years(tmp_path):
    lines = load_file(ruled_table(tmp_path / "t.pdf"), 10**7, LAYOUT).pages[0].text.splitlines()
    assert "Staff engagement" in lines
    assert "Board: Arran | 2017: 50% | 2018: 51% | 2019: 52%" in lines
    assert "Board: Coll | 2017: 55% | 2018: 56% | 2019: 57%" in lines


def test_a_number_ending_a_rows_label_is_not_a_years_figure(tmp_path):
    path = tmp_path / "years.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(72, HEIGHT - 120, "Engagement scores by year")
    pdf.drawString(72, HEIGHT - 140, "2016 2017 2018 2019")
    rows = [
        "All staff 58% 59% 61% 62%",
        "Grade 7 61% 62% 63% 64%",
        "Apprentices aged under 25 48% 52% 55%",
        "Fast stream 64% 66% 65% 67%",
    ]
    for k, row in enumerate(rows):
        pdf.drawString(72, HEIGHT - 160 - 16 * k, row)
    pdf.showPage()
    pdf.save()
    lines = load_file(path, 10**7, LAYOUT).pages[0].text.splitlines()
    assert "Grade 7 | 2016: 61% | 2017: 62% | 2018: 63% | 2019: 64%" in lines
    assert "Apprentices aged under 25 48% 52% 55%" in lines
    assert "Fast stream | 2016: 64% | 2017: 66% | 2018: 65% | 2019: 67%" in lines


def ruled_pages(path: Path, pages: int) -> Path:
    """A ruled table of boards on each page, under a header of its columns."""
    story: list = []
    for p in range(pages):
        data = [["Board", "Port", "Staff", "Sailings"]]
        data += [[f"{b} {p}", f"Port {k}", f"{100 + k}", f"{k + 2}"] for k, b in enumerate(BOARDS)]
        table = Table(data)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
        story += [table, PageBreak()]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def test_the_table_pass_stops_at_the_deadline_and_keeps_pypdfs_rows(tmp_path, monkeypatch):
    """Text read in time is not lost to the tables: once the deadline has passed, between two
    pages, the pages left keep the rows as pypdf read them."""
    import time

    from assistant import pdf_tables

    path = ruled_pages(tmp_path / "boards.pdf", 3)
    calls = []

    class Clock:  # the table pass's clock: in time for the first page, past it after
        @staticmethod
        def monotonic() -> float:
            calls.append(1)
            return time.monotonic() + (0 if len(calls) == 1 else 3600)

    monkeypatch.setattr(pdf_tables, "time", Clock, raising=False)
    bounds = Bounds(layout=True, deadline=time.monotonic() + 600, seconds=600)
    document = load_file(path, 10**7, bounds)
    pages = [p.text.splitlines() for p in document.pages]
    assert "Board: Arran 0 | Port: Port 0 | Staff: 100 | Sailings: 2" in pages[0]
    for k in (1, 2):
        assert f"Arran {k} | Port 0 | 100 | 2" in pages[k]
        assert not any("Board:" in line for line in pages[k])
    # and the ingest's report says so
    assert document.notes == (
        "pages 2-3: tables read as drawn, without their headers (the 600 s for reading ran out)",
    )


def test_a_note_drawn_beside_a_tables_row_is_kept(tmp_path):
    """A note printed in the margin on a row's baseline, right of the table's box, is not one
    of the table's cells, and is not lost with pypdf's reading of the row."""
    path = tmp_path / "note.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    data = [["Board", "Port", "Staff", "Sailings"]]
    data += [[b, f"Port {k}", f"{100 + k}", f"{k + 2}"] for k, b in enumerate(BOARDS)]
    table = Table(data, colWidths=[80, 80, 60, 60])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
    width, height = table.wrapOn(pdf, WIDTH, HEIGHT)
    top = HEIGHT - 100
    table.drawOn(pdf, 72, top - height)
    row = height / len(data)
    pdf.setFont("Helvetica-Oblique", 9)
    pdf.drawString(72 + width + 12, top - row * (len(data) - 0.5) - 3, "Provisional")
    pdf.showPage()
    pdf.save()
    lines = load_file(path, 10**7, LAYOUT).pages[0].text.splitlines()
    assert "Board: Coll | Port: Port 5 | Staff: 105 | Sailings: 7" in lines
    assert "Provisional" in lines
