"""The conversation: condense -> retrieve -> compose -> verify, as one call."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from langchain_core.language_models import BaseChatModel

from .citations import MARKER, Verifier, citations_for, names_in, split_claims
from .config import Settings, get_settings
from .embeddings import get_embedder
from .generation import Composition, ExtractiveComposer, LLMComposer
from .ingest import open_store
from .lexical import stopwords
from .llm import chat_model_from_settings
from .models import Answer, Passage
from .premise import ASKING, missing_terms
from .retrieval import HybridRetriever
from .store import StoreError

MAX_QUESTION_CHARS = 2000
NOT_FOUND = "The indexed documents do not answer this question."
# Words that point back to an earlier turn's subject.
_POINTING = r"\b(they|them|their|it|its|that|those|this|these|there|he|she|his|her)\b"
_POINTS_BACK = re.compile(_POINTING, re.I)
_FOLLOW_UP = re.compile(rf"^(and|but|also|what about|how about|so)\b|{_POINTING}", re.I)


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


class QuestionError(ValueError):
    """A question that cannot be asked as it stands; str() says why."""


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
    ):
        self.settings = settings or get_settings()
        embedder = get_embedder(self.settings)
        self.retriever = retriever or HybridRetriever(
            open_store(self.settings), embedder, self.settings
        )
        self.extractive = ExtractiveComposer(
            embedder, self.settings.min_evidence, self.retriever.lexical.headings
        )
        self.llm = llm if llm is not None else chat_model_from_settings(self.settings)
        if composer is None and self.llm is not None:
            composer = LLMComposer(self.llm, self.settings.llm_timeout_s)
        self.composer = composer or self.extractive
        self.verifier = verifier or Verifier(embedder, self.settings.support_threshold)

    # The steps -------------------------------------------------------------------------

    def check_question(self, question: str) -> str:
        """Returns the question tidied; raises QuestionError for one that cannot be asked."""
        question = re.sub(r"\s+", " ", question or "").strip()
        if not question:
            raise QuestionError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionError(
                f"the question is {len(question):,} characters long; "
                f"ask it in under {MAX_QUESTION_CHARS:,}"
            )
        words = re.findall(r"[^\W\d_]{2,}", question.lower())
        if len(words) >= 3:
            known = stopwords() | self.retriever.lexical.vocabulary | ASKING
            if sum(w in known for w in words) / len(words) < 0.4:
                raise QuestionError(
                    "the question does not look like English; the indexed "
                    "documents are in English, so ask in English"
                )
        return question

    def condense(self, question: str, history: Sequence[Mapping[str, str]] | None) -> str:
        """A standalone query: the chat model rewrites a follow-up where there is one; without
        one (or when it fails) the follow-up takes what it leaves out of the earlier question
        (see carried_subject)."""
        earlier = [t.get("content", "") for t in history or [] if t.get("role") == "user"]
        if not earlier or not _FOLLOW_UP.search(question) or len(question.split()) > 14:
            return question
        if self.llm is not None:
            rewritten = self._condense_with_llm(question, history or [])
            if rewritten:
                return rewritten
        return f"{question} {carried_subject(earlier[-1], question)}".strip()

    def _condense_with_llm(self, question: str, history: Sequence[Mapping[str, str]]) -> str:
        from .prompts import render

        turns = "\n".join(f"{t.get('role', 'user')}: {t.get('content', '')}" for t in history[-6:])
        try:
            reply = self.llm.invoke(render("condense", history=turns, question=question))
        except Exception:  # a failing model must not stop the question being answered
            return ""
        text = str(reply.content).strip().splitlines()[0] if str(reply.content).strip() else ""
        return text if 3 <= len(text) <= MAX_QUESTION_CHARS else ""

    def missing_terms(self, question: str, passages: Sequence[Passage]) -> list[str]:
        """What the question presumes that the evidence never mentions (see premise.py)."""
        return missing_terms(question, passages, self.retriever.lexical.vocabulary)

    def look_further(
        self,
        question: str,
        standalone: str,
        passages: Sequence[Passage],
        filters: Mapping[str, Sequence[str]] | None = None,
    ) -> tuple[list[Passage], list[str]]:
        """Before refusing: a passage past the cut (further down, or a fourth from one
        document) that holds what the question presumes takes the last passage's place.
        Returns the passages and what is still missing."""
        k = len(passages)
        wider = self.retriever.retrieve(standalone, k=3 * k, filters=filters, per_document=k)
        have = {p.chunk_id for p in passages}
        kept = list(passages[:-1])
        for p in wider:
            if p.chunk_id in have:
                continue
            trial = [*kept, replace(p, n=k)]
            if not self.missing_terms(question, trial):
                return trial, []
        return list(passages), self.missing_terms(question, passages)

    def verify(self, composition: Composition, passages: Sequence[Passage]):
        """Checks every cited sentence; returns the supported text, citations and notes."""
        by_n = {p.n: p for p in passages}
        kept, checks, notes = [], [], []
        # "... goals. [1]" is "... goals [1]."
        text = re.sub(r"([.!?])((?:\s*\[\d+\])+)", r"\2\1", composition.text)
        for sentence in split_claims(text):
            if not sentence.strip():
                continue
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
            check = self.verifier.check(sentence, [by_n[n] for n in numbers])
            checks.append(check)
            if check.supported:
                kept.append(sentence)
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
    ) -> Answer:
        """Answers one question; every claim in the answer cites a passage that supports it."""
        *_, answer = self.stream(question, history, filters)
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[Mapping[str, str]] | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
    ) -> Iterator[str | Answer]:
        """Yields the answer's text in pieces as it is composed, then the checked Answer.

        A chat model's tokens stream as they come; the Answer that follows holds only what the
        verifier kept, so a client replaces the streamed text with answer.answer at the end.
        """
        started = time.perf_counter()
        if self.retriever.is_empty():
            raise StoreError(
                f"the index at {self.retriever.store.location} holds no documents: "
                "run `assistant ingest corpus/` first"
            )
        question = self.check_question(question)
        standalone = self.condense(question, history)
        passages = self.retriever.retrieve(standalone, filters=filters)
        timings = {"retrieve": (time.perf_counter() - started) * 1000}
        notes: list[str] = []
        if not passages:
            timings.update(compose=0.0, verify=0.0, total=timings["retrieve"])
            reason = " Nothing in the index matches it" + (
                " with these filters." if filters else "."
            )
            yield Answer(
                question, standalone, NOT_FOUND + reason, True, [], [], self.composer.name, timings
            )
            return
        missing = self.missing_terms(question, passages)
        if missing:
            passages, missing = self.look_further(question, standalone, passages, filters)
        composing = time.perf_counter()
        if missing:
            composition = Composition("", True, 0.0, self.composer.name)
        else:
            composition = yield from self._compose(standalone, passages, notes)
        verifying = time.perf_counter()
        timings["compose"] = (verifying - composing) * 1000
        text, citations = "", []
        if not composition.refused:
            text, citations, removed = self.verify(composition, passages)
            notes += removed
        timings["verify"] = (time.perf_counter() - verifying) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        if not text:
            reason = (
                f" They do not mention {', '.join(repr(m) for m in missing)}."
                if missing
                else " The closest passages are listed below; none answers it directly."
            )
            yield Answer(
                question,
                standalone,
                NOT_FOUND + reason,
                True,
                [],
                passages,
                composition.composer,
                timings,
                notes,
            )
            return
        if any(n.startswith("removed") for n in notes):
            text += " (Sentences that their passages did not support were removed.)"
        if composition.composer == self.composer.name == "extractive":
            for piece in re.split(r"(?<=[.!?])\s+", text):
                yield piece + " "
        yield Answer(
            question,
            standalone,
            text,
            False,
            citations,
            passages,
            composition.composer,
            timings,
            notes,
        )

    def _compose(self, question: str, passages: Sequence[Passage], notes: list[str]):
        """Composes with the configured composer, streaming; falls back to extractive."""
        if isinstance(self.composer, ExtractiveComposer):
            return self.composer.compose(question, passages)
        try:
            if self.settings.llm_stream:
                return (yield from self.composer.stream(question, passages))
            return self.composer.compose(question, passages)
        except Exception as err:  # any model failure: the user still gets a checked answer
            notes.append(f"the chat model failed ({_one_line(err)}); answered extractively")
            return self.extractive.compose(question, passages)


def _one_line(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:200]
