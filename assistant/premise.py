"""The premise check: before an answer is composed, what the question presumes (a figure, a
year, a name, the thing it asks for) must stand in the evidence, or the answer says it does not.
A close-sounding passage is always found; a similarity threshold alone lets a false premise by."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .citations import names_in, numbers_in, stem
from .lexical import stopwords
from .models import Passage

# "What is the salary of ...", "How much money ...": the thing asked for must be in the evidence.
_ASKED_FOR = re.compile(
    r"^\s*(?:(?:what|which)\s+(?:is|are|was|were)\s+the|how\s+(?:many|much))\s+(?P<thing>[a-z]+)",
    re.I,
)
# "Who sits on ...", "Who chaired ...": the relation asked about must be in the evidence.
_WHO_DID = re.compile(r"^\s*who\s+(?P<verb>[a-z]+)", re.I)
_AUXILIARY = frozenset("is are was were has have had did does do will would can could".split())  # noqa: SIM905
# A question about progress now ("how close ... today") needs evidence that reports the present.
_NOW = re.compile(r"\b(today|now|currently|so far|at the moment|to date|latest|this year)\b", re.I)
_PROGRESS = re.compile(r"\b(how (close|far|near)|progress|on track|achieved|met|delivered)\b", re.I)
_REPORTS_NOW = re.compile(
    r"\b(progress (so far|to date)|so far|to date|as of|latest figures?|"
    r"currently|this year)\b",
    re.I,
)
# Words that ask rather than name: they need not appear in the documents.
ASKING = frozenset(
    """
    what which when where who whom whose why how many much does did do is are was were has
    have had been being can could should would will shall may might must tell say says said
    describe explain give list compare mean means meant happen happened include includes
    included make made take taken need needs set sets use used main key kind kinds role roles
    between difference differences about each every other there their them they thing things
    way year years today now current currently risk risks danger dangers point purpose aim aims
    problem problems lesson lessons effect effects impact benefit benefits advantage reason
    reasons argument approach idea
    """.split()  # noqa: SIM905 (a word list reads better as words)
)


def missing_terms(
    question: str, passages: Sequence[Passage], vocabulary: frozenset[str]
) -> list[str]:
    """The question's figures, names, asked-for thing and relation that the evidence never
    mentions, as short phrases for the answer to name; empty when the premise holds."""
    evidence = " ".join(p.text + " " + p.title for p in passages)
    evidence = re.sub(r"\s+", " ", evidence).casefold().replace("\u2019", "'")
    missing = [n for n in sorted(numbers_in(question)) if n not in evidence]
    missing += sorted(
        n
        for n in names_in(question)
        if stem(n) not in evidence and n not in ASKING and n not in stopwords()
    )
    asked = _ASKED_FOR.match(question)
    if asked:
        thing = asked.group("thing").lower()
        # A word the whole index never uses: the documents cannot say what it asks for.
        known = any(t.startswith(thing[:5]) for t in vocabulary)
        if thing not in ASKING and thing[:5] not in evidence and not known:
            missing.append(thing)
    who = _WHO_DID.match(question)
    if who and who.group("verb").lower() not in _AUXILIARY:
        verb = who.group("verb").lower()
        if not re.search(rf"\b{re.escape(stem(verb))}[a-z]{{0,4}}\b", evidence):
            missing.append(f"who {verb}")
    if _NOW.search(question) and _PROGRESS.search(question) and not _REPORTS_NOW.search(evidence):
        missing.append("the current position (the documents report what was planned)")
    return list(dict.fromkeys(missing))
