"""Eval questions and the sets they come in: the question format (see evals/README.md), the
sets in evals/sets.yaml, and SQuAD 2.0 paragraphs made into a corpus with its questions."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .citations import split_sentences

UNANSWERABLE_KINDS = ("unanswerable", "false_premise", "not_covered", "off_topic")


class QuestionFileError(ValueError):
    """A question file or set that cannot be read; str() names the file and the field."""


@dataclass(frozen=True)
class Question:
    """One eval question and what a good answer holds."""

    id: str
    question: str
    answerable: bool
    kind: str
    documents: tuple[str, ...] = ()
    pages: tuple[int, ...] = ()
    answer_terms: tuple[tuple[str, ...], ...] = ()
    """Each a term a right answer contains, given as its alternatives ("40%", "40 per cent")."""
    evidence: str = ""
    """The sentence of the document that answers; a right answer quotes it."""
    history: tuple[dict[str, str], ...] = ()
    split: str = "tuning"
    """tuning (weights may be set while watching it) or test (never tuned on)."""
    context: bool = False
    """The question opens with the asker's own situation."""
    variant_of: str = ""
    """The id of the same question without that situation."""
    lessons: tuple[str, ...] = ()
    expected_answer: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    """Search only here (SQuAD's questions are asked of their own paragraph)."""


def _listed(raw: Any, where: str, name: str) -> list:
    """A field that holds a list, given as one (a single value stands for a list of one, not
    for its characters)."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        return [raw]
    if not isinstance(raw, (list, tuple)):
        raise QuestionFileError(f"{where}: {name} must be a list")
    return list(raw)


def _flag(entry: dict, name: str, default: bool, where: str) -> bool:
    value = entry.get(name, default)
    if not isinstance(value, bool):
        raise QuestionFileError(f"{where}: {name} must be true or false, not {value!r}")
    return value


def _mapping(raw: Any, where: str, name: str) -> dict:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict):
        raise QuestionFileError(f"{where}: {name} must be a mapping of field to values")
    return raw


def _terms(raw: Any, where: str) -> tuple[tuple[str, ...], ...]:
    terms = []
    for term in _listed(raw, where, "answer_terms"):
        alternatives = term if isinstance(term, list) else [term]
        if not alternatives or not all(isinstance(a, (str, int, float)) for a in alternatives):
            raise QuestionFileError(f"{where}: answer_terms must be strings or lists of strings")
        terms.append(tuple(str(a) for a in alternatives))
    return tuple(terms)


def _question(entry: Any, where: str) -> Question:
    if not isinstance(entry, dict) or not entry.get("id") or not entry.get("question"):
        raise QuestionFileError(f"{where}: each question needs an id and a question")
    where = f"{where}: {entry['id']}"
    kind = str(entry.get("kind", "question"))
    answerable = _flag(entry, "answerable", kind not in UNANSWERABLE_KINDS, where)
    history = entry.get("history") or ()
    if not isinstance(history, (list, tuple)) or not all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") for t in history
    ):
        raise QuestionFileError(f"{where}: history must be a list of {{role, content}}")
    try:
        pages = tuple(int(p) for p in _listed(entry.get("pages"), where, "pages"))
    except (TypeError, ValueError) as err:
        raise QuestionFileError(f"{where}: pages must be page numbers") from err
    return Question(
        id=str(entry["id"]),
        question=str(entry["question"]),
        answerable=answerable,
        kind=kind,
        documents=tuple(str(d) for d in _listed(entry.get("documents"), where, "documents")),
        pages=pages,
        answer_terms=_terms(entry.get("answer_terms", entry.get("key_points")), where),
        evidence=str(entry.get("evidence") or ""),
        history=tuple(history),
        split=str(entry.get("split", "tuning")),
        context=_flag(entry, "context", False, where),
        variant_of=str(entry.get("variant_of") or ""),
        lessons=tuple(str(x) for x in _listed(entry.get("lessons"), where, "lessons")),
        expected_answer=str(entry.get("expected_answer") or ""),
        filters={
            str(k): [str(x) for x in _listed(v, where, f"filters: {k}")]
            for k, v in _mapping(entry.get("filters"), where, "filters").items()
        },
    )


def load_questions(path: Path) -> list[Question]:
    """The questions of a YAML file, or of every .yaml file in a folder (in name order)."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise QuestionFileError(f"{path}: holds no .yaml question files")
    questions: list[Question] = []
    for file in files:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            raise QuestionFileError(f"{file}: cannot be read as YAML: {err}") from err
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            raise QuestionFileError(f"{file}: must hold `questions:`, a list")
        questions += [_question(q, str(file)) for q in data["questions"]]
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise QuestionFileError(f"{path}: the id {q.id!r} is used twice")
        seen.add(q.id)
    return questions


@dataclass(frozen=True)
class EvalSet:
    """A corpus and its questions, as evals/sets.yaml names them."""

    name: str
    corpus: Path
    questions: list[Question]
    configs: tuple[str, ...]
    quick: int = 0
    """How many questions `--quick` (CI) asks: a fixed sample of both kinds; 0 for all."""


def sample(questions: list[Question], n: int, seed: int = 2026) -> list[Question]:
    """A fixed sample of n questions keeping the share of unanswerable ones (and every
    question a follow-up or a variant leans on stays with it)."""
    if not n or n >= len(questions):
        return questions
    rng = random.Random(seed)
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    k = round(n * len(unanswerable) / len(questions))
    chosen = {q.id for q in rng.sample(unanswerable, min(k, len(unanswerable)))}
    chosen |= {q.id for q in rng.sample(answerable, min(n - len(chosen), len(answerable)))}
    return [q for q in questions if q.id in chosen]


def squad_set(path: Path, folder: Path, limit: int = 0, seed: int = 2026) -> tuple[Path, list]:
    """SQuAD 2.0 articles as a corpus, one text file a paragraph, and their questions, each
    asked of its own paragraph: does the assistant quote the sentence holding the answer, and
    refuse the questions the paragraph cannot answer."""
    data = json.loads(path.read_text(encoding="utf-8"))
    corpus = folder / "squad-paragraphs"
    corpus.mkdir(parents=True, exist_ok=True)
    questions = []
    for article in data["data"]:
        for i, paragraph in enumerate(article["paragraphs"]):
            name = f"{article['title']}-{i:03d}.txt"
            text = paragraph["context"]
            (corpus / name).write_text(f"{article['title'].replace('_', ' ')}\n\n{text}\n")
            for qa in paragraph["qas"]:
                answers = [a["text"] for a in qa.get("answers", [])]
                evidence = ""
                if answers:
                    start = qa["answers"][0]["answer_start"]
                    evidence = _sentence_at(text, start)
                questions.append(
                    Question(
                        id=f"squad-{qa['id']}",
                        question=qa["question"],
                        answerable=not qa.get("is_impossible", False),
                        kind="squad_unanswerable" if qa.get("is_impossible") else "squad",
                        documents=(name,),
                        answer_terms=(tuple(dict.fromkeys(answers)),) if answers else (),
                        evidence=evidence,
                        split="test",
                        filters={"title": [Path(name).stem.replace("_", " ")]},
                    )
                )
    if limit:
        questions = sample(questions, limit, seed)
    return corpus, questions


def _sentence_at(text: str, offset: int) -> str:
    """The sentence of text that holds the character at offset."""
    position = 0
    for sentence in split_sentences(text):
        start = text.find(sentence, position)
        if start <= offset < start + len(sentence):
            return sentence
        position = max(position, start)
    return ""


def load_sets(path: Path, root: Path, work: Path) -> dict[str, EvalSet]:
    """The sets evals/sets.yaml defines; paths in it are relative to root, and SQuAD's corpus
    is written under work."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise QuestionFileError(f"{path}: cannot be read as YAML: {err}") from err
    sets = {}
    for name, spec in (data.get("sets") or {}).items():
        configs = tuple(spec.get("configs") or ("assistant", "dense", "lexical", "plain"))
        if "squad" in spec:
            corpus, questions = squad_set(
                root / spec["squad"], work / name, int(spec.get("limit", 0))
            )
        else:
            corpus = root / spec["corpus"]
            questions = load_questions(root / spec["questions"])
        sets[name] = EvalSet(name, corpus, questions, configs, int(spec.get("quick", 0)))
    return sets


_WORD = re.compile(r"[^\W_]+")  # letters of any script: "dŵr" is one word


def words(text: str) -> list[str]:
    """Lower-case word tokens, for matching evidence against quotes; a footnote's call in
    superscript is its digits, as in evidence copied from text where calls were plain."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'"))
