"""Benchmark: the vote load of tests/test_load.py against the full app and a bare app.

    .venv/bin/python bench/vote_load.py [--db sqlite,postgresql] [--rounds 1] [--profile]

For each database, in the same run and with the same gunicorn settings (gunicorn.conf.py,
`--workers` sync workers, loopback only), the same jobs are sent to
(a) the full app (`app:create_app()`), and
(b) bench/bare_app.py: token-hash lookup and vote insert only, same schema, same
    BEGIN IMMEDIATE discipline on SQLite.
Each database is fresh for each run (migrated, a community of --households flats, an
open proposal, every ballot issued, --revoked of them reissued). Printed: votes/s (303
answers over the wall time of the whole load, GET + POST per vote), p50/p99 latency of the
POST, the ratio full/bare. With --rounds N the apps alternate N times and the median
round counts (the machine may be shared).

PostgreSQL: a throwaway cluster (scripts/pg-test.sh start /tmp/bench-pg2 55434), stopped
afterwards; skipped when /usr/lib/postgresql is missing. --pg-url uses a running server.

--profile: cProfile of the full app's WSGI callable in-process (werkzeug test client,
one thread) over --profile-votes votes on SQLite; prints the top functions.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import loadlib  # noqa: E402

APPS = {
    "full": ("app:create_app()", ()),
    "bare": ("bare_app:application", ("--pythonpath", str(ROOT / "bench"))),
}


@contextlib.contextmanager
def postgres(args) -> str | None:
    if args.pg_url:
        yield args.pg_url
        return
    if not Path("/usr/lib/postgresql").exists():
        print("postgresql: /usr/lib/postgresql missing, skipped")
        yield None
        return
    script = ROOT / "scripts" / "pg-test.sh"
    for _ in range(5):  # the port may be held for a moment (TIME_WAIT, another run)
        started = subprocess.run([str(script), "start", args.pg_dir, str(args.pg_port)])
        if started.returncode == 0:
            break
        time.sleep(3)
    else:
        raise SystemExit(f"could not start PostgreSQL on port {args.pg_port}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{args.pg_port}/postgres"
    finally:
        subprocess.run([str(script), "stop", args.pg_dir, str(args.pg_port)], check=False)


class Databases:
    """A fresh database per run: a SQLite file, or a new PostgreSQL database."""

    def __init__(self, kind: str, base: str | None, tmp: Path) -> None:
        self.kind, self.base, self.tmp = kind, base, tmp
        self.created: list[str] = []

    def new(self) -> str:
        if self.kind == "sqlite":
            path = self.tmp / f"{uuid.uuid4().hex[:8]}.sqlite3"
            return f"sqlite:///{path}"
        from sqlalchemy import create_engine, text

        name = "bench_" + uuid.uuid4().hex[:10]
        engine = create_engine(self.base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return self.base.rsplit("/", 1)[0] + "/" + name

    def drop_all(self) -> None:
        if self.kind == "sqlite" or not self.created:
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(self.base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def one_run(app: str, url: str, args, log: Path) -> dict:
    electorate = loadlib.prepare(url, households=args.households, revoke=args.revoked)
    jobs = loadlib.make_jobs(
        electorate,
        total=args.total,
        dup_groups=args.dups,
        dup_extra=2,
        revoked=args.revoked,
    )
    spec, extra = APPS[app]
    with loadlib.Server(url, workers=args.workers, app=spec, extra_args=extra, log=log) as server:
        run = loadlib.run_load(
            jobs, [server.port], electorate.questions, concurrency=args.clients, deadline=600
        )
    stats = loadlib.summary(run)
    stats["problems"] = loadlib.check(electorate, run)
    return stats


def bench_database(kind: str, base: str | None, args, tmp: Path) -> dict[str, dict]:
    dbs = Databases(kind, base, tmp)
    rounds: dict[str, list[dict]] = {"full": [], "bare": []}
    try:
        for n in range(args.rounds):
            order = ("full", "bare") if n % 2 == 0 else ("bare", "full")
            for app in order:
                stats = one_run(app, dbs.new(), args, tmp / f"{kind}-{app}-{n}.log")
                rounds[app].append(stats)
                print(f"  {kind:10} {app}  round {n + 1}: {line(stats)}", flush=True)
    finally:
        dbs.drop_all()
    return {app: median_round(r) for app, r in rounds.items()}


def median_round(runs: list[dict]) -> dict:
    ordered = sorted(runs, key=lambda s: s["votes_per_s"])
    return ordered[len(ordered) // 2]


def line(s: dict) -> str:
    problems = f"  PROBLEMS: {s['problems']}" if s["problems"] else ""
    return (
        f"{s['votes']:5d} votes in {s['seconds']:6.1f} s = {s['votes_per_s']:7.1f} votes/s, "
        f"POST p50 {s['p50_ms']:7.1f} ms, p99 {s['p99_ms']:7.1f} ms, "
        f"answers {s['statuses']}{problems}"
    )


# label -> (file suffix, function): cumulative time of these calls, per vote (GET + POST)
BREAKDOWN = {
    "whole request cycle (flask wsgi_app), GET + POST": ("flask/app.py", "wsgi_app"),
    "GET /b/<token> view (ballot.show)": ("blueprints/ballot.py", "show"),
    "POST /b/<token> view (ballot.submit)": ("blueprints/ballot.py", "submit"),
    "  the page's data, one read (voting.ballot_page)": ("services/voting.py", "ballot_page"),
    "  the vote (voting.submit_ballot)": ("services/voting.py", "submit_ballot"),
    "    token lookup, one per request (vote_path.ballot_row)": (
        "services/vote_path.py",
        "ballot_row",
    ),
    "    the short write transaction (voting._record_fast)": (
        "services/voting.py",
        "_record_fast",
    ),
    "      of which: vote, answers, ballot (vote_path.insert_online_vote)": (
        "services/vote_path.py",
        "insert_online_vote",
    ),
    "      of which: audit event (audit.append)": ("services/audit.py", "append"),
    "  page rendering (flask render_template)": ("flask/templating.py", "render_template"),
    "ORM statements (Session._execute_internal)": ("orm/session.py", "_execute_internal"),
    "Core statements (Connection._execute_context)": ("engine/base.py", "_execute_context"),
    "SQLite commit (fsync)": ("~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    "CSRF check (flask_wtf csrf_protect)": ("flask_wtf/csrf.py", "csrf_protect"),
    "session cookie load (flask sessions)": ("flask/sessions.py", "open_session"),
    "session cookie save": ("flask/sessions.py", "save_session"),
    "translations (flask_babel gettext, template catalog)": (
        "flask_babel/__init__.py",
        "get_translations",
    ),
}


def profile(args, tmp: Path) -> None:
    """cProfile of the full app in-process: GET ballot + POST vote, one thread."""
    import os
    import random
    import re

    url = f"sqlite:///{tmp / 'profile.sqlite3'}"
    electorate = loadlib.prepare(url, households=args.profile_votes, revoke=0)
    os.environ.update({"DATABASE_URL": url, "RATELIMIT_ENABLED": "0"})
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex)
    from residents_vote import create_app

    app = create_app()
    client = app.test_client()
    tokens = list(electorate.live.values())
    rng = random.Random(1)

    def votes() -> None:
        for token in tokens:
            page = client.get(f"/b/{token}").get_data(as_text=True)
            csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            form = {"csrf_token": csrf, "confirm": "yes"}
            form.update({f"q{n}": rng.choice(loadlib.CHOICES) for n in (1, 2)})
            assert client.post(f"/b/{token}", data=form).status_code == 303

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(votes)
    elapsed = time.perf_counter() - start
    print(f"\nprofile: {len(tokens)} votes (GET + POST) in {elapsed:.1f} s in-process, one thread")
    stats = pstats.Stats(profiler)
    print(f"--- where a vote's time goes (ms per vote, cumulative, {len(tokens)} votes) ---")
    for label, (path, name) in BREAKDOWN.items():
        total = sum(
            ct
            for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
            if func == name and file.endswith(path)
        )
        print(f"  {label:68} {total * 1000 / len(tokens):7.2f}")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(25)
        print(f"--- top 25 by {order} ---")
        print("\n".join(out.getvalue().splitlines()[6:40]))
    app.extensions["rv_db"].engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--households", type=int, default=1800)
    parser.add_argument("--total", type=int, default=2000)
    parser.add_argument("--dups", type=int, default=100)
    parser.add_argument("--revoked", type=int, default=100)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pg-dir", default="/tmp/bench-pg2")
    parser.add_argument("--pg-port", type=int, default=55434)
    parser.add_argument("--pg-url", help="an existing PostgreSQL server (admin database URL)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-votes", type=int, default=300)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="vote-bench-"))
    print(
        f"vote load: {args.total} requests ({args.dups} households raced by 3 requests, "
        f"{args.revoked} revoked tokens), {args.clients} clients, gunicorn {args.workers} sync "
        f"workers, {args.rounds} round(s); python {sys.version.split()[0]}",
        flush=True,
    )
    results: dict[str, dict[str, dict]] = {}
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    try:
        # The cluster starts first: thousands of loopback connections later leave many
        # ports in TIME_WAIT, one of which may be the cluster's.
        with contextlib.ExitStack() as stack:
            base = stack.enter_context(postgres(args)) if "postgresql" in kinds else None
            if "sqlite" in kinds:
                results["sqlite"] = bench_database("sqlite", None, args, tmp)
            if base:
                results["postgresql"] = bench_database("postgresql", base, args, tmp)
        print("\nresult (median round)")
        for kind, apps in results.items():
            full, bare = apps["full"], apps["bare"]
            for app in ("full", "bare"):
                print(f"  {kind:10} {app}: {line(apps[app])}")
            ratio = full["votes_per_s"] / bare["votes_per_s"] if bare["votes_per_s"] else 0
            print(
                f"  {kind:10} full/bare: votes/s {ratio:.2f}, "
                f"p50 {full['p50_ms'] / bare['p50_ms']:.2f}x, "
                f"p99 {full['p99_ms'] / bare['p99_ms']:.2f}x"
            )
        if args.profile:
            profile(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if any(s["problems"] for apps in results.values() for s in apps.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
