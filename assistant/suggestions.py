"""Example questions for a first screen, drawn from what the index holds.

Each candidate is a section heading of an indexed document, asked as "What do the documents
say about ...?", and it is offered only if the assistant answers it with strong evidence, so
that an example never leads to a refusal. Candidates come from different documents in turn,
and the number asked is bounded, so that the cost is a few answers' time; the examples are
kept in the index folder with what they were drawn from, so that a start with nothing changed
does not ask them again.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .chain import Assistant

# A heading's number: "2.", "3.2", "IV.", "iv)", "a)"; a bare one ("3 Ways of working") only
# short and before a capital, not a figure of the heading's own ("2030 targets", "1 in 5").
NUMBERING = re.compile(
    r"^\s*(?:(?:\d+(?:\.\d+)*|[IVX]+|[ivx]+|[A-Za-z])[.):]\s+|\d{1,2}(?:\.\d+)*\s+(?=[A-Z]))"
)
QUESTION_FORM = "What do the documents say about {topic}?"


def topic_of(heading: str) -> str:
    """A heading as the topic of a question, or "" when it does not read as one: numbering
    stripped, 2 to 8 words with letters in lower case, not ending mid-phrase, no question
    word of its own (those headings are phrases such as "How the framework works")."""
    text = NUMBERING.sub("", " ".join((heading or "").split())).strip(" .:;")
    words = text.split()
    if not 2 <= len(words) <= 8 or not re.search(r"[a-z]", text) or text.isupper():
        return ""
    if not re.fullmatch(r"[\w'’()\- ,:]+", text) or text[-1] in ",-(":
        return ""
    if words[0].lower() in {"what", "how", "why", "where", "when", "who", "which"}:
        return ""
    if words[0][1:] == words[0][1:].lower() and not words[1][0].isupper():
        words[0] = words[0].lower()  # sentence case ("The five missions"), not a name
    return " ".join(words)


def candidates(assistant: Assistant) -> Iterator[tuple[str, str]]:
    """(document id, question) from each document's headings, one document at a time: the
    second usable heading of each document, then the next of each, and so on (a document's
    first heading usually introduces it, so it comes last). A heading that more than one
    document carries ("Introduction", "Summary") says nothing of any one, and is left out."""
    store = assistant.retriever.store
    titles = {r.doc_id: r.title.lower() for r in store.documents()}
    # (the same file indexed at two paths has two chunks at each place: either will do)
    placed = sorted(
        (
            (str(c.metadata.get("doc_id")), int(c.metadata.get("position") or 0), c.metadata)
            for c in store.committed_chunks()
        ),
        key=lambda t: t[:2],
    )
    headings: dict[str, list[str]] = {doc_id: [] for doc_id in titles}
    for doc_id, _, meta in placed:
        topic = topic_of(str(meta.get("section") or ""))
        kept = headings.setdefault(doc_id, [])
        if topic and topic not in kept and topic.lower() != titles.get(doc_id):
            kept.append(topic)
    shared = Counter(t.lower() for topics in headings.values() for t in topics)
    queues = {}
    for doc_id, topics in headings.items():
        topics = [t for t in topics if shared[t.lower()] == 1]
        if topics:
            queues[doc_id] = topics[1:] + topics[:1]
    while queues:
        for doc_id in list(queues):
            yield doc_id, QUESTION_FORM.format(topic=queues[doc_id].pop(0))
            if not queues[doc_id]:
                del queues[doc_id]


def example_questions(assistant: Assistant, n: int = 4, tries: int = 12) -> list[str]:
    """Up to n questions the index answers (not refused), each on another document, the
    surest first, having asked at most `tries` candidates."""
    answered: dict[str, tuple[float, str]] = {}
    for asked, (doc_id, question) in enumerate(candidates(assistant)):
        if asked >= tries:
            break
        answer = assistant.ask(question)
        sure = answer.confidence or 0.0
        if not answer.refused and sure > answered.get(doc_id, (-1.0, ""))[0]:
            answered[doc_id] = (sure, question)
    return [q for _, q in sorted(answered.values(), reverse=True)[:n]]


EXAMPLES_FILE = "examples.json"


def kept_example_questions(assistant: Assistant, n: int = 4, tries: int = 12) -> list[str]:
    """example_questions, read from the index folder when they were drawn from the same index,
    answer selector, settings and version of the assistant (record.made_with), else drawn
    again and kept there. A folder that cannot be written only means drawing them each time."""
    from .record import made_with

    path = assistant.settings.index_dir / EXAMPLES_FILE
    made = json.loads(json.dumps({**made_with(assistant), "n": n, "tries": tries}, default=str))
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept.get("made_with") == made and all(isinstance(q, str) for q in kept["questions"]):
            return list(kept["questions"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # none kept, or unreadable: drawn again
    questions = example_questions(assistant, n, tries)
    partial = path.with_name(f".{EXAMPLES_FILE}.{os.getpid()}")
    try:
        partial.write_text(json.dumps({"made_with": made, "questions": questions}), "utf-8")
        partial.replace(path)  # whole or not at all
    except OSError:
        partial.unlink(missing_ok=True)
    return questions
