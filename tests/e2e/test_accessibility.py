"""The chat as WCAG 2.2 AA asks of a public-sector service, in a real chromium: axe-core finds
no serious or critical problem before or after an answer on a desktop and on a phone, every
control is reached with the keyboard and shows where the focus is, and nothing is lost at
320 CSS pixels wide (what 400% zoom of a 1280-pixel window leaves)."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import (
    DESKTOP,
    PHONE,
    accessibility_problems,
    ask,
    open_app,
    screenshot,
    until,
)

QUESTION = "Who holds public bodies in Wales to account for the wellbeing goals?"


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_no_serious_accessibility_problem_before_or_after_an_answer(app_url, browser, size):
    page = open_app(browser, app_url, DESKTOP if size == "desktop" else PHONE)
    until(page, "!!document.querySelector('#chat .examples button')")
    before = accessibility_problems(page)
    screenshot(page, f"{size}-start")
    ask(page, QUESTION)
    after = accessibility_problems(page)
    screenshot(page, f"{size}-answer")
    page.close()
    assert before == [], before
    assert after == [], after


def _focus_trail(page, presses: int) -> list[dict]:
    """What each Tab press focuses: its tag, id, class, text and whether it shows an outline."""
    trail = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        trail.append(
            page.evaluate(
                """() => { const e = document.activeElement; const s = getComputedStyle(e);
                return {tag: e.tagName, id: e.id, cls: String(e.className),
                  text: (e.innerText || e.getAttribute('aria-label') || '').slice(0, 60),
                  parent: (e.closest('[id]') || {}).id || '',
                  outlined: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }"""
            )
        )
    return trail


def test_every_control_is_reached_by_keyboard_with_a_visible_focus(app_url, browser):
    page = open_app(browser, app_url)
    ask(page, QUESTION)
    page.locator("#question textarea").focus()
    trail = _focus_trail(page, 60)
    reached = {(t["tag"], t["text"].strip()) for t in trail}
    assert ("BUTTON", "Ask") in reached
    assert any(t["cls"] == "cite" for t in trail), "a citation in the answer"
    assert any(t["cls"] == "back" for t in trail), "a source's way back to the answer"
    assert ("BUTTON", "Export Word") in reached and ("BUTTON", "Export Markdown") in reached
    assert any(t["text"].startswith("Search in") for t in trail)
    hidden = [t for t in trail if not t["outlined"] and t["tag"] != "BODY"]
    assert hidden == [], f"focused without a visible outline: {hidden}"
    # A citation followed from the keyboard leads to its source, and the way back is there.
    page.locator("#question textarea").focus()
    for _ in range(40):
        if _focus_trail(page, 1)[0]["cls"] == "cite":
            break
    number = page.evaluate("document.activeElement.textContent").strip("[]")
    page.keyboard.press("Enter")
    until(page, f"location.hash === '#source-{number}'")
    assert page.locator(f"#source-{number} a.back").count() == 1
    page.close()


def test_nothing_is_lost_at_320_pixels_wide(app_url, browser):
    page = open_app(browser, app_url, {"width": 320, "height": 640})
    ask(page, QUESTION)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 320, f"the page is {wide} px wide at 320: it scrolls sideways"
    for part in ("#chat", "#question", "#sources", "#export"):
        box = page.locator(part).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320 + 0.5, (part, box)
    cut = page.evaluate(
        "[...document.querySelectorAll('#sources .source, #index li, #chat .message-content')]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText.slice(0, 40))"
    )
    assert cut == [], f"text cut off at 320 px: {cut}"
    screenshot(page, "narrow-answer")
    page.close()
