"""The app's own handlers, called as Gradio calls them: which answer a rating or a click on a
message belongs to, what a new conversation clears, and how a question is shown."""

from __future__ import annotations

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


def test_a_file_sent_again_is_said_to_be_in_the_index_already(handlers, tmp_path, monkeypatch):
    _, found = handlers
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    sent = tmp_path / "upload-1" / "ferry.md"
    sent.parent.mkdir()
    sent.write_text("# Ferry note\n\nThe ferry to Mull sails every hour in summer.\n")
    (add,) = found["add"]
    first = add([str(sent)], [], [], progress=lambda *a, **k: None)[0]
    again = add([str(sent)], [], [], progress=lambda *a, **k: None)[0]
    assert first.startswith("Added 1 document(s)")
    assert again == "Already in the index, unchanged: ferry.md."
