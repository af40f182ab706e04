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


def escape_passage(text: str) -> str:
    """Passage text as evidence: it cannot close its own delimiter or pose as one."""
    return re.sub(r"</?\s*passage\b[^>]*>", "[tag removed]", text, flags=re.I)
