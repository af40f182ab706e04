"""The browser app started for real on a free loopback port, over an index built by the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.net import free_port

ROOT = Path(__file__).resolve().parents[1]
ASSISTANT = str(Path(sys.executable).with_name("assistant"))


@dataclass
class RunningApp:
    url: str
    index: Path
    env: dict[str, str]
    log: Path
    stopped_in: float | None = None
    """Seconds from asking the app to stop (SIGTERM) to its exit; None while it runs, or
    when it had to be killed."""

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Runs `assistant ARGS` against the app's own index."""
        return subprocess.run(
            [ASSISTANT, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )


@contextmanager
def running_app(
    folder: Path,
    documents: Sequence[Path],
    environment: Mapping[str, str] | None = None,
    **settings: str,
) -> Iterator[RunningApp]:
    """Ingests the documents with `assistant ingest`, starts app.py (with `environment` added to
    its variables), yields once it answers."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for document in documents:
        (corpus / document.name).write_bytes(document.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(folder / "index"), ASSISTANT_PORT=str(free_port()))
    env.update({f"ASSISTANT_{k.upper()}": v for k, v in settings.items()})
    env.update(environment or {})
    url = f"http://127.0.0.1:{env['ASSISTANT_PORT']}"
    app = RunningApp(url, folder / "index", env, folder / "app.log")
    ingest = app.cli("ingest", str(corpus), "--quiet")
    assert ingest.returncode == 0, ingest.stderr
    with app.log.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")],
            env=env,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except urllib.error.HTTPError:
                break  # it answers (a login page may say 401)
            except OSError as err:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "the app did not start: " + app.log.read_text()[-3000:]
                    ) from err
                time.sleep(0.5)
        yield app
    finally:
        asked = time.monotonic()
        server.terminate()
        try:
            server.wait(timeout=10)
            app.stopped_in = time.monotonic() - asked
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
