"""Votes under concurrent load, on real gunicorn servers (issue 8).

Each test starts gunicorn (sync workers, gunicorn.conf.py) on a free loopback port
with RATELIMIT_ENABLED=0 (CONTRACT.md "Configuration") and fires votes from 50 client
threads, as phones do: GET the ballot (session cookie + CSRF token), POST with
confirm=yes. The database is the suite's: SQLite in a temporary file, or PostgreSQL
when TEST_DATABASE_URL is set. Every loop is bounded in count and time.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from tests import loadlib
from tests.helpers import postgres_url

pytestmark = pytest.mark.load

CLIENTS = 50


def _log_has_no_token(log, electorate: loadlib.Electorate) -> None:
    text = log.read_text(errors="replace")
    assert "/b/…" in text  # ballot requests were logged, masked
    tokens = list(electorate.live.values()) + list(electorate.revoked.values())
    leaked = [t for t in tokens if t in text]
    assert not leaked, f"{len(leaked)} ballot tokens in the access log"


def test_2000_concurrent_votes_one_per_household(database_url, tmp_path):
    """1,600 first votes, 100 households raced by 3 requests each, 100 revoked tokens."""
    electorate = loadlib.prepare(database_url, households=1800, revoke=100)
    jobs = loadlib.make_jobs(electorate, total=2000, dup_groups=100, dup_extra=2, revoked=100)
    log = tmp_path / "gunicorn.log"
    with loadlib.Server(database_url, workers=4, log=log) as server:
        run = loadlib.run_load(jobs, [server.port], electorate.questions, concurrency=CLIENTS)
        tail = server.tail()
        receipts = loadlib.receipt_codes(database_url, electorate.proposal_id)[:3]
        for code in receipts:  # a resident checks a receipt: the code is not logged either
            path = f"/r/{electorate.public_id}/receipt?lang=en&code={code}"
            assert loadlib.request(server.port, "GET", path)[0] in (200, 404)
    stats = loadlib.summary(run)
    problems = loadlib.check(electorate, run)
    assert not problems, f"{problems}\n{stats}\n{tail}"
    assert stats["statuses"] == {303: 1700, 409: 200, 410: 100}, stats
    _log_has_no_token(log, electorate)
    text = log.read_text(errors="replace")
    assert "receipt?lang=en&code=…" in text
    assert receipts and not [c for c in receipts if c in text], "receipt codes in the log"


def test_two_servers_one_database(database_url, tmp_path, monkeypatch):
    """Two gunicorn instances of one install (same SECRET_KEY): a page served by one and
    its form posted to the other; one vote per household whichever answered."""
    big = bool(postgres_url())
    households, total, groups = (1800, 2000, 100) if big else (400, 400, 40)
    electorate = loadlib.prepare(database_url, households=households, revoke=50)
    jobs = loadlib.make_jobs(electorate, total=total, dup_groups=groups, dup_extra=2, revoked=50)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    first = loadlib.Server(database_url, workers=2, log=tmp_path / "a.log")
    second = loadlib.Server(
        database_url, workers=2, log=tmp_path / "b.log", secret_key=first.secret_key
    )
    with loadlib.servers(first, second) as (a, b):
        # Two servers on one host must not share per-host state such as gunicorn's
        # control socket (the second would take over the first one's).
        assert not list(home.rglob("*.ctl")), "gunicorn control socket in $HOME"
        run = loadlib.run_load(
            jobs, [a.port, b.port], electorate.questions, concurrency=CLIENTS, cross=True
        )
    problems = loadlib.check(electorate, run)
    assert not problems, f"{problems}\n{loadlib.summary(run)}"
    ports = {o.port for o in run.outcomes if o.post_status == 303}
    assert ports == {a.port, b.port}


def test_kill_9_mid_load_loses_no_confirmed_vote(database_url, tmp_path):
    """kill -9 master and workers in the middle of the load, restart: every vote that was
    answered 303 is there, the audit chain verifies, and the rest can still vote."""
    electorate = loadlib.prepare(database_url, households=400, revoke=0)
    jobs = loadlib.make_jobs(electorate, total=400)
    log = tmp_path / "gunicorn.log"
    server = loadlib.Server(database_url, workers=4, log=log).start()
    accepted = 0
    killed = threading.Event()
    lock = threading.Lock()

    def watch(out: loadlib.Outcome) -> None:
        nonlocal accepted
        with lock:
            accepted += out.post_status == 303
            if accepted >= 150 and not killed.is_set():
                killed.set()
                server.kill()

    try:
        run = loadlib.run_load(
            jobs,
            [server.port],
            electorate.questions,
            concurrency=CLIENTS,
            on_outcome=watch,
            deadline=120,
            timeout=30,
        )
    finally:
        if not killed.is_set():
            server.stop()
    assert killed.is_set(), "the server was not killed: the load ended too soon"
    lost = [o for o in run.outcomes if o.error]
    assert lost, "the kill interrupted nothing"
    assert not loadlib.check(electorate, run, expect_complete=False)

    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restarted = loadlib.Server(database_url, workers=4, log=log, secret_key=server.secret_key)
    with restarted:
        _audit_verifies(database_url)
        # Everything answered 303 before the kill is stored (checked above and again here).
        assert not loadlib.check(electorate, run, expect_complete=False)
        # The residents whose request died with the server try again.
        done = {o.job.household_id for o in run.outcomes if o.post_status == 303}
        retry = [j for j in jobs if j.household_id not in done]
        again = loadlib.run_load(retry, [restarted.port], electorate.questions, concurrency=CLIENTS)
    in_flight = {o.job.household_id for o in run.outcomes if o.sent and o.post_status is None}
    for o in again.outcomes:
        assert o.error is None, o.error
        # 409 only where the request cut off by the kill had in fact been committed.
        assert o.post_status == 303 or (o.post_status == 409 and o.job.household_id in in_flight), (
            o.post_status,
            o.job,
        )
    count, distinct = loadlib.vote_count(database_url, electorate.proposal_id)
    assert count == distinct == len(jobs)
    _audit_verifies(database_url)


def _audit_verifies(database_url: str) -> None:
    from residents_vote import db as dbmod
    from residents_vote.services import audit

    app = loadlib.app_for(database_url)
    try:
        token = dbmod.set_write_intent(False)
        try:
            with app.extensions["rv_db"].factory() as s:
                result = audit.verify(s)
        finally:
            dbmod.reset_write_intent(token)
    finally:
        app.extensions["rv_db"].engine.dispose()
    assert result.ok, result.problem
    assert result.events > 0


def test_server_refuses_to_start_with_a_weak_secret(tmp_path):
    """Outside TESTING the app refuses a guessable SECRET_KEY: gunicorn exits."""
    url = f"sqlite:///{tmp_path / 'weak.sqlite3'}"
    server = loadlib.Server(url, workers=1, secret_key="changeme", log=tmp_path / "weak.log")
    start = time.monotonic()
    with pytest.raises(RuntimeError) as info:
        server.start(ready_timeout=60)
    server.stop()
    assert time.monotonic() - start < 60
    assert "SECRET_KEY" in server.tail(200), str(info.value)


def test_ballot_requests_do_not_read_the_plan_pdf(app):
    """A resident's ballot shows a link to the plan; the plan's bytes are read only when
    the link is followed (/r/<id>/plan.pdf)."""
    import hashlib

    from sqlalchemy import event

    from residents_vote.models import Attachment, Proposal
    from tests.factories import two_communities
    from tests.helpers import csrf_token, write

    world = two_communities(app)
    data = b"%PDF-1.4\n" + b"\0" * 1024
    with write(app) as s:
        proposal = s.get(Proposal, world.open_id)
        s.add(
            Attachment(
                community_id=proposal.community_id,
                proposal_id=proposal.id,
                kind="plan",
                filename="plan.pdf",
                content_type="application/pdf",
                data=data,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    statements: list[str] = []
    engine = app.extensions["rv_db"].engine

    def seen(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        client = app.test_client()
        page = client.get(f"/b/{world.token}")
        assert page.status_code == 200 and "plan.pdf" in page.get_data(as_text=True)
        form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "q1": "agree"}
        client.post(f"/b/{world.token}", data={**form, "q2": "agree", "confirm": "yes"})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    blob_reads = [s for s in statements if "attachment.data" in s]
    assert not blob_reads, f"{len(blob_reads)} statements read the plan's bytes"
