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
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator

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
