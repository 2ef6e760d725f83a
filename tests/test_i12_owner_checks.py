"""Issue 12 item 8: wrong owner checks (phone4) are counted per ballot in the database.

At most 5 wrong answers per hour per ballot, across every worker and every app server
(CONTRACT.md "Configuration", rate limits); then 429 for that ballot until the hour has
passed, with a page that says where to get a paper ballot. The generic failure counter
(services.failures) is tested here too. The clock is injected (config CLOCK).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from residents_vote import create_app
from residents_vote.models import AttemptFailure, Community, Vote
from residents_vote.services import failures
from tests import factories
from tests.helpers import TEST_CONFIG, Clock, count, csrf_token, english, read, write

BOTH_AGREE = {"q1": "agree", "q2": "agree"}
HOUSEHOLD = "1-1-101"  # phone ending 1234
OFFICE = "幸福里社区居委会（幸福路 12 号一楼）"




@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def servers(migrated_url, clock):
    """Two app servers on one database, each with its own in-memory limiter storage."""
    apps = [
        create_app(
            {
                **TEST_CONFIG,
                "DATABASE_URL": migrated_url,
                "RATELIMIT_ENABLED": True,
                "RATELIMIT_STORAGE_URI": "memory://",
                "CLOCK": clock,
            }
        )
        for _ in range(2)
    ]
    yield apps
    for app in apps:
        app.extensions["rv_db"].engine.dispose()


def submit(client, url: str, phone4: str, *, confirm: bool = True):
    html = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), **BOTH_AGREE, "phone4": phone4}
    if confirm:
        data["confirm"] = "yes"
    return client.post(url, data=data)


def phone_world(app):
    world = factories.voting_world(app, verify="phone4")
    with write(app) as s:
        s.scalar(select(Community).where(Community.slug == world.slug)).office = OFFICE
    return world


def test_six_wrong_answers_over_two_servers_get_429_from_the_sixth(servers, clock):
    one, two = servers
    world = phone_world(one)
    clients = [english(one.test_client()), english(two.test_client())]
    url = world.url(HOUSEHOLD)
    statuses = []
    for attempt in range(6):
        statuses.append(submit(clients[attempt % 2], url, "0000").status_code)
        clock.advance(minutes=1)
    assert statuses == [422] * 5 + [429]
    # The right digits wait too, on either server; nothing is recorded.
    for client in clients:
        response = submit(client, url, "1234")
        assert response.status_code == 429
        page = response.get_data(as_text=True)
        assert OFFICE in page  # where to get a paper ballot
        assert "paper ballot" in page
        assert response.headers.get("Retry-After")
    assert count(one, Vote) == 0
    # Another household's ballot is not affected.
    assert submit(clients[1], world.url("1-1-102"), "5678").status_code == 303
    # 59 minutes after the first wrong answer: still refused.
    clock.now = clock.now - dt.timedelta(minutes=6) + dt.timedelta(minutes=59)
    assert submit(clients[0], url, "1234").status_code == 429
    # Once the hour since the first failure has passed, one more try is allowed: a right
    # answer records the vote.
    clock.advance(minutes=1, seconds=1)
    assert submit(clients[1], url, "1234").status_code == 303
    assert count(one, Vote) == 2


def test_the_confirmation_step_counts_and_refuses_too(servers, clock):
    one, two = servers
    world = phone_world(one)
    url = world.url(HOUSEHOLD)
    client = english(one.test_client())
    for _ in range(5):
        assert submit(client, url, "9999", confirm=False).status_code == 422
    assert submit(english(two.test_client()), url, "1234", confirm=False).status_code == 429
    with read(one) as s:
        rows = s.scalars(select(AttemptFailure)).all()
    assert len(rows) == 5
    assert {r.kind for r in rows} == {"owner-check"}
    assert HOUSEHOLD not in {r.target for r in rows}  # the ballot id, not a household code


def test_rate_limits_off_records_nothing(app):
    # The usual test app runs with RATELIMIT_ENABLED false (load tests only).
    world = phone_world(app)
    client = english(app.test_client())
    for _ in range(7):
        assert submit(client, world.url(HOUSEHOLD), "0000").status_code == 422
    assert count(app, AttemptFailure) == 0


# --- the failure counter service ------------------------------------------------------------


def test_failure_counter_counts_per_kind_and_target_since(app):
    t0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    with write(app) as s:
        for minute in range(3):
            failures.record(s, "owner-check", "ballot:1", now=t0 + dt.timedelta(minutes=minute))
        failures.record(s, "owner-check", "ballot:2", now=t0)
        failures.record(s, "login", "ballot:1", now=t0)
    with read(app) as s:
        assert failures.count(s, "owner-check", "ballot:1", since=t0) == 3
        assert failures.count(s, "owner-check", "ballot:1", since=t0 + dt.timedelta(minutes=1)) == 2
        assert failures.count(s, "owner-check", "ballot:2", since=t0) == 1
        assert failures.count(s, "login", "ballot:1", since=t0) == 1
        assert failures.count(s, "sms", "ballot:1", since=t0) == 0


def test_failure_limit_blocks_until_the_window_has_passed(app):
    t0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    with write(app) as s:
        for minute in range(5):
            assert failures.blocked_until(s, "owner-check", "b7", now=t0) is None
            failures.record(s, "owner-check", "b7", now=t0 + dt.timedelta(minutes=minute))
    with read(app) as s:
        later = t0 + dt.timedelta(minutes=10)
        assert failures.blocked_until(s, "owner-check", "b7", now=later) == t0 + dt.timedelta(
            hours=1
        )
        just_before = t0 + dt.timedelta(minutes=59, seconds=59)
        assert failures.blocked_until(s, "owner-check", "b7", now=just_before) is not None
        an_hour_later = t0 + dt.timedelta(hours=1)
        assert failures.blocked_until(s, "owner-check", "b7", now=an_hour_later) is None
        assert failures.blocked_until(s, "owner-check", "other", now=later) is None


def test_old_failures_are_cleaned_up(app):
    t0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    with write(app) as s:
        failures.record(s, "login", "x", now=t0)
        failures.record(s, "owner-check", "y", now=t0 + dt.timedelta(hours=1))
    assert count(app, AttemptFailure) == 2
    with write(app) as s:
        # Recording deletes every failure older than the retention period, of any kind.
        expired = t0 + failures.RETENTION + dt.timedelta(minutes=1)
        failures.record(s, "owner-check", "z", now=expired)
    with read(app) as s:
        assert sorted(r.target for r in s.scalars(select(AttemptFailure))) == ["y", "z"]
    with write(app) as s:
        removed = failures.purge(s, now=t0 + failures.RETENTION * 3)
    assert removed == 2
    assert count(app, AttemptFailure) == 0


def test_parallel_wrong_answers_never_exceed_the_limit(servers):
    """Ten wrong answers at once, on two servers: at most 5 are checked (and counted)."""
    import threading

    one, two = servers
    world = phone_world(one)
    url = world.url(HOUSEHOLD)
    clients = [english((one, two)[i % 2].test_client()) for i in range(10)]
    forms = []
    for client in clients:
        html = client.get(url).get_data(as_text=True)
        forms.append({"csrf_token": csrf_token(html), **BOTH_AGREE, "phone4": "0000"})
    statuses: list[int] = []
    start = threading.Barrier(len(clients))

    def post(client, data):
        start.wait()
        statuses.append(client.post(url, data=data).status_code)

    pairs = zip(clients, forms, strict=True)
    threads = [threading.Thread(target=post, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [422] * 5 + [429] * 5
    assert count(one, AttemptFailure) == 5
