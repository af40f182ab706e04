"""An LLM as judge, for the eval suite when a chat model is configured. The two scores follow
the definitions of ragas, with our own prompts (prompts/judge_*.txt):

- faithfulness: the model breaks the answer into claims, then says of each whether the
  passages state it; the score is the share of claims they state.
- answer relevancy: the model writes the questions the answer would answer; the score is
  their mean cosine to the question asked, by the embedding model. An answer that wanders
  from the question makes questions that wander too.
"""

from __future__ import annotations

import re

import numpy as np
from langchain_core.language_models import BaseChatModel

from .citations import strip_markers
from .embeddings import Embedder
from .models import Answer
from .prompts import escape_passage, render

QUESTIONS = 3  # questions written back from each answer, as in ragas
_VERDICT = re.compile(r"^\s*\(?(\d+)[).:]?\s*[:\-]?\s*(yes|no)\b", re.I)
# a bullet or a number that opens a list item, with a space after it: not "3.5 million" or "-2%"
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def _lines(text: str) -> list[str]:
    """The non-empty lines of a reply, without list bullets or numbers."""
    return [_BULLET.sub("", line).strip() for line in text.splitlines() if line.strip()]


class Judge:
    """Scores answers with a chat model; each score is between 0 and 1, or None when the
    model's reply cannot be read (a failed judgement is left out, not counted as 0)."""

    def __init__(self, model: BaseChatModel, embedder: Embedder):
        self.model = model
        self.embedder = embedder

    def _ask(self, prompt: str) -> str | None:
        try:
            return str(self.model.invoke(prompt).content)
        except Exception:  # a judge that fails leaves the score out rather than the run
            return None

    def claims(self, answer: Answer) -> list[str]:
        reply = self._ask(render("judge_statements", answer=strip_markers(answer.answer)))
        return _lines(reply) if reply else []

    def faithfulness(self, answer: Answer) -> float | None:
        claims = self.claims(answer)
        if not claims:
            return None
        passages = "\n\n".join(
            f'<passage n="{p.n}">\n{escape_passage(p.text)}\n</passage>' for p in answer.passages
        )
        numbered = "\n".join(f"{i}. {claim}" for i, claim in enumerate(claims, 1))
        reply = self._ask(render("judge_verdicts", passages=passages, claims=numbered))
        verdicts: dict[int, bool] = {}
        for line in (reply or "").splitlines():
            match = _VERDICT.match(line)
            if match and 1 <= int(match.group(1)) <= len(claims):
                verdicts.setdefault(int(match.group(1)), match.group(2).lower() == "yes")
        if not verdicts:
            return None
        # A claim the model gave no verdict on is not counted as stated.
        return sum(verdicts.values()) / len(claims)

    def relevancy(self, answer: Answer) -> float | None:
        reply = self._ask(
            render("judge_questions", answer=strip_markers(answer.answer), count=str(QUESTIONS))
        )
        questions = [q for q in _lines(reply or "") if q.endswith("?")][:QUESTIONS]
        if not questions:
            return None
        asked = self.embedder.embed_query(answer.question)
        written = self.embedder.embed_documents(questions)
        return float(np.clip(np.mean(written @ asked), 0.0, 1.0))
