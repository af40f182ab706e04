"""The app's own handlers, called as Gradio calls them: which answer a rating or a click on a
message belongs to, what a new conversation clears, and how a question is shown."""

from __future__ import annotations

import html
import json
import re
import shutil
from types import SimpleNamespace

import pytest

import app as web

ERROR = "Что такое шотландская система показателей?"  # refused: not written in English
WALES = "How many well-being goals does the Wales Act set?"
MISSIONS = "What are the UK government's five missions?"


@pytest.fixture(scope="module")
def handlers(starter_settings, tmp_path_factory):
    # The app writes into its index (examples, feedback): a copy, as the shared one is read-only.
    index = tmp_path_factory.mktemp("app-handlers") / "index"
    shutil.copytree(starter_settings.index_dir, index)
    settings = starter_settings.model_copy(
        update={"index_dir": index, "feedback_file": index.parent / "feedback.jsonl"}
    )
    _, demo = web.build(settings)
    found: dict[str, list] = {}
    for block in demo.fns.values():
        found.setdefault(block.name, []).append(block)
    return settings, {name: [b.fn for b in blocks] for name, blocks in found.items()} | {
        "blocks": [b for blocks in found.values() for b in blocks]
    }


def _ask(respond, question: str, state: tuple) -> tuple:
    *_, last = respond(question, *state, [], [])  # the handler yields as the answer comes
    return last[:3]


def test_ratings_and_clicks_go_to_their_own_answer_after_an_error(handlers):
    settings, found = handlers
    respond, rate, select = found["respond"][0], found["rate"][0], found["select"][0]
    state = ([], [], [])
    for question in (ERROR, WALES, MISSIONS):
        state = _ask(respond, question, state)
    chat, _, turns = state
    assert len(chat) == 6 and len(turns) == 3
    said = rate(turns, SimpleNamespace(index=1, liked=False))[0]
    assert said == "Nothing saved: that message was not an answer."
    assert rate(turns, SimpleNamespace(index=5, liked=True))[0].startswith("Rating saved")
    kept = [json.loads(line) for line in settings.feedback_file.read_text().splitlines()]
    assert [(k["liked"], k["question"]) for k in kept] == [(True, MISSIONS)]
    panel = select(turns, SimpleNamespace(index=3))
    assert re.findall(r"<h3>\[1\] ([^<]+)", panel)[0].startswith("Well-being of Future")


def test_a_question_is_shown_as_typed_not_as_markup(handlers):
    _, found = handlers
    asked = "Who checks public bodies <b>in Wales</b> &amp; <img src=x>?"
    chat, past, _ = _ask(found["respond"][0], asked, ([], [], []))
    assert (
        chat[0]["content"]
        == "Who checks public bodies &lt;b>in Wales&lt;/b> &amp;amp; &lt;img src=x>?"
    )
    assert past[0]["content"] == asked  # what was asked, for a follow-up


def test_a_new_conversation_clears_the_filters(handlers):
    _, found = handlers
    (start,) = [
        b
        for b in found["blocks"]
        if b.name == "<lambda>" and not b.inputs and any(o.elem_id == "chat" for o in b.outputs)
    ]
    cleared = dict(zip((o.label or o.elem_id for o in start.outputs), start.fn(), strict=True))
    assert cleared["Jurisdictions (none: all)"] == [] and cleared["Documents (none: all)"] == []


def test_a_source_quoted_at_two_pages_lists_both():
    from assistant.models import Answer, Citation

    def quoted(page: int, quote: str) -> Citation:
        return Citation(1, "d1", "Wales Act summary", "/x/w.pdf", page, page, "", quote, 0.5, True)

    answer = Answer("?", "?", "Seven goals [1]. 46 indicators [1].", False, [], [], "extractive")
    answer.citations += [quoted(5, "Seven goals."), quoted(6, "46 indicators.")]
    assert "[1] Wales Act summary, p. 5; p. 6" in web.render_answer(answer)


def test_an_answer_keeps_the_record_of_what_it_was_made_from(handlers):
    settings, found = handlers
    _, _, turns = _ask(found["respond"][0], WALES, ([], [], []))
    (turn,) = turns
    assert turn.record["question"] == WALES and turn.record["documents"]
    cited = {c.doc_id for c in turn.answer.citations}
    assert {d["doc_id"] for d in turn.record["documents"]} == cited


def _sent(tmp_path, monkeypatch, name: str, text: str):
    """A Markdown note as Gradio keeps an upload: in a folder of its own under its temp dir."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    folder = tmp_path / f"upload-{name.split('.')[0]}"
    folder.mkdir()
    sent = folder / name
    sent.write_text(f"# {name.split('.')[0].title()} note\n\n{text}\n")
    return sent


def test_a_file_sent_again_is_said_to_be_in_the_index_already(handlers, tmp_path, monkeypatch):
    _, found = handlers
    sent = _sent(tmp_path, monkeypatch, "ferry.md", "The ferry to Mull sails every hour in summer.")
    (add,) = found["add"]
    nothing = [[]] * 6  # each tab's "Search in": jurisdictions and documents
    first = add([str(sent)], *nothing, progress=lambda *a, **k: None)[0]
    again = add([str(sent)], *nothing, progress=lambda *a, **k: None)[0]
    assert first.startswith("Added 1 document(s)")
    assert again == "Already in the index, unchanged: ferry.md."


def _drafting(found, status_id: str):
    """The handler behind a tab's draft button, and its inputs' labels or ids."""
    # The same handler answers the box's Enter and the button (a lambda each).
    block, *same = [
        b
        for b in found["blocks"]
        if any(o.elem_id == status_id for o in b.outputs) and b.name == "<lambda>"
    ]
    assert [b.inputs for b in same] == [block.inputs]
    return block.fn, [i.label or i.elem_id for i in block.inputs], block.inputs


def _document_choices(inputs) -> dict[str, str]:
    (documents,) = [i for i in inputs if i.label == "Documents (none: all)"]
    return {label: doc_id for label, doc_id in documents.choices}


def test_a_briefing_is_drafted_only_from_the_documents_its_tab_chose(handlers):
    _, found = handlers
    draft, labels, inputs = _drafting(found, "brief-status")
    assert labels == ["Topic", "Jurisdictions (none: all)", "Documents (none: all)"]
    held = _document_choices(inputs)
    wales = next(d for label, d in held.items() if label.startswith("Well-being of Future"))
    everywhere = draft("how public bodies are held to account", [], [])
    narrowed = draft("how public bodies are held to account", [], [wales])
    assert everywhere[0].startswith("Drafted with") and "Searched only in" not in everywhere[0]
    assert narrowed[0].endswith("Searched only in: 1 chosen document(s).")
    assert _sources(narrowed[1]) and all(
        s.startswith("Well-being of Future") for s in _sources(narrowed[1])
    )
    assert any(not s.startswith("Well-being of Future") for s in _sources(everywhere[1]))


def _sources(draft: str) -> list[str]:
    """The numbered sources of a drafted briefing, as shown."""
    listed = draft.split("## Sources", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\d+\. (.+)$", listed, re.M)


def test_a_comparison_by_document_has_a_row_for_each_document_its_tab_chose(handlers):
    _, found = handlers
    compare, labels, inputs = _drafting(found, "compare-status")
    assert labels == [
        "Question",
        "A row per",
        "Jurisdictions (none: all)",
        "Documents (none: all)",
    ]
    held = _document_choices(inputs)
    two = sorted(held)[:2]
    status, table, _ = compare(
        "Who holds public bodies to account?", "document", [], [held[t] for t in two]
    )
    assert status.endswith("Searched only in: 2 chosen document(s).")
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    sides = [row.split("|")[1].strip() for row in rows[1:]]
    assert sorted(sides) == [html.escape(t, quote=False) for t in two]


def test_a_comparison_by_jurisdiction_keeps_to_the_jurisdictions_its_tab_chose(handlers):
    _, found = handlers
    compare, _, _ = _drafting(found, "compare-status")
    status, table, _ = compare(
        "Who holds public bodies to account?",
        "jurisdiction",
        [
            "Wales",
            "Scotland",
        ],
        [],
    )
    assert status.endswith("Searched only in: Wales; Scotland.")
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert sorted(row.split("|")[1].strip() for row in rows[1:]) == ["Scotland", "Wales"]


def test_uploading_keeps_every_tabs_own_choices(handlers, tmp_path, monkeypatch):
    _, found = handlers
    sent = _sent(tmp_path, monkeypatch, "bridge.md", "The bridge to Skye opened in 1995.")
    (add,) = found["add"]
    _, _, inputs = _drafting(found, "brief-status")
    wales = next(d for t, d in _document_choices(inputs).items() if t.startswith("Well-being"))
    chosen = [["Wales"], [], [], [wales], ["Scotland"], ["gone" * 4]]
    said, *updates = add([str(sent)], *chosen, progress=lambda *a, **k: None)
    assert said.startswith("Added 1 document(s)")
    values = [u["value"] for u in updates[:6]]
    # Each tab keeps its own choices; a document no longer in the index is let go.
    assert values == [["Wales"], [], [], [wales], ["Scotland"], []]
    assert any("Bridge note" in str(label) for label, _ in updates[1]["choices"])


def test_a_draft_is_shown_as_its_markdown_not_escaped_twice(handlers):
    _, found = handlers
    draft, _, _ = _drafting(found, "brief-status")
    status, shown, _ = draft("wellbeing <goals> & duties", [], [])
    assert status.startswith("Drafted with")
    # "<" is escaped once, for Markdown; an HTML entity would be shown as its letters.
    assert shown.startswith("# Briefing: Wellbeing \\<goals> & duties")
    assert "&lt;" not in shown and "&amp;" not in shown


def test_an_answer_kept_to_some_documents_says_so_and_records_it(handlers):
    _, found = handlers
    respond = found["respond"][0]
    *_, last = respond(WALES, [], [], [], ["Scotland"], [])
    chat, _, turns = last[:3]
    assert "Searched only in: Scotland" in chat[-1]["content"]
    assert turns[-1].record["filters"] == {"jurisdiction": ["Scotland"]}
    *_, last = respond(WALES, [], [], [], [], [])
    assert "Searched only in" not in last[0][-1]["content"]
    assert last[2][-1].record["filters"] == {}


def test_a_folded_search_in_says_what_is_chosen():
    assert web.search_in_label({}) == "Search in: all documents"
    chosen = web.chosen_filters(["Wales", "Scotland"], ["ab12", "cd34"])
    assert web.search_in_label(chosen) == "Search in: Wales; Scotland; 2 chosen document(s)"


def test_a_new_rating_empties_the_comment_box_and_names_its_answer(handlers):
    _, found = handlers
    respond, rate = found["respond"][0], found["rate"][0]
    state = ([], [], [])
    for question in (WALES, MISSIONS):
        state = _ask(respond, question, state)
    _, _, turns = state
    *_, box = rate(turns, SimpleNamespace(index=3, liked=True))
    assert box["value"] == "" and box["label"].endswith("rating of answer 2 (optional)")
