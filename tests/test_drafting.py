"""Briefing notes and comparisons (assistant brief / compare): drafted from a real index, every
evidence sentence cited and checked, exported to Markdown and to Word, with an answer record."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import docx
import pytest

from assistant.chain import NOT_FOUND as NOT_ANSWERED
from assistant.chain import Assistant, QuestionError
from assistant.citations import MARKER, split_claims
from assistant.cli import main
from assistant.config import Settings
from assistant.drafting import (
    NOT_FOUND,
    OTHER,
    Briefing,
    Side,
    _Pool,
    link_lessons,
    regroup,
    sides_of,
)
from assistant.exports import (
    briefing_docx,
    briefing_markdown,
    comparison_docx,
    comparison_markdown,
)
from assistant.ingest import Ingester
from assistant.models import Answer, Citation, DocumentRecord, Passage

ROOT = Path(__file__).resolve().parents[1]
REALDOCS = ROOT / "evals" / "realdocs" / "documents"
# Small real documents, one United States and two UK, with the real corpus's manifest.
REAL = [
    "cabinet_office_wikipedia.pdf",
    "federal-register-2020-17221.pdf",
    "UKRI-081020-HRPolicyFramework.pdf",
]


@pytest.fixture(scope="module")
def starter(starter_settings) -> Assistant:
    return Assistant(starter_settings)


@pytest.fixture(scope="module")
def real(tmp_path_factory, embedder) -> Assistant:
    folder = tmp_path_factory.mktemp("realdocs")
    for name in REAL + ["manifest.yaml"]:
        shutil.copy(REALDOCS / name, folder / name)
    settings = Settings(index_dir=folder / "index", progress=False)
    assert Ingester(settings, embedder=embedder).ingest([folder]).ok
    return Assistant(settings)


def _resolves(assistant: Assistant, draft) -> None:
    """Every [n] in the draft's text names a source, and every source's quotes stand, checked,
    in the stored passage it names."""
    numbers = {s.n for s in draft.sources}
    for side in draft.sides:
        for claim in side.claims:
            cited = [int(n) for n in MARKER.findall(claim)]
            assert cited and set(cited) <= numbers, claim
    assert [s.n for s in draft.sources] == list(range(1, len(draft.sources) + 1))
    stored = {
        c.chunk_id: c.text
        for c in assistant.retriever.store.get([s.chunk_id for s in draft.sources])
    }
    for source in draft.sources:
        assert source.citations
        for citation in source.citations:
            assert citation.supported and citation.quote in stored[source.chunk_id]


def test_a_briefing_groups_checked_evidence_by_jurisdiction(starter):
    note = starter.brief("holding public bodies to account for wellbeing goals")
    assert note.covered
    assert [s.name for s in note.sides] == ["UK", "Scotland", "Wales", "Northern Ireland"]
    _resolves(starter, note)
    wales = next(s for s in note.sides if s.name == "Wales")
    assert wales.found and "Auditor General" in wales.text
    assert 1 <= len(note.summary) <= 5
    assert {r.title for r in note.documents} == {s.first.title for s in note.sources}
    # A lesson is tied only where a claim from one of its documents states one of its points.
    assert "L4-accountability" in {lesson.id for lesson in note.lessons}
    for lesson in note.lessons:
        assert MARKER.search(lesson.claim)
    assert note.record["kind"] == "briefing"
    assert note.record["index_version"] == starter.retriever.store.version()


def test_a_topic_the_documents_do_not_cover_gets_a_short_note(starter):
    note = starter.brief("subsidies for rural broadband")
    assert not note.covered and not note.sources
    text = briefing_markdown(note)
    assert "The indexed documents do not cover subsidies for rural broadband." in text
    assert "## Evidence" not in text and "## Sources" not in text


def test_the_briefing_in_word_has_headings_properties_and_one_entry_per_source(starter):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    note = starter.brief("how progress against national outcomes is reported")
    document = docx.Document(io.BytesIO(briefing_docx(note, author="Policy Unit")))
    headings = [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style.name.startswith(("Heading", "Title"))
    ]
    assert ("Title", note.title) in headings
    for name in ("Summary", "Evidence", "Gaps", "Sources", "Answer record"):
        assert ("Heading 1", name) in headings
    assert ("Heading 2", "Wales") in headings
    properties = document.core_properties
    assert properties.title == note.title and properties.author == "Policy Unit"
    assert properties.created >= before and properties.created.year != 2013
    sources = [p.text for p in document.paragraphs if p.style.name == "List Number"]
    assert len(sources) == len(note.sources) == len(set(sources))
    assert note.record["index_version"] in properties.comments


def test_a_comparison_has_a_row_per_jurisdiction_and_says_where_nothing_is_found(starter):
    table = starter.compare("How is progress reported?")
    assert [s.name for s in table.sides] == ["UK", "Scotland", "Wales", "Northern Ireland"]
    _resolves(starter, table)
    wales = next(s for s in table.sides if s.name == "Wales")
    assert wales.found and "well-being report" in wales.text
    text = comparison_markdown(table)
    assert "| Jurisdiction | Answer | Cited evidence |" in text
    for side in table.sides:
        row = next(line for line in text.splitlines() if line.startswith(f"| {side.name} |"))
        assert (NOT_FOUND in row) != side.found
    document = docx.Document(io.BytesIO(comparison_docx(table)))
    (grid,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in grid.rows]
    assert rows[0] == ["Jurisdiction", "Answer", "Cited evidence"]
    assert [r[0] for r in rows[1:]] == [s.name for s in table.sides]
    assert all(r[1] == NOT_FOUND for r in rows[1:] if r[2] == "-")


def test_a_comparison_on_real_documents_across_jurisdictions_and_across_documents(real):
    table = real.compare("Who leads the Cabinet Office?")
    assert [s.name for s in table.sides] == ["UK", "United States"]
    _resolves(real, table)
    uk, us = table.sides
    assert uk.found and any("Cabinet Office" in s.first.title for s in table.sources)
    assert not us.found and f"| United States | {NOT_FOUND} | - |" in comparison_markdown(table)
    by_document = real.compare("How are policies reviewed and changed?", across="document")
    _resolves(real, by_document)
    policy = next(s for s in by_document.sides if s.name == "UKRI HR Policy Framework")
    assert policy.found and "reviewed" in policy.text
    titles = {r.title for r in real.documents()}
    assert set(by_document.elsewhere) | {s.name for s in by_document.sides} == titles
    with pytest.raises(QuestionError, match="--across must be one of"):
        real.compare("Who leads it?", across="planet")


def test_a_briefing_on_real_documents_cites_only_what_the_index_holds(real):
    note = real.brief("the Cabinet Office's responsibilities")
    assert note.covered
    _resolves(real, note)
    markdown = briefing_markdown(note)
    assert "## Sources" in markdown and "## Answer record" in markdown
    assert all(f"{s.n}. " in markdown for s in note.sources)


def _record(doc: str, jurisdiction: str | None) -> DocumentRecord:
    meta = {"jurisdiction": jurisdiction} if jurisdiction else {}
    return DocumentRecord(doc, f"/c/{doc}.pdf", doc.title(), 1, 1, "", 1, meta=meta)


def test_sides_follow_the_uk_order_and_gather_documents_with_no_jurisdiction():
    records = [
        _record("a", "Wales"),
        _record("b", "UK"),
        _record("c", "Canada"),
        _record("d", None),
    ]
    assert [name for name, _ in sides_of(records, None)] == ["UK", "Wales", "Canada", OTHER]
    assert sides_of(records, None)[-1][1] == {"document": ["d"]}
    report = DocumentRecord("e", "/c/e.pdf", "E", 1, 1, "", 1, meta={"jurisdiction": "Wales"})
    report.meta["kind"] = "report"
    only = sides_of([*records, report], {"jurisdiction": ["wales"], "kind": ["report"]})
    assert only == [("Wales", {"kind": ["report"], "jurisdiction": ["Wales"]})]
    # No document of that kind from Wales: no side, for none would be searched.
    assert sides_of(records, {"jurisdiction": ["wales"], "kind": ["report"]}) == []


def _answer(text: str, cited: dict[int, tuple[str, str]]) -> Answer:
    passages = [
        Passage(n, chunk, "d1", "Doc", "/d.pdf", 1, 1, "", quote, 0.5)
        for n, (chunk, quote) in cited.items()
    ]
    citations = [
        Citation(n, "d1", "Doc", "/d.pdf", 1, 1, "", quote, 0.5, True)
        for n, (_, quote) in cited.items()
    ]
    return Answer("?", "?", text, False, citations, passages, "extractive")


def test_the_same_passage_is_one_source_across_sides():
    pool = _Pool()
    first = pool.add(_answer("A [1]. B [2].", {1: ("c1", "A."), 2: ("c2", "B.")}))
    second = pool.add(
        _answer(
            "B again [1]. C [2]. (Sentences that their passages did not support were removed.)",
            {1: ("c2", "B."), 2: ("c3", "C.")},
        )
    )
    assert first == "A [1]. B [2]."
    assert second == "B again [2]. C [3]."
    assert [s.chunk_id for s in pool.sources] == ["c1", "c2", "c3"]
    assert len(pool.sources[1].citations) == 1


def test_an_aspect_without_strong_evidence_is_not_called_unanswered_by_the_documents():
    """An aspect asked on its own can miss what the topic's evidence quotes: its gap says only
    what was checked, in the note and in both exports."""
    pool = _Pool()
    text = pool.add(_answer("Indicators measure progress [1].", {1: ("c1", "Indicators.")}))
    note = Briefing(
        "how progress is reported",
        dt.datetime(2026, 1, 2, 3, 4),
        [Side("Wales", None, text, "Wales")],
        [Side("how progress is measured", None, ""), Side("what it costs", None, "")],
        [],
        [],
        pool.sources,
        {},
    )
    said = (
        "How progress is measured: asked on its own, the question found no strong evidence; "
        "the evidence above may still bear on it."
    )
    assert note.gaps[0] == said and len(note.gaps) == 2
    assert not any("no clear answer" in gap for gap in note.gaps)
    assert f"\n- {said}\n" in briefing_markdown(note)
    document = docx.Document(io.BytesIO(briefing_docx(note)))
    assert said in [p.text for p in document.paragraphs if p.style.name == "List Bullet"]


def test_a_lesson_needs_its_own_point_in_a_claim_from_its_own_documents(tmp_path):
    lessons = tmp_path / "lessons.yaml"
    lessons.write_text(
        "lessons:\n"
        "  - {id: L1, title: Audit, statement: Audit follows outcomes., "
        "key_points: [Auditor General], documents: [wales.pdf]}\n"
    )
    pool = _Pool()
    text = pool.add(_answer("The Auditor General examines bodies [1].", {1: ("c1", "x")}))
    used = [DocumentRecord("d1", "/c/wales.pdf", "Wales", 1, 1, "", 1)]
    linked = link_lessons([Side("Wales", None, text)], used, pool.sources, lessons)
    assert [lesson.id for lesson in linked] == ["L1"]
    elsewhere = [DocumentRecord("d1", "/c/scotland.pdf", "Scotland", 1, 1, "", 1)]
    assert link_lessons([Side("Wales", None, text)], elsewhere, pool.sources, lessons) == []
    assert link_lessons([Side("Wales", None, text)], used, pool.sources, tmp_path / "none") == []


def test_the_commands_write_whole_files_and_name_a_bad_output(
    starter, monkeypatch, tmp_path, capsys
):
    settings = starter.settings
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("ASSISTANT_AUTHOR", "Briefing Team")
    from assistant.config import get_settings

    get_settings.cache_clear()
    try:
        assert main(["brief", "x", "--out", str(tmp_path / "note.pdf")]) == 2
        assert "note.pdf: the file must end in .md or .docx" in capsys.readouterr().err
        assert main(["compare", "Is the duty in law?", "--out", str(tmp_path / "no" / "t.md")]) == 2
        assert "does not exist" in capsys.readouterr().err
        out = tmp_path / "table.docx"
        assert main(["compare", "Is the duty in law?", "--out", str(out)]) == 0
        assert docx.Document(str(out)).core_properties.author == "Briefing Team"
        assert [p.name for p in tmp_path.iterdir()] == ["table.docx"]
        assert main(["ask", "What are the five ways of working?", "--json"]) == 0
        answer = json.loads(capsys.readouterr().out)
        record = answer["record"]
        assert record["index_version"] == starter.retriever.store.version()
        assert {d["doc_id"] for d in record["documents"]} == {
            c["doc_id"] for c in answer["citations"]
        }
        assert record["settings"]["embedding_backend"] == settings.embedding_backend
        assert main(["brief", "the five ways of working", "--json"]) == 0
        note = json.loads(capsys.readouterr().out)
        assert note["covered"] and note["record"]["kind"] == "briefing" and note["sources"]
    finally:
        get_settings.cache_clear()


def test_a_claim_about_another_jurisdiction_moves_to_it_and_sources_are_renumbered():
    pool = _Pool()
    scotland = pool.add(
        _answer(
            "Scotland's duty is to have regard [1]. Wales places a stronger duty on bodies [2].",
            {1: ("c1", "Scotland's duty is to have regard."), 2: ("c2", "Wales places ...")},
        )
    )
    wales = pool.add(_answer("Bodies set objectives [1].", {1: ("c3", "Bodies set objectives.")}))
    sides = [Side("Scotland", None, scotland), Side("Wales", None, wales), Side("UK", None, "")]
    assert regroup(sides, pool) == 1
    assert sides[0].text == "Scotland's duty is to have regard [1]."
    assert (
        sides[1].text
        == "Bodies set objectives [3].\n\nDoc: Wales places a stronger duty on bodies [2]."
    )
    pool.renumber(sides)
    assert (
        sides[1].text
        == "Bodies set objectives [2].\n\nDoc: Wales places a stronger duty on bodies [3]."
    )
    assert [(s.n, s.chunk_id) for s in pool.sources] == [(1, "c1"), (2, "c3"), (3, "c2")]
    # A name that ends a longer one ("Carnegie UK") is not the jurisdiction.
    charity = Side("Scotland", None, "A Carnegie UK paper followed in 2016 [1].")
    assert regroup([charity, Side("UK", None, "")], pool) == 0
    # A claim naming its own side, or two others, stays where it is.
    both = Side("UK", None, "Scotland and Wales differ from the UK [1].")
    assert regroup([both, Side("Wales", None, "")], pool) == 0
    # A bullet before the sentence's first word leaves it the first word; a claim that leans
    # back goes with the claim it leans on.
    listed = Side(
        "UK",
        None,
        "\u2022 In Scotland, budgets stayed annual [1]. Wales wrote five ways into law [2]. "
        "It also created a Commissioner [2]. Ministers set missions [3].",
    )
    sides = [listed, Side("Scotland", None, ""), Side("Wales", None, "")]
    assert regroup(sides, pool) == 3
    assert sides[0].text == "Ministers set missions [3]."
    assert "\u2022 In Scotland, budgets stayed annual [1]." in sides[1].text
    assert sides[2].text.endswith(
        "Wales wrote five ways into law [2]. It also created a Commissioner [2]."
    )


def test_sides_are_the_chosen_documents_jurisdictions_whatever_their_case():
    records = [
        _record("a1", "Wales"),
        _record("a2", "wales"),
        _record("b1", "UK"),
        _record("c1", None),
    ]
    assert [name for name, _ in sides_of(records, None)] == ["UK", "Wales", OTHER]
    # Only the jurisdictions of the chosen documents were searched, so only they are sides.
    assert sides_of(records, {"document": ["a2"]}) == [
        ("Wales", {"document": ["a2"], "jurisdiction": ["Wales"]})
    ]
    # A document named by the start of its id, as the search takes it.
    assert sides_of(records, {"document": ["c"]}) == [(OTHER, {"document": ["c1"]})]


def test_a_documents_name_before_a_claim_does_not_move_it_to_the_place_it_names():
    pool = _Pool()
    office = _answer("Doc: Community wind farms are owned by cooperatives [1].", {1: ("c1", "x")})
    uk = Side("UK", None, pool.add(office))
    named = Side("Doc", None, "")
    assert regroup([uk, named], pool) == 0
    assert uk.text == "Doc: Community wind farms are owned by cooperatives [1]."
    # Without the document's name before it, a claim naming the other side still moves.
    about = Side("UK", None, "In Doc, wind farms share profits [1].")
    assert regroup([about, Side("Doc", None, "")], pool) == 1


def test_a_topic_naming_places_is_drafted_whole_on_each_side(starter):
    topic = "What does the Future Generations Commissioner do in Wales and Northern Ireland?"
    note = starter.brief(topic, filters={"jurisdiction": ["Wales", "Northern Ireland"]})
    _resolves(starter, note)
    from_ = {r.doc_id: r.meta.get("jurisdiction") for r in starter.documents()}
    by_n = {s.n: from_[s.first.doc_id] for s in note.sources}
    for side in note.sides:
        # No part labelled by another place inside a side, nor its evidence cited there.
        assert not any(
            p.startswith(("Wales:", "Northern Ireland:")) for p in side.text.split("\n\n")
        )
        # A claim from another place's document is here only where it names this place.
        for claim in side.claims:
            cited = {by_n[int(n)] for n in MARKER.findall(claim)}
            assert cited <= {side.name} or side.name in claim, (side.name, claim)


def test_filters_that_keep_no_document_are_refused_by_name(starter):
    with pytest.raises(QuestionError, match="no indexed document matches the filters"):
        starter.brief("wellbeing goals", filters={"jurisdiction": ["Atlantis"]})
    with pytest.raises(QuestionError, match="document 0000"):
        starter.compare("Who holds bodies to account?", "document", {"document": ["0000"]})


def test_a_comparison_of_chosen_documents_names_no_other_as_saying_nothing(starter):
    wales = next(r.doc_id for r in starter.documents() if r.meta.get("jurisdiction") == "Wales")
    table = starter.compare(
        "Who holds public bodies to account?", "document", {"document": [wales]}
    )
    assert [s.key for s in table.sides] == [wales] and table.elsewhere == []
    assert table.to_dict()["not_compared"] == []


@pytest.mark.parametrize(
    ("topic", "problem"),
    [
        ("!!!", "no words"),
        ("xqzv blorf wibble zonk", "does not look like English"),
        ("公共机构问责制", "not written in English"),
        ("   ", "empty"),
    ],
)
def test_a_topic_that_cannot_be_drafted_says_why(starter, topic, problem):
    with pytest.raises(QuestionError, match=problem):
        starter.brief(topic)


def test_a_topics_control_characters_are_dropped_and_rare_words_pass(starter):
    assert starter.check_topic("wellbeing\x07 goals") == "wellbeing goals"
    assert starter.check_topic("quantum entanglement governance") == (
        "quantum entanglement governance"
    )
    note = starter.brief("wellbeing\x07 goals")
    assert note.topic == "wellbeing goals"
    assert docx.Document(io.BytesIO(briefing_docx(note))).core_properties.title


def test_a_question_of_two_places_asked_of_one_is_answered_as_one_text(starter):
    question = "What does the Future Generations Commissioner do in Wales and Northern Ireland?"
    labelled = starter.ask(question, filters={"jurisdiction": ["Wales"]})
    assert labelled.answer.startswith("Wales: ")  # searched, and answered, side by side
    one = starter.ask(question, filters={"jurisdiction": ["Wales"]}, as_one=True)
    paragraphs = one.answer.split("\n\n")
    assert not any(p.startswith(("Wales: ", "Northern Ireland: ")) for p in paragraphs)
    assert "do not say" not in one.answer and not one.refused
    claims = [c for p in paragraphs for c in split_claims(p)]
    assert len(claims) == len(set(claims))
    nothing = starter.ask(question, filters={"jurisdiction": ["Northern Ireland"]}, as_one=True)
    assert nothing.refused and nothing.answer.startswith(NOT_ANSWERED)


def test_a_sides_summary_point_is_a_claim_about_itself():
    claims = (
        "Wales has a Future Generations Act and Scotland a framework in law [1]. "
        "The programme has no statutory basis [1]."
    )
    note = Briefing(
        "duties",
        dt.datetime(2026, 12, 4),
        [
            Side("Northern Ireland", None, claims),
            Side("Wales", None, ""),
            Side("Scotland", None, ""),
        ],
        [Side("who is responsible", None, "The Auditor General for Wales examines bodies [2].")],
        [],
        [],
        [],
        {},
    )
    assert note.summary == [
        "Northern Ireland: The programme has no statutory basis [1].",
        "On who is responsible: The Auditor General for Wales examines bodies [2].",
    ]
