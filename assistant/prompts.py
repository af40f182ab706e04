"""Prompt templates, plain files in prompts/, loaded by name; a missing variable is an error."""

from __future__ import annotations

import os
import re
import string
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(
    os.environ.get("ASSISTANT_PROMPTS_DIR", Path(__file__).resolve().parents[1] / "prompts")
)


class PromptError(KeyError):
    """A template that cannot be filled; str() names the template and the variable."""

    def __str__(self) -> str:
        return str(self.args[0])


@cache
def _template(name: str) -> string.Template:
    path = PROMPTS_DIR / f"{name}.txt"
    try:
        return string.Template(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise PromptError(f"prompt {name!r}: no file {path}") from err


def render(name: str, **values: str) -> str:
    """Fills the template `name` (prompts/NAME.txt); raises PromptError on a missing or unused
    variable, so that a template and its caller cannot drift apart."""
    template = _template(name)
    wanted = {
        m.group("named") or m.group("braced")
        for m in template.pattern.finditer(template.template)
        if m.group("named") or m.group("braced")
    }
    missing, unused = wanted - values.keys(), values.keys() - wanted
    if missing or unused:
        problem = (
            f"needs {', '.join(sorted(missing))}"
            if missing
            else f"has no place for {', '.join(sorted(unused))}"
        )
        raise PromptError(f"prompt {name!r} {problem}")
    return template.substitute(values)


def _letters(word: str) -> str:
    """A pattern for the word in any case, in ASCII or fullwidth letters."""
    return "".join(
        f"[{c}{c.upper()}{chr(ord(c) + 0xFEE0)}{chr(ord(c.upper()) + 0xFEE0)}]" for c in word
    )


# Anything a model might read as a passage tag: "<passage", "</passage>", "< /passage >",
# "</passage" with no ">", fullwidth or small-form brackets ("＜/passage＞"), "&lt;/passage&gt;",
# and invisible characters between the pieces; with what follows up to its ">" on that line.
_GAP = r"[\s\u00ad\u200b-\u200f\u2060\ufeff]*"
_OPEN = r"(?:<|\uff1c|\ufe64|\u2039|\u2329|\u27e8|\u3008|&lt;?|&#0*60;?|&#x0*3c;?)"
_SLASH = r"(?:[/\uff0f\u2044\u2215\u29f8\\]|&#0*47;?|&#x0*2f;?|&sol;?)?"
_CLOSE = r"(?:>|\uff1e|\ufe65|\u203a|\u232a|\u27e9|\u3009|&gt;?|&#0*62;?|&#x0*3e;?)"
_REST = rf"(?:[^\n<>\uff1c\uff1e]{{0,200}}?{_CLOSE})?"
_NEAR_TAG = re.compile(_OPEN + _GAP + _SLASH + _GAP + _letters("passage") + _REST, re.IGNORECASE)


def escape_passage(text: str) -> str:
    """Passage text as evidence: it cannot close its own delimiter or pose as one, written
    whole or not ("</passage" with no ">"), spaced out, or in lookalike brackets."""
    return _NEAR_TAG.sub("[tag removed]", text)
