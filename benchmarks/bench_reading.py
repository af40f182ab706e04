"""Reading real PDFs: pages per second per stage, furniture left in the chunks, and a sample
of citations to check by hand.

Run: .venv/bin/python benchmarks/bench_reading.py [FOLDER] [--ocr-pages 4] [--sample 30]
FOLDER defaults to evals/realdocs/documents (19 public documents, 800-odd pages).

Stages, each timed over every page: pypdf's plain text (what LangChain's PyPDFLoader does),
this project's reading of positions (rows and columns), tables (pdfplumber, on the pages that
show rows), the page arrangement (furniture), and chunking. OCR is timed apart on
generated scanned pages.

Furniture is measured with another reader (pdfplumber's lines and their positions), so that
the measure does not share the reader's own idea of a header: a line of three words or more
drawn at the same place in a page's top or foot tenth on 30% of a document's pages (and 3 at
least). The share of chunks that hold such a line word for word is given for this pipeline
with ASSISTANT_PDF_LAYOUT on (the default) and off, and for the plain one (PyPDFLoader pages,
RecursiveCharacterTextSplitter 1000/200), and read closely with ASSISTANT_PDF_FOOTNOTES on
("notes").

Footnotes are found with pdfplumber too (a line in smaller type in a page's lower half that
opens on a number); a note interrupts the text where, in a chunk, its line holds other text
before it or the line after it carries on a sentence (opens in lower case).

Words broken by a space the page does not have ("depar tmental") are counted against
pdfplumber's words (characters drawn with no gap between them, spaces drawn as spaces): two
neighbours in a chunk that pdfplumber reads as one word, where one of them is never a word of
the document on its own.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.models import CALLS  # noqa: E402


def furniture_lines(path: Path) -> set[str]:
    import pdfplumber

    def key(text: str) -> str:
        return re.sub(r"\d+", "#", " ".join(text.lower().split()))

    pages: list[set[tuple[tuple[str, int], str]]] = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            edge = set()
            for line in page.extract_text_lines():
                at_edge = line["top"] < 0.1 * page.height or line["bottom"] > 0.9 * page.height
                if at_edge and len(line["text"].split()) >= 3:
                    edge.add(((key(line["text"]), round(line["top"] / 6)), line["text"]))
            pages.append(edge)
            page.close()
    counts = Counter(k for edge in pages for k, _ in edge)
    needed = max(3, 0.3 * len(pages))
    lines: dict[tuple[str, int], set[str]] = defaultdict(set)
    for edge in pages:
        for k, text in edge:
            if counts[k] >= needed:
                lines[k].add(text)
    return {text for texts in lines.values() for text in texts}


def footnote_openings(path: Path) -> set[str]:
    """The first five words of each footnote, found with another reader (pdfplumber): a line
    in the lower half of a page, in type smaller than most of the page's, that opens on a
    number and the words after it."""
    import pdfplumber

    openings = set()
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            lines = page.extract_text_lines(return_chars=True)
            sizes = Counter(round(c["size"]) for x in lines for c in x["chars"])
            if not sizes:
                continue
            body = sizes.most_common(1)[0][0]
            for x in lines:
                size = sum(c["size"] for c in x["chars"]) / len(x["chars"])
                words = x["text"].split()
                low = x["top"] > 0.5 * page.height
                numbered = len(words) >= 6 and re.fullmatch(r"\d{1,3}", words[0])
                if low and size < 0.9 * body and numbered:
                    openings.add(" ".join(words[1:6]))
            page.close()
    return openings


def reference_words(path: Path) -> set[str]:
    """The words of the document as another reader (pdfplumber) cuts them."""
    import pdfplumber

    found: set[str] = set()
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for word in page.extract_words(x_tolerance=1.5):
                found.update(re.findall(r"\w+", word["text"]))
            page.close()
    return found


def broken_words(chunks: list[str], words: set[str]) -> int:
    """Words broken in two by a space: neighbours "a b" that the other reader reads as the one
    word "ab", where "a" or "b" is never a word on its own."""
    found = 0
    for text in chunks:
        for a, b in re.findall(r"(?=\b(\w+) (\w+)\b)", text):
            found += a + b in words and (a not in words or b not in words)
    return found


def interruptions(chunks: list[str], openings: set[str]) -> int:
    """The footnotes that interrupt the text in these chunks: a note found on a line of the
    text (not one opening on a note's number), or whose next line carries on a sentence
    (opens in lower case)."""
    found = 0
    for text in chunks:
        lines = [" ".join(x.split()) for x in text.split("\n")]
        for i, line in enumerate(lines):
            for opening in openings:
                at = line.find(opening)
                if at < 0:
                    continue
                # a note's own line may hold words another note also opens with (a source
                # cited twice): only text before a note on a line of the text interrupts it
                own = re.match(rf"[0-9{CALLS}]+ ", line)
                before = "" if own else line[:at].strip()
                after = lines[i + 1] if i + 1 < len(lines) else ""
                found += bool(before) or after[:1].islower()
    return found


def share_with(chunks: list[str], lines: set[str]) -> int:
    return sum(1 for text in chunks if any(line in text for line in lines))


def read_stages(path: Path) -> tuple[dict[str, float], dict[str, list[str]], object]:
    """Seconds per stage for one file; its chunks' texts read closely (the default), read in
    pypdf's order (ASSISTANT_PDF_LAYOUT=false), and by the plain pipeline; and the document
    with its close-read chunks."""
    import io

    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from pypdf import PdfReader

    from assistant import pdf_layout
    from assistant.chunking import chunk_document
    from assistant.embeddings import count_tokens
    from assistant.loaders import Bounds, _place_tables, load_file

    data = path.read_bytes()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    plain = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    seconds["pypdf plain text"] = time.perf_counter() - started
    started = time.perf_counter()
    drawn = [pdf_layout.read_page(p, True) for p in PdfReader(io.BytesIO(data)).pages]
    seconds["positions, rows, columns"] = time.perf_counter() - started
    started = time.perf_counter()
    _place_tables(data, drawn)
    seconds["tables (pdfplumber)"] = time.perf_counter() - started
    started = time.perf_counter()
    pdf_layout.arrange(drawn)
    seconds["furniture"] = time.perf_counter() - started
    started = time.perf_counter()
    document = load_file(path, 10**9, Bounds(layout=True))
    whole = time.perf_counter() - started
    started = time.perf_counter()
    unarranged = chunk_document(load_file(path, 10**9, Bounds(layout=False)), count_tokens, 200)
    seconds["whole read, ASSISTANT_PDF_LAYOUT=false"] = time.perf_counter() - started
    started = time.perf_counter()
    noted = load_file(path, 10**9, Bounds(layout=True, footnotes=True))
    seconds["whole read, closely, footnotes set apart"] = time.perf_counter() - started
    started = time.perf_counter()
    chunks = chunk_document(document, count_tokens, 200)
    seconds["chunking"] = time.perf_counter() - started
    seconds["whole read, closely (default)"] = whole
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    plain_chunks = splitter.split_documents([Document(page_content=t) for t in plain])
    texts = {"closely": [c.text for c in chunks], "unarranged": [c.text for c in unarranged]}
    texts["notes"] = [c.text for c in chunk_document(noted, count_tokens, 200)]
    texts["plain"] = [c.page_content for c in plain_chunks]
    return seconds, texts, (document, chunks)


def ocr_rate(pages: int) -> tuple[float, float]:
    """Pages per second of OCR on generated scanned pages, and their mean confidence."""
    from assistant.loaders import load_file
    from tests.pdfs import make_image_pdf

    rng = random.Random(3)
    words = ["the", "board", "met", "in", "public", "and", "agreed", "the", "plan", "for", "next"]
    text = [[" ".join(rng.choice(words) for _ in range(8)) for _ in range(24)]] * pages
    with tempfile.TemporaryDirectory() as tmp:
        path = make_image_pdf(Path(tmp) / "scan.pdf", text)
        started = time.perf_counter()
        document = load_file(path, 10**9)
        seconds = time.perf_counter() - started
    confidence = sum(p.ocr or 0 for p in document.pages) / len(document.pages)
    return pages / seconds, confidence


def sample_citations(read: list[tuple[Path, object]], n: int, out: Path) -> None:
    """n citations, at random, of a numbered paragraph or a passage with printed page labels,
    made as an answer makes them (citations.citation_of), as a table to check by hand."""
    from assistant.citations import citation_of
    from assistant.models import Passage

    rng = random.Random(11)
    candidates = []
    for path, (document, chunks) in read:
        for chunk in chunks:
            if chunk.paragraphs or any(chunk.labels):
                candidates.append((path, document, chunk))
    rng.shuffle(candidates)
    rows = [
        "| # | document | PDF page | printed page | paragraph | opening words |",
        "|---|---|---|---|---|---|",
    ]
    for k, (path, _, chunk) in enumerate(candidates[:n], start=1):
        passage = Passage(
            n=1,
            chunk_id=chunk.chunk_id,
            doc_id=chunk.doc_id,
            title=path.name,
            source=str(path),
            page_start=chunk.page_start,
            page_end=chunk.page_end,
            section=chunk.section,
            text=chunk.text,
            score=1.0,
            labels=chunk.labels,
            paragraphs=chunk.paragraphs,
            page_spans=chunk.page_spans,
        )
        start, end, _ = chunk.paragraphs[0] if chunk.paragraphs else (0, 200, "")
        quote = " ".join(chunk.text[start:end].split()[:12])
        quote = quote if quote in chunk.text else chunk.text[start : start + 60]
        c = citation_of(passage, quote, True)
        printed = c.pages if c.label_start else "-"
        rows.append(
            f"| {k} | {path.name} | {c.page_start} | {printed} | {c.paragraph or '-'} | "
            f"{quote.replace('|', '/')} |"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT / "evals/realdocs/documents")
    parser.add_argument("--ocr-pages", type=int, default=4)
    parser.add_argument("--sample", type=int, default=30)
    args = parser.parse_args()
    from pypdf import PdfReader

    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    interrupted: Counter[str] = Counter()
    broken: Counter[str] = Counter()
    notes = 0
    counts: Counter[str] = Counter()
    pages = 0
    read = []
    for path in sorted(args.folder.glob("*.pdf")):
        count = len(PdfReader(path).pages)
        seconds, texts, parts = read_stages(path)
        lines = furniture_lines(path)
        found = {kind: share_with(chunks, lines) for kind, chunks in texts.items()}
        openings = footnote_openings(path)
        noted = {kind: interruptions(chunks, openings) for kind, chunks in texts.items()}
        words = reference_words(path)
        broken.update({kind: broken_words(chunks, words) for kind, chunks in texts.items()})
        print(
            f"{path.name[:48]:48} {count:4} pages  furniture in chunks: "
            + ", ".join(f"{kind} {found[kind]}/{len(texts[kind])}" for kind in texts)
            + "; footnotes interrupting: "
            + ", ".join(f"{kind} {noted[kind]}" for kind in texts)
        )
        totals.update(seconds)
        hits.update(found)
        interrupted.update(noted)
        notes += len(openings)
        counts.update({kind: len(chunks) for kind, chunks in texts.items()})
        pages += count
        read.append((path, parts))
    print(f"\n{pages} pages; pages per second by stage (2 cores, one process):")
    for stage, seconds in totals.items():
        print(f"  {stage:34} {pages / seconds:8.1f}")
    print("\nchunks holding a repeated header or footer line:")
    for kind in counts:
        print(f"  {kind:8} {hits[kind]}/{counts[kind]} ({hits[kind] / counts[kind]:.1%})")
    print(f"\nfootnotes interrupting the text, of {notes} found by pdfplumber:")
    for kind in counts:
        print(f"  {kind:8} {interrupted[kind]}")
    print("\nwords broken by a space the page does not have:")
    for kind in counts:
        print(f"  {kind:8} {broken[kind]}")
    if args.ocr_pages:
        rate, confidence = ocr_rate(args.ocr_pages)
        print(
            f"OCR (scanned pages at 200 dpi, drawn at 300): {rate:.2f} pages/s, "
            f"mean confidence {confidence:.0f}%"
        )
    if args.sample:
        out = ROOT / "benchmarks/out/citation-sample.md"
        sample_citations(read, args.sample, out)
        print(f"{args.sample} citations to check by hand: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
