"""The same ingest through a real Chroma server, started here with `chroma run`."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.ingest import Ingester, open_store
from assistant.lexical import ensure_lexical
from assistant.store import StoreError
from tests.net import free_port
from tests.pdfs import make_pdf

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A real Chroma server on a free loopback port, stopped after the module."""
    chroma = Path(sys.executable).with_name("chroma")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(data / "db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(
                    f"chroma run did not start: {(data / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=10)


def test_ingest_through_a_chroma_server_and_read_back(chroma_url, embedder, tmp_path):
    settings = Settings(
        index_dir=tmp_path / "index",
        chroma_url=chroma_url,
        progress=False,
        collection="server-test",
    )
    folder = tmp_path / "docs"
    folder.mkdir()
    make_pdf(
        folder / "wales.pdf",
        [
            [("h", "Goals"), ("p", "Wales has seven well-being goals.")],
            [("h", "Ways"), ("p", "There are five ways of working.")],
        ],
        title="Wales summary",
    )
    (folder / "note.md").write_text("# Note\n\nScotland set 11 national outcomes in 2018.\n")
    report = Ingester(settings, embedder=embedder).ingest([folder])
    assert report.ok and len(report.added) == 2
    assert not (tmp_path / "index" / "chroma").exists()  # nothing went to the embedded store

    store = open_store(settings)  # a fresh client, reading what the server holds
    assert store.location == chroma_url
    assert sorted(r.title for r in store.documents()) == ["Note", "Wales summary"]
    assert store.count() == sum(r.chunks for r in store.documents())
    hit = store.query(embedder.embed_query("ways of working"), 1)[0][0]
    assert hit.metadata["page_start"] == 2 and hit.metadata["section"] == "Ways"
    assert ensure_lexical(store).search("national outcomes", 1)

    again = Ingester(settings, embedder=embedder).ingest([folder])
    assert len(again.unchanged) == 2 and not again.added


def test_a_server_that_is_down_gets_a_clear_error(embedder, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(index_dir=tmp_path / "index", chroma_url=url, progress=False)
    with pytest.raises(
        StoreError, match=r"Chroma server at http://127\.0\.0\.1:\d+ is not reachable"
    ):
        Ingester(settings, embedder=embedder).ingest([tmp_path])
