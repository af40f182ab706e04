"""Example questions for the first screen: drawn from the indexed documents' headings, and
offered only when the index answers them."""

from __future__ import annotations

import pytest

from assistant.chain import Assistant
from assistant.suggestions import candidates, example_questions, topic_of


@pytest.mark.parametrize(
    ("heading", "topic"),
    [
        ("The seven well-being goals", "the seven well-being goals"),
        ("3.2 Public Services Boards", "Public Services Boards"),
        ("Lesson 4: re-wire accountability", "lesson 4: re-wire accountability"),
        ("Civil Service People Survey", "Civil Service People Survey"),
        ("How the framework is meant to be used", ""),  # a phrase, not a topic
        ("CHAPTER 1: INTRODUCTION", ""),  # shouting, usually furniture
        ("Contents", ""),  # one word
        ("Transportation, Docket Operations, M–", ""),  # cut mid-phrase
        ("Mymanager 70%65%64%67%68%", ""),  # a table row read as a heading
        ("2030 targets for net zero", "2030 targets for net zero"),  # its own figure
        ("1 in 5 children", "1 in 5 children"),
        ("Xi Jinping's visit to Wales", "Xi Jinping's visit to Wales"),
        ("IV. Public Services Boards", "Public Services Boards"),
        ("b) the duty to report", "the duty to report"),
        ("3 Ways of working", "ways of working"),
    ],
)
def test_a_heading_becomes_a_topic_only_when_it_reads_as_one(heading, topic):
    assert topic_of(heading) == topic


@pytest.fixture(scope="module")
def starter(starter_settings, embedder):
    return Assistant(starter_settings)


def test_candidates_take_each_document_in_turn_and_skip_headings_all_share(starter):
    asked = list(candidates(starter))
    offering = {doc_id for doc_id, _ in asked}
    assert len(offering) >= len(starter.documents()) - 3
    first_round = [doc_id for doc_id, _ in asked[: len(offering)]]
    assert set(first_round) == offering
    # Every starter summary has an "About this summary" section: it says nothing of any one.
    assert not any("about this summary" in q.lower() for _, q in asked)


def test_examples_are_questions_the_index_answers_each_from_another_document(starter):
    examples = example_questions(starter, n=3, tries=8)
    assert 1 <= len(examples) <= 3 and len(set(examples)) == len(examples)
    for question in examples:
        answer = starter.ask(question)
        assert not answer.refused and answer.citations


def test_examples_are_kept_with_what_they_were_drawn_from(
    tmp_path, starter_settings, embedder, monkeypatch
):
    import shutil

    from assistant.ingest import Ingester
    from assistant.suggestions import EXAMPLES_FILE
    from tests.pdfs import make_pdf

    settings = starter_settings.model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(starter_settings.index_dir, settings.index_dir)  # the shared one is read-only
    assistant = Assistant(settings)
    asked = []
    ask = assistant.ask
    monkeypatch.setattr(assistant, "ask", lambda q, *a, **k: asked.append(q) or ask(q, *a, **k))

    first = assistant.examples()
    assert first and asked and (settings.index_dir / EXAMPLES_FILE).exists()
    asked.clear()
    assert assistant.examples() == first and not asked  # nothing changed: nothing asked again

    (settings.index_dir / EXAMPLES_FILE).write_text("{not json")
    assert assistant.examples() == first and asked  # unreadable: drawn again
    asked.clear()
    folder = tmp_path / "more"
    folder.mkdir()
    make_pdf(
        folder / "piers.pdf",
        [[("h", "Pier repairs"), ("p", "The pier at Craignure is to be repaired in 2027.")]],
        title="Pier repairs",
    )
    assert Ingester(settings, embedder=embedder).ingest([folder]).ok
    assistant.examples()
    assert asked  # the index changed: drawn again from what it holds now


def test_a_file_indexed_at_two_paths_still_gives_topics(settings, tmp_path):
    from assistant.ingest import Ingester

    folder = tmp_path / "docs"
    folder.mkdir()
    report = (
        "# Harbour report\n\n## Funding of the harbour works\n\nThe council paid for the works."
        "\n\n## Dredging the inner channel\n\nThe channel was dredged in May.\n"
    )
    (folder / "report.md").write_text(report)
    (folder / "report-copy.md").write_text(report)
    Ingester(settings).ingest([folder])
    found = [question for _, question in candidates(Assistant(settings))]
    assert "What do the documents say about dredging the inner channel?" in found
