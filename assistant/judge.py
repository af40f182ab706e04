"""An LLM as judge, for the eval suite when a chat model is configured: faithfulness (the share
of the answer's claims its passages support) and answer relevancy (how directly it answers)."""

from __future__ import annotations

import re

from langchain_core.language_models import BaseChatModel

from .models import Answer
from .prompts import escape_passage, render

_NUMBER = re.compile(r"(?<![\d.])(0(?:\.\d+)?|1(?:\.0+)?)(?![\d.])")


def _score(model: BaseChatModel, prompt: str) -> float | None:
    """The first number between 0 and 1 in the model's reply, or None when it gives none."""
    try:
        reply = str(model.invoke(prompt).content)
    except Exception:  # a judge that fails leaves the score out rather than the run
        return None
    match = _NUMBER.search(reply)
    return float(match.group(1)) if match else None


class Judge:
    """Scores answers with a chat model; each score is between 0 and 1, or None."""

    def __init__(self, model: BaseChatModel):
        self.model = model

    def faithfulness(self, answer: Answer) -> float | None:
        passages = "\n\n".join(
            f'<passage n="{p.n}">\n{escape_passage(p.text)}\n</passage>' for p in answer.passages
        )
        return _score(
            self.model, render("judge_faithfulness", passages=passages, answer=answer.answer)
        )

    def relevancy(self, answer: Answer) -> float | None:
        return _score(
            self.model, render("judge_relevancy", question=answer.question, answer=answer.answer)
        )
