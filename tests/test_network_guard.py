"""Nothing leaves the machine: ingest, ask and the app, run under strace for longer than it
takes a library's telemetry to wake, try no connection and send no datagram to anything but
loopback (a DNS lookup counts: it goes to the resolver)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.appserver import ROOT
from tests.net import free_port
from tests.pdfs import make_pdf

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import sys, threading, time, urllib.request
    sys.path.insert(0, {root!r})
    started = time.monotonic()
    from assistant.chain import Assistant
    from assistant.config import Settings
    from assistant.ingest import Ingester

    settings = Settings(index_dir={index!r}, progress=False, port={port})
    Ingester(settings).ingest([{corpus!r}])
    assistant = Assistant(settings)
    for question in ("How many routes does the Ferry Board run?", "Who chairs the board?"):
        assistant.ask(question)

    import uvicorn
    import app as web

    server = uvicorn.Server(uvicorn.Config(web.build(settings)[0], host="127.0.0.1",
                                           port={port}, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    url = "http://127.0.0.1:{port}"
    urllib.request.urlopen(url, timeout=30).read()
    while time.monotonic() - started < {seconds}:  # long enough for telemetry to wake
        assistant.ask("How many routes does the Ferry Board run?")
        urllib.request.urlopen(url + "/gradio_api/info", timeout=30).read()
        time.sleep(0.5)
    server.should_exit = True
    print("finished")
    """
)
_INET = re.compile(
    r'sa_family=AF_INET6?, .*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")'
)
_LOOPBACK = re.compile(r"^(127\.|::1$|::ffff:127\.)")


def outside_attempts(trace: str) -> list[str]:
    """The connect and send calls of a strace log that address anything but loopback."""
    found = []
    for line in trace.splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg)\(", line):
            continue
        for match in _INET.finditer(line):
            address = match.group(1) or match.group(2)
            if not _LOOPBACK.match(address):
                found.append(line.strip())
    return found


def test_outside_attempts_reads_a_trace():
    trace = (
        '12 connect(9, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}'
        ", 16) = 0\n"
        '12 connect(5, {sa_family=AF_INET, sin_port=htons(7860), sin_addr=inet_addr("127.0.0.1")}'
        ", 16) = 0\n"
        "13 connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2606:4700::1", &sin6_addr), sin6_scope_id=0}, 28) = -1\n'
    )
    assert len(outside_attempts(trace)) == 2


def test_ingest_ask_and_app_make_no_outside_connection(tmp_path):
    strace = shutil.which("strace")
    assert strace, "strace is missing: apt-get install -y strace (make test installs it)"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_pdf(
        corpus / "ferry.pdf",
        [[("h", "Ferries"), ("p", "The Ferry Board runs eleven routes from Oban each summer.")]],
        title="Ferry note",
    )
    script = tmp_path / "run.py"
    script.write_text(
        SCRIPT.format(
            root=str(ROOT),
            index=str(tmp_path / "index"),
            corpus=str(corpus),
            port=free_port(),
            seconds=25,
        )
    )
    log = tmp_path / "trace.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "ORT_"))}
    run = subprocess.run(
        [strace, "-f", "-e", "trace=connect,sendto,sendmsg", "-o", str(log)]
        + [sys.executable, str(script)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0 and "finished" in run.stdout, run.stderr[-3000:]
    trace = log.read_text()
    assert "127.0.0.1" in trace  # the trace saw the app's own loopback traffic
    assert outside_attempts(trace) == []
