"""The app in a real browser (Debian's chromium driven by playwright), and its API through
gradio_client: ask, streamed cited answer, sources panel, PDF link, upload, export."""

from __future__ import annotations

import io
import json
import re
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.browsing import (
    accessibility_problems,
    ask,
    open_app,
    screenshot,
    until,
    watch_policy,
)
from tests.pdfs import make_pdf

QUESTION = "What are the five ways of working in the Well-being of Future Generations Act?"
WAYS = ("Long-term", "Prevention", "Integration", "Collaboration")  # named in the Act's list


def test_api_answers_with_citations_and_serves_only_indexed_documents(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    answer = client.predict(QUESTION, "", api_name="/ask")
    assert not answer["refused"] and answer["citations"]
    assert answer["record"]["documents"] and len(answer["record"]["index_version"]) == 16
    assert all(way.lower() in answer["answer"].lower() for way in WAYS)
    doc_id = answer["citations"][0]["doc_id"]
    with urllib.request.urlopen(f"{app_url}/document/{doc_id}") as response:
        assert response.read(5) == b"%PDF-"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{app_url}/document/..%2F..%2Fetc%2Fpasswd")
    assert missing.value.code == 404
    refused = client.predict("How many moons does Jupiter have?", "", api_name="/ask")
    assert refused["refused"] and "Jupiter" in refused["answer"] and not refused["citations"]


def test_ask_in_the_browser_shows_cited_answer_and_its_sources(app, browser):
    page = open_app(browser, app.url)
    violations = watch_policy(page)
    ask(page, QUESTION)  # warm
    first, done = ask(page, "How many national indicators does Wales use?")
    print(f"\nbrowser: first words after {first:.2f} s, answer with sources after {done:.2f} s")
    chat = page.locator("#chat").inner_text()
    assert all(way.lower() in chat.lower() for way in WAYS)
    assert page.locator("#chat a.cite").count() >= 1
    panel = page.locator("#sources")
    assert panel.locator("mark").count() >= 1 and "quote checked" in panel.inner_text()
    assert "not that it is true" in panel.inner_text() or "does not mean" in panel.inner_text()
    assert "p. " in panel.inner_text() or "pp. " in panel.inner_text()
    href = panel.locator("a[href^='/document/']").first.get_attribute("href")
    assert "#page=" in href
    page.locator("#chat button[aria-label='Like']").last.click()
    feedback = app.index / "feedback.jsonl"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (
        feedback.exists() and feedback.read_text().endswith("\n")
    ):
        time.sleep(0.2)  # the app writes the line after it creates the file
    entry = json.loads(feedback.read_text().splitlines()[-1])
    assert entry["liked"] is True and entry["question"].startswith("How many national indicators")
    screenshot(page, "answer")
    assert violations == []  # the app works within its own Content-Security-Policy
    page.close()


def test_upload_then_ask_about_it_and_export_a_word_briefing(app_url, browser, tmp_path):
    import docx

    pdf = make_pdf(
        tmp_path / "Fresh briefing note.pdf",
        [
            [
                ("h", "Harbour renewal"),
                (
                    "p",
                    "The Harbour Renewal Board will open its new ferry terminal in Tobermory "
                    "in 2027.",
                ),
            ]
        ],
        title="Harbour renewal note",
    )
    page = open_app(browser, app_url, accept_downloads=True)
    page.get_by_text("Add documents").click()
    page.locator("input[type=file]").first.set_input_files(str(pdf))
    until(page, "document.body.innerText.includes('searchable now')", timeout=120)
    ask(page, "When will the Harbour Renewal Board open its ferry terminal?")
    assert "2027" in page.locator("#chat").inner_text()
    page.get_by_role("button", name="Export Word").click()
    link = page.locator("#download a[download='briefing.docx']").first
    link.wait_for(timeout=30_000)
    with page.expect_download() as download:
        link.click()
    document = docx.Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "When will the Harbour Renewal Board" in text and "Sources" in text
    page.get_by_label("Last answer").check()
    page.get_by_role("button", name="Export Markdown").click()
    md_link = page.locator("#download a[download='briefing.md']").first
    md_link.wait_for(timeout=30_000)
    with page.expect_download() as md_download:
        md_link.click()
    briefing = Path(md_download.value.path()).read_text()
    assert briefing.count("## ") == 3  # the last answer, its sources and its answer record
    assert "## Answer record" in briefing and "Index version: " in briefing
    assert "Harbour Renewal Board" in briefing and "## Sources" in briefing
    assert re.search(r"Harbour renewal note \(tests, \d{4}-\d\d-\d\d\), p\. 1", text), text
    screenshot(page, "upload-and-export")
    page.close()


def _download(page, link_name: str) -> Path:
    link = page.locator(f"a[download='{link_name}']").first
    link.wait_for(timeout=60_000)
    with page.expect_download() as download:
        link.click()
    return Path(download.value.path())


def test_draft_a_briefing_and_a_comparison_in_the_browser(app_url, browser):
    import docx

    page = open_app(browser, app_url, accept_downloads=True)
    violations = watch_policy(page)
    page.get_by_role("tab", name="Draft a briefing").click()
    page.locator("#topic textarea").fill("how progress against national outcomes is reported")
    page.get_by_role("button", name="Draft briefing").click()
    until(page, "document.body.innerText.includes('Drafted with')", timeout=120)
    shown = page.locator("#brief").inner_text()
    for heading in ("Summary", "Evidence", "Wales", "Gaps", "Sources", "Answer record"):
        assert heading in shown
    note = docx.Document(str(_download(page, "briefing.docx")))
    assert note.core_properties.title.startswith("Briefing: How progress")
    assert ("Heading 1", "Sources") in [(p.style.name, p.text) for p in note.paragraphs]
    screenshot(page, "briefing")
    assert accessibility_problems(page) == []
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-question textarea").fill("Who holds public bodies to account?")
    page.get_by_role("button", name="Compare", exact=True).click()
    until(page, "document.body.innerText.includes('Drafted with')", timeout=120)
    until(page, "!!document.querySelector('#comparison table')")
    rows = page.locator("#comparison table tr").all_inner_texts()
    assert rows[0].split("\t")[0].strip() == "Jurisdiction"
    sides = [r.split("\t")[0].strip() for r in rows[1:]]
    # A document uploaded with no jurisdiction (the test before) is a side of its own, last.
    assert sides[:4] == ["UK", "Scotland", "Wales", "Northern Ireland"]
    assert sides[4:] in ([], ["Other documents"])
    table = docx.Document(str(_download(page, "comparison.docx")))
    assert len(table.tables) == 1 and len(table.tables[0].rows) == len(rows)
    screenshot(page, "comparison")
    assert accessibility_problems(page) == []
    assert violations == []
    page.close()
