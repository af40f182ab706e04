"""What the app leaves on the server's disk: uploads and briefings hold sensitive material, so
neither an export nor Gradio's copy of an upload outlives the app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.appserver import ROOT, running_app
from tests.pdfs import make_pdf

pytestmark = pytest.mark.slow


def _files(folder: Path) -> list[Path]:
    """The files under a folder that hold anything (Gradio's upload parser leaves empty ones)."""
    return [p for p in folder.rglob("*") if p.is_file() and p.stat().st_size]


def test_uploads_and_exports_are_gone_once_the_app_stops(tmp_path):
    from gradio_client import Client, handle_file

    ferry = make_pdf(
        tmp_path / "ferry.pdf",
        [[("h", "Ferries"), ("p", "The Ferry Board runs eleven routes from Oban each summer.")]],
        title="Ferry note",
    )
    memo = make_pdf(
        tmp_path / "harbour memo.pdf",
        [[("h", "Harbour"), ("p", "The Harbour Trust dredged the Oban channel in May.")]],
        title="Harbour memo",
    )
    scratch, cache = tmp_path / "scratch", tmp_path / "gradio"
    scratch.mkdir()
    where = {"TMPDIR": str(scratch), "GRADIO_TEMP_DIR": str(cache)}
    with running_app(tmp_path / "app", [ferry], environment=where) as app:
        client = Client(app.url, verbose=False, download_files=str(tmp_path / "downloads"))
        status = client.predict([handle_file(memo)], [], [], api_name="/add")[0]
        assert status.startswith("Added 1 document")
        client.predict("How many routes does the Ferry Board run?", [], [], [], api_name="/respond")
        said, exported = client.predict("Last answer", api_name="/export_word")
        assert "Exported" in said
        assert [p.name for p in _files(scratch)] == ["briefing.docx"]  # the app's export
        assert any(p.name == "briefing.docx" for p in _files(cache))  # and Gradio's copy
        assert any(p.name == "harbour memo.pdf" for p in _files(cache))  # the upload
        assert Path(exported["value"]).read_bytes()[:2] == b"PK"  # a Word file
    # The client's connection held open, the app still stops soon after it is asked to.
    assert app.stopped_in is not None and app.stopped_in < 8
    assert "Traceback" not in app.log.read_text() and "ERROR" not in app.log.read_text()
    assert _files(cache) == []
    assert _files(scratch) == []
    # The index keeps its own copy of the upload: that one is meant to stay.
    assert any(p.name.endswith(".pdf") for p in (app.index / "uploads").rglob("*"))


def test_an_export_older_than_the_limit_is_removed_when_the_next_is_made(tmp_path):
    code = (
        "import os, time\n"
        "from app import Outbox\n"
        "box = Outbox(keep_s=60)\n"
        "old = box.folder(); (old / 'a.md').write_text('x')\n"
        "os.utime(old, (time.time() - 120, time.time() - 120))\n"
        "new = box.folder(); (new / 'b.md').write_text('y')\n"
        "print(old.exists(), new.exists(), new.parent)\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    old_exists, new_exists, root = done.stdout.split()
    assert (old_exists, new_exists) == ("False", "True")
    assert Path(root).parent == tmp_path
    assert not Path(root).exists()  # removed when the process ended
