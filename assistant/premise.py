"""The premise check: before an answer is composed, what the question presumes (a figure, a
year, a name, the thing it asks for) must stand in the evidence, or the answer says it does not.
A close-sounding passage is always found; a similarity threshold alone lets a false premise by."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .citations import (
    PERSON_NAME,
    digits_for_words,
    names_in,
    negated,
    numbers_in,
    split_sentences,
    stem,
)
from .lexical import index_terms, stems_of, stopwords, tokenize
from .models import Passage

# The thing a question asks for ("what is the salary of", "who was the convener of", "how large
# a grant", "how many homes"): a word of it the whole index never uses is a thing the
# documents cannot tell.
_FOCUS = re.compile(
    r"^\s*(?:(?:what|which|who)\s+(?:is|are|was|were)\s+the|how\s+(?:many|much)|"
    r"how\s+(?:large|big|long|high|small)\s+an?)\s+(?P<focus>[a-z][a-z' -]*?)"
    r"(?=\s+(?:of|on|in|for|at|to|from|by|with|between|under|does|did|do|is|are|was|were|has"
    r"|have|had|will|would|can|could|should|the|a|an)\b|\s*[?,.;:]|\s*$)",
    re.I,
)
# An amount: money, a share, or a large number ("£2 billion", "75%", "1.5 million").
_AMOUNT = re.compile(
    r"[£$€]\s?\d|\b\d[\d,.]*\s*(?:%|per cent|million|billion|thousand|bn)(?!\w)", re.I
)
# "What was the ... score/rate/cost ...": a quantity, which some sentence must give as a figure.
_QUANTITY = re.compile(
    r"^\s*what\s+(?:is|was|are|were)\s+(?:the\s+)?(?:[\w'\u2019]+\s+){0,4}?"
    r"(?P<noun>score|rate|share|proportion|percentage|cost|budget|salary|total|turnout|amount"
    r"|spend|spending|price)s?\b",
    re.I,
)
# "Who chairs ...", "Who was the first Commissioner ...", "Which minister leads ...", "the name
# of the chair of ...": the holder of a role, whom some sentence must name beside the role.
_HOLDER = re.compile(
    r"^\s*(?:who\s+(?P<verb>chairs|chaired|leads|led|heads|headed|runs|ran|convenes|convened"
    r"|funds|funded|finances|financed|pays|paid|employs|employed|appoints|appointed"
    r"|wrote|writes|authored)\b"
    r"|who\s+(?:is|was|are|were|has\s+been|have\s+been)\s+(?:the\s+)?"
    r"(?:current\s+|first\s+|new\s+|next\s+)?(?P<role>[a-z' -]+?)"
    r"(?=\s+(?:of|for|on|in|at|when|now)\b|\s*\?|\s*$)"
    r"|which\s+(?:[a-z]+\s+)?(?P<office>minister|secretary|official|person|adviser)s?\s+"
    r"(?:leads|led|heads|headed|runs|ran|chairs|chaired)\b"
    r"|what\s+(?:is|was)\s+the\s+name\s+of\s+the\s+(?P<named>[a-z]+)\s+of\b)",
    re.I,
)
# The roles a person holds, for "who is the X": a body can be "responsible", not "the chair".
_PERSON_ROLE = re.compile(
    r"\b(chair|chairs|chairman|chairwoman|chairperson|convener|head|leader|minister|secretary"
    r"|commissioner|commissioners|adviser|advisor|director|president|speaker|clerk|author"
    r"|authors)\b",
    re.I,
)
# "Who sits on ...", "Which departments sit on ...": members, whom some sentence must name
# beside the body they sit on.
_MEMBERS = re.compile(
    r"^\s*(?:who|which\s+[a-z]+)\s+(?:sits?|sat|serves?|served)\s+on\s+(?P<body>[^?]+)", re.I
)
# "When will ...", "When is ... due", "When does ... next ...": a time ahead, which a sentence
# about the thing must give ("clean power by 2030", "by the end of the Parliament"); a date
# that has passed does not answer it.
_WHEN_AHEAD = re.compile(
    r"^\s*(?:when|by\s+when|(?:in\s+|by\s+)?(?:which|what)\s+(?:year|month|date))\s+"
    r"(?:will|shall|(?:is|are)\b.*\b(?:due|expected|scheduled|planned|meant|going)\b|.*\bnext\b)",
    re.I,
)
_MONTH = (
    r"January|February|March|April|May|June|July|August|September|October|November|December"
    r"|spring|summer|autumn|winter"
)
_TIME_AHEAD = re.compile(
    r"\b(?:by|before|until|no later than|due(?:\s+(?:in|by|on))?|expected(?:\s+(?:in|by|on))?"
    r"|scheduled\s+for|planned\s+for)\s+(?:the\s+end\s+of\s+(?:the\s+)?|(?:early|late|mid)[- ]?"
    rf"|\d{{1,2}}\s+)?(?:\d{{4}}|{_MONTH}|parliament|decade)\b"
    r"|\bwithin\s+\w+\s+(?:years?|months?|weeks?)\b|\bnext\s+(?:due|expected|in|on)\b"
    # "will open its terminal in 2027", "is due to report in March"
    r"|\b(?:will|shall|(?:is|are)\s+(?:(?:due|expected|scheduled|set|planned|going|meant)\s+)?to"
    r"|plans?\s+to|aims?\s+to|intends?\s+to)\b"
    rf"[^.;]{{0,80}}?\b(?:in|on|by|from|during)\s+(?:\d{{1,2}}\s+)?(?:{_MONTH}|\d{{4}})\b",
    re.I,
)
# Words for a thing being done, as light stems.
_DONE = frozenset(
    stem(w)
    for w in ("reached", "delivered", "met", "achieved", "completed", "attained", "fulfilled")
)
# "What did X say in reply to ...", "How did X respond ...", "What was X's response ...": a
# reply, which a sentence must give with X beside a word for replying, and not as something it
# leaves out ("nor the Scottish Government's response").
_REPLY = re.compile(
    r"^\s*(?:what\s+did\s+(?P<said>.+?)\s+say\s+in\s+(?:reply|response|answer)\b"
    r"|how\s+(?:did|has|have|will)\s+(?P<how>.+?)\s+(?:respond|reply|react|answer)\b"
    r"|what\s+(?:was|is|were)\s+(?P<whose>.+?)['\u2019]s?\s+(?:response|reply|answer|reaction)\b"
    r"|(?:did|has|have)\s+(?P<did>.+?)\s+(?:respond|responded|reply|replied)\b)",
    re.I,
)
_REPLY_WORD = re.compile(r"\b(?:respon\w*|repl(?:y|ied|ies)|answer\w*|react\w*)\b", re.I)
# "Which department is responsible for ...", "Which minister is accountable for ...": an office
# holder, whom a sentence about the thing must name: a department or a minister by office.
_RESPONSIBLE = re.compile(
    r"^\s*(?:which|what)\s+(?P<office>minister|department|ministry|secretary\s+of\s+state)s?\s+"
    r"(?:(?:is|are|was|were|will\s+be)\s+(?:responsible|accountable|in\s+charge)\s+for"
    r"|(?:leads|led|owns|runs|oversees|heads))\s+(?P<thing>[^?]+)",
    re.I,
)
_OFFICE_HOLDER = {
    "department": re.compile(
        r"\b(?:Department\s+(?:for|of)\s+[A-Z]|Ministry\s+of\s+[A-Z]|Home\s+Office|Cabinet\s+Office"
        r"|Foreign\s+Office|Treasury)"
    ),
    "minister": re.compile(
        r"\b(?:Minister|Secretary\s+of\s+State)\s+(?:for|of)\s+[A-Z]|\bPrime\s+Minister\b"
        r"|\bChancellor\b|\bFirst\s+Minister\b|\b(?:Welsh|Scottish)\s+Ministers\b"
    ),
}
# "What share of ...", "What percentage of ...": a share, which a sentence about the thing
# must give ("92% of patients", "three in four", "half").
_SHARE = re.compile(r"^\s*(?:what|which)\s+(?:share|percentage|proportion|fraction)\b", re.I)
_PROPORTION = re.compile(
    r"\d\s*%|\bper\s*cent\b|\b(?:half|a\s+third|two\s+thirds|a\s+quarter|three\s+quarters)\b"
    r"|\b(?:one|two|three|four|\d+)\s+in\s+(?:two|three|four|five|ten|\d+)\b",
    re.I,
)
# "Where is ... based", "Where was ... set out": a place or a document, named after "in", "at".
_WHERE = re.compile(r"^\s*where\s+(?:is|are|was|were|do|does|did|will|can)\b", re.I)
_PLACE = re.compile(r"\b(?:in|at|from|near|inside|outside)\s+(?:the\s+)?[A-Z][\w'\u2019-]+")
# "Did the Senedd amend ...", "Has Scotland adopted ...", "Why did the Executive abandon ...": the
# thing done, which a sentence about the named subject must mention (saying it was or was not
# done). "Why does X think ..." asks for a reason, not a deed.
_YES_NO = re.compile(
    r"^\s*(?:(?i:why)\s+(?=(?i:did|has|have|had)\b))?(?P<aux>(?i:did|does|do|has|have|had))\s+"
    r"(?P<the>the\s+)?"
    r"(?P<subject>[A-Z][\w'\u2019-]*(?:\s+(?:[A-Z][\w'\u2019-]*|of|for|and|the))*)\s+"
    r"(?P<verb>[a-z]{3,})\b(?P<rest>[^?]*)"
)
# "Which ministers gave evidence ...", "Which officials wrote ...": people, whom a sentence with
# the thing done must name.
_PEOPLE = re.compile(
    r"^\s*which\s+(?:[a-z]+\s+)?(?P<people>ministers?|officials?|people|persons?|advisers?"
    r"|servants|witnesses|experts?|mps|politicians?|academics?)\s+(?P<verb>[a-z]{3,})\b"
    r"(?P<rest>[^?]*)",
    re.I,
)
# "Which councils have ignored ...", "Which committee published ...": the deed, which some
# sentence must mention.
_WHICH_DID = re.compile(
    r"^\s*(?:which|list\s+the|name\s+the)\s+(?:[a-z]+\s+)?(?P<things>[a-z]+)\s+"
    r"(?:(?:[\w'\u2019-]+\s+){0,4}?(?:have|has|had)\s+)?"
    r"(?P<verb>[a-z]{3,}ed)\b(?P<rest>[^?]*)",
    re.I,
)
# "How long did ... last", "How long is the term": a length of time, or a span from one date to
# another, in a sentence about the thing.
_HOW_LONG = re.compile(r"^\s*how\s+long\s+(?:did|does|do|will|is|was|are|were|has|have)\b", re.I)
_DURATION = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty)"
    r"\s+(?:years?|months?|weeks?|days?)\b|\bfrom\s+[^.;]{1,40}?\s+(?:to|until)\s+"
    r"|\b(?:19|20)\d\d\s*(?:-|\u2013|to)\s*(?:19|20)?\d\d\b",
    re.I,
)
# "How often does ... meet": a frequency, in a sentence about the thing.
_HOW_OFTEN = re.compile(r"^\s*how\s+(?:often|frequently)\b", re.I)
_FREQUENCY = re.compile(
    r"\bevery\s+(?:\w+\s+)?(?:years?|months?|weeks?|days?|parliament)\b|\b(?:annual|annually"
    r"|yearly|monthly|weekly|daily|quarterly|once|twice)\b|\b(?:a|per|each)\s+(?:year|month|week)\b",
    re.I,
)
# "What reasons did X give for ...", "Why did X ...": a reason, in a sentence about the thing.
_REASONS = re.compile(
    r"^\s*(?:(?:what|which)\s+(?:reasons?|grounds)\b|why\s+(?:did|was|were|has|have|had)\b)",
    re.I,
)
_BECAUSE = re.compile(
    r"\b(?:because|since|as\s+a\s+result|owing\s+to|due\s+to|reasons?|so\s+that|in\s+order\s+to"
    r"|led\s+to|meant\s+that|which\s+is\s+why)\b",
    re.I,
)
# "Who will succeed ...": a person still to come, whom a sentence must name with what is ahead.
_WHO_WILL = re.compile(r"^\s*who\s+(?:will|shall)\b", re.I)
_AHEAD = re.compile(r"\b(?:will|shall|next|due|expected|successor|to\s+be\s+appointed)\b", re.I)
# "What is Carnegie UK's view of ...", "What does X think of ...": a view, which a passage must
# hold with both the one who holds it and what it is of.
_VIEW = re.compile(
    r"^\s*(?:what\s+(?:is|was|are|were)\s+(?P<whose>.+?)['\u2019]s?\s+"
    r"(?:view|views|opinion|position|stance|verdict|assessment)\s+(?:of|on|about)"
    r"|what\s+(?:does|did|do)\s+(?P<who>.+?)\s+(?:think|say|make)\s+(?:of|about))"
    r"\s+(?P<what>[^?]+)",
    re.I,
)
# A name as a question writes it: "Liaison Committee", "Future Generations Commissioner".
_CAPITALISED = re.compile(
    r"\b[A-Z][\w\u2019'-]*(?:\s+(?:(?:of|for|and|the)\s+)?[A-Z][\w\u2019'-]*)*"
)
# Words of a question that sets things side by side.
_COMPARING = re.compile(
    r"\b(?:and|or|compare[sd]?|comparison|differ|differs|difference|differences|between|versus"
    r"|vs|both|each|either|neither)\b",
    re.I,
)
_PARTICLES = frozenset({"out", "up", "down", "off", "on", "in"})
# Verbs whose past forms a stemmer does not bring back to them: found, find.
_PAST_FORMS = {
    "give": ("gave", "given"),
    "take": ("took", "taken"),
    "write": ("wrote", "written"),
    "meet": ("met",),
    "speak": ("spoke", "spoken"),
    "sit": ("sat",),
    "lead": ("led",),
    "run": ("ran",),
    "make": ("made",),
    "find": ("found",),
    "hold": ("held",),
    "build": ("built",),
    "begin": ("began", "begun"),
    "draw": ("drew", "drawn"),
    "leave": ("left",),
    "choose": ("chose", "chosen"),
}
_BASE = {past: base for base, pasts in _PAST_FORMS.items() for past in pasts}
_ANY = re.compile("")
_FIGURE = re.compile(r"\d[\d,.]*%?")
_YEAR = re.compile(r"(?:19|20)\d\d")
# Words before a figure that make it a reference, not a count: "HC 846", "section 11".
_REFERENCE = frozenset({"hc", "no", "no.", "section", "sections", "part", "parts", "asp", "anaw"})
# A list item's number ("3 Safer streets: halve ...") counts nothing.
_LIST_MARK = re.compile(r"^(?:\d{1,2}[.)]?|[\u2022*-])\s+(?=[A-Z])")
# "... were recorded", "... was abolished": an event the index never names did not happen in it.
_PARTICIPLE = re.compile(r"\b(?:is|are|was|were|be|been|being)\s+(?P<verb>[a-z]{3,}ed)\b", re.I)
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
    reasons argument approach idea view views opinion stance verdict assessment reaction
    """.split()  # noqa: SIM905 (a word list reads better as words)
)


def answer_pattern(question: str) -> re.Pattern[str] | None:
    """What a sentence answering the question holds, for the forms the check knows: a length
    of time for "how long", a frequency for "how often", a share, a place, a reason, a date
    still to come; None for other forms."""
    asked = (
        (_HOW_LONG, _DURATION),
        (_HOW_OFTEN, _FREQUENCY),
        (_SHARE, _PROPORTION),
        (_WHERE, _PLACE),
        (_REASONS, _BECAUSE),
        (_WHEN_AHEAD, _TIME_AHEAD),
    )
    return next((gives for asks, gives in asked if asks.match(question)), None)


def _noun_forms(word: str) -> set[str]:
    """A noun and its likely singular and plural: salary, salaries; board, boards."""
    forms = {word, word + "s", word + "es"}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    elif word.endswith("y"):
        forms.add(word[:-1] + "ies")
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("s"):
        forms.add(word[:-1])
    return forms


def _content_words(text: str) -> list[str]:
    words = re.findall(r"[a-z][a-z-]+", text.lower())
    return [w for w in words if w not in stopwords() and w not in ASKING]


def _counts(sentence: str, word: str) -> bool:
    """Whether the sentence counts the word: a figure up to four words before it ("46
    national indicators", "seventeen milestones") in the same table cell, or in a table row, a
    figure in the cell beside the one naming it. A year or a reference ("HC 846") counts
    nothing."""
    text = digits_for_words(_LIST_MARK.sub("", sentence)).casefold()
    key = stem(word)
    cells = [c.strip() for c in text.strip("| ").split(" | ")]
    # A row counts the word when one cell names it and another is a figure:
    # "Number of outcomes | 13, up from 11", not "Official source | ... HC 846".
    named = [c for c in cells if key in c]
    if len(cells) > 1 and named:
        figures = [c for c in cells if key not in c and re.match(r"\d", c)]
        if any(not _YEAR.match(c) for c in figures):
            return True
    for cell in cells:
        tokens = re.findall(r"[\w.,%]+", cell)
        for i, token in enumerate(tokens):
            if not token.startswith(key):
                continue
            for j in range(max(0, i - 4), i):
                figure = _FIGURE.fullmatch(tokens[j]) and not _YEAR.fullmatch(tokens[j])
                if figure and (j == 0 or tokens[j - 1] not in _REFERENCE):
                    return True
    return False


def _named_near(sentence: str, key: str, reach: int = 50) -> bool:
    """Whether a person's name stands within `reach` characters of the role word (its stem
    `key`): "Sir Mark Sedwill as National Security Adviser", not a list that ends in
    "Natural Resources Wales" many words after "the Welsh Ministers"."""
    roles = [m.start() for m in re.finditer(re.escape(key), sentence.casefold())]
    return any(
        abs(r - m.start()) <= reach or abs(r - m.end()) <= reach
        for m in PERSON_NAME.finditer(sentence)
        for r in roles
    )


class _Sentence(str):
    """A sentence of the evidence, with the title of its document and the passage it is in:
    "the consultation ran from March to June" is about Scotland when the document is
    Scotland's framework."""

    title: str
    passage: str

    def __new__(cls, text: str, title: str = "", passage: str = "") -> _Sentence:
        sentence = super().__new__(cls, text)
        sentence.title, sentence.passage = title, passage
        return sentence


def _mentions(sentence: str, words: Sequence[str], wide: bool = False) -> int:
    """How many of the words the sentence holds, in any form (or its document's title; wide:
    or the passage around it)."""
    around = getattr(sentence, "passage", "") if wide else ""
    text = f"{sentence} {getattr(sentence, 'title', '')} {around}".casefold()
    text += " " + " ".join(_BASE.get(w, w) for w in re.findall(r"[a-z]+", text))
    return sum(stem(w) in text for w in words)


def _about(
    sentences: Sequence[str],
    words: Sequence[str],
    pattern: re.Pattern[str],
    strict: bool = False,
    wide: bool = False,
) -> list[str]:
    """The sentences that match the pattern and hold at least half of the words (strict: both
    of two; wide: in the sentence's passage)."""
    enough = len(words) if strict and len(words) <= 2 else (len(words) + 1) // 2
    return [s for s in sentences if pattern.search(s) and _mentions(s, words, wide) >= enough]


def _ahead_missing(question: str, sentences: Sequence[str]) -> str | None:
    """For "when will ..." and "when ... next": what it asks, when no sentence about half of
    what the question names gives a time ahead."""
    if not _WHEN_AHEAD.match(question):
        return None
    about = [w for w in _content_words(question) if w != "next"]
    # "... be reviewed": the sentence must say when that happens. A deadline ("clean power by
    # 2030") answers when a thing is to be done, under any word for doing it.
    events = [stem(m.group("verb").lower()) for m in _PARTICIPLE.finditer(question)]
    for sentence in _about(sentences, about, _TIME_AHEAD):
        if negated(sentence):
            continue  # "It does not cover the Programmes before 2016" gives no date
        if all(e in _DONE or e in sentence.casefold() for e in events):
            return None
    return "a date still to come"


def _reply_missing(question: str, sentences: Sequence[str]) -> str | None:
    """For "what did X say in reply", "how did X respond": what it asks, when no sentence has X
    within 80 characters of a word for replying, other than one saying what it leaves out."""
    match = _REPLY.match(question)
    if not match:
        return None
    who = next(g for g in match.group("said", "how", "whose", "did") if g)
    words = _content_words(who)
    if not words:
        return None
    for sentence in sentences:
        text = sentence.casefold()
        if negated(sentence) or _mentions(sentence, words) < len(words):
            continue
        places = [m.start() for w in words for m in re.finditer(re.escape(stem(w)), text)]
        if any(abs(r.start() - p) <= 80 for r in _REPLY_WORD.finditer(text) for p in places):
            return None
    return f"a reply from {who.strip()}"


def _office_missing(question: str, sentences: Sequence[str]) -> str | None:
    """For "which department (or minister) is responsible for X": what it asks, when no
    sentence about X names a department (or a minister)."""
    match = _RESPONSIBLE.match(question)
    if not match:
        return None
    office = match.group("office").lower()
    kind = "department" if office in ("department", "ministry") else "minister"
    holder = _OFFICE_HOLDER[kind]
    for sentence in _about(sentences, _content_words(match.group("thing")), _ANY, strict=True):
        if holder.search(sentence) or (kind == "minister" and PERSON_NAME.search(sentence)):
            return None
    return f"the {office} responsible for {match.group('thing').strip()}"


def _time_missing(question: str, sentences: Sequence[str]) -> str | None:
    """For "how long", "how often", "why did" and "who will": what it asks, when no sentence
    about it gives a length of time, a frequency or a reason, or names a person still to come."""
    about = _content_words(question)
    if _HOW_LONG.match(question) and not _about(sentences, about, _DURATION):
        return "a length of time"
    if _HOW_OFTEN.match(question) and not _about(sentences, about, _FREQUENCY):
        return "how often it happens"
    if _REASONS.match(question) and not [
        s for s in _about(sentences, about, _BECAUSE) if not negated(s)
    ]:
        return "a reason"
    if _WHO_WILL.match(question) and not any(
        PERSON_NAME.search(s) for s in _about(sentences, about, _AHEAD)
    ):
        return "who it will be"
    return None


def _apart(question: str, names: Sequence[str], passages: Sequence[Passage]) -> str | None:
    """The question's names and figures, when no one passage holds them all: "Audit Wales",
    "Welsh Government" and "2025" each appear, but never together. A comparison ("how do Wales
    and Scotland differ") draws on a passage for each side, and is let be."""
    keys = [stem(n) for n in names] + sorted(numbers_in(question))
    if len(keys) < 2 or _COMPARING.search(question):
        return None
    for p in passages:
        text = f"{p.text} {p.title}".casefold().replace("\u2019", "'")
        if all(k in text for k in keys):
            return None
    named = [m.group(0) for m in _CAPITALISED.finditer(question) if m.start() > 0]
    named += sorted(numbers_in(question))
    if len(named) > 1:
        return f"{', '.join(named[:-1])} and {named[-1]} together"
    return named[0] if named else ", ".join(keys)  # "National Security Council", as one name


def _view_missing(question: str, passages: Sequence[Passage]) -> str | None:
    """For "what is X's view of Y": what it asks, when no passage names both X and Y."""
    match = _VIEW.match(question)
    if not match:
        return None
    who = _content_words(match.group("whose") or match.group("who"))
    what = _content_words(match.group("what"))
    for p in passages:
        context = _Sentence(p.text, p.title)
        if _mentions(context, who) == len(who) and _mentions(context, what) >= (len(what) + 1) // 2:
            return None
    return f"a view of {match.group('what').strip()}"


def _verb_in(sentence: str, verb: str) -> bool:
    """Whether the sentence uses the verb in any form: amend, amended, amendment; find, found."""
    base = _BASE.get(verb, verb)
    root = index_terms([base])[0]
    tokens = tokenize(sentence)
    return any(w.startswith(root) for w in index_terms(tokens)) or bool(
        set(_PAST_FORMS.get(base, ())) & set(tokens)
    )


def _share_missing(question: str, sentences: Sequence[str]) -> str | None:
    """For "what share of ...": what it asks, when no sentence about it gives a share."""
    if not _SHARE.match(question):
        return None
    if _about(sentences, _content_words(question), _PROPORTION):
        return None
    return "a share or percentage"


def _place_missing(question: str, sentences: Sequence[str]) -> str | None:
    """For "where is ... based": what it asks, when no sentence about it names a place where
    it is so."""
    if not _WHERE.match(question):
        return None
    # "... based", "... held", "... set out": the sentence must say that, not just name a place.
    words = re.findall(r"[a-z]+", question.lower())
    while words and words[-1] in _PARTICLES:
        words.pop()
    last = words[-1] if words else ""
    done = last if last.endswith("ed") or last in _BASE or last in ("set", "put", "done") else ""
    for sentence in _about(sentences, _content_words(question), _PLACE):
        if not done or _verb_in(sentence, done):
            return None
    return "a place"


def _deed_missing(question: str, sentences: Sequence[str]) -> str | None:
    """For "did X do Y" and "which people did Y": what it asks, when no sentence about X (or
    naming a person) says Y, in any form, was or was not done."""
    asked = _YES_NO.match(question)
    people = None if asked else _PEOPLE.match(question)
    things = None if asked or people else _WHICH_DID.match(question)
    if things and things.group("things").lower() in stopwords():
        things = None  # "which of the devolved frameworks": "devolved" is not a deed
    match = asked or people or things
    if not match:
        return None
    verb = match.group("verb").lower()
    if verb in ASKING or verb in stopwords():
        return None
    named = match.group("subject") if asked else (things.group("things") if things else "")
    subject, done_to = _content_words(named), _content_words(match.group("rest"))
    # People are named in many sentences; one about the deed must hold what it was done to, as
    # must one about a named subject ("published a follow-up report", not just "published").
    # A deed may be told in a sentence that leans on the one before ("They ... added").
    strict = bool(people or subject)
    for sentence in _about(sentences, done_to, _ANY, strict=strict, wide=not people):
        if not _verb_in(sentence, verb) or _mentions(sentence, subject, True) < len(subject):
            continue
        if (
            not people
            or PERSON_NAME.search(sentence)
            or _OFFICE_HOLDER["minister"].search(sentence)
        ):
            return None
    if things:
        return "which " + question[things.start("things") :].strip().rstrip("?.!").lower()
    if asked:
        the, aux = asked.group("the") or "", asked.group("aux").lower()
        return f"whether {the}{named.strip()} {aux} {verb}{asked.group('rest').rstrip()}"
    return f"the {match.group('people').lower()} who {verb}"


def _holder_missing(question: str, passages: Sequence[Passage]) -> str | None:
    """For a question after the holder of a role or the members of a body: what it asks, when
    no sentence names anyone beside the role, in a passage about what the question names."""
    holder, members = _HOLDER.match(question), _MEMBERS.match(question)
    if holder:
        verb, role, office, named = holder.group("verb", "role", "office", "named")
        asked = f"who {verb.lower()}" if verb else f"who is the {role or office or named}"
        key = stem(re.findall(r"[a-z]+", (verb or role or office or named).lower())[-1])
        key = {"led": "lead", "ran": "run", "wrote": "author", "writ": "author"}.get(key, key)
        if role and not _PERSON_ROLE.search(role):
            return None  # "who is responsible for ...": a body may be the answer
        about = _content_words(question[holder.end() :])
        enough = (len(about) + 1) // 2  # a passage about half of what the question names
    elif members:
        asked = f"who sits on {members.group('body').strip()}"
        about = _content_words(members.group("body"))
        key = stem(about[-1]) if about else ""
        enough = len(about)  # a passage about the body itself, all of its name
    else:
        return None
    given = names_in(question)
    for p in passages:
        if _mentions(p.text, about) < enough:
            continue
        for sentence in split_sentences(p.text):
            if key not in sentence.casefold():
                continue
            if holder and _named_near(sentence, key):
                return None
            # A member is any name the question does not already give ("Natural Resources").
            if members and names_in(sentence) - given:
                return None
    return asked


def missing_terms(
    question: str, passages: Sequence[Passage], vocabulary: frozenset[str]
) -> list[str]:
    """The question's figures, names, asked-for thing and events that the evidence never
    mentions, as short phrases for the answer to name; empty when the premise
    holds. vocabulary: every word the index holds, for things no document could tell."""
    evidence = " ".join(p.text + " " + p.title for p in passages)
    evidence = re.sub(r"\s+", " ", evidence).casefold().replace("\u2019", "'")
    missing = [n for n in sorted(numbers_in(question)) if n not in evidence]
    names = sorted(n for n in names_in(question) if n not in ASKING and n not in stopwords())
    missing += [n for n in names if stem(n) not in evidence]
    # A compound ("follow-up report", "real-time dashboard") names a thing as a name does.
    missing += [
        c
        for c in re.findall(r"\b[a-z]+(?:-[a-z]+)+\b", question.lower())
        if c not in evidence
        and c.replace("-", " ") not in evidence
        and c.replace("-", "") not in evidence
    ]
    if not missing:
        missing += filter(None, [_apart(question, names, passages)])
    stems = stems_of(vocabulary)
    sentences = [_Sentence(s, p.title, p.text) for p in passages for s in split_sentences(p.text)]
    focus = _FOCUS.match(question)
    if focus:
        words = [
            w
            for w in re.findall(
                r"[a-z]+", re.sub(r"['\u2019]s\b", "", focus.group("focus").lower())
            )
            if w not in ASKING and w not in stopwords()
        ]
        # A noun of the thing asked for, in none of its forms anywhere in the index.
        missing += [w for w in words if not _noun_forms(w) & vocabulary]
        # "How many X": some sentence must count X by its head noun ("46 national
        # indicators"). The words after the last plural are taken for a verb ("how many people
        # work ...").
        while len(words) > 1 and not words[-1].endswith("s"):
            words.pop()
        asked = question.lower().lstrip()
        if (
            asked.startswith("how many")
            and words
            and not any(_counts(s, words[-1]) for s in sentences)
        ):
            missing.append(f"a number of {' '.join(words)}")
    # "How much ...": an amount, in a sentence about half of what the question names.
    asked = question.lower().lstrip()
    if asked.startswith("how much") and not _about(sentences, _content_words(question), _AMOUNT):
        missing.append("an amount")
    # "What was the wellbeing score ...": a figure beside the quantity asked for.
    quantity = _QUANTITY.match(question)
    if quantity:
        noun = stem(quantity.group("noun").lower())
        # Not a sentence saying what it leaves out ("does not describe budgets ... 10 ...").
        if not any(noun in s.lower() and numbers_in(s) and not negated(s) for s in sentences):
            missing.append(f"a figure for the {quantity.group('noun').lower()}")
    holder = _holder_missing(question, passages)
    if holder:
        missing.append(holder)
    else:
        missing += filter(None, [_office_missing(question, sentences)])
    missing += filter(
        None,
        [
            _ahead_missing(question, sentences),
            _reply_missing(question, sentences),
            _share_missing(question, sentences),
            _place_missing(question, sentences),
            _time_missing(question, sentences),
            _view_missing(question, passages),
            None if holder else _deed_missing(question, sentences),
        ],
    )
    done = {stem(w) for w in re.findall(r"[a-z]+", evidence)} & _DONE
    for match in _PARTICIPLE.finditer(question):
        verb = match.group("verb").lower()
        if stem(verb) in _DONE and done:
            continue  # "completed", where the evidence says "reached"
        if stem(verb) not in evidence and index_terms([verb])[0] not in stems:
            missing.append(verb)
    if _NOW.search(question) and _PROGRESS.search(question) and not _REPORTS_NOW.search(evidence):
        missing.append("the current position (the documents report what was planned)")
    return list(dict.fromkeys(missing))
