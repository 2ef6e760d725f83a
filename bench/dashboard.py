"""Benchmark: the staff dashboard and the public page of a 5,000-household vote under load.

    .venv/bin/python bench/dashboard.py [--households 5000] [--requests 50] [--turnout 0.4]
                                        [--database-url URL]

A community of N households gets an open proposal with ballots for everyone; a share of
them (--turnout) vote before the run. Then a separate process keeps casting online votes
through the services (`voting.cast_online`, one transaction per vote, as the ballot page
does) while this process requests the staff dashboard /staff/proposals/<id> (logged in
through the test client) and the public page /r/<public_id> --requests times each, and
times the bare `services.tally.compute()` the same number of times in the same run.
Prints median and p95 of each, and how many votes the writer cast meanwhile.

The database is a fresh SQLite file in a temporary directory unless --database-url (or
DATABASE_URL) names another, e.g. an empty PostgreSQL database.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from residents_vote import create_app  # noqa: E402
from residents_vote.db import write_session  # noqa: E402
from residents_vote.models import Ballot, Community, Proposal, User, Vote  # noqa: E402
from residents_vote.services import (  # noqa: E402
    ballots,
    communities,
    households,
    proposals,
    tally,
    users,
    voting,
)

PASSWORD = "bench password 2026"
QUESTIONS = ("是否同意加装电梯及外立面改造方案？", "是否同意按专有部分面积分摊费用？")
CHOICES = ("agree", "agree", "agree", "oppose", "abstain")


def make_app(url: str):
    return create_app(
        {
            "TESTING": True,  # no production key check; nothing else changes
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "DATABASE_URL": url,
            "PASSWORD_HASH": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False,
            "BASE_URL": "http://bench.local",
        }
    )


def register_csv(n: int, seed: int = 7) -> bytes:
    """n households: buildings of 4 units x 20 floors x 4 rooms; some owners hold two units."""
    rng = random.Random(seed)
    lines = ["building,unit,room,area,owner_name,owner_key,phone"]
    for i in range(n):
        building, rest = divmod(i, 320)
        unit, rest = divmod(rest, 80)
        floor, room = divmod(rest, 4)
        owner = f"K{i // 2:05d}" if rng.random() < 0.05 else f"K{i:05d}x"
        area = f"{rng.randint(4500, 16000) / 100:.2f}"
        lines.append(
            f"{building + 1},{unit + 1},{floor + 1}{room + 1:02d},{area},业主{i},{owner},138{i:08d}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def setup(app, n: int, turnout: float) -> tuple[int, str, list[int]]:
    """Community, register, staff user, open proposal, ballots, the early votes.

    Returns the proposal id, its public id and the ids of ballots still unused."""
    from residents_vote.cli import upgrade_database

    upgrade_database(app)
    factory = app.extensions["rv_db"].factory
    rows = households.parse_file("register.csv", register_csv(n))
    with app.app_context(), write_session(factory) as s:
        community = communities.create_community(s, "bench", "基准测试小区", actor="bench")
        households.import_rows(s, community, rows, actor="bench")
        users.create_user(s, "staff", PASSWORD, "staff", ["bench"])
    with app.app_context(), write_session(factory) as s:
        community = s.scalar(select(Community).where(Community.slug == "bench"))
        draft = proposals.Draft(
            title="基准测试小区改造方案表决", stage="design", questions=list(QUESTIONS)
        )
        proposal = proposals.create(s, community, draft, actor="bench")
        proposals.open_vote(s, proposal, actor="bench")
        ballots.issue(s, proposal, actor="bench")
        pid, public_id = proposal.id, proposal.public_id
    with app.app_context(), write_session(factory) as s:
        ballot_ids = list(
            s.scalars(select(Ballot.id).where(Ballot.proposal_id == pid).order_by(Ballot.id))
        )
        rng = random.Random(1)
        early = int(len(ballot_ids) * turnout)
        for ballot_id in ballot_ids[:early]:
            ballot = s.get(Ballot, ballot_id)
            answers = {q: rng.choice(CHOICES) for q in (1, 2)}
            voting.cast_online(s, ballot, answers)
    return pid, public_id, ballot_ids[early:]


def voter(url: str, ballot_ids: list[int], stop, counter) -> None:
    """Child process: one online vote per transaction, through the services, until told."""
    app = make_app(url)
    factory = app.extensions["rv_db"].factory
    rng = random.Random(2)
    with app.app_context():
        for ballot_id in ballot_ids:
            if stop.is_set():
                break
            with write_session(factory) as s:
                ballot = s.get(Ballot, ballot_id)
                voting.cast_online(s, ballot, {q: rng.choice(CHOICES) for q in (1, 2)})
            with counter.get_lock():
                counter.value += 1


def login(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    token = token or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    response = client.post(
        "/login", data={"csrf_token": token.group(1), "username": "staff", "password": PASSWORD}
    )
    if response.status_code != 303:
        raise SystemExit(f"login failed: {response.status_code}")


def timed(fn, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return (
        f"{name:<34} median {statistics.median(ordered):8.1f} ms   p95 {p95:8.1f} ms   "
        f"max {ordered[-1]:8.1f} ms   (n={len(ordered)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--turnout", type=float, default=0.4, help="share voted before the run")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="rv-bench-")
    url = args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3"
    app = make_app(url)
    backend = app.extensions["rv_db"].engine.dialect.name
    started = time.perf_counter()
    pid, public_id, unused = setup(app, args.households, args.turnout)
    print(
        f"setup: {args.households} households, {args.households - len(unused)} votes before the "
        f"run, {backend}, {time.perf_counter() - started:.1f} s"
    )

    client = app.test_client()
    login(client)
    dashboard_url, public_url = f"/staff/proposals/{pid}", f"/r/{public_id}"
    for url_ in (dashboard_url, public_url):  # warm up templates and caches
        assert client.get(url_).status_code == 200, url_

    factory = app.extensions["rv_db"].factory

    def compute() -> None:
        with app.app_context(), factory() as s:
            tally.compute(s, s.get(Proposal, pid))

    def page(url_: str):
        def get() -> None:
            response = client.get(url_)
            if response.status_code != 200:
                raise SystemExit(f"{url_} answered {response.status_code}")

        return get

    ctx = multiprocessing.get_context("fork")
    stop, counter = ctx.Event(), ctx.Value("i", 0)
    child = ctx.Process(target=voter, args=(url, unused, stop, counter), daemon=True)
    child.start()
    time.sleep(0.5)  # let the writer get going
    run_start = time.perf_counter()
    before = counter.value
    results = {
        "GET /staff/proposals/<id> (dashboard)": timed(page(dashboard_url), args.requests),
        "GET /r/<public_id> (public page)": timed(page(public_url), args.requests),
        "services.tally.compute()": timed(compute, args.requests),
    }
    elapsed = time.perf_counter() - run_start
    cast = counter.value - before
    stop.set()
    child.join(30)

    with app.app_context(), factory() as s:
        total = s.scalar(select(func.count(Vote.id)).where(Vote.proposal_id == pid))
        staff = s.scalar(select(User.username))
    print(
        f"load: a writer process cast {cast} votes during the {elapsed:.1f} s run "
        f"({cast / elapsed:.0f} votes/s); {total} of {args.households} voted at the end "
        f"(logged in as {staff})"
    )
    for name, times in results.items():
        print(summary(name, times))
    tmp.cleanup()


if __name__ == "__main__":
    main()
