"""Browser tests: a real app server and headless Chromium on phone-sized screens.

One app server runs for the whole session (werkzeug's threaded server on a free
loopback port, a SQLite file database, BASE_URL set to that origin so printed QR codes
point at it). Each test builds its own community and vote through the command line,
prints the ballots to a PDF and reads the link back from the QR code, as a resident's
phone would (helpers in browser.py). These tests run once, on SQLite: they skip when
TEST_DATABASE_URL is set or Chromium, pdftoppm or zbarimg is missing.
"""

from __future__ import annotations

import contextvars
import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from residents_vote import create_app

from .browser import BROWSER_ARGS, CHROMIUM, LiveApp, compile_catalog


@pytest.fixture(scope="session", autouse=True)
def _browser_requirements() -> None:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("browser tests run once, on SQLite")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    for tool in ("pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing")
    pytest.importorskip("playwright.sync_api")


# --- the app server -------------------------------------------------------------------


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Iterator[LiveApp]:
    from werkzeug.serving import make_server

    workdir = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": f"sqlite:///{workdir / 'e2e.sqlite3'}",
            "PASSWORD_HASH": "pbkdf2:sha256:1000",
            "BABEL_TRANSLATION_DIRECTORIES": str(compile_catalog(workdir / "translations")),
        }
    )
    from residents_vote.cli import upgrade_database

    # Run migrations in a copy of the context: they leave the write intent set behind.
    contextvars.copy_context().run(upgrade_database, app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    origin = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = origin
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveApp(app=app, url=origin, workdir=workdir)
    finally:
        server.shutdown()
        thread.join(10)
        app.extensions["rv_db"].engine.dispose()


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()
