"""Two documents that give one figure in different words agree; with different figures they
disagree, however each writes its percentage."""

from __future__ import annotations

import pytest

from assistant.chain import Assistant
from assistant.config import Settings
from assistant.ingest import Ingester

QUESTION = "What share of ferry sailings from Oban left on time in 2024?"
SENTENCE = "In 2024, {} of ferry sailings from Oban left on time, according to the Ferry Board."


def _ask(tmp_path, embedder, theirs: str, sentence=SENTENCE, ours="92%", question=QUESTION):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "punctuality.md").write_text(
        f"# Ferry punctuality\n\n{sentence.format(ours)}\n", encoding="utf-8"
    )
    (corpus / "review.md").write_text(
        f"# Island transport review\n\n{sentence.format(theirs)}\n", encoding="utf-8"
    )
    settings = Settings(index_dir=tmp_path / "index", progress=False)
    assert Ingester(settings, embedder=embedder).ingest([corpus]).ok
    return Assistant(settings).ask(question)


@pytest.mark.parametrize("theirs", ["92 per cent", "92 percent", "92 %", "92 Per-Cent"])
def test_one_figure_written_two_ways_is_no_disagreement(tmp_path, embedder, theirs):
    answer = _ask(tmp_path, embedder, theirs)
    assert "92%" in answer.answer
    assert "disagree" not in answer.answer
    assert not [note for note in answer.notes if "disagree" in note]


def test_two_figures_disagree_however_each_writes_its_percentage(tmp_path, embedder):
    answer = _ask(tmp_path, embedder, "87 per cent")
    assert "The documents disagree" in answer.answer and "87 per cent" in answer.answer
    assert any("disagree" in note for note in answer.notes)
    # The note speaks of the whole answer: no one document's paragraph introduces it, as
    # though that document said that the documents disagree.
    assert not any(
        paragraph.startswith("Island transport review: ") and "disagree" in paragraph
        for paragraph in answer.answer.split("\n\n")
    )


def test_two_documents_naming_different_paragraphs_do_not_disagree(tmp_path, embedder):
    """A government response quotes a report's point under its own paragraph numbers: which
    paragraph each refers to is no figure either states."""
    answer = _ask(
        tmp_path,
        embedder,
        "8.30",
        sentence="As noted in paragraph {}, the Oban ferry pilot did not wholly reflect the "
        "evidence on punctuality.",
        ours="7.41",
        question="Did the Oban ferry pilot reflect the evidence on punctuality?",
    )
    assert "ferry pilot did not wholly reflect" in answer.answer
    assert "disagree" not in answer.answer
    assert not [note for note in answer.notes if "disagree" in note]


def _tables(tmp_path, embedder, theirs: str):
    """Two survey reports, each with a row of scores under its department's heading."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = "| Measure | 2014 | 2015 |\n|---|---|---|\n| Staff engagement index | {} | {} |\n"
    (corpus / "scores.md").write_text(
        "# Staff survey scores by department\n\n## Department for Transport\n\n"
        + rows.format("57%", "61%"),
        encoding="utf-8",
    )
    (corpus / "summary.md").write_text(
        f"# Staff survey summary of findings\n\n## {theirs}\n\n" + rows.format("55%", "56%"),
        encoding="utf-8",
    )
    settings = Settings(index_dir=tmp_path / "index", progress=False)
    assert Ingester(settings, embedder=embedder).ingest([corpus]).ok
    return Assistant(settings).ask(f"What was the {theirs}'s staff engagement index in 2015?")


def test_rows_under_other_headings_are_other_subjects_not_a_disagreement(tmp_path, embedder):
    """One department's row and another's read alike but for their figures: the heading each
    stands under names whose they are."""
    answer = _tables(tmp_path, embedder, "Department for Work and Pensions")
    assert "56%" in answer.answer
    assert "disagree" not in answer.answer
    assert not [note for note in answer.notes if "disagree" in note]


def test_rows_under_one_heading_with_other_figures_disagree(tmp_path, embedder):
    answer = _tables(tmp_path, embedder, "Department for Transport")
    assert "The documents disagree" in answer.answer
    assert any("disagree" in note for note in answer.notes)
