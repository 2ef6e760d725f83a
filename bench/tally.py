"""Benchmark: the SQL-aggregate tally (services.tally.compute) against a naive ORM count.

    .venv/bin/python bench/tally.py [--pg-url URL] [--no-pg] [--runs 5] [--seed 2026]

Two scenarios, every household voted, random answers, owner keys with multi-unit
owners and a developer holding unsold units:

  * 5,000 households x 3 questions, rule seed (household headcount)
  * 100,000 households x 1 question, rule civil-major (owner headcount: conflicts listed)

Each runs on a fresh SQLite file database (migrated with upgrade_database) and on
PostgreSQL: a fresh database on --pg-url, or, when no URL is given and
/usr/lib/postgresql exists, a throwaway cluster started with
`scripts/pg-test.sh start /tmp/bench-pg 55433` and stopped at the end (--no-pg skips it).
Households, votes and answers go in as bulk Core inserts; the community and the
proposal go through the services and the electorate is frozen by proposals.open_vote.

Timed (median of --runs, each in a fresh session that loads the proposal first):
  compute  services.tally.compute(session, proposal)
  naive    every ElectorateEntry, every Vote and its answers loaded as ORM objects
           (answers with selectinload, i.e. no N+1), counted in Python with
           domain.tally.count_units, the JSON built with domain.tally.question_json
Both must give the same questions JSON (so the same verdicts, advice and conflicts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from residents_vote import create_app  # noqa: E402
from residents_vote import db as dbmod  # noqa: E402
from residents_vote.cli import upgrade_database  # noqa: E402
from residents_vote.domain import tally as rules  # noqa: E402
from residents_vote.models import (  # noqa: E402
    ElectorateEntry,
    Household,
    Proposal,
    Vote,
    VoteAnswer,
)
from residents_vote.services import communities, proposals, tally  # noqa: E402

PG_DIR, PG_PORT = "/tmp/bench-pg", 55433
CHUNK = 10_000


@dataclass(frozen=True)
class Scenario:
    label: str
    households: int
    questions: int
    rule: str  # its default headcount: household for seed, owner for the civil rules


SCENARIOS = (
    Scenario("5,000 households x 3 questions, seed", 5_000, 3, "seed"),
    Scenario("100,000 households x 1 question, civil-major", 100_000, 1, "civil-major"),
)


@dataclass
class Row:
    backend: str
    scenario: Scenario
    load_s: float
    compute_s: float
    naive_s: float
    same: bool
    verdicts: str
    conflicts: int


# --------------------------------------------------------------------------- data


def owner_keys(rng: random.Random, n: int) -> list[str]:
    """85 % of owners hold one unit, 12 % two, 3 % three; the last 0.5 % of units are the
    developer's unsold ones (one owner under the owner headcount)."""
    keys: list[str] = []
    owner = 0
    while len(keys) < n:
        r = rng.random()
        keys.extend([f"P{owner:06d}"] * (1 if r < 0.85 else 2 if r < 0.97 else 3))
        owner += 1
    keys = keys[:n]
    for i in range(n - max(1, n // 200), n):
        keys[i] = "DEVELOPER"
    return keys


def household_rows(rng: random.Random, community_id: int, n: int) -> list[dict]:
    """120 units per building (4 units x 15 floors x 2 rooms); areas 45.00-140.00 m²."""
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i, key in enumerate(owner_keys(rng, n)):
        building, unit = str(1 + i // 120), str(1 + (i // 30) % 4)
        room = f"{1 + (i % 30) // 2}{1 + i % 2:02d}"
        rows.append(
            {
                "community_id": community_id,
                "building": building,
                "unit": unit,
                "room": room,
                "code": f"{building}-{unit}-{room}",
                "area": rng.randint(4500, 14000),
                "owner_name": "",
                "owner_key": key,
                "phone": "",
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def answer_for(rng: random.Random, p_agree: float) -> str:
    if rng.random() < p_agree:
        return "agree"
    r = rng.random()
    return "oppose" if r < 0.5 else "abstain" if r < 0.85 else "invalid"


def bulk_insert(session, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start : start + CHUNK])


def load(app, scenario: Scenario, rng: random.Random) -> int:
    """One community, its register, an open proposal and every household's vote."""
    slug = f"b{uuid.uuid4().hex[:10]}"
    factory = app.extensions["rv_db"].factory
    with app.app_context(), dbmod.write_session(factory) as s:
        community = communities.create_community(s, slug, f"压测小区 {slug}", actor="bench")
        bulk_insert(s, Household.__table__, household_rows(rng, community.id, scenario.households))
        draft = proposals.Draft(
            title="老旧小区改造方案表决",
            stage="design",
            questions=[f"第 {n} 项：是否同意？" for n in range(1, scenario.questions + 1)],
            rule=scenario.rule,
        )
        proposal = proposals.create(s, community, draft, actor="bench")
        proposals.open_vote(s, proposal, actor="bench")
        pid = proposal.id
        household_ids = list(
            s.scalars(
                select(ElectorateEntry.household_id)
                .where(ElectorateEntry.proposal_id == pid)
                .order_by(ElectorateEntry.household_id)
            )
        )
        now = dt.datetime.now(dt.UTC)
        bulk_insert(
            s,
            Vote.__table__,
            [
                {
                    "proposal_id": pid,
                    "household_id": hid,
                    "channel": "online",
                    "proxy_name": "",
                    "receipt_code": f"{pid:06d}{i:012d}",
                    "cast_at": now,
                }
                for i, hid in enumerate(household_ids)
            ],
        )
        vote_ids = list(s.scalars(select(Vote.id).where(Vote.proposal_id == pid)))
        # Near the thresholds, so verdicts differ between questions and rules.
        p_agree = [rng.uniform(0.62, 0.82) for _ in range(scenario.questions)]
        bulk_insert(
            s,
            VoteAnswer.__table__,
            [
                {
                    "vote_id": vid,
                    "question_number": q,
                    "proposal_id": pid,
                    "answer": answer_for(rng, p_agree[q - 1]),
                }
                for vid in vote_ids
                for q in range(1, scenario.questions + 1)
            ],
        )
    return pid


# --------------------------------------------------------------------------- paths


def run_compute(app, pid: int) -> dict:
    with app.app_context(), app.extensions["rv_db"].factory() as s:
        proposal = s.get(Proposal, pid)
        return tally.compute(s, proposal).json


def run_naive(app, pid: int) -> dict:
    """The obvious implementation: load everything as objects, count in Python."""
    with app.app_context(), app.extensions["rv_db"].factory() as s:
        proposal = s.get(Proposal, pid)
        entries = {
            e.household_id: e
            for e in s.scalars(select(ElectorateEntry).where(ElectorateEntry.proposal_id == pid))
        }
        votes = s.scalars(
            select(Vote).where(Vote.proposal_id == pid).options(selectinload(Vote.answers))
        ).all()
        pairs = [(e.owner_key, e.area) for e in entries.values()]
        electorates = {h: rules.make_electorate(pairs, h) for h in rules.HEADCOUNTS}
        rule = rules.RULES[proposal.rule]
        questions = []
        participation = rules.Totals(0, 0)
        for question in proposal.questions:
            unit_votes = []
            for vote in votes:
                entry = entries[vote.household_id]
                for answer in vote.answers:
                    if answer.question_number == question.number:
                        unit_votes.append(
                            rules.UnitVote(entry.code, entry.owner_key, entry.area, answer.answer)
                        )
            counts = {h: rules.count_units(unit_votes, h) for h in rules.HEADCOUNTS}
            if question.number == 1:
                participation = counts[proposal.headcount].participation
            advisory = [
                (other, electorates[other.default_headcount], counts[other.default_headcount])
                for other in rules.advisory_rules(rule)
            ]
            questions.append(
                rules.question_json(
                    question.number,
                    question.text,
                    rule,
                    electorates[proposal.headcount],
                    counts[proposal.headcount],
                    advisory,
                )
            )
        electorate = electorates[proposal.headcount]
        return {
            "electorate": {
                "households": electorate.households,
                "persons": electorate.persons,
                "area": rules.format_area(electorate.area),
            },
            "participation": rules.totals_json(participation),
            "questions": questions,
        }


def median_time(fn, runs: int) -> tuple[float, dict]:
    times = []
    result: dict = {}
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def verdict_text(data: dict) -> str:
    """e.g. "q1 seed:pass (civil-major:fail civil-ordinary:pass)"."""
    parts = []
    for q in data["questions"]:
        advice = " ".join(f"{a['rule']}:{'pass' if a['passed'] else 'fail'}" for a in q["advisory"])
        binding = f"{data['proposal']['rule']}:{'pass' if q['passed'] else 'fail'}"
        parts.append(f"q{q['number']} {binding} ({advice})")
    return "; ".join(parts)


# --------------------------------------------------------------------------- backends


def make_app(url: str):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": False,
        }
    )
    upgrade_database(app)
    dbmod.set_write_intent(False)  # migrations/env.py leaves it set (tests/test_db.py xfail)
    return app


def bench_backend(backend: str, url: str, runs: int, seed: int, analyze: bool) -> list[Row]:
    app = make_app(url)
    rows = []
    try:
        for scenario in SCENARIOS:
            rng = random.Random(f"{seed}-{scenario.households}")
            start = time.perf_counter()
            pid = load(app, scenario, rng)
            if analyze:
                with app.extensions["rv_db"].engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
            load_s = time.perf_counter() - start
            fast_s, fast = median_time(lambda pid=pid: run_compute(app, pid), runs)
            slow_s, slow = median_time(lambda pid=pid: run_naive(app, pid), runs)
            same = all(fast[k] == slow[k] for k in ("electorate", "participation", "questions"))
            rows.append(
                Row(
                    backend,
                    scenario,
                    load_s,
                    fast_s,
                    slow_s,
                    same,
                    verdict_text(fast),
                    sum(len(q["conflicts"]) for q in fast["questions"]),
                )
            )
            print(f"  {backend}: {scenario.label} done", file=sys.stderr, flush=True)
    finally:
        app.extensions["rv_db"].engine.dispose()
    return rows


def fresh_pg_database(base_url: str) -> tuple[str, Callable[[], None], str]:
    name = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        version = conn.scalar(text("SHOW server_version"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base_url.rsplit("/", 1)[0] + "/" + name, drop, version


def table(rows: list[Row]) -> str:
    head = (
        "backend",
        "scenario",
        "answers",
        "load",
        "compute() median",
        "naive median",
        "naive/compute",
        "same result",
    )
    lines = [
        (
            r.backend,
            r.scenario.label,
            f"{r.scenario.households * r.scenario.questions:,}",
            f"{r.load_s:.1f} s",
            f"{r.compute_s * 1000:,.1f} ms",
            f"{r.naive_s * 1000:,.1f} ms",
            f"{r.naive_s / r.compute_s:.1f}x",
            "yes" if r.same else "NO",
        )
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in (head, *lines)) for i in range(len(head))]
    right = {2, 3, 4, 5, 6}

    def fmt(cells) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [fmt(head), "  ".join("-" * w for w in widths)]
    out += [fmt(line) for line in lines]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", help="PostgreSQL server URL (a fresh database is made)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    import sqlite3

    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs; median of {args.runs} runs each"
    )
    notes = []
    rows: list[Row] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-tally-"))
    started_pg = False
    try:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        print(f"SQLite: fresh file database {tmp / 'bench.sqlite3'} (WAL, synchronous=FULL)")
        rows += bench_backend("sqlite", url, args.runs, args.seed, analyze=False)

        pg_base = args.pg_url
        if not pg_base and not args.no_pg and Path("/usr/lib/postgresql").is_dir():
            subprocess.run(
                [str(ROOT / "scripts" / "pg-test.sh"), "start", PG_DIR, str(PG_PORT)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            started_pg = True
            pg_base = f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/postgres"
            notes.append(
                f"PostgreSQL: started a throwaway cluster with scripts/pg-test.sh start "
                f"{PG_DIR} {PG_PORT} (fsync=off); it is stopped at the end"
            )
        elif not pg_base:
            notes.append("PostgreSQL: skipped (no --pg-url and no /usr/lib/postgresql)")
        if pg_base:
            pg_url, drop, version = fresh_pg_database(pg_base)
            print(f"PostgreSQL {version}: fresh database, ANALYZE after loading")
            try:
                rows += bench_backend("postgresql", pg_url, args.runs, args.seed, analyze=True)
            finally:
                drop()
    finally:
        if started_pg:
            subprocess.run(
                [str(ROOT / "scripts" / "pg-test.sh"), "stop", PG_DIR, str(PG_PORT)],
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)

    for note in notes:
        print(note)
    print()
    print(table(rows))
    print()
    for r in rows:
        print(f"{r.backend:10}  {r.scenario.label}: {r.verdicts}; {r.conflicts} conflicts")
    ok = all(r.same for r in rows)
    print()
    print(
        "both paths give the same electorate, participation, counts, conflicts and verdicts"
        if ok
        else "MISMATCH: compute() and the naive count disagree"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
