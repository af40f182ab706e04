"""The chat as an adviser uses it, in a real chromium: what the first screen offers, what a copy
and a screen reader get, where a new answer appears, how ratings, errors and refusals read,
and where the sources sit on a desktop and on a phone."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.browsing import DESKTOP, PHONE, ask, open_app, screenshot, until
from tests.pdfs import make_pdf

QUESTION = "Who holds public bodies in Wales to account for the wellbeing goals?"
LAST = "[...document.querySelectorAll('#chat .message')].pop()"


def test_first_screen_lists_the_documents_and_examples_that_are_answered(app, browser):
    page = open_app(browser, app.url)
    status = app.cli("status", "--json")
    held = json.loads(status.stdout)["documents"]
    panel = page.locator("#index")
    assert f"Documents in the index ({len(held)})" in panel.inner_text()
    assert page.locator("#index li").count() == len(held)
    assert held[0]["title"] in panel.inner_text()
    examples = page.locator("#chat .examples button")
    assert examples.count() >= 2
    chosen = examples.first.inner_text().strip()
    examples.first.click()
    until(page, "document.querySelectorAll('#sources .source').length > 0", 60)
    until(page, f"!!{LAST}.querySelector('a.cite')", 60)
    assert chosen in page.locator("#chat").inner_text()
    page.close()


def test_copy_and_screen_readers_get_plain_words_with_the_sources(app_url, browser):
    context = browser.new_context(
        viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.goto(app_url, wait_until="load")
    page.wait_for_selector("#question textarea", timeout=60_000)
    ask(page, QUESTION)
    page.locator("#chat button[aria-label='Copy message']").last.click()
    copied, deadline = "", time.monotonic() + 10
    while not copied and time.monotonic() < deadline:  # the copy is written asynchronously
        copied = page.evaluate("navigator.clipboard.readText()")
        if not copied:
            page.wait_for_timeout(100)
    assert "<" not in copied and "&#" not in copied, copied
    assert "[1]" in copied and "\nSources:\n[1] " in copied and "Evidence: " in copied
    rich = page.evaluate(
        "(async () => { const [item] = await navigator.clipboard.read();"
        " return await (await item.getType('text/html')).text(); })()"
    )
    assert "<sup>[1]</sup>" in rich and "#source-" not in rich and "Sources:" in rich
    label = page.locator("#chat [data-testid='bot']").last.get_attribute("aria-label")
    assert label.startswith("bot's message: ") and "<" not in label, label
    assert "[1]" in label
    context.close()


def _scroller(page) -> str:
    """An expression for the chat's scrolling area."""
    return (
        "[...document.querySelectorAll('#chat *')].find(e => e.scrollHeight > e.clientHeight + 4"
        " && ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))"
    )


def test_a_new_answer_is_brought_into_view_after_scrolling_up(app_url, browser):
    page = open_app(browser, app_url)
    ask(page, "What are the seven well-being goals?")
    ask(page, "What is the Plan for Change?")
    ask(page, "What does the fusion doctrine mean?")
    until(page, f"!!{_scroller(page)}")
    page.evaluate(f"{_scroller(page)}.scrollTop = 0")
    time.sleep(0.3)
    ask(page, QUESTION)
    time.sleep(0.5)
    seen = page.evaluate(
        f"""() => {{ const area = {_scroller(page)}.getBoundingClientRect();
        const rows = document.querySelectorAll('#chat .user-row');
        const asked = rows[rows.length - 1].getBoundingClientRect();
        const answer = {LAST}.getBoundingClientRect();
        const shown = Math.min(answer.bottom, area.bottom) - Math.max(answer.top, area.top);
        return {{asked: asked.top >= area.top - 1 && asked.top < area.bottom,
                 shown: shown, wanted: Math.min(answer.height, area.height / 2)}}; }}"""
    )
    assert seen["asked"], "the new question is out of view"
    # The question stays at the top while its answer comes in: the answer is read from its
    # first words, not left below the fold under the question.
    assert seen["shown"] >= seen["wanted"] - 2, seen
    page.close()


def test_an_error_says_why_keeps_the_question_and_clears_the_old_sources(app_url, browser):
    page = open_app(browser, app_url)
    ask(page, QUESTION)
    long_question = "What does the Act require of public bodies? " * 120
    assert len(long_question) > 5000
    page.locator("#question textarea").fill(long_question)
    page.locator("#question textarea").press("Enter")
    until(page, f"{LAST}.innerText.includes('Cannot answer that')")
    said = page.evaluate(f"{LAST}.innerText")
    assert "2,000" in said and f"{len(long_question.strip()):,}" in said, said
    assert page.locator("#question textarea").input_value().strip() == long_question.strip()
    assert page.locator("#sources .source").count() == 0
    assert "No sources" in page.locator("#sources").inner_text()
    page.close()


def test_a_refusal_says_in_the_answer_where_the_documents_come_closest(app_url, browser):
    page = open_app(browser, app_url)
    ask(page, "How many moons does Jupiter have?")
    said = page.evaluate(f"{LAST}.innerText")
    assert "do not answer" in said
    assert "What the documents nearest to it cover" in said
    nearest = page.locator("#sources .source h3").first.inner_text()
    title = nearest.split("] ", 1)[1].replace("quote checked", "").strip()
    assert title in said
    page.close()


def test_a_rating_is_saved_at_once_and_a_comment_can_follow(app, browser):
    page = open_app(browser, app.url)
    ask(page, QUESTION)
    assert not page.locator("#rating-comment").is_visible()
    page.locator("#chat button[aria-label='Dislike']").last.click()
    until(page, "document.querySelector('#rating-status').innerText.includes('Rating saved')")
    feedback = app.index / "feedback.jsonl"
    rating = json.loads(feedback.read_text().splitlines()[-1])
    assert rating["liked"] is False and rating["question"] == QUESTION
    comment = page.locator("#rating-comment textarea")
    comment.fill("It names the Commissioner but not Audit Wales's role.")
    page.get_by_role("button", name="Send comment").click()
    until(page, "document.querySelector('#rating-status').innerText.includes('Comment saved')")
    kept = json.loads(feedback.read_text().splitlines()[-1])
    assert kept["comment_on"] == rating["id"] and "Audit Wales" in kept["comment"]
    page.close()


def test_uploading_keeps_the_filters_the_reader_chose(app_url, browser, tmp_path):
    page = open_app(browser, app_url)
    page.get_by_text("Search in").click()
    page.get_by_label("Wales", exact=True).check()
    page.get_by_text("Add documents").click()
    pdf = make_pdf(
        tmp_path / "Ferry timetable note.pdf",
        [[("p", "The winter ferry timetable starts on 3 November with two sailings a day.")]],
        title="Ferry timetable note",
    )
    page.locator("input[type=file]").first.set_input_files(str(pdf))
    until(page, "document.body.innerText.includes('searchable now')", timeout=120)
    time.sleep(0.5)
    assert page.get_by_label("Wales", exact=True).is_checked()
    assert "Ferry timetable note" in page.locator("#index").inner_text()
    page.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_sources_sit_clear_of_the_panels_and_next_to_the_answer(app_url, browser, size):
    page = open_app(browser, app_url, DESKTOP if size == "desktop" else PHONE)
    ask(page, "How do Scotland and Wales hold public bodies to account for outcomes?")
    sources = page.locator("#sources").bounding_box()
    below = page.locator("#side .gr-accordion, #side button").filter(has_text="Search in").first
    assert sources["y"] + sources["height"] <= below.bounding_box()["y"] + 0.5
    if size == "phone":
        question = page.locator("#question").bounding_box()
        export = page.locator("#export").bounding_box()
        # On a phone the sources come straight after the question box, before the export.
        assert question["y"] < sources["y"] < export["y"]
        assert sources["y"] - (question["y"] + question["height"]) < 200
    screenshot(page, f"{size}-sources")
    page.close()


def test_a_question_sent_while_an_answer_is_coming_is_asked_next(app_url, browser):
    page = open_app(browser, app_url)
    box = page.locator("#question textarea")
    box.fill("What are the seven well-being goals?")
    box.press("Enter")
    until(page, "document.querySelectorAll('#chat .user-row').length === 1")
    box.fill("What is the Plan for Change?")
    box.press("Enter")  # while the first answer is still being made
    until(page, "document.querySelectorAll('#chat .user-row').length === 2", 60)
    until(page, "document.querySelectorAll('#chat .bot-row a.cite').length >= 2", 60)
    asked = page.locator("#chat .user-row").all_inner_texts()
    assert [a.strip() for a in asked] == [
        "What are the seven well-being goals?",
        "What is the Plan for Change?",
    ]
    page.close()
