"""The conversation: condense -> retrieve -> compose -> verify, as one call."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence

from langchain_core.language_models import BaseChatModel

from .citations import MARKER, Verifier, citations_for, names_in, numbers_in, stem
from .config import Settings, get_settings
from .embeddings import get_embedder
from .generation import Composition, ExtractiveComposer, LLMComposer
from .ingest import open_store
from .lexical import stopwords
from .llm import chat_model_from_settings
from .models import Answer, Passage
from .retrieval import HybridRetriever
from .store import StoreError

MAX_QUESTION_CHARS = 2000
NOT_FOUND = "The indexed documents do not answer this question."
_FOLLOW_UP = re.compile(
    r"^(and|but|also|what about|how about|so)\b|\b(they|them|their|it|its|that|those|this|these|"
    r"there|he|she|his|her)\b",
    re.I,
)
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
_ASKING = frozenset(
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
            known = stopwords() | self.retriever.lexical.vocabulary | _ASKING
            if sum(w in known for w in words) / len(words) < 0.4:
                raise QuestionError(
                    "the question does not look like English; the indexed "
                    "documents are in English, so ask in English"
                )
        return question

    def condense(self, question: str, history: Sequence[Mapping[str, str]] | None) -> str:
        """A standalone query: the chat model rewrites a follow-up where there is one; without
        one (or when it fails) the follow-up carries forward the earlier turn's subject."""
        earlier = [t.get("content", "") for t in history or [] if t.get("role") == "user"]
        if not earlier or not _FOLLOW_UP.search(question) or len(question.split()) > 14:
            return question
        if self.llm is not None:
            rewritten = self._condense_with_llm(question, history or [])
            if rewritten:
                return rewritten
        return f"{earlier[-1].strip()} {question}"

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
        """The question's figures, names and asked-for thing that the evidence never mentions.

        A close-sounding passage is always found; this catches the false premise (a year, a
        body, a figure the documents never mention) that a similarity threshold lets through.
        """
        evidence = " ".join(p.text + " " + p.title for p in passages)
        evidence = re.sub(r"\s+", " ", evidence).casefold().replace("\u2019", "'")
        missing = [n for n in sorted(numbers_in(question)) if n not in evidence]
        missing += sorted(
            n
            for n in names_in(question)
            if stem(n) not in evidence and n not in _ASKING and n not in stopwords()
        )
        asked = _ASKED_FOR.match(question)
        if asked:
            thing = asked.group("thing").lower()
            # A word the whole index never uses: the documents cannot say what it asks for.
            known = any(t.startswith(thing[:5]) for t in self.retriever.lexical.vocabulary)
            if thing not in _ASKING and thing[:5] not in evidence and not known:
                missing.append(thing)
        who = _WHO_DID.match(question)
        if who and who.group("verb").lower() not in _AUXILIARY:
            verb = who.group("verb").lower()
            if not re.search(rf"\b{re.escape(stem(verb))}[a-z]{{0,4}}\b", evidence):
                missing.append(f"who {verb}")
        if (
            _NOW.search(question)
            and _PROGRESS.search(question)
            and not _REPORTS_NOW.search(evidence)
        ):
            missing.append("the current position (the documents report what was planned)")
        return list(dict.fromkeys(missing))

    def verify(self, composition: Composition, passages: Sequence[Passage]):
        """Checks every cited sentence; returns the supported text, citations and notes."""
        by_n = {p.n: p for p in passages}
        kept, checks, notes = [], [], []
        # "... goals. [1]" is "... goals [1]."
        text = re.sub(r"([.!?])((?:\s*\[\d+\])+)", r"\2\1", composition.text)
        for sentence in re.split(r"(?<=[.!?])\s+(?=\S)", text):
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
