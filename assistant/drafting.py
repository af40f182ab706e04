"""Briefing notes and comparisons, drafted from the indexed evidence.

Both ask the assistant once per side (a jurisdiction, or a document) with the side as a
filter, so every side's text is an answer like any other: selected, composed, verified and
cited, or "not found" where the side's documents do not answer. The sides' citations are then
pooled into one numbered list of sources, one entry per passage, so that the same passage is
the same source everywhere in the draft.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .chain import NOT_FOUND as NOT_ANSWERED
from .chain import PART_NOT_FOUND, REMOVED_NOTE, STRONG, Assistant, QuestionError, in_scope
from .citations import MARKER, short_title, split_claims
from .generation import Reach
from .models import Answer, Citation, DocumentRecord
from .readability import claim_leans_back
from .record import answer_record

NOT_FOUND = "Not found in the indexed documents."
OTHER = "Other documents"
# Jurisdictions in the order a UK briefing lists them; any other follows alphabetically.
JURISDICTIONS = ("UK", "Scotland", "Wales", "Northern Ireland")
ACROSS = ("jurisdiction", "document")
MAX_DOCUMENTS = 6
"""A comparison across documents takes the documents that hold the question's best passages,
at most this many; the rest in scope are named as not compared."""
SUMMARY_POINTS = 5
BRIEF_REACH = Reach(words=300, sentences=10, share=0.0, floor=0.02)
COMPARE_REACH = Reach(words=200, sentences=6, share=0.0, floor=0.03)
"""How much each side of a briefing, and each row of a comparison, may say (see
generation.Reach): more than an answer, which leads with its one best sentence and adds only
sentences half as likely, because a draft gathers what the documents say. Chosen on the drafts
eval's tuning cases: with an answer's reach, briefs stated 0.25 of their key points (starter)
and 0.13 (real documents), comparisons 0.20 and 0.18; with these, 0.79 and 0.25, and 0.47 and
0.39, every sentence still cited and checked, at about 460 and 320 words of evidence a draft."""

# The questions a briefing asks of every topic besides the topic itself: what a minister
# reading it would ask next. Only an answer with strong evidence (the selector's
# P(answers) at least STRONG) is kept; any other is listed as a gap, as a question that
# found no strong evidence when asked on its own.
ASPECTS = (
    ("who is responsible", "Who is responsible for {topic}?"),
    ("how progress is measured", "How is progress on {topic} measured?"),
    ("what it costs", "How much money is spent on {topic}?"),
    ("when it is due", "What are the deadlines for {topic}?"),
)


@dataclass
class Source:
    """One passage cited by a draft, with each quote the draft took from it."""

    n: int
    chunk_id: str
    citations: list[Citation]

    @property
    def first(self) -> Citation:
        return self.citations[0]


@dataclass
class Side:
    """One side of a draft: its name, the checked answer, and that answer's text numbered
    into the draft's sources (empty when the side's documents do not answer)."""

    name: str
    answer: Answer | None
    text: str = ""
    key: str = ""
    """What the side is: a jurisdiction, or (across documents) the document's id."""

    @property
    def found(self) -> bool:
        return bool(self.text)

    @property
    def claims(self) -> list[str]:
        """The text's sentences, each with its citation (a part of the question that the
        documents do not answer says so, and is not a claim)."""
        return [c for c in split_claims(self.text) if c.strip() and not c.endswith(PART_NOT_FOUND)]


@dataclass
class Lesson:
    """A curated lesson the draft's evidence bears out, and the claim that does."""

    id: str
    title: str
    statement: str
    claim: str


@dataclass
class Briefing:
    topic: str
    prepared: dt.datetime
    sides: list[Side]
    aspects: list[Side]
    lessons: list[Lesson]
    documents: list[DocumentRecord]
    sources: list[Source]
    record: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Briefing: {self.topic[:1].upper()}{self.topic[1:].rstrip('?.')}"

    @property
    def covered(self) -> bool:
        return any(s.found for s in self.sides + self.aspects)

    @property
    def summary(self) -> list[str]:
        """One point per side that has evidence, its first claim about itself, then the
        aspects answered. A side's claim that names another place and not its own (kept on
        the side because it names two) would read, after the side's name, as the side's."""
        places = [s.name for s in self.sides if s.name != OTHER]
        points: dict[str, str] = {}
        for prefix, side in [("", s) for s in self.sides] + [("On ", s) for s in self.aspects]:
            if not side.found:
                continue
            others = [p for p in places if p != side.name] if not prefix else []
            own = [
                c
                for c in side.claims
                if _names(c, side.name) or not any(_names(c, o, alone=True) for o in others)
            ]
            point = (own or side.claims)[0]
            if point not in points:
                points[point] = f"{prefix}{side.name}: {point}"
        return list(points.values())[:SUMMARY_POINTS]

    @property
    def gaps(self) -> list[str]:
        """Each side with no evidence, and each aspect whose question, asked on its own, found
        no strong evidence: which says only that, not that the documents are silent on it (the
        topic's evidence may still bear on it)."""
        gaps = [
            f"{s.name}: nothing found on this in the indexed documents from here."
            for s in self.sides
            if not s.found
        ]
        above = "; the evidence above may still bear on it." if self.covered else "."
        gaps += [
            f"{s.name[:1].upper()}{s.name[1:]}: asked on its own, the question found no strong "
            f"evidence{above}"
            for s in self.aspects
            if not s.found
        ]
        return gaps

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "topic": self.topic,
            "prepared": self.prepared.isoformat(timespec="seconds"),
            "covered": self.covered,
            "summary": self.summary,
            "background": [background_line(r) for r in self.documents],
            "evidence": [{"side": s.name, "text": s.text} for s in self.sides],
            "questions": [{"question": s.name, "text": s.text} for s in self.aspects],
            "lessons": [vars(lesson) for lesson in self.lessons],
            "gaps": self.gaps,
            "sources": sources_dict(self.sources),
            "record": self.record,
            "notes": self.notes,
        }


@dataclass
class Comparison:
    question: str
    across: str
    prepared: dt.datetime
    sides: list[Side]
    elsewhere: list[str]
    """Across documents: the titles of the documents in scope that have no row, their passages
    ranked below those of the documents compared (not shown to say nothing on it)."""
    sources: list[Source]
    record: dict[str, Any]

    @property
    def title(self) -> str:
        return f"Comparison by {self.across}: {self.question}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "question": self.question,
            "across": self.across,
            "prepared": self.prepared.isoformat(timespec="seconds"),
            "rows": [
                {"side": s.name, "found": s.found, "answer": s.text or NOT_FOUND}
                for s in self.sides
            ],
            "not_compared": self.elsewhere,
            "sources": sources_dict(self.sources),
            "record": self.record,
        }


def sources_dict(sources: Sequence[Source]) -> list[dict[str, Any]]:
    return [
        {
            "n": s.n,
            "title": s.first.title,
            "publisher": s.first.provenance,
            "quotes": [
                {"where": c.where, "quote": c.quote, "checked": c.supported} for c in s.citations
            ],
            "doc_id": s.first.doc_id,
            "chunk_id": s.chunk_id,
        }
        for s in sources
    ]


def background_line(record: DocumentRecord) -> str:
    """A document the draft draws on: title, then who published it, when, and what it is."""
    about = [str(record.meta[k]) for k in ("publisher", "year", "kind") if record.meta.get(k)]
    return record.title + (f" ({'; '.join(about)})" if about else "")


class _Pool:
    """Numbers the passages the sides cite into one list of sources, in order of first use."""

    def __init__(self) -> None:
        self.sources: list[Source] = []
        self._by_chunk: dict[str, Source] = {}

    def add(self, answer: Answer) -> str:
        """The answer's text with its [n] renumbered into the pool; notes dropped."""
        chunk_of = {p.n: p.chunk_id for p in answer.passages}
        quotes: dict[int, list[Citation]] = {}
        for c in answer.citations:
            quotes.setdefault(c.n, []).append(c)
        mapping: dict[int, int] = {}
        for n in dict.fromkeys(int(m) for m in MARKER.findall(answer.answer)):
            key = chunk_of.get(n, f"?{n}")
            source = self._by_chunk.get(key)
            if source is None:
                source = Source(len(self.sources) + 1, key, [])
                self.sources.append(source)
                self._by_chunk[key] = source
            for c in quotes.get(n, []):
                if all(c.quote != held.quote for held in source.citations):
                    source.citations.append(c)
            mapping[n] = source.n
        text = answer.answer.replace(REMOVED_NOTE.strip(), "").strip()
        return MARKER.sub(lambda m: f" [{mapping[int(m.group(1))]}]", text)

    def renumber(self, sides: Sequence[Side]) -> None:
        """Numbers the sources again in the order the sides' texts first cite them, with no
        gaps, and drops any no text cites any longer."""
        order = list(dict.fromkeys(int(n) for s in sides for n in MARKER.findall(s.text)))
        new = {old: i + 1 for i, old in enumerate(order)}
        for side in sides:
            side.text = MARKER.sub(lambda m: f" [{new[int(m.group(1))]}]", side.text)
        by_n = {source.n: source for source in self.sources}
        self.sources = [by_n[old] for old in order]
        for source in self.sources:
            source.n = new[source.n]


def _names(claim: str, side: str, alone: bool = False) -> bool:
    """Whether the claim names the side; with `alone`, only where the name stands on its own
    rather than ending a longer name ("Carnegie UK", "Audit Wales": a word with a capital
    before it, past the sentence's first word, makes one name with it)."""
    text = MARKER.sub("", claim)
    for match in re.finditer(rf"(?<!\w){re.escape(side)}(?!\w)", text):
        before = re.search(r"(\w[\w'\u2019-]*)\s+$", text[: match.start()])
        # The sentence's first word comes after a bullet or a document's name, if any.
        first = before is not None and not re.search(
            r"\w", text[: before.start()].rsplit(": ", 1)[-1]
        )
        if not alone or before is None or first or not before.group(1)[0].isupper():
            return True
    return False


def regroup(sides: Sequence[Side], pool: _Pool) -> int:
    """Moves each claim that names one other jurisdiction and not its own to that other side,
    introduced by its document's name: a Scottish report saying what Wales does is evidence
    about Wales, and under Scotland it would read as Scotland's. Returns the claims moved."""
    names = [s.name for s in sides if s.name != OTHER]
    titles = {source.n: short_title(source.first.title) for source in pool.sources}
    moved: dict[str, list[str]] = {name: [] for name in names}
    count = 0
    for side in sides:
        if not side.found or side.name == OTHER:
            continue
        others = [n for n in names if n != side.name]
        paragraphs = []
        for paragraph in side.text.split("\n\n"):
            kept = []
            went = ""  # where the claim before went, if it was moved
            for claim in split_claims(paragraph):
                said = _without_title(claim, titles)
                named = [o for o in others if _names(said, o, alone=True)]
                follows = bool(went) and not named and claim_leans_back(claim)
                if follows:
                    named = [went]  # "It also created ..." goes with what "It" is
                if _names(said, side.name) or len(named) != 1:
                    kept.append(claim)
                    went = ""
                    continue
                went = named[0]
                numbers = [int(n) for n in MARKER.findall(claim)]
                title = titles.get(numbers[0], "") if numbers and not follows else ""
                moved[named[0]].append(
                    claim if not title or claim.startswith(f"{title}: ") else f"{title}: {claim}"
                )
                count += 1
            if kept:
                paragraphs.append(" ".join(kept))
        side.text = "\n\n".join(paragraphs) if MARKER.search(" ".join(paragraphs)) else ""
    for side in sides:
        if moved.get(side.name):
            side.text = "\n\n".join(x for x in (side.text, " ".join(moved[side.name])) if x)
    return count


def _without_title(claim: str, titles: Mapping[int, str]) -> str:
    """The claim without the name of the document it cites, where an answer that joins
    documents put it first ("Wales Office: Community wind farms ..."): a document's name says
    where the claim comes from, not which place it is about."""
    numbers = MARKER.findall(claim)
    title = titles.get(int(numbers[0]), "") if numbers else ""
    for prefix in (f"{title}: ", f"\u2022 {title}: "):
        if title and claim.startswith(prefix):
            return claim[len(prefix) :]
    return claim


def sides_of(
    documents: Sequence[DocumentRecord], filters: Mapping[str, Sequence[str]] | None
) -> list[tuple[str, dict[str, list[str]]]]:
    """Each jurisdiction of the documents in scope (the filters' other fields and documents),
    with the filters that keep to it; documents with no jurisdiction form one side of their
    own. A jurisdiction none of the chosen documents is from is no side: it was not searched,
    so it cannot be said to say nothing. Names are one jurisdiction whatever their case, as
    the search's filters take them."""
    wanted = {v.casefold() for v in (filters or {}).get("jurisdiction", [])}
    base = {k: list(v) for k, v in (filters or {}).items() if k != "jurisdiction"}
    kept = [r for r in documents if in_scope(r, base)]
    spelt: dict[str, str] = {j.casefold(): j for j in JURISDICTIONS}
    names: dict[str, str] = {}
    for record in kept:
        held = str(record.meta.get("jurisdiction") or "")
        if held and (not wanted or held.casefold() in wanted):
            names.setdefault(held.casefold(), spelt.get(held.casefold(), held))
    ordered = [j for j in JURISDICTIONS if j.casefold() in names]
    ordered += sorted(n for k, n in names.items() if n not in JURISDICTIONS)
    sides = [(name, {**base, "jurisdiction": [name]}) for name in ordered]
    loose = [r.doc_id for r in kept if not r.meta.get("jurisdiction")]
    if loose and not wanted:
        sides.append((OTHER, {**base, "document": loose}))
    return sides


TOPIC_QUESTION = "What do the documents say about {topic}?"
"""How a topic is asked. On the drafts eval's tuning briefs it stated as many key points as
"What about ...?" and more than the bare topic or "Tell me about ..." (0.25 against 0.13 and
0.21 on the starter corpus, the same on the real documents)."""


def _topic_question(topic: str) -> str:
    return topic if topic.endswith("?") else TOPIC_QUESTION.format(topic=topic)


def _tidy_topic(assistant: Assistant, topic: str) -> str:
    """The topic tidied as a question is (spaces, control characters); raises QuestionError
    for one that cannot be drafted (see Assistant.check_topic)."""
    topic = assistant.check_topic(topic).rstrip(".").strip()
    assistant.check_question(_topic_question(topic))
    return topic


def brief(
    assistant: Assistant,
    topic: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    lessons_file: Path | None = None,
) -> Briefing:
    """A briefing note on `topic`: the evidence side by side per jurisdiction, the questions a
    reader asks next, the curated lessons it bears out, and what the documents do not say."""
    assistant.require_documents()
    topic = _tidy_topic(assistant, topic)
    documents = assistant.documents()
    assistant.check_filters(filters)
    pool = _Pool()
    answers: list[Answer] = []
    notes: list[str] = []
    sides = []
    for name, side_filters in sides_of(documents, filters):
        # As one text: the side's filter keeps to its place, so where a topic names places,
        # the parts searched for each are not labelled by them (each would be another place's
        # label on this side's own evidence).
        answer = assistant.ask(
            _topic_question(topic), filters=side_filters, reach=BRIEF_REACH, as_one=True
        )
        answers.append(answer)
        sides.append(Side(name, answer, "" if answer.refused else pool.add(answer), name))
    aspects = []
    if not topic.endswith("?"):
        for label, question in ASPECTS:
            answer = assistant.ask(question.format(topic=topic), filters=filters)
            strong = not answer.refused and (answer.confidence or 0.0) >= STRONG
            if strong:
                answers.append(answer)
            aspects.append(Side(label, answer, pool.add(answer) if strong else ""))
    moved = regroup(sides, pool)
    if moved:
        notes.append(f"{moved} claims moved to the jurisdiction they name")
    pool.renumber(sides + aspects)
    cited = {c.first.doc_id for c in pool.sources}
    used = [r for r in documents if r.doc_id in cited]
    linked = link_lessons(sides, used, pool.sources, lessons_file)
    if not any(s.found for s in sides + aspects):
        reason = next((a.answer for a in answers if a.refused), "")
        notes.append(reason.replace(NOT_ANSWERED, "").strip())
    return Briefing(
        topic,
        dt.datetime.now().astimezone(),
        sides,
        aspects,
        linked,
        used,
        pool.sources,
        answer_record(assistant, "briefing", topic, answers),
        notes,
    )


def compare(
    assistant: Assistant,
    question: str,
    across: str = "jurisdiction",
    filters: Mapping[str, Sequence[str]] | None = None,
) -> Comparison:
    """`question` answered once per jurisdiction or per document, a row each."""
    if across not in ACROSS:
        raise QuestionError(f"--across must be one of {', '.join(ACROSS)}, not {across!r}")
    assistant.require_documents()
    question = assistant.check_question(question)
    documents = assistant.documents()
    assistant.check_filters(filters)
    elsewhere: list[str] = []
    if across == "jurisdiction":
        plan = sides_of(documents, filters)
    else:
        plan, elsewhere = _document_sides(assistant, question, documents, filters)
    pool = _Pool()
    sides, answers = [], []
    for name, side_filters in plan:
        answer = assistant.ask(question, filters=side_filters, reach=COMPARE_REACH, as_one=True)
        answers.append(answer)
        key = side_filters["document"][0] if across == "document" else name
        sides.append(Side(name, answer, "" if answer.refused else pool.add(answer), key))
    if across == "jurisdiction":
        regroup(sides, pool)
    pool.renumber(sides)
    return Comparison(
        question,
        across,
        dt.datetime.now().astimezone(),
        sides,
        elsewhere,
        pool.sources,
        answer_record(assistant, "comparison", question, answers),
    )


def _document_sides(
    assistant: Assistant,
    question: str,
    documents: Sequence[DocumentRecord],
    filters: Mapping[str, Sequence[str]] | None,
) -> tuple[list[tuple[str, dict[str, list[str]]]], list[str]]:
    """The documents holding the question's best passages (every one in scope when the filters
    name the documents), each a side; and the titles of the rest in scope, not compared."""
    base = {k: list(v) for k, v in (filters or {}).items()}
    kept = [r for r in documents if in_scope(r, base)]
    if base.get("document"):
        chosen = [r.doc_id for r in kept]
    else:
        evidence = assistant.evidence(question, filters=filters, per_document=2)
        chosen = list(dict.fromkeys(p.doc_id for p in evidence.passages))[:MAX_DOCUMENTS]
    titles = {r.doc_id: r.title for r in documents}
    sides = [(titles.get(d, d), {**base, "document": [d]}) for d in chosen]
    elsewhere = [r.title for r in kept if r.doc_id not in chosen]
    return sides, elsewhere


def load_lessons(path: Path | None) -> list[dict[str, Any]]:
    """The curated lessons (evals/lessons.yaml), or none where the file is absent."""
    if path is None or not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [entry for entry in data.get("lessons", []) if isinstance(entry, dict)]


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).casefold()


def link_lessons(
    sides: Sequence[Side],
    used: Sequence[DocumentRecord],
    sources: Sequence[Source],
    path: Path | None,
) -> list[Lesson]:
    """Each curated lesson whose own key points the evidence states, in a document the lesson
    was drawn from, with the claim that states one."""
    files = {r.doc_id: Path(r.source).name for r in used}
    by_n = {s.n: s for s in sources}
    linked = []
    for entry in load_lessons(path):
        points = [_fold(str(p)) for p in entry.get("key_points", [])]
        drawn_from = set(entry.get("documents", []))
        for claim in (c for s in sides if s.found for c in s.claims):
            numbers = [int(n) for n in MARKER.findall(claim)]
            docs = {files.get(by_n[n].first.doc_id, "") for n in numbers if n in by_n}
            text = _fold(MARKER.sub("", claim))
            if docs & drawn_from and any(p in text for p in points):
                linked.append(
                    Lesson(
                        str(entry.get("id", "")),
                        str(entry.get("title", "")),
                        " ".join(str(entry.get("statement", "")).split()),
                        claim,
                    )
                )
                break
    return linked
