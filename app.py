"""The evidence assistant in the browser: a thin Gradio face over the core in assistant/.

Run: python app.py  (settings: ASSISTANT_HOST, ASSISTANT_PORT, ASSISTANT_AUTH, ASSISTANT_INDEX_DIR,
ASSISTANT_ALLOWED_HOSTS)
"""

from __future__ import annotations

import asyncio
import html
import logging
import shutil
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path

import assistant as _offline  # noqa: F401  (first: it turns off every library's telemetry)

# isort: split
import gradio as gr
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from gradio.utils import get_upload_folder
from starlette.routing import Mount

from assistant.chain import Assistant, QuestionError
from assistant.config import Settings, get_settings
from assistant.exports import (
    Turn,
    briefing_docx,
    briefing_markdown,
    comparison_docx,
    comparison_markdown,
    to_docx,
    to_markdown,
)
from assistant.feedback import MAX_COMMENT_CHARS, FeedbackError, add_comment, record
from assistant.ingest import Ingester, open_store
from assistant.models import QUOTE_CHECK, QUOTE_CHECK_MEANING, Answer, DocumentRecord
from assistant.selector import SelectorError
from assistant.store import StoreError
from assistant.uploads import UploadError, save_upload
from assistant.websecurity import (
    HostCheck,
    LoginThrottle,
    SecurityHeaders,
    allowed_hosts,
    document_response_headers,
)

ROOT = Path(__file__).resolve().parent
STOP_WITHIN_S = 3  # asked to stop, the app closes connections still open after this long
FILES_KEPT_S = 3600
"""Briefings and uploads hold sensitive material: Gradio's copies of uploads and exports are
deleted on a timer once older than this, an export of the app's own once older than this when
the next is made, and all of them when the app stops."""
# The look of GOV.UK services: its palette (text #0b0c0c, secondary text #505a5f, links
# #1d70b8, buttons #00703c, focus #ffdd00 with black), system fonts only (nothing is fetched).
CSS = """
.gradio-container {max-width: 1400px !important; font-size: 16px; color: #0b0c0c}
h1 {font-size: 2rem; margin: 0 0 8px 0}
.intro {color: #0b0c0c; max-width: 60em}
.sources-list {max-height: 72vh; overflow-y: auto; padding-right: 4px}
.source {border: 1px solid #b1b4b6; border-radius: 4px; padding: 10px 12px; margin-bottom: 10px}
.source h3 {margin: 0 0 4px 0; font-size: 15px}
.source .where {color: #505a5f; font-size: 14px; margin-bottom: 6px}
.source .passage {font-size: 14px; line-height: 1.45; white-space: pre-wrap;
  overflow-wrap: anywhere}
.source h3, .source .where, .index-list li {overflow-wrap: anywhere}
.source mark {background: #fff7bf; color: #0b0c0c; padding: 0 1px}
.source .back {font-size: 14px}
.badge {font-size: 13px; border-radius: 10px; padding: 1px 8px; margin-left: 6px}
.ok {background: #cce2d8; color: #005a30} .not {background: #f4cdc6; color: #942514}
.notice {color: #505a5f; font-size: 14px}
#chat a.cite {text-decoration: underline; font-size: 0.85em; vertical-align: super}
#chat .user-row {scroll-margin-top: 2.5em}
.index-list {list-style: none; padding: 0; margin: 0; font-size: 14px}
.index-list li {padding: 6px 0; border-bottom: 1px solid #b1b4b6}
.index-list .title {font-weight: 600}
.index-list .where {color: #505a5f}
#comparison th:first-child, #comparison td:first-child {min-width: 9em}
a {color: #1d70b8}
*:focus-visible {outline: 3px solid #ffdd00 !important; outline-offset: 0 !important;
  box-shadow: 0 0 0 5px #0b0c0c !important}
footer {display: none !important}
@media (max-width: 700px) {
  .sources-list {max-height: none; overflow: visible}
}
"""
# In the page: [n] in an answer becomes a link to its source (the message itself stays plain
# text, so that copying an answer, or a screen reader, gets words rather than markup), a new
# question is brought to the top even when the reader had scrolled up, and held there while
# its answer comes in until the reader scrolls, clicks or types, the sources panel
# starts at its top when it changes, and copying an answer gives rich text where it can.
HEAD = """
<script>
(() => {
  const cite = /\\[(\\d{1,3})\\]/g;
  function linkify(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const found = [];
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (node.parentElement.closest("a, button, textarea")) continue;
      cite.lastIndex = 0;
      if (cite.test(node.nodeValue)) found.push(node);
    }
    for (const node of found) {
      const bits = document.createDocumentFragment();
      let last = 0;
      node.nodeValue.replace(cite, (all, n, at) => {
        bits.append(node.nodeValue.slice(last, at));
        const link = document.createElement("a");
        link.href = "#source-" + n;
        link.className = "cite";
        link.textContent = all;
        link.setAttribute("aria-label", "source " + n);
        bits.append(link);
        last = at + all.length;
      });
      bits.append(node.nodeValue.slice(last));
      node.replaceWith(bits);
    }
  }
  let seen = 0;
  let pinning = false;  // the newest question is held at the top while its answer comes in
  function scroller(element) {
    for (let up = element.parentElement; up; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowY;
      if (up.scrollHeight > up.clientHeight && (overflow === "auto" || overflow === "scroll")) {
        return up;
      }
    }
    return null;
  }
  function watch() {
    const chat = document.getElementById("chat");
    if (!chat) return setTimeout(watch, 200);
    // Until the reader scrolls, touches, clicks or types anywhere on the page.
    const unpin = () => { pinning = false; };
    for (const kind of ["wheel", "touchstart", "keydown", "mousedown"]) {
      document.addEventListener(kind, unpin, {passive: true, capture: true});
    }
    const tidy = () => {
      chat.querySelectorAll(".bot .message-content, .bot.message").forEach(linkify);
      // The example questions are buttons, not list items: a group of them.
      chat.querySelectorAll(".examples[role=list]").forEach((group) => {
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", "Example questions");
      });
      const questions = chat.querySelectorAll(".user-row, .message-row.user-row");
      const last = questions[questions.length - 1];
      if (questions.length > seen) {
        pinning = true;
        last.scrollIntoView({block: "start", behavior: "instant"});
      } else if (pinning && last) {
        // At first there may be too little below the question for it to reach the top: it
        // is brought there as the answer grows, by moving the chat alone, not the page.
        const area = scroller(last);
        const margin = parseFloat(getComputedStyle(last).scrollMarginTop) || 0;
        if (area) {
          area.scrollTop += last.getBoundingClientRect().top
            - area.getBoundingClientRect().top - margin;
        }
      }
      seen = questions.length;
    };
    tidy();
    new MutationObserver(tidy).observe(chat, {childList: true, subtree: true, characterData: true});
    const sources = document.getElementById("sources");
    if (sources) {
      new MutationObserver(() => {
        const list = sources.querySelector(".sources-list");
        if (list) list.scrollTop = 0;
      }).observe(sources, {childList: true, subtree: true});
    }
  }
  // Copy on an answer: its plain text, and where the browser allows, rich text too (the
  // citations as superscripts), for pasting into a briefing.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("#chat .bot-row button[aria-label='Copy message']");
    const content = button && button.closest(".message-row").querySelector(".message-content");
    if (!content || !window.ClipboardItem || !navigator.clipboard?.write) return;
    event.stopImmediatePropagation();
    const rich = content.cloneNode(true);
    rich.querySelectorAll("a.cite").forEach((a) => {
      const sup = document.createElement("sup");
      sup.textContent = a.textContent;
      a.replaceWith(sup);
    });
    const html = `<div style="white-space: pre-wrap">${rich.innerHTML}</div>`;
    navigator.clipboard.write([new ClipboardItem({
      "text/plain": new Blob([content.innerText], {type: "text/plain"}),
      "text/html": new Blob([html], {type: "text/html"}),
    })]);
  }, true);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
</script>
"""

THEME = gr.themes.Base(
    primary_hue=gr.themes.colors.blue,
    neutral_hue=gr.themes.colors.gray,
    font=["system-ui", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "Consolas", "monospace"],
).set(
    body_text_color="#0b0c0c",
    body_text_color_subdued="#505a5f",
    block_label_text_color="#0b0c0c",
    block_title_text_color="#0b0c0c",
    link_text_color="#1d70b8",
    link_text_color_visited="#4c2c92",
    link_text_color_hover="#003078",
    color_accent="#1d70b8",
    color_accent_soft="#d2e2f1",
    button_primary_background_fill="#00703c",
    button_primary_background_fill_hover="#005a30",
    button_primary_text_color="#ffffff",
    button_primary_text_color_hover="#ffffff",
    button_secondary_background_fill="#f3f2f1",
    button_secondary_background_fill_hover="#dbdad9",
    button_secondary_text_color="#0b0c0c",
    input_placeholder_color="#505a5f",
    checkbox_label_text_color="#0b0c0c",
)


def ensure_index(settings: Settings) -> None:
    """Builds the index from corpus/ when there is none, printing progress. A Chroma server
    that cannot be reached stops the app with one line saying so."""
    try:
        if open_store(settings).documents():
            return
    except StoreError as err:
        if settings.chroma_url:
            raise SystemExit(f"error: {err}") from None
    print("Building the index from corpus/ (first run only) ...", file=sys.stderr)
    report = Ingester(settings.model_copy(update={"progress": True})).ingest([ROOT / "corpus"])
    print(report.summary(), file=sys.stderr)


def as_text(text: str) -> str:
    """Text for the chat, which reads a message as (sanitised) HTML: a "<" a document or a
    question holds is shown as itself, never taken for a tag, and an "&" as itself, never
    taken for the start of an entity ("&lt;" in a quote stays "&lt;")."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def render_answer(answer: Answer) -> str:
    """The answer for the chat, as plain text: the answer with its [n] markers, how strong its
    evidence is, and its sources as plain lines, so that copying it copies its citations
    (the page makes each [n] a link to the sources panel). A refusal says where to look."""
    lines = [answer.answer]
    if answer.strength:
        lines += ["", f"Evidence: {answer.evidence()}"]
    if answer.filters:
        # A search kept to some documents says so with its answer, however the filter
        # was chosen, so that no reader takes it for the whole index's.
        lines += ["", f"Searched only in: {scope_of(answer.filters)}"]
    places: dict[int, dict[str, None]] = {}  # each source with every place it is quoted at
    titles: dict[int, str] = {}
    for c in answer.citations:
        places.setdefault(c.n, {})[c.where] = None
        titles.setdefault(c.n, c.title)
    if places:
        listed = [f"[{n}] {titles[n]}, {'; '.join(places[n])}" for n in sorted(places)]
        lines += ["", "Sources:", *listed]
    elif answer.passages:
        nearest = dict.fromkeys(f"{p.title}, {p.pages}" for p in answer.passages[:4])
        lines += ["", "What the documents nearest to it cover (they do not answer it):"]
        lines += [f"- {place}" for place in nearest]
    return as_text("\n".join(lines))


def _highlight(passage: str, quotes: list[str]) -> str:
    text = html.escape(passage, quote=False)
    for quote in sorted(set(q for q in quotes if q), key=len, reverse=True):
        escaped = html.escape(quote, quote=False)
        text = text.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return text


def render_sources(answer: Answer | None, problem: str = "") -> str:
    """The sources panel: each cited passage with its quote highlighted, where it is, and
    whether the quote was verified; for a refusal, the nearest passages; for a question that
    could not be answered, why."""
    if problem:
        return f"<p class='notice'>No sources: {html.escape(problem)}</p>"
    if answer is None:
        return "<p class='notice'>Ask a question: the passages behind its answer appear here.</p>"
    cited = {}
    for c in answer.citations:
        cited.setdefault(c.n, []).append(c)
    passages = {p.n: p for p in answer.passages}
    blocks = []
    if not cited:
        blocks.append(
            "<p class='notice'>None of these passages answers the question; they are "
            "the nearest the index holds.</p>"
        )
        shown = [(p, []) for p in answer.passages[:4]]
    else:
        shown = [(passages[n], cs) for n, cs in sorted(cited.items()) if n in passages]
    for passage, citations in shown:
        # A PDF's printed page labels are its own text ("<img onerror=...>1" is a label too).
        pages = html.escape(passage.pages)
        link = ""
        if passage.source.lower().endswith(".pdf"):
            link = (
                f" &middot; <a href='/document/{html.escape(passage.doc_id)}"
                f"#page={int(passage.page_start)}' target='_blank' rel='noopener'>open the PDF "
                f"at page {int(passage.page_start)}</a>"
            )
        badge = ""
        if citations:
            ok = all(c.supported for c in citations)
            badge = (
                f"<span class='badge {'ok' if ok else 'not'}' "
                f"title='{html.escape(QUOTE_CHECK_MEANING)}'>"
                f"{QUOTE_CHECK if ok else 'quote not found'}</span>"
            )
        section = f" &middot; {html.escape(passage.section)}" if passage.section else ""
        origin = citations[0].provenance if citations else ""
        pages = f"{html.escape(origin)} &middot; {pages}" if origin else pages
        blocks.append(
            f"<div class='source' id='source-{passage.n}'>"
            f"<h3>[{passage.n}] {html.escape(passage.title)}{badge}</h3>"
            f"<div class='where'>{pages}{section}{link}</div>"
            f"<div class='passage'>{_highlight(passage.text, [c.quote for c in citations])}</div>"
            "<a class='back' href='#chat'>Back to the answer</a>"
            "</div>"
        )
    if cited:
        blocks.append(f"<p class='notice'>{html.escape(QUOTE_CHECK_MEANING)}</p>")
    return (
        "<div class='sources-list' tabindex='0' role='region' aria-label='Sources of the "
        f"answer'>{''.join(blocks)}</div>"
    )


def _listing_label(records: list[DocumentRecord]) -> str:
    return f"Documents in the index ({len(records)})"


def render_documents(records: list[DocumentRecord]) -> str:
    """What the index holds: each document's title, publisher, date and pages."""
    items = []
    for r in sorted(records, key=lambda r: r.title.lower()):
        date = r.meta.get("date") or r.meta.get("year")
        facts = [str(f) for f in (r.meta.get("publisher"), date) if f]
        facts.append(f"{r.pages} page{'s' if r.pages != 1 else ''}")
        items.append(
            f"<li><span class='title'>{html.escape(r.title)}</span>"
            f"<br><span class='where'>{html.escape(' · '.join(facts))}</span></li>"
        )
    return f"<ul class='index-list'>{''.join(items)}</ul>"


def search_in(places, documents) -> tuple[gr.CheckboxGroup, gr.Dropdown]:
    """One tab's own "Search in" choices, folded away: jurisdictions and documents, none of
    either meaning all. Each tab shows its own, so that none is narrowed by a choice made out of
    sight on another; and its header, folded, says what is chosen."""
    with gr.Accordion(search_in_label({}), open=False) as folded:
        where = gr.CheckboxGroup(places, label="Jurisdictions (none: all)")
        which = gr.Dropdown(documents, multiselect=True, label="Documents (none: all)")
    for choice in (where, which):
        choice.change(
            lambda places, docs: gr.update(label=search_in_label(chosen_filters(places, docs))),
            [where, which],
            folded,
            show_progress="hidden",
            api_name=False,
        )
    return where, which


def scope_of(filters: dict) -> str:
    """What a search was kept to, in words: the jurisdictions, then how many documents."""
    scope = [str(v) for v in filters.get("jurisdiction", ())]
    scope += [
        f"{k} {', '.join(map(str, v))}"
        for k, v in filters.items()
        if k not in ("jurisdiction", "document")
    ]
    if filters.get("document"):
        scope.append(f"{len(filters['document'])} chosen document(s)")
    return "; ".join(scope)


def search_in_label(filters: dict) -> str:
    return f"Search in: {scope_of(filters)}" if filters else "Search in: all documents"


def chosen_filters(jurisdictions, docs) -> dict[str, list[str]]:
    """The search's filters from a tab's "Search in" choices (empty: everything)."""
    filters = {}
    if jurisdictions:
        filters["jurisdiction"] = list(jurisdictions)
    if docs:
        filters["document"] = list(docs)
    return filters


def _auth(settings: Settings) -> list[tuple[str, str]] | None:
    if not settings.auth:
        return None
    spec = settings.auth
    lines = Path(spec).read_text().splitlines() if Path(spec).is_file() else [spec]
    pairs = [tuple(line.split(":", 1)) for line in lines if ":" in line]
    if not pairs:
        raise SystemExit("ASSISTANT_AUTH must be user:password, or a file of such lines")
    return [(u.strip(), p.strip()) for u, p in pairs]


class Outbox:
    """Where exports are written for Gradio to hand out: one private folder, removed when the
    app stops; each new export first removes those older than `keep_s` seconds."""

    def __init__(self, keep_s: float):
        self._folder = tempfile.TemporaryDirectory(
            prefix="assistant-exports-", ignore_cleanup_errors=True
        )
        self.keep_s = keep_s

    def folder(self) -> Path:
        """A new folder for one export; exports older than `keep_s` are removed first."""
        root = Path(self._folder.name)
        for old in root.iterdir():
            try:
                stale = time.time() - old.stat().st_mtime > self.keep_s
            except FileNotFoundError:
                continue  # another request's sweep removed it first
            if stale:
                shutil.rmtree(old, ignore_errors=True)
        return Path(tempfile.mkdtemp(dir=root))

    def close(self) -> None:
        """Removes every export: the app is stopping."""
        self._folder.cleanup()


def build(settings: Settings) -> tuple[FastAPI, gr.Blocks]:
    """The FastAPI app (serving the indexed PDFs) with the Gradio chat mounted on it."""
    ensure_index(settings)
    assistant = Assistant(settings)

    def choices(records):
        """The filters' choices: the jurisdictions and the documents the index holds."""
        places = sorted(
            {str(r.meta.get("jurisdiction")) for r in records if r.meta.get("jurisdiction")}
        )
        return places, [(r.title, r.doc_id) for r in records]

    held = assistant.documents()
    places, documents = choices(held)
    examples = [{"text": q} for q in assistant.examples()]

    outbox = Outbox(FILES_KEPT_S)
    with gr.Blocks(
        title="Evidence assistant", delete_cache=(FILES_KEPT_S // 6, FILES_KEPT_S)
    ) as demo:
        gr.HTML(
            "<h1>Evidence assistant</h1><p class='intro'>Answers come only from the indexed "
            "documents. Every sentence cites its passage, and each quote is checked against "
            "that passage before it is shown (which says the document says it, not that it "
            "is true).</p>"
        )
        history = gr.State([])
        turns = gr.State([])
        rated = gr.State("")
        with gr.Tab("Ask", id="ask"):
            with gr.Row(elem_id="ask-row"):
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        label="Conversation",
                        height="62vh",
                        buttons=["copy"],
                        layout="panel",
                        elem_id="chat",
                        render_markdown=False,
                        # The new question is scrolled to the top (see HEAD), and stays there as
                        # its answer comes in: a long answer is read from its first words.
                        autoscroll=False,
                        examples=examples or None,
                        placeholder="Ask about the documents in the index, or start from an "
                        "example.",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            label="Your question",
                            placeholder="Ask a question and press Enter",
                            scale=8,
                            autofocus=True,
                            elem_id="question",
                        )
                        ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    with gr.Row():
                        new = gr.Button("New conversation", size="sm", scale=0)
                    rating_status = gr.Markdown(elem_id="rating-status")
                    with gr.Row(visible=False, elem_id="rating-comment") as commenting:
                        comment = gr.Textbox(
                            label="Add a comment to your rating (optional)",
                            lines=1,
                            scale=6,
                            max_length=MAX_COMMENT_CHARS,
                        )
                        send_comment = gr.Button("Send comment", size="sm", scale=1)
                with gr.Column(scale=2, elem_id="side"):
                    gr.HTML("<h2>Sources</h2>")
                    sources = gr.HTML(render_sources(None), elem_id="sources")
                    where, which = search_in(places, documents)
                    with gr.Accordion(
                        _listing_label(held), open=True, elem_id="index"
                    ) as index_panel:
                        listing = gr.HTML(render_documents(held))
                    with gr.Accordion("Add documents", open=False):
                        files = gr.File(
                            file_count="multiple",
                            label="PDF, Word, Markdown, text or HTML",
                            file_types=[".pdf", ".docx", ".md", ".txt", ".html", ".htm"],
                        )
                        upload_status = gr.Markdown()
            with gr.Row(elem_id="export"):
                scope = gr.Radio(
                    ["Conversation", "Last answer"],
                    value="Conversation",
                    label="Export",
                    elem_id="scope",
                    scale=2,
                )
                export_md = gr.Button("Export Markdown", size="sm", scale=1)
                export_docx = gr.Button("Export Word", size="sm", scale=1)
            export_status = gr.Markdown(elem_id="export-status")
            download = gr.File(
                label="Your export", interactive=False, visible=False, elem_id="download"
            )

        with gr.Tab("Draft a briefing", id="brief"):
            gr.Markdown(
                "A first draft on a topic, from the indexed documents only: summary, the "
                "evidence by jurisdiction, lessons, gaps and numbered sources, every evidence "
                "sentence cited and checked. Edit it before it goes anywhere."
            )
            with gr.Row():
                topic = gr.Textbox(
                    label="Topic",
                    placeholder="e.g. holding public bodies to account for wellbeing goals",
                    scale=8,
                    elem_id="topic",
                )
                draft = gr.Button("Draft briefing", variant="primary", scale=1)
            brief_where, brief_which = search_in(places, documents)
            brief_status = gr.Markdown(elem_id="brief-status")
            brief_view = gr.Markdown(elem_id="brief", sanitize_html=True)
            brief_files = gr.File(
                label="Download the draft", interactive=False, file_count="multiple"
            )
        with gr.Tab("Compare", id="compare"):
            gr.Markdown(
                "One question answered for each jurisdiction (or each document that holds "
                "evidence on it), side by side; a side with none says so."
            )
            with gr.Row():
                contrast = gr.Textbox(
                    label="Question",
                    placeholder="e.g. How is progress reported?",
                    scale=6,
                    elem_id="compare-question",
                )
                across = gr.Radio(
                    ["jurisdiction", "document"],
                    value="jurisdiction",
                    label="A row per",
                    scale=2,
                    elem_id="across",
                )
                run_compare = gr.Button("Compare", variant="primary", scale=1)
            compare_where, compare_which = search_in(places, documents)
            compare_status = gr.Markdown(elem_id="compare-status")
            compare_view = gr.Markdown(elem_id="comparison", sanitize_html=True)
            compare_files = gr.File(
                label="Download the table", interactive=False, file_count="multiple"
            )

        def drafted(make, text, name, markdown, word, jurisdictions, docs):
            """Runs one draft within the tab's "Search in" choices; returns (status, the draft
            as Markdown, its two files)."""
            filters = chosen_filters(jurisdictions, docs)
            try:
                result = make(text, filters or None)
            except (QuestionError, StoreError, SelectorError) as err:
                return f"Cannot draft that: {html.escape(str(err))}.", "", None
            folder = outbox.folder()
            text = markdown(result)
            (folder / f"{name}.md").write_text(text, encoding="utf-8")
            (folder / f"{name}.docx").write_bytes(word(result, settings.author))
            status = f"Drafted with {len(result.sources)} sources; download it below."
            if filters:
                status += f" Searched only in: {html.escape(scope_of(filters))}."
            files = [str(folder / f"{name}.docx"), str(folder / f"{name}.md")]
            # The draft's Markdown shows every document's words as written (exports escapes
            # each character that could make markup, "<" included), and the view sanitises
            # whatever HTML it renders besides.
            return status, text, files

        draft_outputs = [brief_status, brief_view, brief_files]
        for trigger in (topic.submit, draft.click):
            trigger(
                lambda text, places, docs: drafted(
                    assistant.brief,
                    text,
                    "briefing",
                    briefing_markdown,
                    briefing_docx,
                    places,
                    docs,
                ),
                [topic, brief_where, brief_which],
                draft_outputs,
            )
        compare_outputs = [compare_status, compare_view, compare_files]
        for trigger in (contrast.submit, run_compare.click):
            trigger(
                lambda text, by, places, docs: drafted(
                    lambda q, filters: assistant.compare(q, by, filters),
                    text,
                    "comparison",
                    comparison_markdown,
                    comparison_docx,
                    places,
                    docs,
                ),
                [contrast, across, compare_where, compare_which],
                compare_outputs,
            )

        def respond(message, messages, past, done, jurisdictions, docs):
            messages = list(messages or [])
            message = (message or "").strip()
            if not message:
                yield messages, past, done, gr.update(), "", gr.update()
                return
            messages += [
                {"role": "user", "content": as_text(message)},  # shown as typed, never as markup
                {"role": "assistant", "content": "Searching the documents..."},
            ]
            # The box is emptied as the question is taken, and not touched after, so that the
            # next question can be typed (and sent) while this answer is made.
            yield messages, past, done, gr.update(), "", gr.update()
            filters = chosen_filters(jurisdictions, docs)
            text = ""
            try:
                for piece in assistant.stream(message, history=past, filters=filters):
                    if isinstance(piece, Answer):
                        answer = piece
                        break
                    text += piece
                    messages[-1] = {"role": "assistant", "content": as_text(text)}
                    yield messages, past, done, gr.update(), gr.update(), gr.update()
            except (QuestionError, StoreError, SelectorError) as err:
                problem = f"{err}."
                said = as_text(f"Cannot answer that: {problem}")
                messages[-1] = {"role": "assistant", "content": said}
                # Every message pair has its turn, so that a rating or a click on a later
                # answer finds that answer; this one has none.
                done = [*done, Turn(message, None)]
                # The question stays in the box, to be put right; no earlier answer's sources.
                yield messages, past, done, render_sources(None, problem), message, gr.update()
                return
            messages[-1] = {"role": "assistant", "content": render_answer(answer)}
            past = [
                *past,
                {"role": "user", "content": message},
                {"role": "assistant", "content": answer.answer},
            ]
            # Its record is kept now: an export later says what it was made from, not what
            # the index holds by then.
            done = [*done, Turn(message, answer, assistant.record("answer", message, [answer]))]
            # The documents' list has done its work once there is an answer: it folds away.
            yield messages, past, done, render_sources(answer), gr.update(), gr.update(open=False)

        outputs = [chat, history, turns, sources, question, index_panel]
        inputs = [question, chat, history, turns, where, which]
        # A question sent while the last answer is still finishing is asked next, not dropped.
        for trigger in (question.submit, ask.click):
            trigger(respond, inputs, outputs, trigger_mode="always_last")

        def example(event: gr.SelectData) -> str:
            return event.value["text"]

        chat.example_select(example, None, question).then(respond, inputs, outputs)

        def select(done, event: gr.SelectData):
            index = event.index if isinstance(event.index, int) else event.index[0]
            if index % 2 == 1 and index // 2 < len(done) and done[index // 2].answer is not None:
                return render_sources(done[index // 2].answer)
            return gr.update()

        chat.select(select, [turns], [sources])

        def rate(done, event: gr.LikeData):
            """Keeps the rating at once; a comment may follow it, in a box emptied and named
            for this answer, so that words typed for another rating never go with this one."""
            index = event.index if isinstance(event.index, int) else event.index[0]
            if index // 2 >= len(done):
                return "", gr.update(), "", gr.update()
            turn = done[index // 2]
            if turn.answer is None:
                return (
                    "Nothing saved: that message was not an answer.",
                    gr.update(visible=False),
                    "",
                    gr.update(value=""),
                )
            entry = record(
                settings.feedback_file,
                turn.question,
                turn.answer.answer,
                bool(event.liked),
                "",
                {"citations": [c.to_dict() for c in turn.answer.citations]},
            )
            said = "helpful" if event.liked else "not helpful"
            note = f"Rating saved: answer {index // 2 + 1} marked {said}."
            box = gr.update(
                value="",
                label=f"Add a comment to your rating of answer {index // 2 + 1} (optional)",
            )
            return note, gr.update(visible=True), entry["id"], box

        chat.like(rate, [turns], [rating_status, commenting, rated, comment])

        def commented(rating_id, note):
            if not rating_id or not (note or "").strip():
                return "Type a comment first; the rating itself is already saved.", gr.update()
            try:
                add_comment(settings.feedback_file, rating_id, note)
            except FeedbackError as err:  # too long: nothing of it is kept
                return f"Comment not saved: {err}", gr.update()
            return "Comment saved with your rating.", gr.update(value="")

        for trigger in (send_comment.click, comment.submit):
            trigger(commented, [rated, comment], [rating_status, comment])

        # A new conversation starts afresh: no filter from the last one narrows it unseen.
        new.click(
            lambda: (
                [],
                [],
                [],
                render_sources(None),
                gr.update(value=None, visible=False),
                "",
                [],
                [],
                "",
                "",
                "",
            ),
            None,
            [chat, history, turns, sources, download, export_status, where, which]
            + [comment, rated, rating_status],
        )

        def export(done, what, kind):
            done = [t for t in done or [] if t.answer is not None]
            if not done:
                return "There is nothing to export yet: ask a question first.", gr.update(
                    value=None, visible=False
                )
            done = done[-1:] if what == "Last answer" else done
            folder = outbox.folder()
            records = [t.record or assistant.record("answer", t.question, [t.answer]) for t in done]
            if kind == "md":
                path = folder / "briefing.md"
                path.write_text(to_markdown(done, records=records), encoding="utf-8")
            else:
                path = folder / "briefing.docx"
                path.write_bytes(to_docx(done, author=settings.author, records=records))
            said = "the last answer" if what == "Last answer" else f"{len(done)} answer(s)"
            return f"Exported {said}: download it below.", gr.update(value=str(path), visible=True)

        export_outputs = [export_status, download]
        export_md.click(
            lambda done, what: export(done, what, "md"),
            [turns, scope],
            export_outputs,
            api_name="export_markdown",
        )
        export_docx.click(
            lambda done, what: export(done, what, "docx"),
            [turns, scope],
            export_outputs,
            api_name="export_word",
        )

        chooser = [where, which, brief_where, brief_which, compare_where, compare_which]

        def add(  # one parameter a chooser: Gradio finds `progress` only after named ones
            uploaded,
            ask_places,
            ask_docs,
            brief_places,
            brief_docs,
            compare_places,
            compare_docs,
            progress=gr.Progress(),  # noqa: B008
        ):
            """Adds the sent files; every tab's "Search in" keeps what its reader chose."""
            chosen = (ask_places, ask_docs, brief_places, brief_docs, compare_places, compare_docs)
            if not uploaded:
                return "", *[gr.update()] * (len(chooser) + 2)
            saved, problems = [], []
            for item in uploaded:
                path = Path(getattr(item, "name", item))
                original = getattr(item, "orig_name", None) or path.name
                try:
                    saved.append(
                        save_upload(
                            path,
                            original,
                            settings.upload_dir,
                            int(settings.max_upload_mb * 1048576),
                            uploaded_in=Path(get_upload_folder()),
                        )
                    )
                except UploadError as err:
                    problems.append(str(err))
            report = None
            if saved:
                progress(0.1, desc=f"Reading {len(saved)} file(s)")
                report = assistant.add(saved)
                problems += [f"{Path(f.source).name}: {f.reason}" for f in report.failed]
            lines = []
            if report is not None and (report.added or report.updated):
                lines.append(
                    f"Added {len(report.added) + len(report.updated)} document(s), "
                    f"{report.pages} pages; they are searchable now."
                )
            if report is not None and report.unchanged:
                # The same file sent again: nothing new, and the index says so.
                names = ", ".join(Path(s).name for s in report.unchanged)
                lines.append(f"Already in the index, unchanged: {names}.")
            lines += [f"- not added: {p}" for p in problems]
            return ("\n".join(lines), *_filters(*chosen))

        def _filters(*chosen):
            """Every tab's filter choices as the index stands, keeping what its reader had
            chosen (pairs of jurisdictions and documents, in `chooser`'s order), and the
            documents' table."""
            held = assistant.documents()
            places, listed = choices(held)
            ids = {doc_id for _, doc_id in listed}
            chosen = list(chosen) + [()] * (len(chooser) - len(chosen))
            updates = []
            for jurisdictions, docs in zip(chosen[::2], chosen[1::2], strict=True):
                updates += [
                    gr.update(
                        choices=places, value=[p for p in jurisdictions or () if p in places]
                    ),
                    gr.update(choices=listed, value=[d for d in docs or () if d in ids]),
                ]
            return (*updates, render_documents(held), gr.update(label=_listing_label(held)))

        shown_index = [*chooser, listing, index_panel]
        files.upload(add, [files, *chooser], [upload_status, *shown_index])

        # The filters as the index stands when the page opens: another process may have
        # ingested or removed documents since the app started.
        demo.load(_filters, None, shown_index, api_name=False, show_progress="hidden")

        def ask_api(question: str, jurisdiction: str = "") -> dict:
            """One question, answered as the command line's --json prints it, with its record."""
            filters = {"jurisdiction": [jurisdiction]} if jurisdiction else None
            try:
                answer = assistant.ask(question, filters=filters)
                return {
                    **answer.to_dict(),
                    "record": assistant.record("answer", question, [answer]),
                }
            except (QuestionError, StoreError, SelectorError) as err:
                return {"error": str(err)}

        gr.api(ask_api, api_name="ask")

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        try:
            yield
        finally:
            outbox.close()  # Gradio empties its own cache (delete_cache) in the same shutdown

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    logins = _auth(settings)

    def signed_in(request: Request) -> None:
        """The same login as the chat: the session cookie the login page set."""
        if not logins:
            return
        ui = next(r.app for r in app.routes if isinstance(r, Mount))
        token = request.cookies.get(f"access-token-{ui.cookie_id}") or request.cookies.get(
            f"access-token-unsecure-{ui.cookie_id}"
        )
        if not token or token not in ui.tokens:
            raise HTTPException(status_code=401, detail="log in first")

    @app.get("/document/{doc_id}", dependencies=[Depends(signed_in)])
    def document(doc_id: str):
        """Serves the index's own copy of an indexed document, and nothing else."""
        path = assistant.document_file(doc_id)
        if path is None:
            raise HTTPException(status_code=404, detail="no such document in the index")
        media, headers = document_response_headers(path.name)
        return FileResponse(path, media_type=media, headers=headers)

    demo.queue(default_concurrency_limit=4)
    app = gr.mount_gradio_app(
        app,
        demo,
        path="/",
        auth=logins,
        # Gradio refuses a larger file as it arrives, before any of it is kept on disk.
        max_file_size=int(settings.max_upload_mb * 1024 * 1024),
        css=CSS,
        head=HEAD,
        theme=THEME,
    )
    # Gradio checks that a file named in a request was uploaded through it only once the app
    # "has launched", which mount_gradio_app never records: without this, a crafted request can
    # name any file on the server. save_upload checks the same on its own side.
    demo.has_launched = True
    app.add_middleware(LoginThrottle)
    # Only requests addressed to the app itself: a page elsewhere whose name is re-pointed at
    # this machine (DNS rebinding) is refused before it reaches a route or the login.
    names, any_address = allowed_hosts(settings.host, settings.allowed_host_names)
    app.add_middleware(HostCheck, names=names, any_address=any_address)
    app.add_middleware(SecurityHeaders)
    return app, demo


class _StreamsCutAtStop(logging.Filter):
    """Drops what uvicorn logs as errors when it cuts the streams still open at a stop (a
    browser tab's heartbeat): the line saying it cancels them, and each one's traceback. The
    stop was asked for, and nothing failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
            return False
        return not str(record.msg).startswith("Cancel %s running task")


def main() -> None:
    import uvicorn

    settings = get_settings()
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.auth:
        print(
            f"warning: listening on {settings.host} without ASSISTANT_AUTH: anyone who can "
            "reach this machine can use the assistant",
            file=sys.stderr,
        )
    app, _ = build(settings)
    logging.getLogger("uvicorn.error").addFilter(_StreamsCutAtStop())
    print(f"Evidence assistant on http://{settings.host}:{settings.port}", file=sys.stderr)
    # An open browser tab holds a connection for as long as it is open: without a limit the app
    # would wait for every tab to close before it stops (and tidies up).
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=STOP_WITHIN_S,
        # The client's address is the connection's own: an X-Forwarded-For header (which any
        # client on loopback could send) never picks the address failed logins are counted for.
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
