"""HTTP protections for the browser app, as plain ASGI middleware: only requests addressed to
the app itself (DNS rebinding), security headers on every response, a slower answer to each
failed login from one client, and how a document is served.

It wraps whatever ASGI app the front end builds; only the login throttle reads a form, with
Starlette's parser (the one the login route reads it with).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The app's own pages: scripts, styles, images and connections from this origin only; no
# plugins, no framing, forms post back here. The UI framework (Gradio 6) needs inline scripts
# and styles, and compiles its HTML component's templates at run time ('unsafe-eval').
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# A served document runs nothing: a sandbox with no scripts, no forms, no same origin.
DOCUMENT_POLICY = "sandbox"

BASE_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """Adds the base headers, and the page policy where a response sets none of its own."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in BASE_HEADERS.items() if k not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
ANY_ADDRESS = ("0.0.0.0", "::", "")
"""Listening on one of these is listening on every interface of the machine."""


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_name(header: str | None) -> str | None:
    """The name or address a Host header gives, in lower case, without its port, an IPv6
    address's brackets or a final dot; None when it is missing or malformed."""
    if not header:
        return None
    header = header.strip().lower()
    if header.startswith("["):
        name, bracket, rest = header[1:].partition("]")
        if not bracket or not _is_address(name) or ":" not in name:
            return None
    else:
        name, colon, port = header.partition(":")
        rest = colon + port
    if rest and not (rest.startswith(":") and rest[1:].isdigit() and len(rest) <= 6):
        return None
    name = name.removesuffix(".")
    if not name or any(not (c.isalnum() and c.isascii()) and c not in "-._:" for c in name):
        return None
    return name


def allowed_hosts(listen: str, extra: Iterable[str] = ()) -> tuple[list[str], bool]:
    """The names a request's Host may give, and whether any IP address may be given: the host
    the app listens on, loopback, the names configured (`*.example.org` for any name under
    it); listening on every interface, also this machine's name and any of its addresses (a
    browser reaching it by address sends the address; a page rebound to it by DNS sends its
    own name, which is never an address)."""
    names = [*LOOPBACK_HOSTS, *(n.strip().lower().removesuffix(".") for n in extra if n.strip())]
    listen = listen.strip().strip("[]").lower()
    any_address = listen in ANY_ADDRESS
    if any_address:
        names.append(socket.gethostname().lower())
    elif listen:
        names.append(listen)
    return list(dict.fromkeys(names)), any_address


class HostCheck:
    """Answers 400 to a request whose Host header names anything but this app: a page on
    another site whose name the attacker re-points at this machine (DNS rebinding) sends its
    own name, and so never reaches the app, logged in or not."""

    def __init__(self, app: ASGIApp, names: Iterable[str], any_address: bool = False):
        self.app = app
        self.names = {n.lower() for n in names if not n.startswith("*.")}
        self.suffixes = tuple(n.lower()[1:] for n in names if n.startswith("*."))
        self.any_address = any_address

    def allows(self, header: str | None) -> bool:
        name = host_name(header)
        if name is None:
            return False
        if name in self.names or (self.suffixes and name.endswith(self.suffixes)):
            return True
        return self.any_address and _is_address(name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [v for k, v in scope.get("headers", []) if k.lower() == b"host"]
        if len(hosts) == 1 and self.allows(hosts[0].decode("latin-1")):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = b"This app answers only to its own address.\n"
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0


_ALL_NAMES = "\x00every name"
"""The key a client's failures at all names are counted under (no login name holds a NUL)."""
LOGIN_BODY_LIMIT = 64 * 1024
"""A login form holds a name and a password: a larger body is refused before it is read."""


async def _login_name(scope: Scope, body: bytes) -> str:
    """The user name a login form names, read by the parser the login route itself uses
    (Starlette's, through FastAPI), so that the name counted is the name checked; "" when the
    form cannot be read (the login route then refuses it too)."""
    from starlette.requests import Request  # only here: the rest is plain ASGI

    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, replay).form()
    except Exception:  # a form the login route cannot read either: no name
        return ""
    try:
        name = form.get("username")
        return name.strip() if isinstance(name, str) else ""
    finally:
        await form.close()


@dataclass
class LoginThrottle:
    """Counts failed logins per client and user name. After `free` failures in `window_s`,
    each further attempt at that name from that client must wait twice as long as the one
    before (from one second, at most `max_wait_s`) and is answered 429 with Retry-After until
    then. An attempt is counted as it is let through, before its password is checked, so that
    attempts sent all at once wait their turn too; a good login clears its own name's count
    (and no other user's)."""

    app: ASGIApp
    paths: tuple[str, ...] = ("/login", "/login/")
    free: int = 5
    client_free: int = 20
    """Failures one client may make over every name it tries before each further attempt, at
    any name, waits too: one guess at each of many names is still many guesses."""
    window_s: float = 900.0
    max_wait_s: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _clients: dict[tuple[str, str], _Record] = field(default_factory=dict)

    def wait_for(self, client: str, username: str = "") -> float:
        """Seconds this client must still wait before its next login attempt as `username`:
        after `free` failures at that name, or `client_free` at all names together."""
        return max(
            self._wait((client, username), self.free),
            self._wait((client, _ALL_NAMES), self.client_free),
        )

    def _wait(self, key: tuple[str, str], free: int) -> float:
        record = self._clients.get(key)
        if record is None:
            return 0.0
        now = self.clock()
        if now - record.last > self.window_s:
            del self._clients[key]
            return 0.0
        if record.failures < free:
            return 0.0
        wait = min(self.max_wait_s, 2.0 ** (record.failures - free))
        return max(0.0, record.last + wait - now)

    def _attempt(self, key: tuple[str, str]) -> None:
        """Counts an attempt as a failure, at its name and at the client's every name, until
        its answer says otherwise."""
        for counted in (key, (key[0], _ALL_NAMES)):
            record = self._clients.setdefault(counted, _Record())
            record.failures += 1
            record.last = self.clock()
        if len(self._clients) > 10_000:  # forget the oldest, so a flood cannot fill memory
            oldest = sorted(self._clients, key=lambda c: self._clients[c].last)[:5_000]
            for old in oldest:
                del self._clients[old]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or scope.get("path") not in self.paths
        ):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before it had sent its form
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > LOGIN_BODY_LIMIT:
                await _answer(send, 413, b'{"detail": "A login form is not that long."}')
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        key = (client, await _login_name(scope, body))
        # No await from here until the attempt is counted: two attempts cannot both pass the
        # check before either is counted.
        wait = self.wait_for(*key)
        if wait > 0:
            said = b'{"detail": "Too many failed logins: wait before trying again."}'
            await _answer(send, 429, said, [(b"retry-after", str(int(wait) + 1).encode())])
            return
        self._attempt(key)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and int(message["status"]) < 400:
                self._clients.pop(key, None)  # the right password: this name starts afresh
                every = self._clients.get((client, _ALL_NAMES))
                if every is not None:  # and this attempt was no failure
                    every.failures = max(0, every.failures - 1)
            await send(message)

        await self.app(scope, replay, watch)


async def _answer(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def document_response_headers(filename: str) -> tuple[str, dict[str, str]]:
    """The media type and headers a document is served with: a PDF shown inline in a sandbox
    that runs no script; anything else (HTML, Word, Markdown) only as a download, so a script
    inside an uploaded file never runs with the app's origin."""
    safe = "".join(c for c in filename if c.isalnum() or c in "._-") or "document"
    headers = {
        "Content-Security-Policy": DOCUMENT_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    if safe.lower().endswith(".pdf"):
        headers["Content-Disposition"] = f'inline; filename="{safe}"'
        return "application/pdf", headers
    headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return "application/octet-stream", headers
