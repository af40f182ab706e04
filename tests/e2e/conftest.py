"""One app and one browser for all the browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.appserver import running_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def app():
    """The app on a free port over an index of the starter corpus, with its manifest."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="app-") as folder:
        corpus = ROOT / "corpus"
        documents = [*sorted(corpus.glob("*.pdf")), corpus / "manifest.yaml"]
        with running_app(Path(folder), documents) as running:
            yield running


@pytest.fixture(scope="session")
def app_url(app) -> str:
    return app.url


@pytest.fixture(scope="module")
def browser():
    """A chromium per test module: playwright's synchronous API holds an event loop while it
    runs, which must be gone before the tests after these (asyncio.run cannot nest)."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium chromium-driver")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
