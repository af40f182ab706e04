"""The app as a hostile user meets it: a real server on loopback with a login set, asked for
what it must not give (files never uploaded, documents without a login, scripts inside an
uploaded page), and guessing passwords."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.appserver import running_app
from tests.pdfs import make_pdf

pytestmark = pytest.mark.slow

USER, PASSWORD = "adviser", "correct horse battery"
OTHER, OTHER_PASSWORD = "intern", "intern pass"
SCRIPTED_PAGE = """<!doctype html><html><head><title>Port board minutes</title></head><body>
<h1>Port board minutes</h1>
<p>The Port Board approved a new harbour wall for Oban in its March meeting.</p>
<script>fetch('/gradio_api/info').then(r => r.text()).then(t => document.title = t)</script>
</body></html>"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secure")
    pdf = make_pdf(
        folder / "ferry.pdf",
        [[("h", "Ferries"), ("p", "The Ferry Board runs eleven routes from Oban.")]],
        title="Ferry note",
    )
    page = folder / "minutes.html"
    page.write_text(SCRIPTED_PAGE)
    secret = folder / "secret.md"
    secret.write_text("# Accounts\n\nThe treasury password is swordfish and it opens everything.\n")
    uploads = folder / "gradio-uploads"
    users = folder / "users.txt"
    users.write_text(f"{USER}:{PASSWORD}\n{OTHER}:{OTHER_PASSWORD}\n")
    with running_app(
        folder,
        [pdf, page],
        {"GRADIO_TEMP_DIR": str(uploads)},
        auth=str(users),
        max_upload_mb="1",
    ) as running:
        running.secret = secret
        running.uploads = uploads
        yield running


def _opener(app, login: bool, user: str = USER, password: str = PASSWORD):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    if login:
        form = urllib.parse.urlencode({"username": user, "password": password}).encode()
        with opener.open(f"{app.url}/login", data=form, timeout=30) as response:
            assert response.status == 200
    return opener


def _status(opener, url: str, data: bytes | None = None, headers=None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _login(app, user: str, password: str, source: str = "127.0.0.1", headers=None) -> int:
    """One login attempt from the loopback address `source` (any 127.x.y.z: a client of its
    own, as the throttle counts them); its status."""
    port = int(app.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=60, source_address=(source, 0)
    )
    try:
        form = urllib.parse.urlencode({"username": user, "password": password})
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        connection.request("POST", "/login", form, sent)
        return connection.getresponse().status
    finally:
        connection.close()


def _documents(app) -> dict[str, str]:
    status = app.cli("status", "--json")
    return {
        d["source"].rsplit("/", 1)[-1]: d["doc_id"] for d in json.loads(status.stdout)["documents"]
    }


def test_every_route_needs_the_login(app):
    anonymous = _opener(app, login=False)
    doc_id = _documents(app)["ferry.pdf"]
    assert _status(anonymous, f"{app.url}/document/{doc_id}")[0] == 401
    assert _status(anonymous, f"{app.url}/gradio_api/info")[0] in (401, 403)
    body = json.dumps({"data": ["How many routes does the Ferry Board run?", ""]}).encode()
    code, _, _ = _status(
        anonymous,
        f"{app.url}/gradio_api/call/ask",
        body,
        {"Content-Type": "application/json"},
    )
    assert code in (401, 403)
    signed_in = _opener(app, login=True)
    code, headers, content = _status(signed_in, f"{app.url}/document/{doc_id}")
    assert code == 200 and content[:5] == b"%PDF-"


def test_documents_are_served_so_nothing_in_them_runs(app):
    signed_in = _opener(app, login=True)
    ids = _documents(app)
    _, pdf_headers, _ = _status(signed_in, f"{app.url}/document/{ids['ferry.pdf']}")
    assert pdf_headers["content-type"] == "application/pdf"
    assert pdf_headers["content-security-policy"] == "sandbox"
    assert pdf_headers["x-content-type-options"] == "nosniff"
    code, html_headers, content = _status(signed_in, f"{app.url}/document/{ids['minutes.html']}")
    assert code == 200 and b"<script>" in content  # the bytes as indexed, as a download only
    assert html_headers["content-type"] == "application/octet-stream"
    assert html_headers["content-disposition"].startswith("attachment")
    assert html_headers["content-security-policy"] == "sandbox"


def test_the_pages_carry_a_content_security_policy(app):
    code, headers, _ = _status(_opener(app, login=True), f"{app.url}/")
    assert code == 200
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy and "http" not in policy  # no outside origin allowed
    assert headers["x-frame-options"] == "DENY"


def test_a_file_that_was_never_uploaded_cannot_be_added(app):
    signed_in = _opener(app, login=True)
    before = set(_documents(app))
    payload = {
        "data": [
            [
                {
                    "path": str(app.secret),
                    "orig_name": "q.md",
                    "meta": {"_type": "gradio.FileData"},
                }
            ]
        ]
    }
    code, _, body = _status(
        signed_in,
        f"{app.url}/gradio_api/call/add",
        json.dumps(payload).encode(),
        {"Content-Type": "application/json"},
    )
    if code == 200:  # queued: read the outcome
        event = json.loads(body)["event_id"]
        _, _, stream = _status(signed_in, f"{app.url}/gradio_api/call/add/{event}")
        assert b"swordfish" not in stream
    assert set(_documents(app)) == before
    uploads = app.index / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    code, _, content = _status(signed_in, f"{app.url}/gradio_api/file={app.secret}")
    assert code in (403, 404) and b"swordfish" not in content


def test_a_file_over_the_upload_limit_is_refused_as_it_arrives(app):
    signed_in = _opener(app, login=True)
    boundary = "----limit"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + b"%PDF-1.4\n"
        + b"0" * (2 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    code, _, answer = _status(signed_in, f"{app.url}/gradio_api/upload", body, headers)
    assert code == 413, (code, answer[:200])
    kept = [p for p in app.uploads.rglob("*") if p.is_file() and p.stat().st_size > 1024 * 1024]
    assert kept == []
    # A file under the limit still goes through.
    small = body.replace(b"0" * (2 * 1024 * 1024), b"0" * 1024)
    code, _, answer = _status(signed_in, f"{app.url}/gradio_api/upload", small, headers)
    assert code == 200 and b"big.pdf" in answer


def test_a_request_addressed_to_another_host_is_refused(app):
    """DNS rebinding: a page on attacker.example whose name is re-pointed at 127.0.0.1 sends
    its own name as Host (and its cookies would be this app's): nothing is answered."""
    signed_in = _opener(app, login=True, user=OTHER, password=OTHER_PASSWORD)
    port = app.url.rsplit(":", 1)[1]
    doc_id = _documents(app)["ferry.pdf"]
    evil = {"Host": f"attacker.example:{port}", "Origin": f"http://attacker.example:{port}"}
    for path in ("/", f"/document/{doc_id}", "/config", "/gradio_api/info"):
        code, _, content = _status(signed_in, f"{app.url}{path}", headers=evil)
        assert code == 400 and b"%PDF" not in content and b"Ferry" not in content, path
    ask = json.dumps({"data": ["How many routes does the Ferry Board run?", ""]}).encode()
    code, _, content = _status(
        signed_in,
        f"{app.url}/gradio_api/call/ask",
        ask,
        {"Content-Type": "application/json", **evil},
    )
    assert code == 400 and b"event_id" not in content
    assert _login(app, OTHER, OTHER_PASSWORD, headers=evil) == 400
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1"):
        code, _, content = _status(
            signed_in, f"{app.url}/document/{doc_id}", headers={"Host": host}
        )
        assert code == 200 and content[:5] == b"%PDF-", host


def test_logins_sent_all_at_once_wait_their_turn(app):
    port = int(app.url.rsplit(":", 1)[1])
    form = urllib.parse.urlencode({"username": USER, "password": "wrong"})
    connections = [
        http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=("127.0.0.8", 0))
        for _ in range(30)
    ]
    barrier, codes = threading.Barrier(len(connections)), []

    def attempt(connection):
        connection.connect()
        barrier.wait()
        connection.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        codes.append(connection.getresponse().status)
        connection.close()

    threads = [threading.Thread(target=attempt, args=(c,)) for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(codes) == 30
    assert codes.count(400) == 5 and codes.count(429) == 25  # the password checked five times


def test_a_good_login_clears_only_its_own_users_failures(app):
    """One user's own good login, every fourth try, does not let them guess another's."""
    source, codes = "127.0.0.9", []
    for i in range(16):
        codes.append(_login(app, USER, f"guess{i}", source))
        if i % 4 == 3:
            assert _login(app, OTHER, OTHER_PASSWORD, source) == 200
    assert codes[:5] == [400] * 5 and set(codes[5:]) == {429}


def test_a_forwarded_for_header_does_not_pick_the_client(app):
    """X-Forwarded-For from a client on loopback is not its address: a new one on each try
    still counts as the same client."""
    probe = f"probe-{uuid.uuid4().hex[:8]}"
    codes = [
        _login(app, probe, f"guess{i}", headers={"X-Forwarded-For": f"10.0.0.{i + 1}"})
        for i in range(8)
    ]
    assert codes[:5] == [400] * 5 and set(codes[5:]) == {429}


def _queue_call(opener, url: str, session: str, fn: int, data: list, event_data=None) -> dict:
    """One event through Gradio's queue, as the page sends it; its output."""
    body = {
        "data": data,
        "event_data": event_data,
        "fn_index": fn,
        "trigger_id": None,
        "session_hash": session,
    }
    request = urllib.request.Request(
        f"{url}/gradio_api/queue/join",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    opener.open(request, timeout=120).read()
    with opener.open(f"{url}/gradio_api/queue/data?session_hash={session}", timeout=300) as r:
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message["output"]
    raise AssertionError("the queue closed without an answer")


def test_a_comment_over_the_limit_is_refused_and_nothing_of_it_kept(app):
    from assistant.feedback import MAX_COMMENT_CHARS

    signed_in = _opener(app, login=True, user=OTHER, password=OTHER_PASSWORD)
    config = json.loads(_status(signed_in, f"{app.url}/config")[2])
    fns = {d["api_name"]: d["id"] for d in config["dependencies"]}
    session = uuid.uuid4().hex[:11]
    question = "How many routes does the Ferry Board run?"
    _queue_call(signed_in, app.url, session, fns["respond"], [question, [], None, None, [], []])
    liked = {"index": [1, None], "value": "", "liked": True}
    rated = _queue_call(signed_in, app.url, session, fns["rate"], [None], liked)
    assert rated["data"][0].startswith("Rating saved")
    feedback = app.index / "feedback.jsonl"
    before = feedback.read_bytes()
    said = _queue_call(signed_in, app.url, session, fns["commented"], [None, "A" * 200_000])
    assert said["data"][0].startswith(
        f"Comment not saved: a comment may be at most {MAX_COMMENT_CHARS:,}"
    )
    assert feedback.read_bytes() == before
    said = _queue_call(signed_in, app.url, session, fns["commented"], [None, "Well sourced."])
    assert said["data"][0] == "Comment saved with your rating."
    assert json.loads(feedback.read_text().splitlines()[-1])["comment"] == "Well sourced."
    (box,) = [
        c["props"]
        for c in config["components"]
        if c.get("props", {}).get("label") == "Add a comment to your rating (optional)"
    ]
    assert box["max_length"] == MAX_COMMENT_CHARS


def test_feedback_keeps_no_comment_over_the_limit(tmp_path):
    from assistant.feedback import MAX_COMMENT_CHARS, FeedbackError, add_comment, record

    kept = tmp_path / "feedback.jsonl"
    with pytest.raises(FeedbackError, match="at most"):
        add_comment(kept, "abc", "x" * (MAX_COMMENT_CHARS + 1))
    with pytest.raises(FeedbackError, match="at most"):
        record(kept, "q", "a", True, "x" * (MAX_COMMENT_CHARS + 1))
    assert not kept.exists()
    assert add_comment(kept, "abc", "  " + "x" * MAX_COMMENT_CHARS + "\n")["comment"] == (
        "x" * MAX_COMMENT_CHARS
    )


def test_failed_logins_are_slowed_down(app):
    codes = []
    for _ in range(30):
        form = urllib.parse.urlencode({"username": USER, "password": "wrong"}).encode()
        code, headers, _ = _status(_opener(app, login=False), f"{app.url}/login", form)
        codes.append(code)
        if code == 429:
            assert int(headers["retry-after"]) >= 1
    assert codes[:5] == [400] * 5
    assert codes.count(429) >= 24
    form = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
    code, _, _ = _status(_opener(app, login=False), f"{app.url}/login", form)
    assert code == 429  # even the right password waits its turn


def test_markup_in_a_document_is_shown_as_text_in_an_answer():
    """The chat reads a message as sanitised HTML; an answer quoting a document's "<img ...>"
    shows those characters, and no tag reaches the page."""
    import app as web
    from assistant.models import Answer

    quoted = 'The board met on 4 March 2024 <img src=x onerror="alert(1)"> and agreed it [1].'
    shown = web.render_answer(Answer("q", "q", quoted, False, [], [], "extractive"))
    assert "<img" not in shown and "&lt;img src=x" in shown


def test_an_entity_in_a_document_is_shown_as_written():
    """A quote that holds "&lt;" or "&amp;" (a page about HTML, a firm's name) keeps them: the
    chat decodes entities, so the answer's "&" is written as one."""
    import app as web
    from assistant.models import Answer

    quoted = "Write &lt; for a less-than sign; AT&T and M&amp;S replied [1]."
    shown = web.render_answer(Answer("q", "q", quoted, False, [], [], "extractive"))
    assert "Write &amp;lt; for a less-than sign; AT&amp;T and M&amp;amp;S replied" in shown
