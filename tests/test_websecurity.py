"""The HTTP protections as plain ASGI middleware, driven without a server."""

from __future__ import annotations

import asyncio

from assistant.websecurity import (
    PAGE_POLICY,
    LoginThrottle,
    SecurityHeaders,
    document_response_headers,
)


def _app(status: int):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def _call(app, method="POST", path="/login", client="10.0.0.1"):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "client": (client, 1234)}
    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return start["status"], dict(start["headers"])


def test_failed_logins_wait_twice_as_long_each_time_and_a_good_one_clears_them():
    now = [0.0]
    inner = {"status": 400}

    async def app(scope, receive, send):
        await _app(inner["status"])(scope, receive, send)

    throttle = LoginThrottle(app, clock=lambda: now[0])
    assert [_call(throttle)[0] for _ in range(5)] == [400] * 5
    status, headers = _call(throttle)
    assert status == 429 and headers[b"retry-after"] == b"2"
    assert _call(throttle, client="10.0.0.2")[0] == 400  # another client is not held up
    now[0] += 1.5
    assert _call(throttle)[0] == 400  # its one-second wait is over: it may try, and fails
    assert _call(throttle)[0] == 429  # now two seconds
    now[0] += 2.5
    inner["status"] = 200
    assert _call(throttle)[0] == 200  # the right password
    inner["status"] = 400
    assert _call(throttle)[0] == 400  # counting starts again
    assert _call(throttle, method="GET")[0] == 400  # only login attempts are counted


def test_every_response_gets_the_headers_and_pages_the_policy():
    status, headers = _call(SecurityHeaders(_app(200)), method="GET", path="/")
    assert status == 200 and headers[b"content-security-policy"] == PAGE_POLICY.encode()
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"x-frame-options"] == b"DENY"


def test_documents_are_served_so_that_nothing_in_them_runs():
    media, headers = document_response_headers("report.pdf")
    assert media == "application/pdf" and headers["Content-Disposition"].startswith("inline")
    assert headers["Content-Security-Policy"] == "sandbox"
    media, headers = document_response_headers('minutes".html')
    assert media == "application/octet-stream"
    assert headers["Content-Disposition"] == 'attachment; filename="minutes.html"'
