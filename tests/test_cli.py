"""The `assistant` command as a user runs it: exit codes, JSON, clear errors, kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from assistant.config import Settings
from assistant.ingest import open_store
from tests.pdfs import make_pdf

ASSISTANT = str(Path(sys.executable).with_name("assistant"))


def _run(args: list[str], index: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "ASSISTANT_CHROMA_URL"}
    environment.update(ASSISTANT_INDEX_DIR=str(index), **env)
    return subprocess.run(
        [ASSISTANT, *args], capture_output=True, text=True, env=environment, timeout=300
    )


def _folder(tmp_path: Path, n: int = 3) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(n):
        make_pdf(
            folder / f"doc{i}.pdf",
            [[("h", f"Part {i}"), ("p", f"Document number {i} says {i * 7}.")]],
            title=f"Document {i}",
        )
    return folder


def test_ingest_json_summary_and_failure_exit_code(tmp_path):
    folder = _folder(tmp_path)
    (folder / "broken.pdf").write_bytes(b"\x00\x01 not a pdf at all" * 50)
    result = _run(["ingest", str(folder), "--json"], tmp_path / "index")
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["added"] == 3 and summary["failed"] == 1 and summary["chunks"] >= 3
    assert summary["failures"] == [
        {
            "file": str(folder / "broken.pdf"),
            "reason": "is not a readable PDF: it has no PDF header (corrupt or truncated)",
        }
    ]
    assert "Traceback" not in result.stderr

    (folder / "broken.pdf").unlink()
    plain = _run(["ingest", str(folder)], tmp_path / "index")
    assert plain.returncode == 0
    assert plain.stdout.startswith("0 added, 0 updated, 3 unchanged, 0 removed, 0 failed")


def test_progress_bars_follow_the_setting(tmp_path):
    folder = _folder(tmp_path, n=1)
    shown = _run(["ingest", str(folder)], tmp_path / "shown")
    hidden = _run(["ingest", str(folder)], tmp_path / "hidden", ASSISTANT_PROGRESS="false")
    assert shown.returncode == hidden.returncode == 0
    assert "files read" in shown.stderr  # on by default, into a log as on a terminal
    assert "files read" not in hidden.stderr and "%|" not in hidden.stderr


def test_status_and_remove(tmp_path):
    folder = _folder(tmp_path, 2)
    index = tmp_path / "index"
    assert _run(["ingest", str(folder), "--quiet"], index).returncode == 0
    status = json.loads(_run(["status", "--json"], index).stdout)
    titles = [d["title"] for d in status["documents"]]
    assert titles == ["Document 0", "Document 1"]
    doc = status["documents"][0]
    assert {"doc_id", "source", "pages", "chunks", "ingested_at"} <= set(doc)
    assert len(doc["content_hash"]) == 64 and doc["content_hash"].startswith(doc["doc_id"])
    text = _run(["status"], index).stdout
    assert "2 documents" in text and doc["doc_id"] in text

    removed = _run(["remove", doc["doc_id"][:8]], index)
    assert removed.returncode == 0 and "removed Document 0" in removed.stdout
    assert [
        d["title"] for d in json.loads(_run(["status", "--json"], index).stdout)["documents"]
    ] == ["Document 1"]
    missing = _run(["remove", "nothing-like-this"], index)
    assert missing.returncode == 1 and "no indexed document matches" in missing.stderr


def test_no_index_and_bad_settings_get_one_clear_line(tmp_path):
    result = _run(["status"], tmp_path / "none")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: there is no index at {tmp_path / 'none'}: run `assistant ingest corpus/` first"
    )
    bad = _run(["status"], tmp_path / "none", ASSISTANT_CHROMA_URL="ftp://nowhere")
    assert bad.returncode == 2 and "ASSISTANT_CHROMA_URL" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_killed_ingest_finishes_on_the_next_run(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    paragraph = "The framework sets national outcomes and the indicators that track them. " * 30
    for i in range(30):
        make_pdf(folder / f"d{i:02}.pdf", [[("p", f"File {i}. " + paragraph)]] * 6)
    index = tmp_path / "index"
    environment = {k: v for k, v in os.environ.items() if k != "ASSISTANT_CHROMA_URL"}
    environment["ASSISTANT_INDEX_DIR"] = str(index)
    process = subprocess.Popen(
        [ASSISTANT, "ingest", str(folder), "--quiet", "--verbose"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stderr.readline()
    process.send_signal(signal.SIGKILL)  # no chance to clean up
    process.wait(timeout=30)
    assert first.startswith("added: ")

    store = open_store(Settings(index_dir=index, progress=False))
    committed = store.documents()
    assert 0 < len(committed) < 30, "the kill should land mid-way"
    assert len(list(store.committed_chunks())) == sum(r.chunks for r in committed)
    del store

    result = _run(["ingest", str(folder), "--json"], index)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["unchanged"] == len(committed) and summary["added"] == 30 - len(committed)
    status = json.loads(_run(["status", "--json"], index).stdout)
    assert len(status["documents"]) == 30
    assert status["chunks"] == sum(d["chunks"] for d in status["documents"])
