"""HTTP protections for the browser app, as plain ASGI middleware: security headers on every
response, a slower answer to each failed login from one client, and how a document is served.

Nothing here imports the web framework: it wraps whatever ASGI app the front end builds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
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


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0


@dataclass
class LoginThrottle:
    """Counts failed logins per client. After `free` failures in `window_s`, each further
    attempt must wait twice as long as the one before (from one second, at most `max_wait_s`)
    and is answered 429 with Retry-After until then. A good login clears the count."""

    app: ASGIApp
    paths: tuple[str, ...] = ("/login", "/login/")
    free: int = 5
    window_s: float = 900.0
    max_wait_s: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, _Record] = field(default_factory=dict)

    def wait_for(self, client: str) -> float:
        """Seconds this client must still wait before its next login attempt."""
        record = self._clients.get(client)
        if record is None:
            return 0.0
        now = self.clock()
        if now - record.last > self.window_s:
            del self._clients[client]
            return 0.0
        if record.failures < self.free:
            return 0.0
        wait = min(self.max_wait_s, 2.0 ** (record.failures - self.free))
        return max(0.0, record.last + wait - now)

    def _outcome(self, client: str, status: int) -> None:
        if status < 400:
            self._clients.pop(client, None)
            return
        record = self._clients.setdefault(client, _Record())
        record.failures += 1
        record.last = self.clock()
        if len(self._clients) > 10_000:  # forget the oldest, so a flood cannot fill memory
            oldest = sorted(self._clients, key=lambda c: self._clients[c].last)[:5_000]
            for key in oldest:
                del self._clients[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or scope.get("path") not in self.paths
        ):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.wait_for(client)
        if wait > 0:
            body = b'{"detail": "Too many failed logins: wait before trying again."}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"retry-after", str(int(wait) + 1).encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._outcome(client, int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)


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
