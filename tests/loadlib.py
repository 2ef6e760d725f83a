"""Load generator shared by tests/test_load.py and bench/vote_load.py.

Everything runs on loopback only: real gunicorn servers started on free 127.0.0.1
ports, clients using http.client, every loop bounded in count and time.

    db = prepare(url, households=1800, revoke=100)     # community, open proposal, ballots
    jobs = make_jobs(db, total=2000, dup_groups=100, dup_extra=2, revoked=100)
    with Server(url, port=free_port(), workers=4) as server:
        outcomes = run_load(jobs, [server.port], concurrency=50)
    problems = check(url, db, outcomes)                 # [] when every promise held

A vote is what a resident's phone does: GET the ballot page (which sets the session
cookie and carries the CSRF token), then POST the answers with `confirm=yes`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import queue
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
if not GUNICORN.exists():  # not run from the venv's python: the one on PATH
    GUNICORN = Path(shutil.which("gunicorn") or GUNICORN)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LOOPBACK = "127.0.0.1"
CHOICES = ("agree", "oppose", "abstain")


# --- the database under load ---------------------------------------------------------------


@dataclasses.dataclass
class Electorate:
    """What a prepared database holds: one open proposal and its ballot links."""

    database_url: str
    proposal_id: int
    public_id: str
    questions: int
    live: dict[int, str]  # household id -> live token
    revoked: dict[int, str]  # household id -> a token revoked by a reissue


def app_for(database_url: str):
    """An app on `database_url` for set-up and checks (not a server)."""
    from residents_vote import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secrets.token_hex(16),
            "DATABASE_URL": database_url,
            "PASSWORD_HASH": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False,
        }
    )


def register_csv(households: int) -> bytes:
    """A register of `households` flats: 6 floors x 4 rooms per unit, 3 units per building."""
    lines = ["building,unit,room,area,owner_name,phone"]
    for i in range(households):
        building, rest = divmod(i, 72)
        unit, rest = divmod(rest, 24)
        floor, room = divmod(rest, 4)
        area = 60 + (i * 37) % 90 + (i % 100) / 100
        lines.append(
            f"{building + 1},{unit + 1},{floor + 1}0{room + 1},{area:.2f},业主{i},1380000{i:04d}"
        )
    return ("\n".join(lines) + "\n").encode()


def prepare(
    database_url: str, *, households: int = 1800, revoke: int = 100, questions: int = 2
) -> Electorate:
    """Migrate, then a community with `households` flats, an open proposal, every ballot
    issued and `revoke` of them reissued (their first token is then revoked)."""
    from residents_vote import db as dbmod
    from residents_vote.cli import upgrade_database
    from residents_vote.services import ballots, communities, proposals
    from residents_vote.services import households as register

    app = app_for(database_url)
    try:
        upgrade_database(app)
        dbmod.set_write_intent(False)  # migrations leave it set (see tests/test_db.py)
        factory = app.extensions["rv_db"].factory
        with app.app_context():
            with dbmod.write_session(factory) as s:
                community = communities.create_community(s, "load", "压测小区", actor="load")
                rows = register.parse_file("load.csv", register_csv(households))
                register.import_rows(s, community, rows, actor="load")
                draft = proposals.Draft(
                    title="加装电梯与外墙改造",
                    stage="design",
                    questions=[f"问题 {n}" for n in range(1, questions + 1)],
                )
                proposal = proposals.create(s, community, draft, actor="load")
                proposals.open_vote(s, proposal, actor="load")
                issued = ballots.issue(s, proposal, actor="load")
                proposal_id, public_id = proposal.id, proposal.public_id
            live = {i.household_id: i.token for i in issued}
            chosen = [i.code for i in issued[:revoke]]
            revoked = {i.household_id: i.token for i in issued[:revoke]}
            if chosen:
                with dbmod.write_session(factory) as s:
                    locked = proposals.lock(s, proposal_id)
                    for i in ballots.reissue(s, locked, chosen, actor="load"):
                        live[i.household_id] = i.token
    finally:
        app.extensions["rv_db"].engine.dispose()
    return Electorate(database_url, proposal_id, public_id, questions, live, revoked)


# --- jobs and outcomes ----------------------------------------------------------------------


@dataclasses.dataclass
class Job:
    kind: str  # "vote" (a household's first request), "dup" (a racing duplicate), "revoked"
    household_id: int
    token: str
    group: int | None = None  # the requests racing for one household share a group
    barrier: threading.Barrier | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass
class Outcome:
    job: Job
    get_status: int | None = None
    post_status: int | None = None
    latency: float | None = None  # seconds, the POST alone
    error: str | None = None
    sent: bool = False  # the POST left this client (its outcome may be unknown)
    port: int | None = None


def make_jobs(
    electorate: Electorate,
    *,
    total: int,
    dup_groups: int = 0,
    dup_extra: int = 2,
    revoked: int = 0,
    seed: int = 8,
) -> list[Job]:
    """`total` requests: single votes, `dup_groups` households each sent 1 + `dup_extra`
    racing requests, and `revoked` requests with revoked tokens. The requests of one
    group are adjacent, so that concurrent clients send them together."""
    rng = random.Random(seed)
    singles = total - dup_groups * (1 + dup_extra) - revoked
    households = sorted(electorate.live)
    rng.shuffle(households)
    if singles < 0 or singles + dup_groups > len(households):
        raise ValueError("not enough households for this load")
    if revoked > len(electorate.revoked):
        raise ValueError("not enough revoked tokens for this load")
    units: list[list[Job]] = []
    for hid in households[:singles]:
        units.append([Job("vote", hid, electorate.live[hid])])
    for g, hid in enumerate(households[singles : singles + dup_groups]):
        barrier = threading.Barrier(1 + dup_extra, timeout=30)
        group = [Job("vote", hid, electorate.live[hid], g, barrier)]
        group += [Job("dup", hid, electorate.live[hid], g, barrier) for _ in range(dup_extra)]
        units.append(group)
    for hid in sorted(electorate.revoked)[:revoked]:
        units.append([Job("revoked", hid, electorate.revoked[hid])])
    rng.shuffle(units)
    return [job for unit in units for job in unit]


# --- HTTP -----------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def _cookie(headers: dict[str, str]) -> str:
    raw = headers.get("set-cookie", "")
    return raw.split(";", 1)[0] if raw.startswith("session=") else ""


def vote(
    job: Job,
    port: int,
    questions: int,
    rng: random.Random,
    timeout: float,
    post_port: int | None = None,
) -> Outcome:
    """GET the ballot (session cookie + CSRF token), then POST the answers with confirm=yes
    (to `post_port` when given: another server of the same install)."""
    out = Outcome(job, port=post_port or port)
    path = f"/b/{job.token}"
    try:
        status, headers, page = request(port, "GET", path, timeout=timeout)
        out.get_status = status
        cookie = _cookie(headers)
        match = CSRF_RE.search(page.decode("utf-8", "replace"))
        if match is None:  # a revoked link or a vote already cast: no form on that page
            _, headers, page = request(port, "GET", "/login", timeout=timeout)
            cookie = _cookie(headers)
            match = CSRF_RE.search(page.decode("utf-8", "replace"))
        fields = {"csrf_token": match.group(1) if match else ""}
        fields.update({f"q{n}": rng.choice(CHOICES) for n in range(1, questions + 1)})
        fields["confirm"] = "yes"
        if job.barrier is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                job.barrier.wait()
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        if cookie:
            hdrs["Cookie"] = cookie
        start = time.perf_counter()
        out.sent = True
        status, _, _ = request(
            post_port or port,
            "POST",
            path,
            body=urlencode(fields).encode(),
            headers=hdrs,
            timeout=timeout,
        )
        out.latency = time.perf_counter() - start
        out.post_status = status
    except (OSError, http.client.HTTPException) as exc:
        out.error = f"{type(exc).__name__}: {exc}"
        if job.barrier is not None and out.post_status is None and not out.sent:
            job.barrier.abort()  # do not keep the other racers waiting for this one
    return out


@dataclasses.dataclass
class Run:
    outcomes: list[Outcome]
    elapsed: float
    unsent: int  # jobs not started before the deadline


def run_load(
    jobs: list[Job],
    ports: list[int],
    questions: int,
    *,
    concurrency: int = 50,
    deadline: float = 240,
    timeout: float = 60,
    on_outcome: Callable[[Outcome], None] | None = None,
    seed: int = 8,
    cross: bool = False,
) -> Run:
    """Send every job from `concurrency` client threads; job i goes to ports[i % len].
    With `cross`, the POST goes to the next port: the page was served by one server and
    the form is accepted by another (same SECRET_KEY)."""
    work: queue.Queue[tuple[int, Job]] = queue.Queue()
    for i, job in enumerate(jobs):
        work.put((i, job))
    results: list[Outcome] = []
    lock = threading.Lock()
    start = time.monotonic()
    stop_at = start + deadline

    def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        while time.monotonic() < stop_at:
            try:
                i, job = work.get_nowait()
            except queue.Empty:
                return
            port = ports[i % len(ports)]
            post_port = ports[(i + 1) % len(ports)] if cross else None
            out = vote(job, port, questions, rng, timeout, post_port)
            with lock:
                results.append(out)
            if on_outcome is not None:
                on_outcome(out)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, stop_at - time.monotonic()) + timeout + 5)
    elapsed = time.monotonic() - start
    with lock:
        return Run(list(results), elapsed, work.qsize())


# --- checks ------------------------------------------------------------------------------------


def votes_in_db(database_url: str, proposal_id: int) -> dict[int, tuple[int | None, str]]:
    """household id -> (ballot id, token hash of that ballot) for every recorded vote."""
    from sqlalchemy import create_engine, text

    engine = create_engine(_plain(database_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT v.household_id, v.ballot_id, b.token_hash FROM vote v "
                    "LEFT JOIN ballot b ON b.id = v.ballot_id WHERE v.proposal_id = :p"
                ),
                {"p": proposal_id},
            ).all()
            return {r[0]: (r[1], r[2]) for r in rows} if rows else {}
    finally:
        engine.dispose()


def vote_count(database_url: str, proposal_id: int) -> tuple[int, int]:
    """(votes, distinct households) recorded for the proposal."""
    from sqlalchemy import create_engine, text

    engine = create_engine(_plain(database_url))
    try:
        with engine.connect() as conn:
            return tuple(
                conn.execute(
                    text(
                        "SELECT COUNT(*), COUNT(DISTINCT household_id) FROM vote "
                        "WHERE proposal_id = :p"
                    ),
                    {"p": proposal_id},
                ).one()
            )
    finally:
        engine.dispose()


def receipt_codes(database_url: str, proposal_id: int) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(_plain(database_url))
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT receipt_code FROM vote WHERE proposal_id = :p ORDER BY id"),
                    {"p": proposal_id},
                ).scalars()
            )
    finally:
        engine.dispose()


def _plain(url: str) -> str:
    return (
        "postgresql+psycopg://" + url[len("postgresql://") :]
        if url.startswith("postgresql://")
        else url
    )


def check(electorate: Electorate, run: Run, *, expect_complete: bool = True) -> list[str]:
    """Every promise of the vote under load; an empty list when all held."""
    from residents_vote.services.ballots import hash_token

    problems: list[str] = []
    outcomes = run.outcomes
    if expect_complete and run.unsent:
        problems.append(f"{run.unsent} jobs were not sent before the deadline")
    errors = [o for o in outcomes if o.error]
    if expect_complete and errors:
        problems.append(f"{len(errors)} requests failed, e.g. {errors[0].error}")
    server_errors = [
        o for o in outcomes if (o.get_status or 0) >= 500 or (o.post_status or 0) >= 500
    ]
    if server_errors:
        o = server_errors[0]
        problems.append(
            f"{len(server_errors)} 5xx answers, e.g. GET {o.get_status} / POST "
            f"{o.post_status} for a {o.job.kind} job"
        )
    count, distinct = vote_count(electorate.database_url, electorate.proposal_id)
    if count != distinct:
        problems.append(f"{count} votes for {distinct} households: a household voted twice")
    recorded = votes_in_db(electorate.database_url, electorate.proposal_id)
    accepted = [o for o in outcomes if o.post_status == 303]
    for o in accepted:
        got = recorded.get(o.job.household_id)
        if got is None or got[1] != hash_token(o.job.token):
            problems.append(f"household {o.job.household_id}: answered 303 but no vote is stored")
    accepted_households = {o.job.household_id for o in accepted}
    extra = set(recorded) - {o.job.household_id for o in outcomes if o.sent}
    if extra:
        problems.append(f"{len(extra)} votes stored for households nobody voted for")
    if expect_complete and set(recorded) != accepted_households:
        problems.append(
            f"{len(set(recorded) ^ accepted_households)} households differ between "
            "stored votes and 303 answers"
        )
    for o in outcomes:
        if o.job.kind == "revoked" and o.post_status is not None and o.post_status != 410:
            problems.append(f"revoked token answered {o.post_status}, not 410")
        if o.job.kind == "vote" and o.job.group is None and o.post_status not in (None, 303):
            problems.append(f"a first vote answered {o.post_status}, not 303")
    groups: dict[int, list[Outcome]] = {}
    for o in outcomes:
        if o.job.group is not None:
            groups.setdefault(o.job.group, []).append(o)
    for g, members in groups.items():
        statuses = Counter(o.post_status for o in members)
        if expect_complete and (statuses[303] != 1 or statuses[409] != len(members) - 1):
            problems.append(f"duplicate group {g}: answers {dict(statuses)}, want one 303")
        elif statuses[303] > 1:
            problems.append(f"duplicate group {g}: {statuses[303]} requests answered 303")
    return problems[:20]


def summary(run: Run) -> dict[str, float]:
    latencies = sorted(o.latency for o in run.outcomes if o.latency is not None)
    votes = sum(1 for o in run.outcomes if o.post_status == 303)

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(run.outcomes),
        "votes": votes,
        "seconds": run.elapsed,
        "votes_per_s": votes / run.elapsed if run.elapsed else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "statuses": dict(Counter(o.post_status for o in run.outcomes)),
    }


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn (sync workers, gunicorn.conf.py) in its own process group on loopback."""

    def __init__(
        self,
        database_url: str,
        *,
        port: int | None = None,
        workers: int = 4,
        app: str = "app:create_app()",
        secret_key: str | None = None,
        log: Path | None = None,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.workers = workers
        self.app = app
        self.secret_key = secret_key or secrets.token_hex(32)
        self.log = log
        self.extra_args = extra_args
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self._log_fh = None

    def start(self, ready_timeout: float = 60) -> Server:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "SECRET_KEY": self.secret_key,
                "RATELIMIT_ENABLED": "0",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.env)
        cmd = [
            str(GUNICORN),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-b",
            f"{LOOPBACK}:{self.port}",
            "-w",
            str(self.workers),
            *self.extra_args,
            self.app,
        ]
        self._log_fh = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes master and workers
        )
        stop_at = time.monotonic() + ready_timeout
        while time.monotonic() < stop_at:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}: {self.tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if request(self.port, "GET", "/healthz", timeout=2)[0] == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn not ready after {ready_timeout}s: {self.tail()}")

    def tail(self, lines: int = 30) -> str:
        if not self.log or not Path(self.log).exists():
            return ""
        text = Path(self.log).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def kill(self) -> None:
        """kill -9 the whole process group: master and workers, no clean-up."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close_log()

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        # workers left behind by a master that died first
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_fh not in (None, subprocess.DEVNULL):
            self._log_fh.close()
        self._log_fh = None

    def __enter__(self) -> Server:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def servers(*items: Server) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for s in items:
            started.append(s.start())
        yield started
    finally:
        for s in started:
            s.stop()
