"""What the browser tests share: waiting on the page, asking, and the accessibility check."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

SHOTS = Path(__file__).resolve().parent / "screenshots"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def until(page, expression: str, timeout: float = 60) -> None:
    """Waits until the expression is true in the page. (Playwright's wait_for_function evals a
    string, which the app's Content-Security-Policy rightly forbids; evaluate is not subject
    to it.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout:g} s: {expression}")
        time.sleep(0.03)


def watch_policy(page) -> list[str]:
    """Collects the page's Content-Security-Policy violations as they are reported."""
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return violations


def open_app(browser, url: str, viewport=DESKTOP, **options):
    page = browser.new_page(viewport=viewport, **options)
    page.goto(url, wait_until="load")
    page.wait_for_selector("#question textarea", timeout=60_000)
    return page


def ask(page, question: str) -> tuple[float, float]:
    """Types the question, presses Enter; returns seconds to first words and to the sources."""
    before = page.locator("#chat .message").count()
    box = page.locator("#question textarea")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    until(page, f"document.querySelectorAll('#chat .message').length > {before + 1}")
    first = time.perf_counter() - started
    # Finished: the last message holds the checked answer (its citation links) or a refusal,
    # and the sources panel shows its passages.
    until(
        page,
        "(() => { const m = [...document.querySelectorAll('#chat .message')].pop();"
        " return !!(m && (m.querySelector('a.cite') || m.innerText.includes('do not answer'))"
        " && document.querySelectorAll('#sources .source').length > 0); })()",
    )
    until(page, "document.querySelector('#question textarea').value === ''")  # all done
    return first, time.perf_counter() - started


def accessibility_problems(page) -> list[dict]:
    """The serious and critical WCAG 2.2 A and AA violations axe-core finds in the page as it
    stands (axe is evaluated into the page, not fetched)."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci --prefix tests/e2e` (make system does)")
    # Settled first: Gradio dims a panel it is still updating (.pending, opacity 0.2), and on
    # a busy machine axe would read that passing state's contrast.
    until(
        page,
        "!document.querySelector('.pending') && document.getAnimations().every(a =>"
        " a.playState !== 'running' || a.effect.getComputedTiming().iterations === Infinity)",
    )
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async () => {
          const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];
          const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
          return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
