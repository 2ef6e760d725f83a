"""`flask backup FILE`: a consistent copy of a live SQLite database."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import select

from residents_vote import create_app
from residents_vote.models import User
from residents_vote.services import proposals, voting
from tests import factories
from tests.helpers import CHEAP_HASH, count, postgres_url, write

sqlite_only = pytest.mark.skipif(
    postgres_url() is not None, reason="the online backup API is SQLite's"
)

ROWS = [
    ("1", str(u), f"{f:02d}{r:02d}", f"{60 + r}.{u}5", f"业主{u}{f}{r}", "")
    for u in (1, 2)
    for f in range(1, 13)
    for r in range(1, 9)
]  # 192 households


def vote_writer(app, pid: int, codes: list[str], stop: threading.Event, done: list[str]):
    """Record one paper ballot per transaction until stopped or everyone has voted."""
    for code in codes:
        if stop.is_set():
            return
        with write(app) as s:
            p = proposals.lock(s, pid)
            by = s.scalar(select(User).where(User.username == "staff1"))
            answers = {q.number: "agree" for q in p.questions}
            voting.record_paper(s, p, code, answers, channel="paper", by=by)
        done.append(code)


def copy_app(path):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": f"sqlite:///{path}",
            "PASSWORD_HASH": CHEAP_HASH,
            "RATELIMIT_ENABLED": False,
        }
    )


@sqlite_only
def test_backup_while_votes_are_written_restores_consistently(app, runner, tmp_path):
    factories.community(app, rows=ROWS)
    factories.staff_user(app)
    pid = factories.proposal(app)
    factories.issue_ballots(app, pid)
    codes = [factories.code(r) for r in ROWS]
    stop, done = threading.Event(), []
    writer = threading.Thread(target=vote_writer, args=(app, pid, codes, stop, done))
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(done) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(done) >= 20, "the writer did not get going"
        before = len(done)
        target = tmp_path / "copy.sqlite3"
        result = runner.invoke(args=["backup", str(target)])
        still_writing = writer.is_alive()
    finally:
        stop.set()
        writer.join(timeout=120)
    assert result.exit_code == 0, result.output
    assert str(target) in result.stdout and "integrity ok" in result.stdout
    assert still_writing  # the copy was taken while votes were being written

    con = sqlite3.connect(target)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        votes = con.execute("SELECT count(*) FROM vote WHERE proposal_id = ?", (pid,)).fetchone()[0]
        cast = con.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'vote.cast' AND proposal_id = ?",
            (pid,),
        ).fetchone()[0]
        answers = con.execute(
            "SELECT count(*) FROM vote_answer WHERE proposal_id = ?", (pid,)
        ).fetchone()[0]
        used = con.execute(
            "SELECT count(*) FROM ballot WHERE proposal_id = ? AND status = 'used'", (pid,)
        ).fetchone()[0]
        journal = con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()
    assert before <= votes <= len(done)
    assert votes == cast  # every vote has its audit event and no event lacks its vote
    assert answers == 2 * votes
    assert used == votes
    assert journal == "delete"  # a single self-contained file
    assert not list(tmp_path.glob(".copy.sqlite3*"))  # no temporary file left behind

    restored = copy_app(target)
    try:
        check = restored.test_cli_runner().invoke(args=["audit", "verify"])
        assert check.exit_code == 0, check.output
        tally = restored.test_cli_runner().invoke(args=["proposal", "tally", str(pid)])
        assert tally.exit_code == 0 and f'"persons": {votes}' in tally.stdout
    finally:
        restored.extensions["rv_db"].engine.dispose()
    assert count(app, voting.Vote) == len(done)  # the live database carried on


@sqlite_only
def test_backup_refuses_to_overwrite_unless_asked(app, runner, tmp_path):
    factories.community(app)
    target = tmp_path / "copy.sqlite3"
    target.write_bytes(b"keep me")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1
    assert "already exists" in result.stderr and "Traceback" not in result.output
    assert target.read_bytes() == b"keep me"
    result = runner.invoke(args=["backup", str(target), "--overwrite"])
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(target)
    try:
        assert con.execute("SELECT slug FROM community").fetchall() == [("hx",)]
    finally:
        con.close()
    missing = runner.invoke(args=["backup", str(tmp_path / "no" / "such" / "dir.sqlite3")])
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


@pytest.mark.skipif(postgres_url() is None, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_backup_on_postgresql_points_to_pg_dump(app, runner, tmp_path):
    target = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1
    assert "pg_dump" in result.stderr
    assert not target.exists()
