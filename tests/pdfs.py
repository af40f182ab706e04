"""Real PDFs made in the tests, with known text on known pages."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

Block = tuple[str, str]  # ("t", title), ("h", heading), ("p", paragraph) or ("li", list item)


def make_pdf(
    path: Path,
    pages: Sequence[Sequence[Block]],
    title: str = "",
    outline: bool = True,
    encrypt: str | None = None,
    footer: str = "",
) -> Path:
    """Writes one PDF page per entry of `pages`; headings go into the outline when asked."""
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    if title:
        pdf.setTitle(title)
        pdf.setAuthor("tests")
    width, height = A4
    for number, blocks in enumerate(pages, start=1):
        y = height - 72
        for kind, text in blocks:
            if kind == "t":  # a title page's title: display type, each line drawn apart
                pdf.setFont("Helvetica-Bold", 30)
                for line in text.split("\n"):
                    pdf.drawString(72, y, line)
                    y -= 36
                continue
            if kind == "h":
                pdf.setFont("Helvetica-Bold", 14)
                pdf.drawString(72, y, text)
                if outline:
                    key = f"h{number}-{int(y)}"
                    pdf.bookmarkHorizontal(key, 0, y + 20)
                    pdf.addOutlineEntry(text, key, level=0)
                y -= 24
                continue
            pdf.setFont("Helvetica", 10)
            prefix = "\u2022 " if kind == "li" else ""
            for line in textwrap.wrap(prefix + text, 95):
                pdf.drawString(72, y, line)
                y -= 14
            y -= 8
        if footer:
            pdf.setFont("Helvetica", 8)
            pdf.drawString(72, 40, f"{footer}   Page {number} of {len(pages)}")
        pdf.showPage()
    pdf.save()
    return path


def make_scanned_pdf(path: Path, pages: int = 2) -> Path:
    """A PDF of page images and no text layer, as a scanner would make."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        image = Image.new("L", (400, 560), 255)
        draw = ImageDraw.Draw(image)
        for i in range(20):
            draw.rectangle((20, 20 + i * 26, 380, 32 + i * 26), fill=0)
        pdf.drawImage(ImageReader(image), 72, 100, width=400, height=560)
        pdf.showPage()
    pdf.save()
    return path


def make_image_pdf(path: Path, pages: Sequence[Sequence[str]], blur: float = 0.0) -> Path:
    """A PDF whose pages are pictures of the given lines of text (no text layer), as a scan of
    a printed page would be; `blur` smudges the picture past reading."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont
    from reportlab.lib.utils import ImageReader

    font = ImageFont.load_default(size=40)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for lines in pages:
        image = Image.new("L", (1654, 2339), 255)  # A4 at 200 dots per inch
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            draw.text((150, 200 + i * 70), line, fill=0, font=font)
        if blur:
            image = image.filter(ImageFilter.GaussianBlur(blur))
        pdf.drawImage(ImageReader(image), 0, 0, width=width, height=height)
        pdf.showPage()
    pdf.save()
    return path
