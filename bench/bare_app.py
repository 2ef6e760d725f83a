"""A bare reference WSGI app for bench/vote_load.py: the least a vote can cost.

It serves the same two requests a phone makes, on the same database schema, and does
only what a vote needs: hash the token and look the ballot up; on POST, in one write
transaction (BEGIN IMMEDIATE on SQLite, like the app), refuse a second vote, insert the
vote and its answers, mark the ballot used, commit, and answer 303. No framework, no ORM,
no templates, no CSRF check, no audit log, no sessions.

    DATABASE_URL=sqlite:///… gunicorn -c gunicorn.conf.py --pythonpath bench bare_app:application
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
import secrets
from urllib.parse import parse_qs

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
ANSWERS = ("agree", "oppose", "abstain")

_conn = None  # one connection per worker process (sync workers: one request at a time)
_kind = ""


def _connect():
    global _conn, _kind
    if _conn is not None:
        return _conn
    url = os.environ["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        import sqlite3

        _conn = sqlite3.connect(url[len("sqlite:///") :], timeout=30, isolation_level=None)
        for pragma in (
            "busy_timeout = 30000",
            "journal_mode = WAL",
            "foreign_keys = ON",
            "synchronous = FULL",
        ):
            _conn.execute(f"PRAGMA {pragma}")
        _kind = "sqlite"
    else:
        import psycopg

        _conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
        _kind = "postgresql"
    return _conn


def _q(sql: str) -> str:
    return sql if _kind == "sqlite" else sql.replace("?", "%s")


def _now():
    """UTC without zone, as the app's UTCDateTime stores it (text on SQLite)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.isoformat(sep=" ") if _kind == "sqlite" else now


def _ballot(cur, token: str):
    digest = hashlib.sha256(token.encode()).hexdigest()
    cur.execute(
        _q("SELECT id, proposal_id, household_id, status FROM ballot WHERE token_hash = ?"),
        (digest,),
    )
    return cur.fetchone()


def _page(start_response, status: str, body: str, extra=()):
    data = body.encode()
    start_response(
        status,
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))), *extra],
    )
    return [data]


def _show(conn, token: str, start_response):
    cur = conn.cursor()
    row = _ballot(cur, token)
    if _kind == "postgresql":
        conn.rollback()  # end the read transaction
    if row is None:
        return _page(start_response, "404 Not Found", "unknown")
    if row[3] == "revoked":
        return _page(start_response, "410 Gone", "revoked")
    form = (
        f'<form method="post" action="/b/{html.escape(token)}">'
        f'<input type="hidden" name="csrf_token" value="{secrets.token_hex(8)}"></form>'
    )
    return _page(start_response, "200 OK", form)


def _submit(conn, token: str, form: dict[str, list[str]], start_response):
    answers = {
        int(k[1:]): v[0]
        for k, v in form.items()
        if k[:1] == "q" and k[1:].isdigit() and v and v[0] in ANSWERS
    }
    cur = conn.cursor()
    if _kind == "sqlite":
        cur.execute("BEGIN IMMEDIATE")
    try:
        row = _ballot(cur, token)
        if row is None:
            conn.rollback()
            return _page(start_response, "404 Not Found", "unknown")
        ballot_id, proposal_id, household_id, status = row
        if status == "revoked":
            conn.rollback()
            return _page(start_response, "410 Gone", "revoked")
        cur.execute(
            _q("SELECT 1 FROM vote WHERE proposal_id = ? AND household_id = ?"),
            (proposal_id, household_id),
        )
        if cur.fetchone() is not None or not answers:
            conn.rollback()
            return _page(start_response, "409 Conflict", "already voted")
        receipt = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))
        cur.execute(
            _q(
                "INSERT INTO vote (proposal_id, household_id, ballot_id, channel, proxy_name,"
                " receipt_code, cast_at) VALUES (?, ?, ?, 'online', '', ?, ?) RETURNING id"
            ),
            (proposal_id, household_id, ballot_id, receipt, _now()),
        )
        vote_id = cur.fetchone()[0]
        for number, answer in sorted(answers.items()):
            cur.execute(
                _q(
                    "INSERT INTO vote_answer (vote_id, question_number, proposal_id, answer)"
                    " VALUES (?, ?, ?, ?)"
                ),
                (vote_id, number, proposal_id, answer),
            )
        cur.execute(_q("UPDATE ballot SET status = 'used' WHERE id = ?"), (ballot_id,))
        conn.commit()
    except Exception as exc:  # a racing duplicate hits the unique constraint
        conn.rollback()
        if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
            return _page(start_response, "409 Conflict", "already voted")
        raise
    return _page(start_response, "303 See Other", "", [("Location", f"/b/{token}")])


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    if path == "/healthz":
        return _page(start_response, "200 OK", "ok")
    if path in ("/login",):
        return _page(start_response, "200 OK", '<input name="csrf_token" value="x">')
    if not path.startswith("/b/"):
        return _page(start_response, "404 Not Found", "not found")
    token = path[3:]
    conn = _connect()
    if method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, 1_000_000)).decode("utf-8", "replace")
        return _submit(conn, token, parse_qs(body), start_response)
    return _show(conn, token, start_response)
