"""The conversation: condense -> retrieve -> compose -> verify, as one call."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .acronyms import spell_out
from .careful import CALIBRATION_PATH, Calibration, CarefulJudge
from .citations import (
    ANNOUNCES_ITEM,
    MARKER,
    Check,
    Verifier,
    by_document,
    citation_of,
    citations_for,
    continues_list,
    names_in,
    renumber,
    split_claims,
    strip_markers,
)
from .config import Settings, get_settings
from .conflicts import find_disagreements
from .embeddings import get_embedder
from .generation import PART_REACH, Composition, ExtractiveComposer, LLMComposer, Reach
from .ingest import Ingester, copy_path, open_store
from .lexical import named_paragraphs, paragraph_token, stopwords
from .models import Answer, DocumentRecord, IngestReport, Passage
from .questions import ASKING, Analysis, analyse, nlp, plan
from .readability import claim_leans_back
from .reliability import Band, shipped
from .retrieval import HybridRetriever, filters_match
from .selector import AnswerSelector, SelectorError, default_selector
from .signals import Candidate, candidates, feature_matrix, present, question_features
from .store import StoreError, chunk_fields

if TYPE_CHECKING:  # importing langchain's chat models costs two seconds of a cold start
    from langchain_core.language_models import BaseChatModel

MAX_QUESTION_CHARS = 2000
NOT_FOUND = "The indexed documents do not answer this question."
REMOVED_NOTE = " (Sentences that their passages did not support were removed.)"
PART_NOT_FOUND = "The indexed documents do not say."
"""What a part of a question that asks several things says when the documents do not answer it."""
# Words that point back to an earlier turn's subject.
_POINTING = r"\b(they|them|their|it|its|that|those|this|these|there|he|she|his|her|such(?! as))\b"
_POINTS_BACK = re.compile(_POINTING, re.I)
_CONTINUES = re.compile(r"^(and|but|also|what about|how about|so)\b", re.I)


def points_back(question: str) -> bool:
    """Whether a question leans on an earlier turn: it goes on from it ("And ...", "What
    about ...") or has a word pointing back to nothing in the question itself. A possessive
    after a noun ("Does the Commission publish its reports?") and a relative "that" point
    within the question."""
    if _CONTINUES.match(question):
        return True
    found = list(_POINTS_BACK.finditer(question))
    if not found:
        return False
    doc = nlp()(question)
    at = {t.idx: t for t in doc}
    for match in found:
        token = at.get(match.start())
        if token is None:
            return True
        # "Is there a fine ...?": an existential "there" stands in for no place.
        within = token.tag_ in ("WDT", "EX") or (
            token.tag_ == "PRP$" and any(t.pos_ in ("NOUN", "PROPN") for t in doc[: token.i])
        )
        if not within:
            return True
    return False


def carried_subject(earlier: str, follow_up: str) -> str:
    """What a follow-up leaves out of the earlier question: its content words, less those the
    follow-up has, and less its names when the follow-up names its own instead ("And how many
    does Scotland have?", with no "they" or "it" pointing back)."""
    have = {w.lower() for w in re.findall(r"[\w'-]+", follow_up)}
    instead = names_in(follow_up) and not _POINTS_BACK.search(follow_up)
    replaced = names_in(earlier) if instead else set()
    words = re.findall(r"[\w'-]+", earlier)
    kept = [
        w
        for w in words
        if w.lower() not in have
        and w.lower() not in replaced
        and w.lower() not in ASKING
        and w.lower() not in stopwords()
    ]
    return " ".join(kept)


FOLLOW_UP_DEPTH = 4
"""How many earlier turns a run of follow-ups may lean back through to find its subject."""


def _leans(question: str) -> bool:
    return len(question.split()) <= 14 and points_back(question)


def _standalone(question: str, earlier: Sequence[str], depth: int = FOLLOW_UP_DEPTH) -> str:
    """A follow-up with what it leaves out of the turn before it; that turn, when it leaned
    on the one before it in turn, is first made standalone the same way, so a third question
    ("Who is responsible for it?" after "When was it last revised?") keeps the subject of the
    first."""
    if not earlier:
        return question
    before = earlier[-1]
    if depth > 1 and _leans(before):
        before = _standalone(before, earlier[:-1], depth - 1)
    return f"{question} {carried_subject(before, question)}".strip()


def in_scope(record: DocumentRecord, filters: Mapping[str, Sequence[str]]) -> bool:
    """Whether a document is among those the filters keep, by the rule the search keeps its
    chunks by (see retrieval.filters_match)."""
    return filters_match(chunk_fields(record), filters)


class QuestionError(ValueError):
    """A question that cannot be asked as it stands; str() says why."""


@dataclass
class Part:
    """One question's answer before it is put together with others: verified text (empty
    when the evidence does not answer), its citations, and the evidence behind it."""

    evidence: Evidence
    text: str
    citations: list
    composer: str
    timings: dict[str, float]


def _unsaid(text: str, said: set[str]) -> str:
    """The text's sentences not among those `said` already (which it adds them to), its
    paragraphs kept."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        fresh = [c for c in split_claims(paragraph) if c.strip() and c not in said]
        said.update(fresh)
        if fresh:
            paragraphs.append(" ".join(fresh))
    return "\n\n".join(paragraphs)


def _tidied(text: str, what: str) -> str:
    """Text as asked, on one line; raises QuestionError for none, or too long."""
    text = re.sub(r"\s+", " ", text or "").strip()
    # A control character is no text (a pasted terminal escape), nor can a Word file hold it.
    text = "".join(c for c in text if unicodedata.category(c) != "Cc").strip()
    if not text:
        raise QuestionError(f"the {what} is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the {what} is {len(text):,} characters long; ask it in under {MAX_QUESTION_CHARS:,}"
        )
    return text


@dataclass
class Evidence:
    """What the index holds for a question: the passages found, their sentences with the
    signals of each, and (with a selector) how likely each is to answer."""

    analysis: Analysis
    query: str
    """What was searched for: the question proper, or a follow-up made standalone."""
    passages: list[Passage]
    candidates: list[Candidate]
    matrix: np.ndarray
    probabilities: np.ndarray | None = None
    """P(this sentence answers), per candidate."""
    answers: float | None = None
    """P(the evidence answers the question at all); in careful mode, after the chat model's
    judgement where it judged."""
    judged: float | None = None
    """The careful model's highest P(this sentence answers) of those it judged; None: not
    judged."""


class Assistant:
    """Answers questions from the index; collaborators default to those the settings pick.

    With a chat model (ASSISTANT_LLM, or `llm=`) it composes with the model and falls back to
    the extractive composer when the model fails or times out; without one it is extractive.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        retriever: HybridRetriever | None = None,
        composer: ExtractiveComposer | LLMComposer | None = None,
        verifier: Verifier | None = None,
        llm: BaseChatModel | None = None,
        selector: AnswerSelector | None = None,
        careful: CarefulJudge | None = None,
    ):
        self.settings = settings or get_settings()
        embedder = get_embedder(self.settings)
        self.retriever = retriever or HybridRetriever(
            open_store(self.settings), embedder, self.settings
        )
        self.extractive = ExtractiveComposer(
            embedder, self.retriever.lexical.headings, self.retriever.store.sentences_of
        )
        if llm is None and self.settings.llm:
            from .llm import chat_model_from_settings  # langchain's chat models, only if wanted

            llm = chat_model_from_settings(self.settings)
        self.llm = llm
        if composer is None and self.llm is not None:
            composer = LLMComposer(self.llm, self.settings.llm_timeout_s)
        self.composer = composer or self.extractive
        self.verifier = verifier or Verifier(embedder, self.settings.support_threshold)
        self._selector_error: SelectorError | None = None
        if selector is None:
            try:
                selector = default_selector()
            except SelectorError as err:  # training it: the signals are computed, not weighed
                self._selector_error = err
        self.selector = selector
        self.careful = careful if careful is not None else self._careful_from_settings()

    # The face the front ends use --------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        """What the index holds now, as another process may have changed it."""
        if self.retriever.sync():
            self.extractive.reset(self.retriever.lexical.headings)
        return self.retriever.store.documents()

    def add(self, paths: Sequence[Path]) -> IngestReport:
        """Ingests files into the index this assistant reads; they are searchable on return."""
        report = Ingester(self.settings.model_copy(update={"progress": False})).ingest(paths)
        self.retriever.refresh()
        self.extractive.reset(self.retriever.lexical.headings)
        return report

    def document_file(self, doc_id: str) -> Path | None:
        """The index's own copy of an indexed document, or None: never a path from elsewhere."""
        if not re.fullmatch(r"[0-9a-f]{16}", doc_id or ""):
            return None
        record = next((r for r in self.documents() if r.doc_id == doc_id), None)
        if record is None:
            return None
        copy = copy_path(self.settings.documents_dir, doc_id, Path(record.source).suffix)
        return copy if copy.is_file() else None

    def brief(self, topic: str, filters: Mapping[str, Sequence[str]] | None = None):
        """A briefing note on a topic (see drafting.brief)."""
        from .drafting import brief

        return brief(self, topic, filters, self.settings.lessons_file)

    def compare(
        self,
        question: str,
        across: str = "jurisdiction",
        filters: Mapping[str, Sequence[str]] | None = None,
    ):
        """A question answered once per jurisdiction or document (see drafting.compare)."""
        from .drafting import compare

        return compare(self, question, across, filters)

    def examples(self, n: int = 4) -> list[str]:
        """Questions the index answers, for a first screen (see suggestions)."""
        from .suggestions import kept_example_questions

        return kept_example_questions(self, n)

    def record(self, kind: str, asked: str, answers: Sequence[Answer]) -> dict:
        """What answers were made from, to keep with them (see record.answer_record)."""
        from .record import answer_record

        return answer_record(self, kind, asked, answers)

    # The steps -------------------------------------------------------------------------

    def evidence(
        self,
        question: str,
        history: Sequence[Mapping[str, str]] | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
        k: int | None = None,
        per_document: int | None = None,
    ) -> Evidence:
        """Reads the question, retrieves passages for it and computes each sentence's signals
        (and, with a selector, its probability of answering). The eval suite and the
        selector's training read evidence through this same call."""
        analysis = analyse(question)
        # "DHSC" finds what the documents say of the Department of Health and Social Care.
        lexical = self.retriever.lexical
        query = spell_out(
            self.condense(analysis.proper, history), lexical.acronyms, lexical.vocabulary
        )
        vector = self.retriever.embedder.embed_query(query)
        k = k or self.settings.evidence_passages
        passages = self.retriever.retrieve(
            query, k=k, filters=filters, per_document=per_document or k, vector=vector
        )
        self.extractive.prefetch(passages)
        found = candidates(passages, self.extractive.sentences)
        found, matrix = feature_matrix(
            analysis,
            query,
            vector,
            found,
            self.retriever.lexical,
            # Vectors the signals keep across questions: each made on its own (see embed_each).
            embed=getattr(
                self.retriever.embedder, "embed_each", self.retriever.embedder.embed_documents
            ),
        )
        evidence = Evidence(analysis, query, passages, found, matrix)
        if self.selector is not None:
            evidence.probabilities = self.selector.sentence_probabilities(matrix)
            evidence.answers = self.selector.answer_probability(
                question_features(evidence.probabilities, matrix)
            )
        return evidence

    def require_documents(self) -> None:
        """Takes in what another process ingested or removed; raises StoreError when the index
        holds no documents."""
        if self.retriever.sync():
            self.extractive.reset(self.retriever.lexical.headings)
        if self.retriever.is_empty():
            raise StoreError(
                f"the index at {self.retriever.store.location} holds no documents: "
                "run `assistant ingest corpus/` first"
            )

    def check_filters(self, filters: Mapping[str, Sequence[str]] | None) -> None:
        """Raises QuestionError where the filters keep no indexed document, naming what matched
        nothing: an answer searched in no document would only say that it found nothing."""
        if not filters or any(in_scope(r, filters) for r in self.retriever.store.documents()):
            return
        named = "; ".join(f"{k} {', '.join(map(str, v))}" for k, v in filters.items() if v)
        raise QuestionError(f"no indexed document matches the filters ({named})")

    def check_question(self, question: str) -> str:
        """Returns the question tidied; raises QuestionError for one that cannot be asked."""
        question = _tidied(question, "question")
        self._check_english(question, "question", 0.4)
        return question

    def check_topic(self, topic: str) -> str:
        """Returns a briefing's topic tidied; raises QuestionError for one that cannot be
        drafted: empty, no word at all ("!!!"), not in English, or three words or more none
        of which English or the documents know. A short topic of rare words passes."""
        topic = _tidied(topic, "topic")
        if not re.search(r"[^\W_]", topic):
            raise QuestionError("the topic has no words to search the documents for")
        self._check_english(topic, "topic", 0.01)
        return topic

    def _check_english(self, question: str, what: str, known_share: float) -> None:
        """Raises QuestionError where the text is not English: mostly letters of another
        script, or (three words or more) under `known_share` of its words known to English or
        to the documents."""
        letters = [c for c in question if c.isalpha()]
        latin = sum(c < "\u0250" for c in letters)  # Basic Latin to Latin Extended-B
        if letters and latin / len(letters) < 0.5:
            raise QuestionError(
                f"the {what} is not written in English; the indexed documents are in English "
                "and the search model reads English, so ask in English"
            )
        words = re.findall(r"[^\W\d_]{2,}", question.lower())
        if len(words) >= 3:
            known = stopwords() | self.retriever.lexical.vocabulary | ASKING
            if sum(w in known for w in words) / len(words) < known_share:
                raise QuestionError(
                    f"the {what} does not look like English; the indexed "
                    "documents are in English, so ask in English"
                )

    def condense(self, question: str, history: Sequence[Mapping[str, str]] | None) -> str:
        """A standalone query: the chat model rewrites a follow-up where there is one; without
        one (or when it fails) the follow-up takes what it leaves out of the earlier question
        (see carried_subject)."""
        earlier = [
            t["content"]
            for t in history or []
            if t.get("role") == "user" and isinstance(t.get("content"), str)
        ]
        if not earlier or not _leans(question):
            return question
        if self.llm is not None:
            rewritten = self._condense_with_llm(question, history or [])
            if rewritten:
                return rewritten
        return _standalone(question, earlier)

    def _condense_with_llm(self, question: str, history: Sequence[Mapping[str, str]]) -> str:
        """The chat model's standalone question, or "" where it fails, takes longer than
        ASSISTANT_LLM_TIMEOUT_S, or gives no line that reads as a question (a preface, "Here
        is the question:", is passed over; an answer is no question)."""
        from .llm import reply_text, within
        from .prompts import render

        turns = "\n".join(f"{t.get('role', 'user')}: {t.get('content', '')}" for t in history[-6:])
        asked = render("condense", history=turns, question=question)
        try:
            reply = reply_text(within(self.settings.llm_timeout_s, self.llm.invoke, asked))
        except Exception:  # a failing or slow model must not stop the question being answered
            return ""
        lines = [line.strip().strip("\"'*") for line in reply.splitlines()]
        text = next((line for line in lines if line.endswith("?")), "")
        return text if 3 <= len(text) <= MAX_QUESTION_CHARS else ""

    def verify(self, composition: Composition, passages: Sequence[Passage], question: str = ""):
        """Checks every cited sentence (against its passages, and that it speaks to the
        question); returns the supported text, citations and notes."""
        by_n = {p.n: p for p in passages}
        kept, checks, notes = [], [], []
        # "... goals. [1]" is "... goals [1]."
        text = re.sub(r"([.!?])((?:\s*\[\d+\])+)", r"\2\1", composition.text)
        checked: list[tuple[str, set[str], Check]] = []
        seen: set[str] = set()
        for sentence in split_claims(text):
            if not sentence.strip():
                continue
            # A model caught in a loop says a sentence again and again: it is said once.
            again = " ".join(MARKER.sub("", sentence).split()).casefold()
            if again in seen:
                notes.append(f"removed a sentence said before: {sentence[:80]!r}")
                continue
            seen.add(again)
            numbers = [int(n) for n in MARKER.findall(sentence)]
            if not numbers:
                notes.append(f"removed a sentence with no citation: {sentence[:80]!r}")
                continue
            unknown = [n for n in numbers if n not in by_n]
            if unknown:
                notes.append(
                    f"removed a sentence citing passages that were not retrieved: "
                    f"{', '.join(f'[{n}]' for n in unknown)}"
                )
                continue
            check = self.verifier.check(sentence, [by_n[n] for n in numbers], question)
            holding = [n for n in numbers if check.quote and check.quote in by_n[n].text]
            if check.supported and holding and len(holding) < len(numbers):
                # Cited with passages that do not hold it: it keeps only those that do.
                alone = MARKER.sub("", sentence).rstrip()
                end = alone[-1] if alone.endswith((".", "!", "?")) else ""
                alone = alone.removesuffix(end) + "".join(f" [{n}]" for n in holding) + end
                recheck = self.verifier.check(alone, [by_n[n] for n in holding], question)
                if recheck.supported:
                    sentence, numbers, check = alone, holding, recheck
            checked.append((sentence, {by_n[n].doc_id for n in numbers}, check))
        said: set[str] = set()  # the documents of the sentences kept so far
        # A list being said, announced by a kept claim: its documents and its last item.
        listing: tuple[set[str], str] = (set(), "")
        for i, (sentence, documents, check) in enumerate(checked):
            after = checked[i + 1] if i + 1 < len(checked) else None
            claim = strip_markers(sentence)
            item = continues_list(listing[1], claim) and bool(documents & listing[0])
            # Off the question, but the next item of the list a kept claim announces ("5.1.2
            # The line manager."): said within its list, it answers as the list does.
            if check.off_question and item:
                check = replace(check, supported=True, reason="an item of the list announced")
            # Off the question, but what the next sentence's "It" is: shown as its subject.
            if (
                check.off_question
                and after
                and after[2].supported
                and documents & after[1]
                and claim_leans_back(after[0])
            ):
                check = replace(check, supported=True, reason="the next sentence leans on it")
            if check.supported and claim_leans_back(sentence) and not documents & said:
                # "It is chaired by ..." where what "It" is was removed: no subject of its own
                notes.append(f"removed a sentence leaning on nothing kept: {sentence[:80]!r}")
                continue
            checks.append(check)
            announced = ANNOUNCES_ITEM.search(claim)
            if check.supported and (announced or item):
                listing = (set(documents), announced.group(1) if announced else claim)
            else:
                listing = (set(), "")
            if check.supported:
                kept.append(sentence)
                said |= documents
            else:
                notes.append(f"removed an unsupported sentence ({check.reason})")
        supported = [c for c in checks if c.supported]
        return " ".join(kept), citations_for(supported, passages), notes

    # The whole conversation turn -------------------------------------------------------

    def ask(
        self,
        question: str,
        history: Sequence[Mapping[str, str]] | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
        reach: Reach | None = None,
        as_one: bool = False,
    ) -> Answer:
        """Answers one question; every claim in the answer cites a passage that supports it.
        `reach` lets the extractive composer say more (a briefing's evidence) than an answer;
        with `as_one`, a question asked part by part or side by side is still searched so, but
        answered as one text (see _assemble): a draft's side, whose filter keeps to one place,
        where a label naming another place would misattribute its own evidence."""
        *_, answer = self.stream(question, history, filters, reach, as_one)
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[Mapping[str, str]] | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
        reach: Reach | None = None,
        as_one: bool = False,
    ) -> Iterator[str | Answer]:
        """Yields the answer's text in pieces as it is composed, then the checked Answer.

        A chat model's tokens stream as they come; the Answer that follows holds only what the
        verifier kept, so a client replaces the streamed text with answer.answer at the end.
        A question that asks several things is answered part by part; one that compares
        places or bodies, side by side.
        """
        started = time.perf_counter()
        self.require_documents()
        self.check_filters(filters)
        if self.selector is None:
            raise self._selector_error or SelectorError(
                "the answer selector's model is missing: rebuild it with `assistant train-selector`"
            )
        question = self.check_question(question)
        analysis = analyse(question)
        notes: list[str] = []
        if analysis.context:
            notes.append(
                f"read as the asker's own situation, not as part of the question: "
                f"{analysis.context!r}"
            )
        asked = plan(analysis, self.retriever.store.one_name)
        if len(asked) == 1:
            part = yield from self._part(question, history, filters, notes, True, reach)
            parts = [("", part)]
        else:
            parts = []
            for i, (label, text) in enumerate(asked):
                # A question's later part that points back ("... and what are they?") leans on
                # the part before it, as a follow-up leans on the turn before.
                leaning = history
                if i and label == text:
                    leaning = [*(history or []), {"role": "user", "content": asked[i - 1][1]}]
                part = yield from self._part(
                    text, leaning, filters, notes, reach=reach or PART_REACH
                )
                parts.append((label, part))
        answer = self._assemble(question, parts, filters, notes, started, not as_one)
        if not answer.refused and answer.composer == self.composer.name == "extractive":
            for piece in re.split(r"(?<=[.!?])\s+", answer.answer):
                yield piece + " "
        yield answer

    def _part(self, question, history, filters, notes, stream: bool = False, reach=None):
        """One question's evidence, composed and verified: a Part (empty text: not answered)."""
        started = time.perf_counter()
        evidence = self.evidence(question, history, filters)
        timings = {"retrieve": (time.perf_counter() - started) * 1000}
        composing = time.perf_counter()
        composition = Composition("", True, 0.0, self.composer.name)
        named = self._named_paragraph(question, evidence)
        if named:
            # The question names a paragraph the index holds: a lookup, not a judgement.
            number, sentences = named
            notes.append(f"the question names paragraph {number}: its own words are quoted")
            composition = self.extractive.compose([(c, 1.0) for c in sentences])
            evidence.answers = 1.0
        elif evidence.passages:
            judging = time.perf_counter()
            self._judge(evidence, notes)
            if self.careful is not None:
                timings["careful"] = (time.perf_counter() - judging) * 1000
            composing = time.perf_counter()
            if evidence.answers >= self.threshold:
                composition = yield from self._compose(evidence, notes, stream, reach)
        verifying = time.perf_counter()
        timings["compose"] = (verifying - composing) * 1000
        text, citations, coda = "", [], []
        if not composition.refused:
            # A named paragraph is itself what was asked: its sentences need not echo the words.
            asked = "" if named else evidence.query
            text, citations, removed = self.verify(composition, evidence.passages, asked)
            if not text and composition.composer != self.extractive.name:
                # Nothing the model wrote stood up: the passages still get their say.
                notes.append(
                    f"nothing the chat model wrote was supported ({len(removed)} sentences "
                    "discarded); answered extractively"
                )
                composition = self._extract(evidence, reach)
                text, citations, removed = self.verify(
                    composition, evidence.passages, evidence.query
                )
            notes += removed
            if composition.composer == self.extractive.name:
                # One paragraph per document, before the notes below, which speak of the whole
                # answer and belong to no one document's paragraph.
                text = by_document(text, evidence.passages)
            if removed and text:
                coda.append(REMOVED_NOTE.strip())
        if text:
            by_n = {p.n: p for p in evidence.passages}
            for d in find_disagreements(citations, evidence.passages, self.extractive.sentences):
                other = by_n[d.other_n]
                coda.append(
                    f"The documents disagree: {other.title} says"
                    f" \u201c{d.other_quote}\u201d [{d.other_n}]."
                )
                citations.append(citation_of(other, d.other_quote, True))
                notes.append(
                    f"the documents disagree: [{d.n}] and [{d.other_n}] give different figures "
                    "for the same point"
                )
        if coda:
            text += ("\n\n" if "\n\n" in text else " ") + " ".join(coda)
        timings["verify"] = (time.perf_counter() - verifying) * 1000
        return Part(evidence, text, citations, composition.composer, timings)

    def _careful_from_settings(self) -> CarefulJudge | None:
        if not self.settings.careful:
            return None
        from .llm import LLMError, chat_model_from_settings

        if self.settings.careful == self.settings.llm and self.llm is not None:
            model = self.llm  # one model loaded, not two
        else:
            model = chat_model_from_settings(self.settings, "careful")
        path = self.settings.careful_calibration or CALIBRATION_PATH
        try:
            calibration = Calibration.load(path)
        except (OSError, ValueError, TypeError, KeyError) as err:
            raise LLMError(
                f"ASSISTANT_CAREFUL_CALIBRATION: {path} cannot be read ({_one_line(err)})"
            ) from err
        return CarefulJudge(
            model, calibration, name=self.settings.careful, timeout_s=self.settings.llm_timeout_s
        )

    def _judge(self, evidence: Evidence, notes: list[str]) -> None:
        """Careful mode: a borderline answer is decided by the chat model's word on the
        likeliest sentences, weighed with the selector's P. Answered: the sentence the model
        found likeliest leads (P(answers) raised to the threshold if under it); refused:
        P(answers) lowered under the threshold."""
        if self.careful is None or not self.careful.weighs(evidence.answers):
            return
        choices = ranked(evidence)
        if not choices:
            return
        try:
            verdict = self.careful.judge(evidence.query, choices, evidence.answers)
        except Exception as err:  # a failed model leaves the decision to the selector
            notes.append(f"the careful model failed ({_one_line(err)}); the selector decided")
            return
        if verdict.yes is None:
            notes.append("the careful model's replies could not be read; the selector decided")
            return
        evidence.judged = round(verdict.yes, 3)
        fitted = self.careful.calibration.model
        if fitted and fitted != self.careful.name:
            notes.append(
                f"careful mode's weights were fitted for {fitted}, not {self.careful.name}: "
                "fit them with assistant eval --careful-sweep"
            )
        seconds = f"{verdict.seconds:.1f} s"
        if verdict.chosen is None:
            # Under the threshold as answers report it (to three places).
            evidence.answers = min(evidence.answers, self.threshold - 0.001)
            notes.append(
                f"careful mode: refused; the chat model's word on the {verdict.judged} "
                f"likeliest sentences (best P(yes) {verdict.yes:.2f}), weighed with the "
                f"selector's, does not answer it ({seconds})"
            )
            return
        lead = choices[verdict.chosen][0]
        place = next(i for i, c in enumerate(evidence.candidates) if c is lead)
        evidence.probabilities[place] = np.nextafter(evidence.probabilities.max(), 2)
        evidence.answers = max(evidence.answers, self.threshold)
        notes.append(
            "careful mode: answered; the chat model found the sentence quoted first the "
            f"likeliest to answer it (P(yes) {verdict.yes:.2f}, {seconds})"
        )

    def _named_paragraph(self, question: str, evidence: Evidence):
        """(number, its sentences in reading order) of the first paragraph the question names
        ("paragraph 2.5", "recommendation 7") that a retrieved passage holds, or None."""
        wanted = named_paragraphs(question)
        if not wanted:
            return None
        for passage in evidence.passages:
            for *_, number in passage.paragraphs:
                if paragraph_token(number) not in wanted:
                    continue
                spans, vectors = self.extractive.sentences(passage)
                inside = [
                    Candidate(passage, span, i, vector)
                    for i, (span, vector) in enumerate(zip(spans, vectors, strict=True))
                    if passage.paragraph_at(passage.text.find(span)) == str(number)
                ]
                if inside:
                    return number, inside
        return None

    def _assemble(self, question, parts, filters, notes, started, labelled=True) -> Answer:
        """One Answer from the parts: each part's passages numbered apart, the sources then
        numbered in the order the answer first cites them. Unlabelled, the parts are one text:
        no part's label, nothing said for a part that found nothing, no sentence twice."""
        pieces, citations, passages = [], [], []
        said: set[str] = set()
        numbered: dict[str, int] = {}  # a passage found for two parts is one source
        for label, part in parts:
            shift = {}
            for p in part.evidence.passages:
                if p.chunk_id not in numbered:
                    numbered[p.chunk_id] = len(passages) + 1
                    rank = numbered[p.chunk_id]  # renumbering by citation keeps it
                    passages.append(replace(p, n=rank, rank=rank))
                shift[p.n] = numbered[p.chunk_id]
            citations += [replace(c, n=shift[c.n]) for c in part.citations if c.n in shift]
            text = MARKER.sub(lambda m, s=shift: f" [{s.get(int(m.group(1)), 0)}]", part.text)
            if not labelled:
                text = _unsaid(text, said)
                if text or len(parts) > 1:
                    pieces += [text] if text else []
                    continue
            if not text:
                text = (
                    NOT_FOUND + " " + refusal_reason(part.evidence, filters)
                    if len(parts) == 1
                    else PART_NOT_FOUND
                )
            pieces.append(f"{label}: {text}" if label else text)
        refused = not any(part.text for _, part in parts)
        first = parts[0][1]
        if not pieces:  # unlabelled, and no part found anything
            pieces = [NOT_FOUND + " " + refusal_reason(first.evidence, filters)]
        confidence = round(min(part.evidence.answers or 0.0 for _, part in parts), 3)
        text = "\n\n".join(pieces)
        if not refused:
            text, citations, passages = renumber(text, citations, passages)
        timings = {
            stage: sum(part.timings.get(stage, 0.0) for _, part in parts)
            for stage in ("retrieve", "careful", "compose", "verify")
            if any(stage in part.timings for _, part in parts)
        }
        timings["total"] = (time.perf_counter() - started) * 1000
        judged = max(
            (part.evidence.judged for _, part in parts if part.evidence.judged is not None),
            default=None,
        )
        return Answer(
            question,
            " | ".join(part.evidence.query for _, part in parts),
            text,
            refused,
            [] if refused else citations,
            passages,
            first.composer,
            timings,
            notes,
            strength="weak" if refused else self.strength(confidence),
            confidence=confidence,
            judged=judged,
            filters={k: list(v) for k, v in (filters or {}).items() if v},
            reliability=None if refused or judged is not None else self.reliability(confidence),
        )

    def reliability(self, confidence: float) -> Band | None:
        """How often answers this sure were right to questions the selector never saw:
        the shipped table, where it was measured with this selector."""
        if self.selector is None:
            return None
        table = shipped(self.selector.fingerprint)
        return table.band(confidence) if table is not None else None

    @property
    def threshold(self) -> float:
        """The one refusal threshold on P(the evidence answers)."""
        if self.settings.answer_threshold is not None:
            return self.settings.answer_threshold
        return self.selector.threshold if self.selector is not None else 0.5

    def strength(self, confidence: float) -> str:
        """strong, partial (answered, less surely) or weak (refused)."""
        if confidence >= max(STRONG, self.threshold):
            return "strong"
        return "partial" if confidence >= self.threshold else "weak"

    def _compose(self, evidence: Evidence, notes: list[str], stream: bool = True, reach=None):
        """Composes with the configured composer, streaming; falls back to extractive."""
        if isinstance(self.composer, ExtractiveComposer):
            return self._extract(evidence, reach)
        # The chat model reads the passages best first, as the selector ranks them.
        passages = passages_by_answer(evidence)[: self.settings.top_k]
        try:
            if self.settings.llm_stream and stream:
                return (yield from self.composer.stream(evidence.query, passages))
            return self.composer.compose(evidence.query, passages)
        except Exception as err:  # any model failure: the user still gets a checked answer
            notes.append(f"the chat model failed ({_one_line(err)}); answered extractively")
            return self._extract(evidence, reach)

    def _extract(self, evidence: Evidence, reach=None) -> Composition:
        """The extractive answer, offering only sentences that speak to the question."""
        speaks = self.verifier.speaks_to(evidence.query)
        return self.extractive.compose(ranked(evidence), reach, speaks)


STRONG = 0.75  # P(the evidence answers) from which an answer's evidence is called strong


def ranked(evidence: Evidence) -> list[tuple[Candidate, float]]:
    """The candidate sentences with their probability of answering, most likely first."""
    if evidence.probabilities is None:
        return []
    order = np.argsort(-evidence.probabilities, kind="stable")
    return [(evidence.candidates[i], float(evidence.probabilities[i])) for i in order]


def passages_by_answer(evidence: Evidence) -> list[Passage]:
    """The passages in the order of their best sentence's probability of answering."""
    best: dict[int, float] = {}
    for candidate, p in ranked(evidence):
        best.setdefault(candidate.passage.n, p)
    return sorted(evidence.passages, key=lambda passage: -best.get(passage.n, 0.0))


def refusal_reason(evidence: Evidence, filters: Mapping[str, Sequence[str]] | None) -> str:
    """What the evidence lacks, in plain words, and where the nearest passage is."""
    if not evidence.passages:
        return "Nothing in the index matches it" + (" with these filters." if filters else ".")
    text = " ".join(f"{p.title} {p.section} {p.text}" for p in evidence.passages)
    normal = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
    missing = [term for term in evidence.analysis.asserted if not present(term, normal)]
    nearest = evidence.passages[0]
    where = f" The nearest passage is in {nearest.title}, {nearest.pages}."
    if missing:
        return f"They do not mention {', '.join(repr(m) for m in missing)}." + where
    wanted = evidence.analysis.answer_types
    if wanted:
        kind = _KIND_NAMES.get(next(iter(sorted(wanted))), "the thing asked for")
        return f"The passages nearest to it give no {kind} for it." + where
    return "The passages nearest to it do not answer it directly." + where


_KIND_NAMES = {
    "CARDINAL": "figure",
    "DATE": "date or time",
    "FAC": "place",
    "GPE": "place",
    "LOC": "place",
    "MONEY": "amount",
    "NORP": "name",
    "ORG": "name",
    "PERCENT": "share or percentage",
    "PERSON": "name",
    "QUANTITY": "figure",
    "TIME": "date or time",
}


def _one_line(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:200]
