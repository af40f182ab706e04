"""The command line as a team uses it: bad settings, a stopped ingest, a server that is not
ours or not Chroma, a script's empty argument. Each names the problem in one line."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import chromadb
import chromadb.config
import pytest

from assistant import cli
from assistant import ingest as ingest_module
from assistant.config import Settings, get_settings
from assistant.ingest import Ingester, RebuildRefused, discover, open_store
from assistant.store import StoreError
from tests.net import free_port
from tests.pdfs import make_pdf
from tests.test_ingest import _InterruptingStore


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    """Runs `assistant ARGS` in this process with these ASSISTANT_* settings; returns (exit
    code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)  # no .env of the project's
    for name in ("ASSISTANT_CHROMA_URL", "ASSISTANT_COLLECTION", "ASSISTANT_LESSONS_FILE"):
        monkeypatch.delenv(name, raising=False)

    def run(args: list[str], **env: str) -> tuple[int, str, str]:
        environment = {"ASSISTANT_INDEX_DIR": str(tmp_path / "index"), **env}
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        try:
            code = cli.main(args)
        finally:
            get_settings.cache_clear()
            for name in environment:
                monkeypatch.delenv(name)
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()


def _docs(folder: Path, n: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        make_pdf(
            folder / f"doc{i}.pdf",
            [[("h", f"Part {i}"), ("p", f"Document number {i} sets {i + 3} national outcomes.")]],
            title=f"Document {i}",
        )
    return folder


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("ASSISTANT_CHROMA_URL", "http://127.0.0.1:notaport", "has no valid port"),
        ("ASSISTANT_CHROMA_URL", "http://", "names no host"),
        ("ASSISTANT_COLLECTION", "", "cannot name Chroma collections"),
        ("ASSISTANT_COLLECTION", "-1", "cannot name Chroma collections"),
        ("ASSISTANT_COLLECTION", "a..b", "cannot name Chroma collections"),
        ("ASSISTANT_INDEX_DIR", "", "is empty"),
        ("ASSISTANT_MODEL_CACHE_DIR", " ", "is empty"),
        ("ASSISTANT_LESSONS_FILE", "missing.yaml", "is not a file"),
        ("ASSISTANT_LESSONS_FILE", "words.yaml", "is not a lessons file"),
    ],
)
def test_a_nonsense_setting_is_refused_in_one_line_naming_it(run, tmp_path, name, value, reason):
    (tmp_path / "words.yaml").write_text("just some words\n")
    code, out, err = run(["status"], **{name: value})
    assert code == cli.EXIT_USAGE, err
    assert err.count("\n") == 1 and err.startswith(f"error: bad setting: {name}")
    assert reason in err and "Value error" not in err
    assert not out
    assert not (tmp_path / "chroma").exists()  # nothing written into the working folder


def test_status_after_a_stopped_ingest_counts_only_committed_chunks(run, counting, tmp_path):
    settings = Settings(index_dir=tmp_path / "index", progress=False, chroma_url=None)
    folder = _docs(tmp_path / "docs")
    _InterruptingStore.commits = 0
    store = _InterruptingStore(settings, counting.name)
    with pytest.raises(KeyboardInterrupt):
        Ingester(settings, embedder=counting, store=store, group_chunks=1).ingest([folder])
    assert open_store(settings).count() > sum(r.chunks for r in store.documents())

    code, out, err = run(["status", "--json"])
    assert code == cli.EXIT_OK, err
    status = json.loads(out)
    assert len(status["documents"]) == 1
    assert status["chunks"] == sum(d["chunks"] for d in status["documents"])
    code, text, _ = run(["status"])
    assert f"1 documents, {status['chunks']} chunks" in text


def test_an_empty_path_is_refused_not_read_as_the_current_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.build_parser().parse_args(["ingest", "", "--rebuild"])
    assert stopped.value.code == cli.EXIT_USAGE
    assert "an empty path names no folder or file" in capsys.readouterr().err
    files, failures, _ = discover(["", str(tmp_path)])
    assert [f.source for f in failures] == [""] and "empty path" in failures[0].reason
    assert files == []


def _foreign(index: Path) -> chromadb.api.ClientAPI:
    """Collections under this assistant's default names, made by another project."""
    client = chromadb.PersistentClient(
        path=str(index / "chroma"),
        settings=chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False),
    )
    chunks = client.get_or_create_collection("evidence-chunks", metadata={"owner": "other"})
    chunks.add(ids=["a"], embeddings=[[0.1] * 8], documents=["theirs"], metadatas=[{"k": 1}])
    ledger = client.get_or_create_collection("evidence-ledger")
    ledger.add(ids=["r"], embeddings=[[0.0]], metadatas=[{"case": "theirs"}])
    return client


def test_another_projects_collections_are_refused_by_name_and_never_dropped(
    run, counting, tmp_path
):
    settings = Settings(index_dir=tmp_path / "index", progress=False, chroma_url=None)
    client = _foreign(settings.index_dir)
    for args in (["status"], ["remove", "abcdef"], ["ask", "How many outcomes?"]):
        code, _, err = run(args)
        assert code == cli.EXIT_FAILED
        assert err.count("\n") == 1 and "was not made by this assistant" in err, err
        assert "ASSISTANT_COLLECTION" in err and "Traceback" not in err
    with pytest.raises(StoreError, match="evidence-chunks at .* was not made by this assistant"):
        Ingester(settings, embedder=counting).ingest([_docs(tmp_path / "docs")], rebuild=True)
    assert {c.name for c in client.list_collections()} == {"evidence-chunks", "evidence-ledger"}
    assert client.get_collection("evidence-chunks").count() == 1  # nothing added, nothing dropped
    client.create_collection("empty-chunks")  # empty, and measuring l2: not an index of ours
    with pytest.raises(StoreError, match="empty-chunks at .* was not made by this assistant"):
        open_store(settings.model_copy(update={"collection": "empty"}), create=True)

    ours = Settings(index_dir=settings.index_dir, progress=False, collection="team.evidence_2")
    report = Ingester(ours, embedder=counting).ingest([tmp_path / "docs"])
    assert report.ok and len(open_store(ours).documents()) == 3


class _NotChroma(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        self.send_error(404)

    def log_message(self, *args):
        pass


def test_a_url_where_another_server_answers_gets_one_line(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotChroma)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(StoreError) as failed:
            open_store(Settings(index_dir=tmp_path, chroma_url=url, progress=False))
    finally:
        server.shutdown()
        server.server_close()
    message = str(failed.value)
    assert "\n" not in message and "<" not in message and len(message) < 400
    assert message.startswith(f"the server at {url} is not a Chroma server")
    assert "ASSISTANT_CHROMA_URL" in message


def test_a_rebuild_of_a_mistyped_folder_drops_nothing(run, counting, tmp_path, monkeypatch):
    settings = Settings(index_dir=tmp_path / "index", progress=False, chroma_url=None)
    folder = _docs(tmp_path / "docs")
    Ingester(settings, embedder=counting).ingest([folder])
    with pytest.raises(RebuildRefused, match="dosc does not exist"):
        Ingester(settings, embedder=counting).ingest([folder, tmp_path / "dosc"], rebuild=True)
    monkeypatch.setattr(cli.signal, "signal", lambda *_: None)  # not pytest's own handlers
    code, out, err = run(["ingest", str(tmp_path / "dosc"), "--rebuild", "--quiet"])
    assert code == cli.EXIT_USAGE and not out
    assert err.count("\n") == 1 and "nothing was dropped" in err
    assert len(open_store(settings).documents()) == 3


def test_the_same_file_at_two_paths_is_removed_by_its_path(counting, tmp_path):
    settings = Settings(index_dir=tmp_path / "index", progress=False, chroma_url=None)
    one = _docs(tmp_path / "docs" / "a", n=1) / "doc0.pdf"
    (tmp_path / "docs" / "b").mkdir()
    shutil.copy(one, tmp_path / "docs" / "b" / "doc0.pdf")
    Ingester(settings, embedder=counting).ingest([tmp_path / "docs"])
    records = open_store(settings).documents()
    assert len({r.doc_id for r in records}) == 1 and len(records) == 2
    with pytest.raises(LookupError, match="name one by its file's path") as ambiguous:
        Ingester(settings, embedder=counting).remove(records[0].doc_id)
    assert "by id" not in str(ambiguous.value)
    removed = Ingester(settings, embedder=counting).remove(records[0].source)
    assert removed.source == records[0].source
    assert [r.source for r in open_store(settings).documents()] == [records[1].source]


def test_a_remove_waiting_on_an_ingest_removes_the_version_it_committed(
    counting, tmp_path, monkeypatch
):
    settings = Settings(index_dir=tmp_path / "index", progress=False, chroma_url=None)
    folder = _docs(tmp_path / "docs")
    Ingester(settings, embedder=counting).ingest([folder])
    target = folder / "doc0.pdf"
    make_pdf(target, [[("h", "Changed"), ("p", "A new version, with other words in it.")]] * 2)
    real_lock = ingest_module._ingest_lock

    @contextlib.contextmanager
    def held_by_an_ingest(index_dir):
        """The lock as `remove` finds it: another ingest holds it and commits a new version
        of the file before `remove` gets its turn."""
        monkeypatch.setattr(ingest_module, "_ingest_lock", real_lock)
        report = Ingester(settings, embedder=counting).ingest([folder])
        assert report.updated == [str(target)]
        with real_lock(index_dir):
            yield

    monkeypatch.setattr(ingest_module, "_ingest_lock", held_by_an_ingest)
    removed = Ingester(settings, embedder=counting).remove(str(target))
    store = open_store(settings)
    assert removed.doc_id not in {r.doc_id for r in store.documents()}
    assert len(store.documents()) == 2
    assert store.count() == sum(r.chunks for r in store.documents())  # no orphaned chunks
    kept = {c.chunk_id for c in store.committed_chunks()}
    rows = store._sentences.get(include=["metadatas"])["metadatas"]
    assert all(m["chunk"] in kept for m in rows)  # no orphaned sentences
    copies = {p.stem for p in settings.documents_dir.iterdir()}
    assert copies == {r.doc_id for r in store.documents()}


def _chroma_server(folder: Path) -> tuple[subprocess.Popen, str]:
    """A real Chroma server on a free loopback port."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("chroma")), "run", "--path", str(folder)]
        + ["--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
            return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("chroma run did not start")
            time.sleep(0.2)


@pytest.mark.server
def test_a_server_that_goes_away_mid_session_is_named_in_one_line(tmp_path):
    server, url = _chroma_server(tmp_path / "db")
    try:
        settings = Settings(index_dir=tmp_path / "index", chroma_url=url, progress=False)
        store = open_store(settings, create=True)
        assert store.documents() == []
    finally:
        server.terminate()
        server.wait(timeout=10)
    with pytest.raises(StoreError) as failed:
        store.documents()
    message = str(failed.value)
    assert message.startswith(f"the Chroma server at {url} stopped answering (")
    assert message.endswith("start it again and run the same command") and "\n" not in message


def test_a_folder_holding_the_index_does_not_index_its_copies_again(counting, tmp_path):
    project = tmp_path / "project"
    _docs(project / "docs", n=2)
    settings = Settings(index_dir=project / "index", progress=False, chroma_url=None)
    upload = settings.upload_dir / "upload.md"
    upload.parent.mkdir(parents=True)
    upload.write_text("# Upload\n\nAn uploaded note says the review is due in 2027.\n")
    first = Ingester(settings, embedder=counting).ingest([project])
    assert len(first.added) == 3
    again = Ingester(settings, embedder=counting).ingest([project])
    assert not again.added and len(again.unchanged) == 3
    sources = [Path(r.source) for r in open_store(settings).documents()]
    assert not any(settings.documents_dir.resolve() in s.parents for s in sources)
    assert upload.resolve() in sources  # an upload is a document of its own

    copy = next(settings.documents_dir.glob("*.pdf"))
    named = Ingester(settings, embedder=counting).ingest([copy])
    assert not named.added and [s.source for s in named.skipped] == [str(copy)]
    assert "the index's own copy" in named.skipped[0].reason
    # The copies' folder named as a folder: each copy is said to be skipped, not passed over.
    folder = Ingester(settings, embedder=counting).ingest([settings.documents_dir])
    copies = sorted(str(p) for p in settings.documents_dir.glob("*.*"))
    assert not folder.added and sorted(s.source for s in folder.skipped) == copies

    beside = Settings(index_dir=project, progress=False, chroma_url=None)  # the index is here
    assert len(Ingester(beside, embedder=counting).ingest([project / "docs"]).added) == 2


class _Draft:
    sources = ["one"]

    def to_dict(self):
        return {"title": "A draft"}


def test_a_draft_that_cannot_be_written_gets_one_line_and_leaves_no_partial_file(
    tmp_path, capsys, monkeypatch
):
    folder = tmp_path / "note.md"
    folder.mkdir()
    parser = cli.build_parser()
    with pytest.raises(cli.UsageError, match="is a folder"):
        cli._draft_out(parser.parse_args(["brief", "a topic", "--out", str(folder)]))

    def disk_full(self, data):
        Path.write_text(self, "half")  # a part written, as on a full disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    args = parser.parse_args(["brief", "a topic", "--out", str(tmp_path / "out.md")])
    code = cli._write_draft(args, _Draft(), lambda d: "# A draft\n", lambda d, a: b"")
    assert code == cli.EXIT_FAILED
    err = capsys.readouterr().err
    out = tmp_path / "out.md"
    assert err == f"error: --out {out}: cannot be written: No space left on device\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.md"]  # no partial file left


def test_an_index_folder_that_cannot_be_made_is_named_in_one_line(run, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("not a folder")
    folder = _docs(tmp_path / "docs", n=1)
    monkeypatch.setattr(cli.signal, "signal", lambda *_: None)  # not pytest's own handlers
    for index, why in (
        (tmp_path / "afile", "is a file, not a folder"),
        (tmp_path / "afile" / "sub", "cannot be made or written (Not a directory)"),
    ):
        code, out, err = run(["ingest", str(folder), "--quiet"], ASSISTANT_INDEX_DIR=str(index))
        assert code == cli.EXIT_FAILED and not out
        assert err == (
            f"error: the index folder {index} {why}: set ASSISTANT_INDEX_DIR to a folder that "
            "can be written\n"
        )


def test_a_folder_set_from_home_is_the_home_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ASSISTANT_INDEX_DIR=~/team/index\n")  # no shell expands it
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE_DIR", "~/models")
    monkeypatch.delenv("ASSISTANT_INDEX_DIR", raising=False)
    settings = Settings()
    assert settings.index_dir == tmp_path / "team" / "index"
    assert settings.model_cache_dir == tmp_path / "models"


def test_each_committed_change_is_told_as_it_is_made(counting, tmp_path):
    settings = Settings(index_dir=tmp_path / "index", progress=False, chroma_url=None)
    folder = _docs(tmp_path / "docs", n=2)
    told: list[tuple[str, str]] = []
    Ingester(settings, embedder=counting, on_commit=lambda *c: told.append(c)).ingest([folder])
    assert [a for a, _ in told] == ["added", "added"]
    (folder / "doc0.pdf.meta.yaml").write_text("jurisdiction: Wales\n")  # its fields alone
    (folder / "doc1.pdf").unlink()
    told.clear()
    report = Ingester(settings, embedder=counting, on_commit=lambda *c: told.append(c)).ingest(
        [folder], prune=True
    )
    assert report.updated == [str(folder / "doc0.pdf")] and counting.embedded == 2
    assert told == [("updated", str(folder / "doc0.pdf")), ("removed", str(folder / "doc1.pdf"))]


def test_ctrl_c_while_answering_is_one_line(run, monkeypatch):
    def asked(args):
        raise KeyboardInterrupt  # as Ctrl-C lands while the question is answered

    monkeypatch.setattr(cli, "cmd_ask", asked)
    try:
        code, out, err = run(["ask", "What are the five ways of working?"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C came out as a traceback")
    assert code == cli.EXIT_INTERRUPTED and not out and err == "error: interrupted\n"
