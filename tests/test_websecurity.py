"""The HTTP protections as plain ASGI middleware, driven without a server."""

from __future__ import annotations

import asyncio
import urllib.parse

import pytest

from assistant.config import Settings
from assistant.websecurity import (
    PAGE_POLICY,
    HostCheck,
    LoginThrottle,
    SecurityHeaders,
    allowed_hosts,
    document_response_headers,
)


def _app(status: int):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def _scope(method="POST", path="/login", client="10.0.0.1", username=None, host=None):
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    if host is not None:
        headers.append((b"host", host.encode()))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "client": (client, 1234),
        "headers": headers,
    }
    body = b""
    if username is not None:
        body = urllib.parse.urlencode({"username": username, "password": "guess"}).encode()
    return scope, body


async def _send_one(app, scope, body):
    sent = []

    async def receive():
        return {"type": "http.request", "body": body}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    return start["status"], dict(start["headers"])


def _call(app, method="POST", path="/login", client="10.0.0.1", username=None, host=None):
    scope, body = _scope(method, path, client, username, host)
    return asyncio.run(_send_one(app, scope, body))


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


def _checks_password(statuses: dict[str, int]):
    """A login route that takes a moment to check a password; the right one for each user
    named in `statuses` gets that status, every other attempt 400."""

    async def app(scope, receive, send):
        body = (await receive())["body"].decode()
        form = dict(urllib.parse.parse_qsl(body))
        await asyncio.sleep(0.05)
        status = statuses.get(form.get("username", ""), 400)
        await _app(status)(scope, receive, send)

    return app


def test_attempts_sent_all_at_once_are_counted_as_they_come():
    throttle = LoginThrottle(_checks_password({}))

    async def all_at_once():
        scope, body = _scope(username="adviser")
        return await asyncio.gather(*(_send_one(throttle, scope, body) for _ in range(40)))

    codes = [status for status, _ in asyncio.run(all_at_once())]
    assert codes.count(400) == 5 and codes.count(429) == 35


def test_a_good_login_clears_only_its_own_users_failures():
    now = [0.0]
    throttle = LoginThrottle(_checks_password({"intern": 200}), clock=lambda: now[0])
    codes = []
    for i in range(20):
        codes.append(_call(throttle, username="adviser")[0])
        if i % 4 == 3:
            assert _call(throttle, username="intern")[0] == 200
    assert codes[:5] == [400] * 5 and set(codes[5:]) == {429}
    assert _call(throttle, username=" adviser ")[0] == 429  # the name as the login reads it
    assert _call(throttle, username="adviser", client="10.0.0.2")[0] == 400
    now[0] += 901
    assert _call(throttle, username="adviser")[0] == 400  # the window is over


def test_one_guess_at_each_of_many_names_is_still_slowed():
    throttle = LoginThrottle(_checks_password({}), clock=lambda: 0.0)
    codes = [_call(throttle, username=f"user{k}")[0] for k in range(25)]
    assert codes[:20] == [400] * 20 and set(codes[20:]) == {429}
    assert _call(throttle, username="user0", client="10.0.0.2")[0] == 400


def test_a_login_form_too_long_to_be_one_is_refused_unread():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope)
        await _app(400)(scope, receive, send)

    scope, _ = _scope()
    status, _ = asyncio.run(_send_one(LoginThrottle(app), scope, b"username=" + b"a" * 70_000))
    assert status == 413 and not seen


@pytest.mark.parametrize(
    ("listen", "extra", "host", "allowed"),
    [
        ("127.0.0.1", "", "127.0.0.1:7860", True),
        ("127.0.0.1", "", "localhost:7860", True),
        ("127.0.0.1", "", "LOCALHOST.", True),
        ("127.0.0.1", "", "[::1]:7860", True),
        ("127.0.0.1", "", "attacker.example:7860", False),
        ("127.0.0.1", "", "127.0.0.1.attacker.example", False),
        ("127.0.0.1", "", "localhost@attacker.example", False),
        ("127.0.0.1", "", "", False),
        ("127.0.0.1", "", "10.0.0.5:7860", False),
        ("assistant.corp.example", "", "assistant.corp.example:7860", True),
        ("assistant.corp.example", "", "evil.example", False),
        ("0.0.0.0", "", "10.0.0.5:7860", True),
        ("0.0.0.0", "", "[fe80::1]:7860", True),
        ("0.0.0.0", "", "attacker.example", False),
        ("0.0.0.0", "evidence.team.example", "Evidence.Team.Example:443", True),
        ("0.0.0.0", "*.team.example", "a.team.example", True),
        ("0.0.0.0", "*.team.example", "team.example.attacker.example", False),
    ],
)
def test_only_requests_addressed_to_the_app_reach_it(listen, extra, host, allowed):
    settings = Settings(host=listen, allowed_hosts=extra or None)
    names, any_address = allowed_hosts(settings.host, settings.allowed_host_names)
    check = HostCheck(_app(200), names, any_address)
    status, _ = _call(check, method="GET", path="/document/x", host=host)
    assert status == (200 if allowed else 400)


def test_a_request_without_a_host_is_refused():
    scope, _ = _scope(method="GET", path="/")
    assert asyncio.run(_send_one(HostCheck(_app(200), ["127.0.0.1"]), scope, b""))[0] == 400


def test_a_wildcard_for_every_host_cannot_be_configured():
    with pytest.raises(ValueError, match="ALLOWED_HOSTS"):
        Settings(allowed_hosts="*")
