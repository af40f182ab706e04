"""`assistant corpus fetch` against a real HTTP server on 127.0.0.1, one route per failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.pdfs import make_pdf

ASSISTANT = str(Path(sys.executable).with_name("assistant"))


@pytest.fixture
def server(tmp_path):
    """Serves /good.pdf, /page.html, /fake.pdf (HTML), /big.pdf, /slow.pdf, /drip.pdf (a byte
    at a time); anything else 404."""
    good = make_pdf(
        tmp_path / "served.pdf",
        [[("h", "Official text"), ("p", "The official Act sets seven goals.")]],
        title="An official PDF",
    ).read_bytes()
    routes = {
        "/good.pdf": (good, "application/pdf"),
        "/page.html": (
            b"<!DOCTYPE html><html><body><h1>Framework</h1><p>Eleven outcomes.</p></body></html>",
            "text/html",
        ),
        "/fake.pdf": (
            b"<!DOCTYPE html><html><body>Sign in to continue</body></html>",
            "application/pdf",
        ),
        "/big.pdf": (b"%PDF-1.4\n" + b"0" * 300_000, "application/pdf"),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            if self.path == "/drip.pdf":  # a byte every 0.3 s: 9 s in all
                body = b"%PDF-1.4\n" + b"x" * 21
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for byte in body:
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        return  # the client gave up
                    time.sleep(0.3)
                return
            if self.path == "/drip-headers.pdf":  # a header byte every 0.3 s, never done
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for byte in b"X-Padding: " + b"x" * 60:
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.3)
                return
            if self.path == "/slow.pdf":
                time.sleep(3)
            body, kind = routes.get(self.path, (None, None))
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _manifest(corpus: Path, base: str) -> None:
    fields = {"publisher": "Test", "date": "2024-01-01", "licence": "OGL", "kind": "legislation"}
    corpus.mkdir(parents=True, exist_ok=True)
    official = [
        {
            "id": "good",
            "title": "Good Act",
            "jurisdiction": "Wales",
            "url": f"{base}/good.pdf",
            "format": "pdf",
            **fields,
        },
        {
            "id": "page",
            "title": "A page",
            "jurisdiction": "Scotland",
            "url": f"{base}/page.html",
            "format": "html",
            **fields,
        },
        {
            "id": "missing",
            "title": "Gone",
            "jurisdiction": "UK",
            "url": f"{base}/nothing.pdf",
            **fields,
        },
        {"id": "fake", "title": "Fake", "jurisdiction": "UK", "url": f"{base}/fake.pdf", **fields},
        {"id": "big", "title": "Big", "jurisdiction": "UK", "url": f"{base}/big.pdf", **fields},
        {"id": "slow", "title": "Slow", "jurisdiction": "UK", "url": f"{base}/slow.pdf", **fields},
    ]
    (corpus / "manifest.yaml").write_text(yaml.safe_dump({"documents": [], "official": official}))


def test_fetch_stores_checked_downloads_and_ingests_them(server, tmp_path):
    corpus = tmp_path / "corpus"
    _manifest(corpus, server)
    (corpus / "official").mkdir()
    earlier = make_pdf(corpus / "official" / "fake.pdf", [[("p", "An earlier good copy stays.")]])
    before = earlier.read_bytes()
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANT_CHROMA_URL"}
    env.update(
        ASSISTANT_INDEX_DIR=str(tmp_path / "index"),
        ASSISTANT_MAX_FILE_MB="0.2",
        ASSISTANT_FETCH_TIMEOUT_S="1",
    )
    result = subprocess.run(
        [ASSISTANT, "corpus", "fetch", "--corpus", str(corpus)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    failures = dict(line.split(": ", 1) for line in result.stderr.strip().splitlines())
    assert failures == {
        "failed missing": "the server answered HTTP 404 Not Found",
        "failed fake": "the server sent an HTML page, not a PDF",
        "failed big": "is 0.3 MB, over the 0.2 MB limit",
        "failed slow": "no answer within 1 s",
    }
    assert "2 of 6 official documents fetched" in result.stdout
    assert "2 added" in result.stdout and "Traceback" not in result.stderr
    assert (corpus / "official" / "fake.pdf").read_bytes() == before  # nothing lost
    assert not list((corpus / "official").glob(".*part"))
    assert sorted(p.name for p in (corpus / "official").iterdir()) == [
        "fake.pdf",
        "good.pdf",
        "page.html",
    ]

    status = subprocess.run(
        [ASSISTANT, "status", "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    documents = {Path(d["source"]).name: d for d in json.loads(status.stdout)["documents"]}
    assert set(documents) == {"good.pdf", "page.html"}
    assert documents["good.pdf"]["title"] == "Good Act"
    assert documents["good.pdf"]["meta"]["jurisdiction"] == "Wales"


def test_fetch_without_network_says_so_per_document(tmp_path):
    from assistant.fetch import fetch_one

    entry = {"id": "offline", "url": "http://127.0.0.1:9/nothing.pdf", "format": "pdf"}
    result = fetch_one(entry, tmp_path, 10**6, timeout=2)
    assert not result.ok and result.detail.startswith("cannot reach 127.0.0.1:9")


@pytest.mark.parametrize("path", ["/drip.pdf", "/drip-headers.pdf"], ids=["body", "headers"])
def test_a_server_that_sends_a_byte_at_a_time_is_cut_off_at_the_limit(server, tmp_path, path):
    """Whether it drips the file or its headers, the download's limit holds."""
    from assistant.fetch import fetch_one

    entry = {"id": "drip", "url": f"{server}{path}", "format": "pdf"}
    started = time.monotonic()
    result = fetch_one(entry, tmp_path, 10**6, timeout=1.0)
    took = time.monotonic() - started
    assert not result.ok and result.detail == "took longer than 1 s"
    assert took < 1.8, f"took {took:.1f} s with a 1 s limit"
    assert not list((tmp_path / "official").iterdir())  # nothing half-fetched is left


def test_a_manifest_entry_fetches_only_web_addresses_into_official(server, tmp_path):
    """An entry's url must be http(s), and its id and format must name a file in official/:
    a file:// url, or an id or a format that climbs out, fails with the field and why."""
    from assistant.fetch import fetch_official

    corpus = tmp_path / "deep" / "corpus"
    corpus.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("The treasury password is swordfish.")
    official = [
        {"id": "copied", "url": secret.as_uri(), "format": "html"},
        {"id": "ftp", "url": "ftp://127.0.0.1/x.pdf"},
        {"id": "../../escaped", "url": f"{server}/page.html", "format": "html"},
        {"id": "sub/escaped", "url": f"{server}/page.html", "format": "html"},
        {"id": "..", "url": f"{server}/page.html", "format": "html"},
        {"id": "fmt", "url": f"{server}/page.html", "format": "/../../escaped"},
        {"id": "good", "url": f"{server}/good.pdf"},
    ]
    (corpus / "manifest.yaml").write_text(yaml.safe_dump({"official": official}))
    results = {r.id: r for r in fetch_official(corpus, 10**6, 5.0)}
    assert results["good"].ok and (corpus / "official" / "good.pdf").is_file()
    said = {name: r.detail for name, r in results.items() if not r.ok}
    assert said["copied"].startswith(f"not fetched: url {secret.as_uri()!r} must be an http")
    assert said["ftp"].startswith("not fetched: url 'ftp://127.0.0.1/x.pdf' must be an http")
    for name in ("../../escaped", "sub/escaped", ".."):
        assert said[name].startswith(f"not fetched: id {name!r} must be letters, digits"), name
    assert said["fmt"].startswith("not fetched: format '/../../escaped' must be one of")
    assert sorted(p.name for p in (corpus / "official").iterdir()) == ["good.pdf"]
    assert sorted(p.name for p in tmp_path.rglob("*") if "escaped" in p.name) == []
    assert not any("swordfish" in p.read_text(errors="replace") for p in corpus.rglob("*.html"))
