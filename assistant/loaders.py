"""Files to pages. Every failure is a LoadError that names the file and the reason."""

from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import pdf_layout, pdf_spacing
from .models import CALLS, Layout, LoadedDocument, Page
from .tables import rows_with_headers

SUPPORTED_SUFFIXES = {".pdf", ".md", ".markdown", ".txt", ".html", ".htm", ".docx"}

logging.getLogger("pypdf").setLevel(logging.ERROR)

# A page with fewer characters than this is taken as having no text layer.
_MIN_TEXT_CHARS = 20
# Hyphens that NFKC keeps, and the private-use bullets of Symbol and Wingdings fonts.
_CHAR_FOLDS = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\uf0b7": "\u2022",
        "\uf0a7": "\u2022",
        "\uf076": "\u2022",
        "\uf0d8": "\u2022",
        "\uf0fc": "\u2022",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CALLS = re.compile(f"[{CALLS}]+")
_NOT_A_TITLE = re.compile(
    r"https?://|www\.|\b(?:about|file|data|blob):\S|\d{1,2}/\d{1,2}/\d{2,4}|^\W*\d+\W*$|^page \d",
    re.I,
)
_UNHELPFUL_TITLES = re.compile(r"^(untitled|microsoft word\b|document\d*$|\s*$)", re.I)
# A web or browser address where a title should be: what a browser's "Save as PDF" or a
# saved page writes (about:blank, a file: or data: URL, a link, or a bare host and path).
_ADDRESS = re.compile(
    r"^(?:(?:about|https?|file|data|blob):\S+|www\.\S+|[\w-]+(?:\.[\w-]+)+(?::\d+)?/\S*"
    r"|(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?)$",
    re.I,
)


def _not_a_title(title: str) -> bool:
    """True for what a file's metadata calls its title but no reader would: nothing, only
    punctuation, a placeholder ("Untitled", "Microsoft Word - ...") or an address."""
    title = title.strip()
    return (
        not any(c.isalnum() for c in title)
        or bool(_UNHELPFUL_TITLES.match(title))
        or bool(_ADDRESS.match(title))
    )


class LoadError(Exception):
    """A file that cannot be read into pages; str() is one line naming file and reason."""

    def __init__(self, source: str | Path, reason: str):
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")


def content_hash(data: bytes) -> str:
    """Returns the full SHA-256 of a file's bytes; a document's id is its first 16 digits."""
    return hashlib.sha256(data).hexdigest()


def doc_id_for(data: bytes) -> str:
    return content_hash(data)[:16]


def normalise_text(text: str) -> str:
    """Folds ligatures, non-breaking and odd spaces, and soft hyphens into plain text;
    superscript digits (a footnote's call) stay superscript."""
    marks = _CALLS.findall(text)
    parts = [unicodedata.normalize("NFKC", part) for part in _CALLS.split(text)]
    text = "".join(p + m for p, m in zip(parts, [*marks, ""], strict=True))
    text = text.replace("\u00ad", "").replace("\u200b", "")
    text = text.translate(_CHAR_FOLDS)
    # Some fonts' bullets come out as control characters at the start of a line.
    text = re.sub(r"(?m)^[\x7f\x95\x80-\x9f](?=\s)", "\u2022", text)
    # No other control character is text: some (terminal escapes) would act on a reader's screen.
    text = _CONTROL.sub("", text)
    text = re.sub(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ", text)
    return "\n".join(line.strip() for line in text.splitlines())


def prose_from_words(text: str) -> str:
    """A page whose lines are nearly all single words (text drawn word by word, as some
    converters write a transcript) read as prose: each paragraph one line, its words joined
    by spaces. A paragraph ends where more blank lines stand between two words than usually
    do; a page with no such gap is one paragraph, which the chunker splits into sentences."""
    lines = text.splitlines()
    words = [x for x in lines if x.strip()]
    if len(words) < 20 or sum(len(x.split()) == 1 for x in words) < 0.8 * len(words):
        return text
    gaps: list[int] = []  # blank lines before each word line after the first
    blank, seen = 0, False
    for line in lines:
        if not line.strip():
            blank += 1
            continue
        if seen:
            gaps.append(blank)
        seen, blank = True, 0
    usual = max(set(gaps), key=gaps.count) if gaps else 0
    paragraphs, current = [], [words[0]]
    for gap, word in zip(gaps, words[1:], strict=True):
        if gap > usual:
            paragraphs.append(current)
            current = []
        current.append(word)
    paragraphs.append(current)
    return "\n".join(" ".join(p) for p in paragraphs)


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""How a compound file opens: Word 97-2003's .doc, and any Office file locked by a password."""
_LOCKED = "EncryptedPackage".encode("utf-16-le")
"""The name of the stream a password-locked Office file keeps its real (zipped) file in."""


def sniff(data: bytes) -> str:
    """Names what the bytes are, whatever the file's name says: pdf, zip, ole (an older or a
    locked Office file), image, html, text or binary."""
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(_OLE):
        return "ole"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        return "image"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "html"
    if b"\x00" in head:
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        # A multi-byte character cut at the end of the sample is still text.
        if err.start < len(head) - 4:
            return "binary"
    return "text"


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as err:
        raise LoadError(path, f"cannot be read: {err.strerror or err}") from err
    if not path.is_file():
        raise LoadError(path, "is not a regular file")
    if size == 0:
        raise LoadError(path, "is empty (0 bytes)")
    if size > max_bytes:
        raise LoadError(
            path, f"is {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.1f} MB limit"
        )
    try:
        return path.read_bytes()
    except OSError as err:
        raise LoadError(path, f"cannot be read: {err.strerror or err}") from err


def _check_type(path: Path, data: bytes) -> None:
    kind = sniff(data)
    suffix = path.suffix.lower()
    expected = {".pdf": {"pdf"}, ".docx": {"zip"}}.get(suffix, {"text", "html"})
    if kind in expected:
        return
    if suffix == ".pdf" and kind == "binary":
        raise LoadError(path, "is not a readable PDF: it has no PDF header (corrupt or truncated)")
    if kind == "ole" and _LOCKED in data:
        raise LoadError(path, "is encrypted: it needs a password to be read; save it without one")
    if suffix == ".docx" and kind == "ole":
        raise LoadError(path, "is an older Word file (.doc), not a .docx; save it as .docx")
    names = {
        "pdf": "a PDF",
        "zip": "a ZIP archive",
        "ole": "an older Office file",
        "image": "an image",
        "html": "HTML",
        "text": "plain text",
        "binary": "binary data",
    }
    raise LoadError(path, f"content is {names[kind]}, not what its {suffix} extension says")


def _decode(path: Path, data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoadError(path, "is not valid UTF-8 or Windows-1252 text")


@dataclass(frozen=True)
class Bounds:
    """How much one file may cost to read: pages, and a deadline (time.monotonic())."""

    max_pages: int = 5000
    deadline: float | None = None
    seconds: float = 0.0
    """The time the deadline allows, for the message."""
    ocr: bool = True
    """Whether pages without a text layer are read by OCR (where Tesseract is installed)."""
    ocr_seconds: float = 60.0
    """The longest one page's OCR may take; each OCR'd page moves the deadline on by this."""
    layout: bool = True
    """Furniture dropped, prose columns in order and tables with their headers (pdf_layout,
    pdf_tables); off, the page is read as pypdf draws it and the chunker drops repeated lines."""
    on_ocr: Callable[[int, int, float], None] | None = None
    """Told (k, of, seconds) before the k-th page of `of` is OCR'd, the deadline moved on."""
    footnotes: bool = False
    """With layout, footnotes set apart from the text and calls written in superscript."""


def load_file(path: str | Path, max_bytes: int, bounds: Bounds | None = None) -> LoadedDocument:
    """Reads one file into pages; raises LoadError naming the file and the reason."""
    path = Path(path)
    bounds = bounds or Bounds()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(path, f"has an unsupported type {suffix or '(none)'}")
    data = _read_bytes(path, max_bytes)
    _check_type(path, data)
    author = created = ""
    cleaned = False
    labels: tuple[str, ...] = ()
    notes: list[str] = []
    if suffix == ".pdf":
        title, pages, outline, author, created, labels, late = _load_pdf(path, data, bounds)
        cleaned = bounds.layout
        pages, notes = _ocr_pages(path, data, pages, bounds)
        if late:
            notes.append(
                f"{_pages_named(late)}: tables read as drawn, without their headers (the "
                f"{bounds.seconds:g} s for reading ran out)"
            )
        layout: Layout = "lines"
    elif suffix == ".docx":
        title, pages = _load_docx(path, data)
        outline, layout = (), "blocks"
    elif suffix in {".html", ".htm"}:
        title, pages = _load_html(path, _decode(path, data))
        outline, layout = (), "blocks"
    else:
        title, pages = _load_markdown(_decode(path, data))
        outline, layout = (), "blocks"
    if sum(len(p.text) for p in pages) < _MIN_TEXT_CHARS:
        if suffix == ".pdf" and notes:
            raise LoadError(path, f"has no text layer, and OCR gave no usable text ({notes[0]})")
        if suffix == ".pdf":
            raise LoadError(path, "has no text layer (a scanned PDF?) and no images to OCR")
        raise LoadError(path, "has no text to index")
    # A title is the file's own words, from its metadata or markup: one line, and no control
    # character (a terminal escape; nor can a Word export hold one), like the text.
    title = " ".join(normalise_text(title).split())
    title = "" if _not_a_title(title) else title
    return LoadedDocument(
        doc_id=doc_id_for(data),
        content_hash=content_hash(data),
        source=str(path),
        title=title or _first_heading(pages, layout) or path.stem.replace("_", " "),
        format=suffix.lstrip("."),
        layout=layout,
        pages=tuple(pages),
        outline=tuple(outline),
        author=author,
        created=created,
        page_labels=labels,
        notes=tuple(notes),
        furniture_removed=cleaned,
    )


def _ocr_pages(
    path: Path, data: bytes, pages: list[Page], bounds: Bounds
) -> tuple[list[Page], list[str]]:
    """The pages, with those that have no text layer but draw an image read by OCR; and a note
    for each page that could not be read."""
    from . import ocr

    wanted = [p.number for p in pages if len(p.text.strip()) < _MIN_TEXT_CHARS]
    if not wanted:
        return pages, []
    wanted = _pages_with_images(data, wanted)
    if not wanted:
        return pages, []
    if not bounds.ocr or not ocr.available():
        why = "OCR is turned off" if not bounds.ocr else "Tesseract is not installed"
        return pages, [f"{_pages_named(wanted)}: no text layer, and {why}"]
    out = list(pages)
    notes: list[str] = []
    for k, number in enumerate(wanted, start=1):
        if bounds.on_ocr is not None:
            bounds.on_ocr(k, len(wanted), bounds.ocr_seconds)
        try:
            read = ocr.read_page(data, number - 1, bounds.ocr_seconds)
        except ocr.OcrError as err:
            notes.append(f"page {number}: not indexed: {err}")
            continue
        if not read.usable:
            notes.append(
                f"page {number}: OCR unusable (confidence {read.confidence:.0f}%, "
                f"{read.words} words), not indexed"
            )
            continue
        out[number - 1] = Page(number, normalise_text(read.text), ocr=round(read.confidence, 1))
    return out, notes


def _pages_named(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"pages {numbers[0]}-{numbers[-1]}"
    return "pages " + ", ".join(str(n) for n in numbers)


def _pages_with_images(data: bytes, numbers: list[int]) -> list[int]:
    """Those of the pages (1-based) that draw an image: scans, rather than blank pages."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [n for n in numbers if _draws_image(reader.pages[n - 1])]


TITLE_AGREES = 0.6
"""The share of the words of the title a first page shows that its metadata title must hold."""


def _title_shown_or_stored(stored: str, shown: str) -> str:
    """The title: the one the file's metadata stores where it says what the first page shows
    in display type, perhaps more fully ("OPM Annual Performance Report Fiscal Year 2019" for
    "Annual Performance Report"); else the one shown. Metadata is often a template's or a
    file's name ("Committee Report 4.3", "DOL2022"), which no reader would call the document."""
    shown = " ".join(normalise_text(shown).split())
    if not shown:
        return stored
    if _not_a_title(stored):
        return shown
    held = set(_TITLE_WORD.findall(stored.lower()))
    wanted = _TITLE_WORD.findall(shown.lower())
    agree = sum(w in held for w in wanted) / len(wanted) if wanted else 0.0
    return stored if agree >= TITLE_AGREES else shown


_TITLE_WORD = re.compile(r"[^\W_]+")


def _first_heading(pages: list[Page], layout: Layout) -> str:
    """The document's first heading: a Markdown one, or the first short lines of a PDF."""
    for page in pages[:2]:
        lines = [x.strip() for x in page.text.splitlines() if x.strip()]
        if layout == "blocks":
            for line in lines:
                if line.startswith("#"):
                    return line.lstrip("#").strip()
            continue
        title: list[str] = []
        for line in lines[:12]:
            if _NOT_A_TITLE.search(line) or sum(c.isalpha() for c in line) < 4:
                if title:
                    break
                continue
            if len(line) > 90 or line.endswith((".", ",", ";")):
                break
            title.append(line)
            if len(" ".join(title)) > 100 or len(title) == 3:
                break
        if title:
            return " ".join(title)
    return ""


def _page_count(reader) -> int | None:
    """The page count the file's page tree claims, read without walking the tree."""
    try:
        return int(reader.trailer["/Root"]["/Pages"]["/Count"])
    except Exception:  # a tree without a count is walked and counted instead
        return None


def _load_pdf(
    path: Path, data: bytes, bounds: Bounds
) -> tuple[str, list[Page], list[tuple[int, str]], str, str, tuple[str, ...], list[int]]:
    import time

    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    def too_many(n: int) -> LoadError:
        return LoadError(path, f"has {n:,} pages, over the limit of {bounds.max_pages:,}")

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (NotImplementedError, FileNotDecryptedError) as err:
                raise LoadError(path, f"is encrypted and cannot be opened: {err}") from err
            if not ok:
                raise LoadError(path, "is encrypted: it needs a password to be read")
        claimed = _page_count(reader)
        if claimed is not None and claimed > bounds.max_pages:
            raise too_many(claimed)
        total = len(reader.pages)
        if total > bounds.max_pages:
            raise too_many(total)
        drawn = []
        for i, page in enumerate(reader.pages):
            if bounds.deadline is not None and time.monotonic() > bounds.deadline:
                raise LoadError(
                    path,
                    f"took more than {bounds.seconds:g} s to read (stopped at page {i + 1} "
                    f"of {total:,}); a file built to exhaust the reader?",
                )
            drawn.append(pdf_layout.read_page(_SeenText(page), bounds.layout, bounds.footnotes))
        late: list[int] = []  # pages whose tables the time left no room to read
        if bounds.layout:
            late = _place_tables(data, drawn, bounds.deadline)
            for page in drawn:
                pdf_layout.place_figure_tables(page)
            texts = pdf_layout.arrange(drawn, bounds.footnotes)
        else:
            texts = [pdf_layout.PageText("\n".join(x.text for x in page.lines)) for page in drawn]
        mended = pdf_spacing.mend_broken_words(
            [prose_from_words(normalise_text(read.text)) for read in texts]
        )
        pages = [
            Page(
                number=i + 1,
                text=text,
                notes=tuple((n, normalise_text(note)) for n, note in read.notes),
            )
            for i, (read, text) in enumerate(zip(texts, mended, strict=True))
        ]
        if not pages:
            raise LoadError(path, "is a PDF with no pages")
        if sum(len(p.text) for p in pages) < _MIN_TEXT_CHARS and not _has_images(reader):
            raise LoadError(path, f"has no text and no images on any of its {len(pages):,} pages")
        meta = reader.metadata
        title = normalise_text(str(meta.title)).strip() if meta and meta.title else ""
        if bounds.layout:
            title = _title_shown_or_stored(title, pdf_layout.display_title(drawn))
        outline = _pdf_outline(reader)
        author, created = _pdf_provenance(meta)
        labels = _page_labels(reader, len(pages))
    except LoadError:
        raise
    except FileNotDecryptedError as err:
        raise LoadError(path, "is encrypted: it needs a password to be read") from err
    except RecursionError as err:
        raise LoadError(path, "is nested deeper than a PDF reader can follow") from err
    except MemoryError as err:
        raise LoadError(path, "needs more memory to read than a file may use") from err
    except (
        PdfReadError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        OSError,
        AssertionError,
        ZeroDivisionError,
    ) as err:
        raise LoadError(path, f"is not a readable PDF (corrupt or truncated): {err}") from err
    except Exception as err:  # pypdf raises many kinds on damaged files
        raise LoadError(path, f"is not a readable PDF (corrupt or truncated): {err}") from err
    return title, pages, outline, author, created, labels, late


# Text drawn where no reader of the page can see it: wholly outside the page's visible box
# (by more than this many points), or in type smaller than this many points.
_OFF_PAGE_PT = 2.0
_UNSEEN_SIZE_PT = 1.5


class _SeenText:
    """A pypdf page whose text, as read, leaves out what no reader sees: text drawn wholly
    outside the page's visible (crop) box, and text in type under a point and a half high (no
    print is read at that size; a generator's anchors are drawn there). A document
    could otherwise carry words (instructions to a model, a claim) that are indexed, quoted and
    shown as "quote checked", though the page a reader opens does not show them. Text drawn
    inside a form (XObject) is kept as it is read: pypdf gives its place and size in the form's
    own space, not the page's. Nothing else is judged: white text on a dark panel and the
    invisible text layer (render mode 3) of a scan read by OCR are real text."""

    def __init__(self, page):
        self._page = page

    def __getattr__(self, name):
        return getattr(self._page, name)

    def extract_text(self, *args, visitor_text=None, **kwargs):
        if visitor_text is None:
            return self._page.extract_text(*args, **kwargs)
        box = self._page.cropbox
        left, bottom, right, top = (float(v) for v in (box.left, box.bottom, box.right, box.top))
        forms = 0  # how deep in forms (Do) the text read now is drawn
        # pypdf hands over the text waiting on the page as it meets a Do, after the hook
        # below has counted the form: that text is the page's, judged as the page's.
        flushing = False

        def before(operator, *_):
            nonlocal forms, flushing
            flushing = operator == b"Do"
            forms += flushing

        def after(operator, *_):
            nonlocal forms, flushing
            flushing = False
            forms -= operator == b"Do"

        def seen(text: str, cm, tm, font, size) -> bool:
            if forms - flushing > 0 or not text.strip():
                return True
            try:
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                # The height of the type on the page: (0, size) through the text matrix and
                # the current transformation.
                up = (tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
                height = abs(float(size)) * math.hypot(*up)
                subtype = font.get("/Subtype") if hasattr(font, "get") else None
            except (TypeError, ValueError, IndexError, AttributeError):
                return True
            if subtype != "/Type3" and height < _UNSEEN_SIZE_PT:
                return False  # a Type 3 font sizes its glyphs by its own matrix: not judged
            # How far the text may run, generously (it may start left of the box and run in).
            reach = max(height, 1.0) * len(text.strip()) + _OFF_PAGE_PT
            return (
                bottom - _OFF_PAGE_PT - height <= y <= top + _OFF_PAGE_PT
                and left - reach <= x <= right + _OFF_PAGE_PT
            )

        def visit(text, cm, tm, font, size):
            if not seen(text, cm, tm, font, size):
                text = "\n" * text.count("\n")  # its line breaks stay, its words go
            visitor_text(text, cm, tm, font, size)

        return self._page.extract_text(
            *args,
            visitor_text=visit,
            visitor_operand_before=before,
            visitor_operand_after=after,
            **kwargs,
        )


def _place_tables(
    data: bytes, drawn: list[pdf_layout.PageLines], deadline: float | None = None
) -> list[int]:
    """Tables on the pages that show rows, each row with its headers, in place of the cells
    as pypdf read them. A page pdfplumber cannot read keeps pypdf's rows, and so do the pages
    left when the deadline (time.monotonic()) passes: those are returned (1-based)."""
    from .pdf_tables import read_tables

    wanted = [i + 1 for i, page in enumerate(drawn) if pdf_layout.has_rows(page)]
    if not wanted:
        return []
    try:
        found, left = read_tables(data, wanted, deadline)
    except Exception:  # pdfplumber's parser fails on some damaged files that pypdf reads
        return []
    for number, tables in found.items():
        for table in tables:
            pdf_layout.place_table(drawn[number - 1], table.box, table.lines)
    return left


def _page_labels(reader, count: int) -> tuple[str, ...]:
    """The printed page labels the PDF defines ("i", "ii", ..., "1"); none where they are just
    the page numbers, or cannot be read."""
    try:
        labels = tuple(" ".join(normalise_text(str(x)).split()) for x in reader.page_labels)
    except Exception:  # a broken /PageLabels tree is only a lost hint
        return ()
    if len(labels) != count or labels == tuple(str(i + 1) for i in range(count)):
        return ()
    return labels


def _has_images(reader, pages: int = 50) -> bool:
    """Whether any of the first pages draws an image: a scan, rather than an empty file."""
    return any(_draws_image(page) for page in list(reader.pages)[:pages])


def _draws_image(page) -> bool:
    """Whether the page draws an image: an image of its own resources, one drawn through a form
    (a scan wrapped in a Form XObject, as many scanners and tools write it; forms within forms
    to a few deep, each form once), or an image inline in the page's or a form's content."""
    inline = re.compile(rb"(?:^|[\s\]>)])BI\s*/")

    def draws(resources, depth: int, seen: set) -> bool:
        resources = resources.get_object() if resources is not None else None
        objects = resources.get("/XObject") if resources else None
        for ref in (objects.get_object() if objects is not None else {}).values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Image":
                return True
            key = (ref.idnum, ref.generation) if hasattr(ref, "idnum") else id(xobject)
            if xobject.get("/Subtype") != "/Form" or depth >= 8 or key in seen:
                continue
            seen.add(key)
            if inline.search(xobject.get_data()):
                return True
            if draws(xobject.get("/Resources"), depth + 1, seen):
                return True
        return False

    try:
        if draws(page.get("/Resources"), 0, set()):
            return True
        contents = page.get_contents()
        return contents is not None and bool(inline.search(contents.get_data()))
    except Exception:  # a damaged resource dictionary: say it may be a scan
        return True


def _pdf_provenance(meta) -> tuple[str, str]:
    """The author and creation date a PDF's metadata gives; blanks where it gives none."""
    if not meta:
        return "", ""
    try:
        author = normalise_text(str(meta.author or "")).strip()
    except Exception:  # a damaged info dictionary is only a lost hint
        author = ""
    try:
        created = meta.creation_date.date().isoformat() if meta.creation_date else ""
    except Exception:
        created = ""
    if _UNHELPFUL_TITLES.match(author) or len(author) > 120:
        author = ""
    return author, created


def _pdf_outline(reader) -> list[tuple[int, str]]:
    entries: list[tuple[int, str]] = []

    def walk(items) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            try:
                number = reader.get_destination_page_number(item)
            except Exception:  # a broken outline entry is only a lost hint
                continue
            if number is not None and number >= 0 and item.title:
                entries.append((number + 1, normalise_text(str(item.title)).strip()))

    try:
        walk(reader.outline)
    except Exception:
        return []
    return entries


def _load_markdown(text: str) -> tuple[str, list[Page]]:
    # A form feed is the one page break plain text has.
    parts = text.replace("\r\n", "\n").split("\f")
    pages = [Page(i + 1, normalise_text(part)) for i, part in enumerate(parts)]
    match = re.search(r"^#\s+(.+)$", text, re.M)
    return (match.group(1).strip() if match else ""), pages


def _load_html(path: Path, text: str) -> tuple[str, list[Page]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "header", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all(_hidden_from_readers):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    blocks: list[str] = []
    body = soup.body or soup
    for el in body.find_all(
        ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "table", "pre", "blockquote", "dt", "dd"]
    ):
        held = el.find_parent(["li", "blockquote"]) and el.name in {"p", "li"}
        if held or el.find_parent("table"):
            continue  # read with the table, list item or quotation that holds it
        if el.name == "table":
            blocks.extend(_html_rows(el))
            continue
        line = el.get_text(" ", strip=True)
        if not line:
            continue
        if el.name[0] == "h" and el.name[1:].isdigit():
            line = "#" * int(el.name[1]) + " " + line
        elif el.name == "li":
            line = "- " + line
        blocks.append(line)
    if not blocks:
        blocks = [body.get_text("\n", strip=True)]
    return title, [Page(1, normalise_text("\n\n".join(blocks)))]


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def _hidden_from_readers(tag) -> bool:
    """Whether an element is set never to show: the `hidden` attribute, or an inline style
    of no display. Text a reader never sees is not evidence, and may be planted; a folded
    section that opens when clicked is drawn by script and class, and stays."""
    return tag.has_attr("hidden") or bool(_HIDDEN_STYLE.search(str(tag.get("style") or "")))


def _html_rows(table) -> list[str]:
    """An HTML table's rows, each cell after its column's header when the first row is of
    header cells (<th>); otherwise as `a | b`, or with headers guessed as for a PDF's."""
    grid, marked = [], False
    for i, row in enumerate(table.find_all("tr")):
        cells = row.find_all(["td", "th"])
        if i == 0:
            marked = bool(cells) and all(c.name == "th" for c in cells)
        grid.append([c.get_text(" ", strip=True) for c in cells])
    rows = rows_with_headers(grid, marked=marked)
    return list(rows or (" | ".join(c for c in row if c) for row in grid if any(row)))


def _load_docx(path: Path, data: bytes) -> tuple[str, list[Page]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, LxmlError) as err:
        raise LoadError(path, f"is not a readable Word document: {err}") from err
    pages: list[list[str]] = [[]]
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = docx.text.paragraph.Paragraph(child, document)
            text = paragraph.text.strip()
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            if text:
                level = re.match(r"Heading (\d)", style)
                if level:
                    text = "#" * int(level.group(1)) + " " + text
                elif style == "Title":
                    text = "# " + text
                elif style.startswith("List"):
                    text = "- " + text
                pages[-1].append(text)
            if child.xpath('.//w:br[@w:type="page"]'):
                pages.append([])
        elif tag == "tbl":
            grid = []
            for row in docx.table.Table(child, document).rows:
                merged = [cell._tc for cell in row.cells]  # a merged cell repeats: once
                grid.append(
                    [
                        cell.text.strip()
                        for k, cell in enumerate(row.cells)
                        if k == 0 or merged[k] is not merged[k - 1]
                    ]
                )
            rows = rows_with_headers(grid)  # Word marks no header row that is read reliably
            pages[-1].extend(rows or (" | ".join(c for c in row if c) for row in grid if any(row)))
    title = (document.core_properties.title or "").strip()
    result = [Page(i + 1, normalise_text("\n\n".join(blocks))) for i, blocks in enumerate(pages)]
    while len(result) > 1 and not result[-1].text.strip():
        result.pop()
    return title, result
