"""Issue 12, items 1 and 2: the objection period runs from the posting, and a period whose
last day is a rest day (weekend or statutory holiday, per the official schedule with its
调休 working days) moves to the next working day (DOMAIN.md "Periods").
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from residents_vote.domain import periods
from residents_vote.services import proposals, results
from residents_vote.services.errors import Conflict, Invalid
from tests import factories
from tests.helpers import TEST_CONFIG, cli, login, read, refused, write

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def local(y, m, d, hh=0, mm=0, ss=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def closed_vote(app, closes: dt.datetime, objection_days: int = 7) -> int:
    """A vote whose window ended at `closes` (opened ten days before it)."""
    factories.community(app)
    factories.staff_user(app)
    return factories.proposal(
        app,
        opened_at=closes - dt.timedelta(days=10),
        starts=closes - dt.timedelta(days=10),
        closes=closes,
        objection_days=objection_days,
    )


def publish(app, pid: int, now: dt.datetime):
    """Staff publish the preliminary result at `now`; returns (objection end, revision JSON)."""
    with write(app) as s:
        p = proposals.lock(s, pid)
        row = results.close(s, p, actor="test", now=now)
        return p.objection_ends_at, json.loads(row.tally_json)


def finalize(app, pid: int, now: dt.datetime) -> None:
    with write(app) as s:
        results.finalize(s, proposals.lock(s, pid), actor="test", now=now)


# --- item 1: the objection period runs from the posting -------------------------------------


def test_a_late_published_result_keeps_its_full_objection_period(app):
    """Voting closed Monday 18:00; staff posted the result on Friday 10:00 (four days late).
    Art. 201: the period starts the day after the posting (Saturday 7 March) and its 7
    days end at 24:00 on Friday 13 March, not on the Monday counted from the close."""
    pid = closed_vote(app, local(2026, 3, 2, 18).astimezone(UTC))
    end, data = publish(app, pid, local(2026, 3, 6, 10).astimezone(UTC))
    assert end == local(2026, 3, 14).astimezone(UTC)
    assert data["objection_period"]["start"] == local(2026, 3, 7).astimezone(UTC).isoformat()
    assert data["objection_period"]["end"] == end.isoformat()
    assert data["published_at"] == local(2026, 3, 6, 10).astimezone(UTC).isoformat()
    with read(app) as s, app.app_context():
        assert results.local_end(proposals.get(s, pid).objection_ends_at) == "2026-03-13 24:00"
    with pytest.raises(Conflict):
        finalize(app, pid, local(2026, 3, 13, 23, 59, 59).astimezone(UTC))
    finalize(app, pid, local(2026, 3, 14).astimezone(UTC))


def test_a_result_published_after_the_old_period_would_have_ended_is_still_open(app):
    """Published 20 days after the close: objections are still accepted the next day."""
    pid = closed_vote(app, local(2026, 3, 2, 18).astimezone(UTC))
    published = local(2026, 3, 23, 9).astimezone(UTC)
    end, _ = publish(app, pid, published)
    assert end == local(2026, 3, 31).astimezone(UTC)
    with read(app) as s:
        p = proposals.get(s, pid)
        assert results.objection_window_open(p, published + dt.timedelta(days=1))


def test_finalize_never_follows_one_second_after_publishing(app):
    """The shortest period (1 day) published one second before midnight still runs a whole
    day after it: finalizing a second, or a minute, after the posting is refused."""
    pid = closed_vote(app, local(2026, 3, 2, 18).astimezone(UTC), objection_days=1)
    published = local(2026, 3, 3, 23, 59, 59).astimezone(UTC)
    end, _ = publish(app, pid, published)
    assert end == local(2026, 3, 5).astimezone(UTC)
    for later in (dt.timedelta(seconds=1), dt.timedelta(minutes=1), dt.timedelta(days=1)):
        with pytest.raises(Conflict):
            finalize(app, pid, published + later)


def test_a_corrected_revision_restarts_the_period_from_its_own_publication(app):
    pid = closed_vote(app, local(2026, 3, 2, 18).astimezone(UTC))
    publish(app, pid, local(2026, 3, 3, 9).astimezone(UTC))
    with write(app) as s:
        p = proposals.lock(s, pid)
        row = results.republish(
            s, p, "correction", actor="test", now=local(2026, 3, 10, 16).astimezone(UTC)
        )
        assert p.objection_ends_at == local(2026, 3, 18).astimezone(UTC)
        data = json.loads(row.tally_json)
        assert data["objection_period"]["start"] == local(2026, 3, 11).astimezone(UTC).isoformat()


def test_objection_days_zero_is_refused_by_the_service(app):
    factories.community(app)
    factories.staff_user(app)
    with pytest.raises(Invalid):
        factories.proposal(app, objection_days=0)
    factories.proposal(app, objection_days=1)


def test_objection_days_zero_exits_1_on_the_command_line(app, runner):
    factories.community(app)
    before = proposals_count(app)
    refused(
        cli(
            runner,
            "proposal",
            "create",
            "hx",
            "--title",
            "改造申请",
            "--stage",
            "application",
            "--question",
            "是否同意？",
            "--objection-days",
            "0",
        ),
        "at least 1",
    )
    assert proposals_count(app) == before


def proposals_count(app) -> int:
    with read(app) as s:
        return s.execute(text("SELECT COUNT(*) FROM proposal")).scalar_one()


def test_objection_days_zero_is_refused_by_the_staff_form(app, client):
    factories.community(app)
    factories.staff_user(app)
    client.set_cookie("lang", "en")
    assert login(client, "staff1").status_code == 303
    from tests.helpers import csrf_token

    html = client.get("/staff/c/hx/proposals/new").get_data(as_text=True)
    response = client.post(
        "/staff/c/hx/proposals/new",
        data={
            "csrf_token": csrf_token(html),
            "title": "改造申请",
            "stage": "application",
            "questions": "是否同意？",
            "rule": "seed",
            "objection_days": "0",
            "verify": "none",
        },
    )
    assert response.status_code == 422
    assert "at least 1" in response.get_data(as_text=True)
    assert proposals_count(app) == 0


def test_the_database_refuses_zero_objection_days(app):
    pid = closed_vote(app, local(2026, 3, 2, 18).astimezone(UTC))
    with pytest.raises(Exception), write(app) as s:  # noqa: B017 - IntegrityError or similar
        s.execute(text("UPDATE proposal SET objection_days = 0 WHERE id = :id"), {"id": pid})


def test_the_migration_turns_stored_zero_objection_days_into_one(database_url):
    """A database from before issue 12 may hold proposals with 0 objection days."""
    from alembic import command

    from residents_vote import create_app
    from residents_vote.cli import alembic_config

    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    engine = app.extensions["rv_db"].engine
    try:
        with app.app_context():
            command.upgrade(alembic_config(app), "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO community (id, slug, name, signatory, office, contact, "
                    "address, created_at) VALUES (1, 'hx', 'hx', 'owner-committee', '', '', '', "
                    "'2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO proposal (id, public_id, community_id, stage, title, body, "
                    "rule, headcount, status, scope, verify, objection_days, cancel_reason, "
                    "notice_revision, result_revision, budget_note, created_at) VALUES "
                    "(1, 'p1', 1, 'other', 't', '', 'seed', 'household', 'draft', '', 'none', "
                    "0, '', 0, 0, '', '2026-01-01 00:00:00')"
                )
            )
        with app.app_context():
            command.upgrade(alembic_config(app), "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT objection_days FROM proposal")).scalar_one() == 1
    finally:
        engine.dispose()


# --- item 2: rest days ---------------------------------------------------------------------


def test_a_saturday_last_day_moves_to_monday(app):
    """Posted Saturday 7 March 2026: the 7th day is Saturday 14 March, a rest day; the
    period ends at 24:00 on Monday 16 March."""
    pid = closed_vote(app, local(2026, 3, 6, 18).astimezone(UTC))
    end, data = publish(app, pid, local(2026, 3, 7, 10).astimezone(UTC))
    assert end == local(2026, 3, 17).astimezone(UTC)
    assert data["objection_period"]["end"] == end.isoformat()
    with app.app_context():
        assert results.local_end(end) == "2026-03-16 24:00"


def test_a_working_sunday_of_the_official_schedule_does_not_move(app):
    """Sunday 20 September 2026 is a working day (调休 for the National Day holiday):
    a period whose last day it is ends there."""
    pid = closed_vote(app, local(2026, 9, 12, 18).astimezone(UTC))
    end, _ = publish(app, pid, local(2026, 9, 13, 10).astimezone(UTC))
    assert end == local(2026, 9, 21).astimezone(UTC)


def test_a_national_holiday_last_day_moves_past_the_holiday(app):
    """Posted 24 September 2026: the 7th day is 1 October (National Day, 1-7 October in
    the official schedule); the period ends at 24:00 on Thursday 8 October."""
    pid = closed_vote(app, local(2026, 9, 23, 18).astimezone(UTC))
    end, _ = publish(app, pid, local(2026, 9, 24, 10).astimezone(UTC))
    assert end == local(2026, 10, 9).astimezone(UTC)


def test_a_configured_holiday_moves_the_end(app):
    app.config["HOLIDAYS"] = ["2026-03-18"]  # a Wednesday the operator adds
    pid = closed_vote(app, local(2026, 3, 10, 18).astimezone(UTC))
    end, _ = publish(app, pid, local(2026, 3, 11, 10).astimezone(UTC))
    assert end == local(2026, 3, 20).astimezone(UTC)


def test_a_configured_working_saturday_does_not_move(app):
    app.config["WORKDAYS"] = ["2026-03-14"]
    pid = closed_vote(app, local(2026, 3, 6, 18).astimezone(UTC))
    end, _ = publish(app, pid, local(2026, 3, 7, 10).astimezone(UTC))
    assert end == local(2026, 3, 15).astimezone(UTC)


def test_the_workdays_setting_is_read_from_the_environment(monkeypatch, tmp_path):
    from residents_vote import config

    monkeypatch.setenv("WORKDAYS", "2026-03-14, 2026-03-15")
    monkeypatch.setenv("HOLIDAYS", "2026-03-18")
    cfg = config.from_environment(tmp_path, with_secret=False)
    assert periods.parse_holidays(cfg["WORKDAYS"]) == {dt.date(2026, 3, 14), dt.date(2026, 3, 15)}
    assert periods.parse_holidays(cfg["HOLIDAYS"]) == {dt.date(2026, 3, 18)}


def test_the_service_calendar(app):
    from residents_vote.services import rest_days

    with app.app_context():
        rest = rest_days.current()
        assert rest(dt.date(2026, 3, 14))  # Saturday
        assert rest(dt.date(2026, 10, 1))  # National Day
        assert rest(dt.date(2026, 10, 5))  # Monday inside the National Day holiday
        assert not rest(dt.date(2026, 9, 20))  # working Sunday (调休)
        assert not rest(dt.date(2026, 3, 16))  # Monday
        assert rest(dt.date(2099, 3, 14))  # a year without schedule: weekends still rest
        assert not rest(dt.date(2099, 3, 16))
        assert rest_days.missing_years([dt.date(2026, 3, 1), dt.date(2099, 3, 1)]) == [2099]
        assert rest_days.missing_years([dt.date(2026, 3, 1)]) == []


def test_a_year_without_schedule_treats_weekends_as_rest_days(app):
    """2099 is not in the official schedule: Saturday 14 March 2099 still moves to Monday."""
    pid = closed_vote(app, local(2099, 3, 6, 18).astimezone(UTC))
    end, _ = publish(app, pid, local(2099, 3, 7, 10).astimezone(UTC))
    assert end == local(2099, 3, 17).astimezone(UTC)


def test_a_year_without_schedule_warns_on_the_staff_page(app, client):
    closes = local(2099, 3, 20, 18).astimezone(UTC)
    factories.community(app)
    factories.staff_user(app)
    pid = factories.proposal(
        app,
        opened_at=factories.ago(minutes=1),
        starts=closes - dt.timedelta(days=10),
        closes=closes,
    )
    covered = factories.proposal(  # posted in 2026: the official schedule covers it
        app,
        opened_at=local(2026, 2, 20).astimezone(UTC),
        starts=local(2026, 2, 20).astimezone(UTC),
        closes=local(2026, 3, 6, 18).astimezone(UTC),
    )
    publish(app, covered, local(2026, 3, 7, 10).astimezone(UTC))
    client.set_cookie("lang", "en")
    assert login(client, "staff1").status_code == 303
    warning = "official holiday schedule for 2099 is missing"
    assert warning in client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    page = client.get(f"/staff/proposals/{covered}").get_data(as_text=True)
    assert "official holiday schedule" not in page


# --- the pure domain -----------------------------------------------------------------------


def test_rest_days_domain_predicate():
    official = {dt.date(2026, 10, 1): True, dt.date(2026, 9, 20): False}.get
    rest = periods.RestDays(
        official=official,
        holidays=frozenset({dt.date(2026, 3, 18)}),
        workdays=frozenset({dt.date(2026, 3, 14)}),
    )
    assert rest(dt.date(2026, 10, 1))
    assert not rest(dt.date(2026, 9, 20))  # the schedule says working, although a Sunday
    assert rest(dt.date(2026, 3, 18))  # configured holiday
    assert not rest(dt.date(2026, 3, 14))  # configured working Saturday
    assert rest(dt.date(2026, 3, 21))  # no schedule answer: a Saturday is a rest day
    assert not rest(dt.date(2026, 3, 19))


def test_period_end_takes_a_rest_day_predicate():
    rest = periods.RestDays()
    end = periods.period_end(local(2026, 3, 7, 10), 7, SH, rest)
    assert end == local(2026, 3, 17).astimezone(UTC)


def test_a_period_has_at_least_one_day():
    with pytest.raises(ValueError):
        periods.period_end(local(2026, 3, 7, 10), 0, SH)
    with pytest.raises(ValueError):
        periods.period_start(local(2026, 3, 7, 10), 0, SH)
