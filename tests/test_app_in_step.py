"""The app keeps up with the index when the command line changes it, and says one clear line
when its Chroma server is down."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.appserver import ROOT, running_app
from tests.net import free_port
from tests.pdfs import make_pdf

pytestmark = pytest.mark.slow
QUESTION = "How many lifeboats does the Coastal Rescue Trust keep at Stornoway?"


def _ask(url: str, question: str) -> dict:
    from gradio_client import Client

    return Client(url, verbose=False).predict(question, "", api_name="/ask")


def test_the_app_answers_from_documents_ingested_and_removed_behind_its_back(tmp_path):
    ferry = make_pdf(
        tmp_path / "ferry.pdf",
        [[("h", "Ferries"), ("p", "The Ferry Board runs eleven routes from Oban each summer.")]],
        title="Ferry note",
    )
    rescue = make_pdf(
        tmp_path / "rescue.pdf",
        [
            [
                ("h", "Lifeboats"),
                ("p", "The Coastal Rescue Trust keeps four lifeboats at Stornoway all year."),
            ]
        ],
        title="Rescue note",
    )
    with running_app(tmp_path / "app", [ferry]) as app:
        before = _ask(app.url, QUESTION)
        assert before["refused"] or "four" not in before["answer"]
        added = app.cli("ingest", str(rescue), "--quiet")
        assert added.returncode == 0, added.stderr
        after = _ask(app.url, QUESTION)
        assert not after["refused"] and "four lifeboats" in after["answer"]
        assert {c["title"] for c in after["citations"]} == {"Rescue note"}
        removed = app.cli("remove", "Rescue note")
        assert removed.returncode == 0, removed.stderr
        for _ in range(3):  # every time, not only the first
            gone = _ask(app.url, QUESTION)
            assert "error" not in gone
            assert all(c["title"] != "Rescue note" for c in gone["citations"])
        assert "Traceback" not in app.log.read_text()


def test_a_chroma_server_that_is_down_stops_the_app_with_one_line(tmp_path):
    env = {
        "ASSISTANT_CHROMA_URL": f"http://127.0.0.1:{free_port()}",
        "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
        "ASSISTANT_PORT": str(free_port()),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "Traceback" not in run.stderr and "Building the index" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Chroma server" in lines[0], run.stderr
