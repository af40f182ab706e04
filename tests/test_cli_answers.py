"""`assistant ask` and `assistant chat` as a user runs them: JSON, filters, history, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.net import free_port

ASSISTANT = str(Path(sys.executable).with_name("assistant"))
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _env(index: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(index), **extra)
    return env


def _run(args: list[str], index: Path, stdin: str | None = None, **extra: str):
    return subprocess.run(
        [ASSISTANT, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=_env(index, **extra),
        timeout=300,
    )


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("cli-answers") / "index"
    assert _run(["ingest", str(CORPUS), "--quiet"], index).returncode == 0
    return index


def test_ask_json_is_the_contract(index):
    result = _run(
        ["ask", "What is the Plan for Change milestone for NHS waiting times?", "--json"], index
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= {
        "question",
        "standalone_question",
        "answer",
        "refused",
        "citations",
        "passages",
        "composer",
        "timings_ms",
    }
    assert not answer["refused"] and answer["composer"] == "extractive"
    assert "92% of patients seen within 18 weeks" in answer["answer"]
    citation = answer["citations"][0]
    assert set(citation) == {
        "n",
        "doc_id",
        "title",
        "source",
        "page_start",
        "page_end",
        "section",
        "quote",
        "score",
        "supported",
        "publisher",
        "published",
        "label_start",
        "label_end",
        "paragraph",
        "ocr",
    }
    assert citation["ocr"] == 0.0, "a text layer was read, not a scan"
    passages = {p["n"]: p for p in answer["passages"]}
    assert all(c["quote"] in passages[c["n"]]["text"] for c in answer["citations"])
    assert set(answer["timings_ms"]) == {"retrieve", "compose", "verify", "total"}


def test_ask_in_text_lists_its_sources(index):
    result = _run(["ask", "What are the five ways of working in the Wales Act?"], index)
    assert result.returncode == 0
    assert "Sources:" in result.stdout and "(quote checked)" in result.stdout
    assert "does not mean that what the document says is true" in result.stdout
    assert "long-term, prevention, integration, collaboration and involvement" in result.stdout


def _ask_follow_up(index, tmp_path) -> dict:
    """ "And how long is the term?" after a turn on the Commissioner, within Wales."""
    history = tmp_path / "history.json"
    history.write_text(
        json.dumps(
            [
                {
                    "role": "user",
                    "content": "What does the Future Generations Commissioner for Wales do?",
                },
                {"role": "assistant", "content": "The Commissioner advises and reviews [1]."},
            ]
        )
    )
    result = _run(
        [
            "ask",
            "And how long is the term?",
            "--history",
            str(history),
            "--json",
            "--filter",
            "jurisdiction=Wales",
        ],
        index,
    )
    return json.loads(result.stdout)


def test_ask_with_a_filter_and_a_history(index, tmp_path):
    answer = _ask_follow_up(index, tmp_path)
    assert "Future Generations Commissioner" in answer["standalone_question"]
    assert answer["citations"] and not answer["refused"]
    assert all(p["meta"]["jurisdiction"] == "Wales" for p in answer["passages"])


def test_a_follow_up_on_the_term_is_answered_with_its_length(index, tmp_path):
    # The selector ranks the Commissioner's start date first; the seven-year term follows it
    # as a supporting sentence.
    assert "seven years" in _ask_follow_up(index, tmp_path)["answer"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", ""], "error: the question is empty"),
        (["ask", "x" * 20000], "characters long"),
        (
            ["ask", "Beth yw'r nodau llesiant cenedlaethol yng Nghymru heddiw?"],
            "not look like English",
        ),
        (["ask", "What?", "--filter", "colour=blue"], "unknown filter field 'colour'"),
        (["ask", "What?", "--history", "/nowhere/history.json"], "cannot be read"),
        (
            [
                "ask",
                "\u5a01\u5c14\u58eb\u6cd5\u6848\u4e2d\u7684\u4e94\u79cd\u5de5\u4f5c\u65b9\u5f0f\u662f\u4ec0\u4e48\uff1f",
            ],
            "not written in English",
        ),
        (["ask", "What?", "--history", "/dev/zero"], "is larger than 1,000,000 bytes"),
    ],
    ids=[
        "empty",
        "20,000 characters",
        "another language",
        "bad filter",
        "missing history",
        "another script",
        "endless history",
    ],
)
def test_bad_questions_get_one_line_and_exit_2(index, args, message):
    result = _run(args, index)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_history_nested_beyond_reason_gets_one_line(index, tmp_path):
    history = tmp_path / "deep.json"
    history.write_text("[" * 100_000)
    result = _run(["ask", "What?", "--history", str(history)], index)
    assert result.returncode == 2 and "nested too deeply" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_escape_sequences_in_a_document_never_reach_the_terminal(tmp_path):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "note.md").write_text(
        "# Harbour note\n\nThe Harbour Board meets\x1b]52;c;SGVsbG8=\x07 every second "
        "Tuesday in Oban\x1b[2J\x9b31m.\n"
    )
    index = tmp_path / "index"
    assert _run(["ingest", str(corpus), "--quiet"], index).returncode == 0
    result = _run(["ask", "When does the Harbour Board meet?"], index)
    assert result.returncode == 0 and "every second Tuesday" in result.stdout
    assert not any(c in result.stdout for c in "\x1b\x07\x9b")
    status = _run(["status"], index)
    assert "\x1b" not in status.stdout


def test_a_closed_pipe_ends_quietly(index):
    env = _env(index)
    result = subprocess.run(
        f"'{ASSISTANT}' status | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.stdout.count("\n") == 1 and "documents" in result.stdout
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_a_bad_history_file_is_named(index, tmp_path):
    history = tmp_path / "h.json"
    history.write_text('[{"role": "wizard", "content": "hi"}]')
    result = _run(["ask", "What?", "--history", str(history)], index)
    assert result.returncode == 2 and str(history) in result.stderr


def test_no_index_empty_index_and_a_server_that_is_down(tmp_path):
    missing = _run(["ask", "What are the five ways of working?"], tmp_path / "none")
    assert missing.returncode == 1 and "run `assistant ingest corpus/` first" in missing.stderr
    empty = tmp_path / "empty"
    (empty_corpus := tmp_path / "nothing").mkdir()
    assert _run(["ingest", str(empty_corpus), "--quiet"], empty).returncode == 0
    result = _run(["ask", "What are the five ways of working?"], empty)
    assert result.returncode == 1 and "holds no documents" in result.stderr
    for draft in ("brief", "compare"):
        out = tmp_path / f"{draft}.md"
        drafted = _run([draft, "What is the duty?", "--out", str(out)], empty)
        assert drafted.returncode == 1 and "holds no documents" in drafted.stderr, draft
        assert not out.exists()
    port = free_port()
    down = _run(["ask", "What?"], tmp_path / "x", ASSISTANT_CHROMA_URL=f"http://127.0.0.1:{port}")
    assert down.returncode == 1 and "is not reachable" in down.stderr
    assert "Traceback" not in down.stderr + result.stderr + missing.stderr


def test_a_model_whose_provider_is_not_installed_is_named(index):
    result = _run(
        ["ask", "What are the five ways of working?"], index, ASSISTANT_LLM="ollama:nothing-here"
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ASSISTANT_LLM='ollama:nothing-here' cannot be used" in result.stderr


def test_a_careful_model_or_weighing_that_cannot_be_had_is_named(index, tmp_path):
    result = _run(["ask", "What are the five ways of working?"], index, ASSISTANT_CAREFUL="qwen")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ASSISTANT_CAREFUL must look like provider:model, not 'qwen'" in result.stderr
    (tmp_path / "broken.json").write_text("{")
    result = _run(
        ["ask", "What are the five ways of working?"],
        index,
        ASSISTANT_CAREFUL="gguf:smollm2",
        ASSISTANT_CAREFUL_CALIBRATION=str(tmp_path / "broken.json"),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ASSISTANT_CAREFUL_CALIBRATION:" in result.stderr and "broken.json" in result.stderr


def test_chat_keeps_the_conversation(index):
    session = (
        "What does the Future Generations Commissioner for Wales do?\n"
        "And how long is the term?\n/new\n/quit\n"
    )
    result = _run(["chat"], index, stdin=session)
    assert result.returncode == 0, result.stderr
    assert "seven years" in result.stdout and "(a new conversation)" in result.stdout
