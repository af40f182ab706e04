"""The evidence assistant in the browser: a thin Gradio face over the core in assistant/.

Run: python app.py  (settings: ASSISTANT_HOST, ASSISTANT_PORT, ASSISTANT_AUTH, ASSISTANT_INDEX_DIR)
"""

from __future__ import annotations

import html
import sys
import tempfile
from pathlib import Path

import assistant as _offline  # noqa: F401  (first: it turns off every library's telemetry)

# isort: split
import gradio as gr
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from gradio.utils import get_upload_folder
from starlette.routing import Mount

from assistant.chain import Assistant, QuestionError
from assistant.citations import MARKER
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
from assistant.feedback import record
from assistant.ingest import Ingester, open_store
from assistant.models import QUOTE_CHECK, QUOTE_CHECK_MEANING, Answer
from assistant.selector import SelectorError
from assistant.store import StoreError
from assistant.uploads import UploadError, save_upload
from assistant.websecurity import LoginThrottle, SecurityHeaders, document_response_headers

ROOT = Path(__file__).resolve().parent
CSS = """
.gradio-container {max-width: 1400px !important; font-size: 15px}
#sources {max-height: 640px; overflow-y: auto}
.source {border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; margin-bottom: 10px}
.source h4 {margin: 0 0 4px 0; font-size: 14px}
.source .where {color: #57606a; font-size: 12.5px; margin-bottom: 6px}
.source .passage {font-size: 13px; line-height: 1.45; white-space: pre-wrap}
.source mark {background: #fff1a8; padding: 0 1px}
.badge {font-size: 11.5px; border-radius: 10px; padding: 1px 8px; margin-left: 6px}
.ok {background: #dafbe1; color: #116329} .not {background: #ffebe9; color: #a40e26}
.notice {color: #57606a; font-size: 13px}
#comparison th:first-child, #comparison td:first-child {min-width: 9em}
footer {display: none !important}
"""


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


def render_answer(answer: Answer) -> str:
    """The answer for the chat: [n] markers as small links to the sources panel, and its
    sources listed under it, so that copying the answer copies its citations too."""
    text = html.escape(answer.answer, quote=False)
    text = MARKER.sub(
        lambda m: f' <sup><a href="#source-{m.group(1)}">[{m.group(1)}]</a></sup>', text
    )
    listed: dict[int, str] = {}
    for c in answer.citations:
        listed.setdefault(c.n, f"[{c.n}] {html.escape(c.title)}, {html.escape(c.where)}")
    if listed:
        text += "<br><small>" + "<br>".join(listed[n] for n in sorted(listed)) + "</small>"
    if answer.strength:
        sure = f" (P = {answer.confidence:.2f})" if answer.confidence is not None else ""
        text += f"<br><small class='strength'>Evidence: {answer.strength}{sure}</small>"
    return text


def _highlight(passage: str, quotes: list[str]) -> str:
    text = html.escape(passage, quote=False)
    for quote in sorted(set(q for q in quotes if q), key=len, reverse=True):
        escaped = html.escape(quote, quote=False)
        text = text.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return text


def render_sources(answer: Answer | None) -> str:
    """The sources panel: each cited passage with its quote highlighted, where it is, and
    whether the quote was verified; for a refusal, the nearest passages."""
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
        pages = passage.pages
        link = ""
        if passage.source.lower().endswith(".pdf"):
            link = (
                f" &middot; <a href='/document/{passage.doc_id}#page={passage.page_start}' "
                f"target='_blank'>open the PDF at page {passage.page_start}</a>"
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
            f"<h4>[{passage.n}] {html.escape(passage.title)}{badge}</h4>"
            f"<div class='where'>{pages}{section}{link}</div>"
            f"<div class='passage'>{_highlight(passage.text, [c.quote for c in citations])}</div>"
            "</div>"
        )
    if cited:
        blocks.append(f"<p class='notice'>{html.escape(QUOTE_CHECK_MEANING)}</p>")
    return "\n".join(blocks)


def _auth(settings: Settings) -> list[tuple[str, str]] | None:
    if not settings.auth:
        return None
    spec = settings.auth
    lines = Path(spec).read_text().splitlines() if Path(spec).is_file() else [spec]
    pairs = [tuple(line.split(":", 1)) for line in lines if ":" in line]
    if not pairs:
        raise SystemExit("ASSISTANT_AUTH must be user:password, or a file of such lines")
    return [(u.strip(), p.strip()) for u, p in pairs]


def build(settings: Settings) -> tuple[FastAPI, gr.Blocks]:
    """The FastAPI app (serving the indexed PDFs) with the Gradio chat mounted on it."""
    ensure_index(settings)
    assistant = Assistant(settings)

    def choices():
        records = assistant.documents()
        places = sorted(
            {str(r.meta.get("jurisdiction")) for r in records if r.meta.get("jurisdiction")}
        )
        return places, [(r.title, r.doc_id) for r in records]

    places, documents = choices()

    with gr.Blocks(title="Evidence assistant") as demo:
        gr.Markdown(
            "## Evidence assistant\nAnswers come only from the indexed documents. "
            "Every sentence cites its passage, and each quote is checked against that passage "
            "before it is shown (which says the document says it, not that it is true)."
        )
        history = gr.State([])
        turns = gr.State([])
        with gr.Tab("Ask", id="ask"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Conversation",
                    height=560,
                    buttons=["copy"],
                    layout="panel",
                    elem_id="chat",
                    placeholder="Ask about the frameworks, reports and papers in the index.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask a question and press Enter",
                        show_label=False,
                        scale=8,
                        autofocus=True,
                        elem_id="question",
                        max_length=2000,
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1)
                with gr.Row():
                    new = gr.Button("New conversation", size="sm")
                    scope = gr.Radio(
                        ["Conversation", "Last answer"],
                        value="Conversation",
                        show_label=False,
                        container=False,
                        elem_id="scope",
                    )
                    export_md = gr.Button("Export Markdown", size="sm")
                    export_docx = gr.Button("Export Word", size="sm")
                download = gr.File(label="Export", interactive=False, height=80, elem_id="download")
                comment = gr.Textbox(label="Comment with your rating (optional)", lines=1)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(render_sources(None), elem_id="sources")
                with gr.Accordion("Search in", open=False):
                    where = gr.CheckboxGroup(places, label="Jurisdictions (none: all)")
                    which = gr.Dropdown(documents, multiselect=True, label="Documents (none: all)")
                with gr.Accordion("Add documents", open=False):
                    files = gr.File(
                        file_count="multiple",
                        label="PDF, Word, Markdown, text or HTML",
                        file_types=[".pdf", ".docx", ".md", ".txt", ".html", ".htm"],
                    )
                    upload_status = gr.Markdown()

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
                    max_length=2000,
                )
                draft = gr.Button("Draft briefing", variant="primary", scale=1)
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
                    max_length=2000,
                )
                across = gr.Radio(
                    ["jurisdiction", "document"],
                    value="jurisdiction",
                    label="A row per",
                    scale=2,
                    elem_id="across",
                )
                run_compare = gr.Button("Compare", variant="primary", scale=1)
            compare_status = gr.Markdown(elem_id="compare-status")
            compare_view = gr.Markdown(elem_id="comparison", sanitize_html=True)
            compare_files = gr.File(
                label="Download the table", interactive=False, file_count="multiple"
            )

        def drafted(make, text, name, markdown, word):
            """Runs one draft; returns (status, the draft as Markdown, its two files)."""
            try:
                result = make(text)
            except (QuestionError, StoreError, SelectorError) as err:
                return f"Cannot draft that: {html.escape(str(err))}.", "", None
            folder = Path(tempfile.mkdtemp(prefix="draft-"))
            text = markdown(result)
            (folder / f"{name}.md").write_text(text, encoding="utf-8")
            (folder / f"{name}.docx").write_bytes(word(result, settings.author))
            status = f"Drafted with {len(result.sources)} sources; download it below."
            files = [str(folder / f"{name}.docx"), str(folder / f"{name}.md")]
            return status, html.escape(text, quote=False), files

        draft_outputs = [brief_status, brief_view, brief_files]
        for trigger in (topic.submit, draft.click):
            trigger(
                lambda text: drafted(
                    assistant.brief, text, "briefing", briefing_markdown, briefing_docx
                ),
                [topic],
                draft_outputs,
            )
        compare_outputs = [compare_status, compare_view, compare_files]
        for trigger in (contrast.submit, run_compare.click):
            trigger(
                lambda text, by: drafted(
                    lambda q: assistant.compare(q, by),
                    text,
                    "comparison",
                    comparison_markdown,
                    comparison_docx,
                ),
                [contrast, across],
                compare_outputs,
            )

        def respond(message, messages, past, done, jurisdictions, docs):
            messages = list(messages or [])
            message = (message or "").strip()
            if not message:
                yield messages, past, done, gr.update(), ""
                return
            messages += [
                {"role": "user", "content": message},
                {"role": "assistant", "content": "Searching the documents..."},
            ]
            yield messages, past, done, gr.update(), ""
            filters = {}
            if jurisdictions:
                filters["jurisdiction"] = list(jurisdictions)
            if docs:
                filters["document"] = list(docs)
            text = ""
            try:
                for piece in assistant.stream(message, history=past, filters=filters):
                    if isinstance(piece, Answer):
                        answer = piece
                        break
                    text += piece
                    messages[-1] = {"role": "assistant", "content": html.escape(text)}
                    yield messages, past, done, gr.update(), ""
            except (QuestionError, StoreError, SelectorError) as err:
                messages[-1] = {"role": "assistant", "content": f"Cannot answer that: {err}."}
                yield messages, past, done, gr.update(), ""
                return
            messages[-1] = {"role": "assistant", "content": render_answer(answer)}
            past = [
                *past,
                {"role": "user", "content": message},
                {"role": "assistant", "content": answer.answer},
            ]
            done = [*done, Turn(message, answer)]
            yield messages, past, done, render_sources(answer), ""

        outputs = [chat, history, turns, sources, question]
        inputs = [question, chat, history, turns, where, which]
        question.submit(respond, inputs, outputs)
        ask.click(respond, inputs, outputs)

        def select(done, event: gr.SelectData):
            index = event.index if isinstance(event.index, int) else event.index[0]
            if index % 2 == 1 and index // 2 < len(done):
                return render_sources(done[index // 2].answer)
            return gr.update()

        chat.select(select, [turns], [sources])

        def rate(done, note, event: gr.LikeData):
            index = event.index if isinstance(event.index, int) else event.index[0]
            if index // 2 < len(done):
                turn = done[index // 2]
                record(
                    settings.feedback_file,
                    turn.question,
                    turn.answer.answer,
                    bool(event.liked),
                    note or "",
                    {"citations": [c.to_dict() for c in turn.answer.citations]},
                )
                gr.Info("Thank you: your rating was saved.")
            return ""

        chat.like(rate, [turns, comment], [comment])

        new.click(
            lambda: ([], [], [], render_sources(None), None),
            None,
            [chat, history, turns, sources, download],
        )

        def export(done, what, kind):
            if not done:
                gr.Warning("There is nothing to export yet.")
                return None
            done = done[-1:] if what == "Last answer" else done
            folder = Path(tempfile.mkdtemp(prefix="briefing-"))
            records = [assistant.record("answer", t.question, [t.answer]) for t in done]
            if kind == "md":
                path = folder / "briefing.md"
                path.write_text(to_markdown(done, records=records), encoding="utf-8")
            else:
                path = folder / "briefing.docx"
                path.write_bytes(to_docx(done, author=settings.author, records=records))
            return str(path)

        export_md.click(lambda done, what: export(done, what, "md"), [turns, scope], [download])
        export_docx.click(lambda done, what: export(done, what, "docx"), [turns, scope], [download])

        def add(uploaded, progress=gr.Progress()):  # noqa: B008 (how Gradio passes progress)
            if not uploaded:
                return "", gr.update(), gr.update()
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
            if report is not None:
                lines.append(
                    f"Added {len(report.added) + len(report.updated)} document(s), "
                    f"{report.pages} pages; they are searchable now."
                )
            lines += [f"- not added: {p}" for p in problems]
            places, docs = choices()
            return "\n".join(lines), gr.update(choices=places), gr.update(choices=docs)

        files.upload(add, [files], [upload_status, where, which])

        def current_choices():
            """The filters as the index stands when the page opens: another process may have
            ingested or removed documents since the app started."""
            places, docs = choices()
            return gr.update(choices=places), gr.update(choices=docs)

        demo.load(current_choices, None, [where, which], api_name=False)

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

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
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
        css=CSS,
        theme=gr.themes.Default(
            primary_hue="blue",
            neutral_hue="slate",
            font=["system-ui", "Arial", "sans-serif"],
            font_mono=["ui-monospace", "Consolas", "monospace"],
        ),
    )
    # Gradio checks that a file named in a request was uploaded through it only once the app
    # "has launched", which mount_gradio_app never records: without this, a crafted request can
    # name any file on the server. save_upload checks the same on its own side.
    demo.has_launched = True
    app.add_middleware(LoginThrottle)
    app.add_middleware(SecurityHeaders)
    return app, demo


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
    print(f"Evidence assistant on http://{settings.host}:{settings.port}", file=sys.stderr)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
