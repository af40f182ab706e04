"""Downloads the manifest's official documents into corpus/official/, checked, then ingested."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .loaders import sniff
from .manifest import official_entries, official_file, official_problem

_CHUNK = 64 * 1024
_GRACE = 0.25  # seconds past a download's limit before its connections are cut
_USER_AGENT = "evidence-assistant/0.1 (corpus fetch)"


@dataclass(frozen=True)
class FetchResult:
    """What happened to one official document: fetched (with its size) or failed (and why)."""

    id: str
    path: Path
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'fetched' if self.ok else 'failed'} {self.id}: {self.detail}"


class FetchError(Exception):
    """One download that failed; str() is the reason."""


class _WebOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another http(s) address: never to a file:// or ftp:// one."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urllib.parse.urlsplit(newurl)
        scheme = target.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(f"the server redirected to a {scheme or 'relative'}: address")
        _through_proxy_to_public(target, urllib.parse.urlsplit(req.full_url).hostname)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _through_proxy_to_public(target: urllib.parse.SplitResult, came_from: str | None) -> None:
    """Through a proxy (HTTP_PROXY and the like) every connection reaches the proxy's address,
    so _Peers cannot tell where a redirect leads: the proxy would fetch a service on its own
    network for it. There a redirect to another host is followed only if every address its
    name has is public."""
    host = target.hostname or ""
    proxies = urllib.request.getproxies()
    if target.scheme.lower() not in proxies or urllib.request.proxy_bypass(host):
        return  # a direct connection, which _Peers checks at the socket
    if host == came_from:
        return
    try:
        found = socket.getaddrinfo(host, target.port or None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return  # the proxy will say it cannot reach it
    for *_, sockaddr in found:
        if _local(str(sockaddr[0])):
            raise FetchError(
                f"the server redirected to {host} ({sockaddr[0]}), an address that is not "
                "public; refused"
            )


class _Deadline:
    """The connections one download opens (a redirect opens another), all cut when its time is
    up: a server that sends its headers a byte at a time, each byte within the socket's own
    wait, is then stopped as surely as one that does so with the body."""

    def __init__(self, seconds: float) -> None:
        self.passed = False
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def watch(self, connection: http.client.HTTPConnection) -> http.client.HTTPConnection:
        with self._lock:
            self._connections.append(connection)
        return connection

    def _cut(self) -> None:
        with self._lock:
            self.passed = True
            for connection in self._connections:
                if connection.sock is not None:
                    with contextlib.suppress(OSError):
                        connection.sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _local(address: str) -> bool:
    """Whether an address is not on the public internet: loopback, private, link-local (a
    cloud's metadata service), shared, reserved or unspecified."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True  # not an IP address (a Unix socket?): nothing public
    mapped = getattr(ip, "ipv4_mapped", None)
    return not (mapped or ip).is_global


class _Peers:
    """The addresses one download's connections reach. The first is the manifest's own address,
    whatever it is (a mirror on this network is the manifest's choice); a redirect may lead
    anywhere on the public internet, or back to that same address, but never to another
    address that is not public: a server elsewhere cannot point the download at a service on
    this machine or its network (a database, an admin page, a cloud's metadata), whose answer
    would be stored and indexed."""

    def __init__(self) -> None:
        self.first: str | None = None

    def check(self, host: str, address: str) -> None:
        if self.first is None:
            self.first = address
        elif address != self.first and _local(address):
            raise FetchError(
                f"the server redirected to {host} ({address}), an address that is not public; "
                "refused"
            )


def _guarded(base: type[http.client.HTTPConnection], peers: _Peers) -> type:
    """The connection class, checking each connection's address (the one its socket reached,
    after any name lookup) before anything, a TLS greeting included, is sent on it."""

    class Guarded(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            create = self._create_connection

            def checked(*a, **k) -> socket.socket:
                sock = create(*a, **k)
                try:
                    address = str(sock.getpeername()[0])
                except (OSError, IndexError, TypeError):
                    address = ""
                try:
                    peers.check(self.host, address)
                except FetchError:
                    sock.close()
                    raise
                return sock

            self._create_connection = checked

    return Guarded


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """An opener whose every connection the deadline watches, following web redirects only, and
    never to an address that is not public unless it is the manifest's own (see _Peers)."""
    peers = _Peers()
    plain = _guarded(http.client.HTTPConnection, peers)
    secure = _guarded(http.client.HTTPSConnection, peers)

    class Plain(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(lambda *a, **k: deadline.watch(plain(*a, **k)), req)

    class Secure(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(lambda *a, **k: deadline.watch(secure(*a, **k)), req)

    return urllib.request.build_opener(_WebOnlyRedirects, Plain, Secure)


def _limit_wait(response: Any, seconds: float) -> None:
    """Lets the next read from the response's socket wait `seconds` at most."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _download(url: str, partial: Path, max_bytes: int, timeout: float) -> int:
    if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
        raise FetchError(f"url {url!r} is not an http:// or https:// address")
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    # A moment after the limit, so that a server that says nothing at all is still told
    # apart by the socket's own wait ("no answer within ...").
    with _Deadline(timeout + _GRACE) as cut:
        try:
            size = _fetch(_opener(cut), request, partial, max_bytes, timeout)
        except FetchError as err:  # a connection the deadline cut breaks off, whatever it did
            if cut.passed:
                raise FetchError(f"took longer than {timeout:g} s") from err
            raise
        if cut.passed:  # cut between reads: what came is not the whole file
            raise FetchError(f"took longer than {timeout:g} s")
        return size


def _fetch(opener, request, partial: Path, max_bytes: int, timeout: float) -> int:
    """The response's body into `partial`; FetchError names what went wrong."""
    url = request.full_url
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(
                    f"is {int(declared) / 1048576:.1f} MB, over the "
                    f"{max_bytes / 1048576:.1f} MB limit"
                )
            size = 0
            with partial.open("wb") as out:
                # The limit is the whole download's: each read waits only for the time left,
                # and takes what has come (read1), so a server that sends a byte at a time
                # cannot hold it open past the limit.
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise FetchError(f"took longer than {timeout:g} s")
                    _limit_wait(response, left)
                    try:
                        chunk = response.read1(_CHUNK)
                    except TimeoutError as err:
                        raise FetchError(f"took longer than {timeout:g} s") from err
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"is over the {max_bytes / 1048576:.1f} MB limit")
                    out.write(chunk)
            return size
    except urllib.error.HTTPError as err:
        raise FetchError(f"the server answered HTTP {err.code} {err.reason}") from err
    except TimeoutError as err:
        raise FetchError(f"no answer within {timeout:g} s") from err
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, TimeoutError):
            raise FetchError(f"no answer within {timeout:g} s") from err
        raise FetchError(f"cannot reach {urllib.request.urlparse(url).netloc}: {reason}") from err
    except OSError as err:
        raise FetchError(f"the download broke off: {err}") from err
    except ValueError as err:  # a url urllib cannot read
        raise FetchError(f"url {url!r} cannot be read: {err}") from err


def _check_type(partial: Path, expected: str) -> None:
    with partial.open("rb") as handle:
        kind = sniff(handle.read(2048))
    if expected == "pdf" and kind != "pdf":
        names = {
            "html": "an HTML page",
            "text": "plain text",
            "zip": "a ZIP archive",
            "ole": "an Office file",
            "image": "an image",
            "binary": "binary data",
        }
        raise FetchError(f"the server sent {names.get(kind, kind)}, not a PDF")
    if expected == "html" and kind not in {"html", "text"}:
        raise FetchError(f"the server sent {kind} data, not an HTML page")


def fetch_one(
    entry: dict[str, Any], corpus_dir: Path, max_bytes: int, timeout: float
) -> FetchResult:
    """Downloads one entry; the file already there is replaced only by a checked download. An
    entry whose id, format or url is unsafe fails with the field and the reason, unfetched."""
    problem = official_problem(entry)
    official = (corpus_dir / "official").resolve()
    target = corpus_dir / official_file(entry) if problem is None else official
    if problem is None and target.resolve().parent != official:
        problem = f"id {entry['id']!r} names a file outside {official}"
    if problem is not None:
        return FetchResult(str(entry.get("id")), target, False, f"not fetched: {problem}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        size = _download(str(entry["url"]), partial, max_bytes, timeout)
        if size == 0:
            raise FetchError("the server sent an empty file")
        _check_type(partial, str(entry.get("format", "pdf")))
        partial.replace(target)
    except FetchError as err:
        return FetchResult(str(entry["id"]), target, False, str(err))
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return FetchResult(str(entry["id"]), target, True, f"{size / 1024:.0f} KB to {target}")


def fetch_official(corpus_dir: Path, max_bytes: int, timeout: float) -> list[FetchResult]:
    """Downloads every official document the manifest lists, one after another."""
    entries = official_entries(corpus_dir / "manifest.yaml")
    return [fetch_one(entry, corpus_dir, max_bytes, timeout) for entry in entries]
