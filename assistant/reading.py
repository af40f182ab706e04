"""Files read in a child process bounded in time and memory.

A hostile file (a PDF bomb: a page tree of millions of pages, objects nested beyond reason,
streams that inflate to gigabytes) then costs at most its bounds and is reported with its
reason, and the process that holds the index never runs out of memory. Reading in another
process also lets the next file be read while the last one is embedded.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .loaders import Bounds, LoadError, load_file
from .models import LoadedDocument

_GRACE_S = 5.0  # past its deadline a file's reader is stopped, whatever it is doing
_AHEAD = 2  # files handed to the reader before their turn: one read while one is embedded


@dataclass(frozen=True)
class Limits:
    """What one file may cost: bytes on disk, pages, seconds and memory while it is read."""

    max_bytes: int
    max_pages: int
    seconds: float
    memory_mb: int
    ocr: bool = True
    ocr_page_seconds: float = 60.0
    """Each page read by OCR gives its file this much more time."""
    layout: bool = True
    footnotes: bool = False


def serve(fd: int) -> None:
    """The reader process: its limits, then paths in, ("start", i, t) and ("done", i, result)
    out, over the connection on file descriptor fd."""
    from multiprocessing.connection import Connection

    # Ctrl-C in a terminal reaches the whole process group: the ingest that started this
    # reader stops it, and says what it kept; the reader itself has nothing to say.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(fd)
    limits: Limits = conn.recv()
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    while True:
        job = conn.recv()
        if job is None:
            return
        i, path = job
        started = time.monotonic()
        conn.send(("start", i, started))
        bounds = Bounds(
            limits.max_pages,
            started + limits.seconds,
            limits.seconds,
            limits.ocr,
            limits.ocr_page_seconds,
            limits.layout,
            lambda k, of, extra, i=i: conn.send(("ocr", i, k, of, extra)),
            limits.footnotes,
        )
        try:
            result: LoadedDocument | tuple[str, str] = load_file(path, limits.max_bytes, bounds)
        except LoadError as err:
            result = (err.source, err.reason)
        except MemoryError:
            result = (str(path), f"needs more than {limits.memory_mb:,} MB of memory to read")
        except RecursionError:
            result = (str(path), "is nested deeper than the reader can follow")
        except Exception as err:  # a parser's own bug: this file fails, the reader goes on
            result = (str(path), f"could not be read ({type(err).__name__}: {err})")
        conn.send(("done", i, result))


class BoundedReader:
    """Reads files in order in one child process, at most `limits` each; restarts the child
    when a file overruns or kills it."""

    def __init__(self, limits: Limits, on_ocr: Callable[[int, int], None] | None = None):
        self.limits = limits
        self.on_ocr = on_ocr
        """Told (k, of) as the reader starts to OCR the k-th of a file's `of` pages that need it."""
        self._process: subprocess.Popen | None = None
        self._conn = None

    def _start(self) -> None:
        # A fresh interpreter that imports only the loaders: not multiprocessing's spawn, which
        # would run the caller's main script again in the child.
        from multiprocessing import Pipe

        parent, child = Pipe()
        package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
        self._process = subprocess.Popen(
            [sys.executable, "-c", f"from assistant.reading import serve; serve({child.fileno()})"],
            pass_fds=[child.fileno()],
            env=env,
            stdin=subprocess.DEVNULL,
        )
        child.close()
        self._conn = parent
        self._conn.send(self.limits)

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _stop(self) -> None:
        if self._process is None:
            return
        if self._alive():
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        self._conn.close()
        self._process = self._conn = None

    def close(self) -> None:
        if self._alive():
            try:
                self._conn.send(None)
                self._process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._stop()

    def read(self, paths: Sequence[Path]) -> Iterator[tuple[Path, LoadedDocument | LoadError]]:
        """Yields each path with its document, or the LoadError saying why it was not read."""
        pending = deque(enumerate(paths))
        sent: deque[int] = deque()
        started: dict[int, float] = {}
        try:
            while pending or sent:
                if self._process is None:
                    self._start()
                while pending and len(sent) < _AHEAD:
                    i, path = pending.popleft()
                    self._conn.send((i, str(path)))
                    sent.append(i)
                i = sent[0]
                outcome = self._wait(i, started)
                if outcome is None:  # overran or crashed: the reader is restarted
                    overran = i in started and time.monotonic() >= started[i] + self.limits.seconds
                    reason = (
                        f"took more than {self.limits.seconds:g} s to read and was stopped; "
                        "a file built to exhaust the reader?"
                        if overran
                        else "stopped the reader (out of memory, or a crash in the parser)"
                    )
                    self._stop()
                    sent.popleft()
                    pending.extendleft(reversed([(j, paths[j]) for j in sent]))
                    sent.clear()
                    yield paths[i], LoadError(paths[i], reason)
                    continue
                sent.popleft()
                if isinstance(outcome, tuple):
                    yield paths[i], LoadError(*outcome)
                else:
                    yield paths[i], outcome
        finally:
            self.close()

    def _wait(self, i: int, started: dict[int, float]) -> LoadedDocument | tuple | None:
        """The result for file i; None when its reader overran its time or died."""
        while True:
            begun = started.get(i)
            timeout = None if begun is None else begun + self.limits.seconds + _GRACE_S
            wait = 1.0 if timeout is None else max(0.0, timeout - time.monotonic())
            try:
                ready = self._conn.poll(wait)
            except (OSError, EOFError):
                return None
            if not ready:
                if not self._alive():
                    return None
                if timeout is not None and time.monotonic() >= timeout:
                    return None
                continue
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                return None
            if message[0] == "start":
                started[message[1]] = message[2]
            elif message[0] == "ocr":  # a page to OCR: its time is added to the file's
                _, j, k, of, extra = message
                started[j] = started.get(j, time.monotonic()) + extra
                if self.on_ocr is not None:
                    self.on_ocr(k, of)
            elif message[1] == i:
                return message[2]
