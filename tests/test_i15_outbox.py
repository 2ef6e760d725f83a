"""Issue 15 items 1 and 3: the outbox worker against the file:// backend, `ballots send`,
`messages list`, reminders."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from residents_vote.messages import backends, links, outbox
from residents_vote.models import Message, utcnow
from tests import factories
from tests.helpers import cli, count, ok, read, refused, write


@pytest.fixture
def sms_file(app, tmp_path):
    path = tmp_path / "sms.jsonl"
    app.config["SMS_BACKEND"] = f"file://{path}"
    return path


def lines(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def store(app):
    return app.extensions["rv_db"].store


def test_send_queues_per_phone_and_the_worker_sends_each_once(app, runner, world, sms_file):
    out = ok(cli(runner, "ballots", "send", world.proposal_id))
    assert out.strip() == "queued 2, no phone 1"
    assert lines(sms_file) == []  # queued, not sent
    assert ok(cli(runner, "messages", "send", "--once")).strip().startswith("sent 2")
    sent = lines(sms_file)
    assert [m["to"] for m in sent] == ["13800001234", "13900005678"]
    assert {m["kind"] for m in sent} == {"ballot-link"}
    assert set(sent[0]) == {"to", "kind", "text", "params"}
    # the existing live ballot's link is sent (its printed copy stays valid)
    assert sent[0]["params"]["link"].endswith(world.url("1-1-101"))
    assert world.url("1-1-101") in sent[0]["text"]
    assert factories.TITLE in sent[0]["text"]
    # a second run sends nothing again
    ok(cli(runner, "messages", "send", "--once"))
    assert len(lines(sms_file)) == 2
    listed = json.loads(ok(cli(runner, "messages", "list", world.proposal_id, "--json")))
    assert [(m["household"], m["phone"], m["status"], m["tries"]) for m in listed] == [
        ("1-1-101", "*******1234", "sent", 1),
        ("1-1-102", "*******5678", "sent", 1),
    ]
    assert set(listed[0]) == {"household", "phone", "kind", "status", "tries", "error"}
    # sent messages keep no link
    with read(app) as s:
        assert {m.text for m in s.query(Message)} == {""}


def test_send_refuses_a_second_send_within_24_hours(app, runner, world, sms_file):
    ok(cli(runner, "ballots", "send", world.proposal_id))
    refused(cli(runner, "ballots", "send", world.proposal_id), "24 hours", "1-1-101")
    assert count(app, Message) == 2
    assert ok(cli(runner, "ballots", "send", world.proposal_id, "--force")).strip() == (
        "queued 2, no phone 1"
    )
    assert count(app, Message) == 4
    # a day later it may be sent again without --force
    app.config["CLOCK"] = lambda: utcnow() + dt.timedelta(hours=25)
    assert ok(cli(runner, "ballots", "send", world.proposal_id)).startswith("queued 2")


def test_send_issues_a_ballot_first_and_filters(app, runner, sms_file):
    w = factories.voting_world(app, issue=False)
    out = ok(cli(runner, "ballots", "send", w.proposal_id, "--households", "1-1-102,2-1-201"))
    assert out.strip() == "queued 1, no phone 1"
    ok(cli(runner, "messages", "send", "--once"))
    (msg,) = lines(sms_file)
    assert msg["to"] == "13900005678" and "/b/" in msg["params"]["link"]
    token = msg["params"]["link"].rsplit("/b/", 1)[1]
    page = app.test_client().get(f"/b/{token}")
    assert page.status_code == 200
    refused(cli(runner, "ballots", "send", w.proposal_id, "--households", "9-9-999"), "9-9-999")
    # --unvoted skips a household that has voted
    factories.cast(app, w.proposal_id, "1-1-101")
    out = ok(cli(runner, "ballots", "send", w.proposal_id, "--unvoted", "--force"))
    assert out.strip() == "queued 1, no phone 1"


def test_send_refused_when_not_open(app, runner, sms_file):
    w = factories.voting_world(app, open_vote=False)
    refused(cli(runner, "ballots", "send", w.proposal_id), "voting is open")


class Flaky:
    """Fails `failures` times with a retryable error, then sends (to a file backend)."""

    def __init__(self, path, failures: int, retry: bool = True):
        self.inner = backends.FileBackend(path)
        self.failures = failures
        self.retry = retry

    def send(self, message):
        if self.failures:
            self.failures -= 1
            raise backends.SendError("isv.BUSINESS_LIMIT_CONTROL: throttled", retry=self.retry)
        self.inner.send(message)


def test_failed_send_is_retried_with_back_off_then_sent(app, runner, world, sms_file):
    ok(cli(runner, "ballots", "send", world.proposal_id, "--households", "1-1-101"))
    backend = Flaky(sms_file, failures=2)
    t0 = utcnow()
    report = outbox.send_due(store(app), backend, now=t0)
    assert (report.sent, report.retried) == (0, 1)
    assert outbox.send_due(store(app), backend, now=t0 + dt.timedelta(seconds=10)).sent == 0
    assert outbox.send_due(store(app), backend, now=t0 + dt.timedelta(seconds=31)).retried == 1
    with read(app) as s:
        m = s.query(Message).one()
        assert (m.status, m.tries) == ("queued", 2)
        assert "throttled" in m.error
    assert outbox.send_due(store(app), backend, now=t0 + dt.timedelta(minutes=2)).sent == 1
    assert len(lines(sms_file)) == 1


def test_at_most_five_tries_then_failed_with_the_message(app, runner, world, sms_file):
    ok(cli(runner, "ballots", "send", world.proposal_id, "--households", "1-1-101"))
    backend = Flaky(sms_file, failures=99)
    t = utcnow()
    for _ in range(5):
        outbox.send_due(store(app), backend, now=t)
        t += dt.timedelta(hours=1)
    listed = json.loads(ok(cli(runner, "messages", "list", world.proposal_id, "--json")))
    assert [(m["status"], m["tries"]) for m in listed] == [("failed", 5)]
    assert "throttled" in listed[0]["error"]
    assert outbox.send_due(store(app), backend, now=t + dt.timedelta(days=1)).failed == 0


def test_refusal_that_cannot_be_cured_fails_at_once(app, runner, world, sms_file):
    ok(cli(runner, "ballots", "send", world.proposal_id, "--households", "1-1-101"))
    outbox.send_due(store(app), Flaky(sms_file, failures=1, retry=False), now=utcnow())
    listed = json.loads(ok(cli(runner, "messages", "list", world.proposal_id, "--json")))
    assert [(m["status"], m["tries"]) for m in listed] == [("failed", 1)]


def test_two_workers_racing_send_each_message_once(app, runner, sms_file):
    rows = [("1", "1", str(100 + i), "80.00", "", f"1380000{i:04d}") for i in range(40)]
    w = factories.voting_world(app, rows=rows)
    assert ok(cli(runner, "ballots", "send", w.proposal_id)).startswith("queued 40")
    backend = backends.FileBackend(sms_file)
    now = utcnow()
    errors = []

    def work():
        try:
            outbox.send_due(store(app), backend, now=now)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sent = [m["to"] for m in lines(sms_file)]
    assert len(sent) == 40 and len(set(sent)) == 40


def test_a_killed_worker_link_resent_after_the_lease_code_not(app, runner, world, sms_file):
    ok(cli(runner, "ballots", "send", world.proposal_id, "--households", "1-1-101"))
    with write(app) as s:
        outbox.queue(s, proposal_id=world.proposal_id, household_id=s.query(Message).one()
                     .household_id, ballot_id=None, phone="13800001234", kind="code",
                     text="code 123456", params={"code": "123456"}, now=utcnow())
    t0 = utcnow()
    claimed = outbox.claim(store(app), now=t0)  # the worker claims, then dies: never records
    assert len(claimed) == 2
    backend = backends.FileBackend(sms_file)
    assert outbox.send_due(store(app), backend, now=t0 + dt.timedelta(minutes=1)).sent == 0
    report = outbox.send_due(store(app), backend, now=t0 + outbox.LEASE + dt.timedelta(seconds=1))
    assert report.sent == 1
    assert [m["kind"] for m in lines(sms_file)] == ["ballot-link"]
    listed = json.loads(ok(cli(runner, "messages", "list", world.proposal_id, "--json")))
    assert [(m["kind"], m["status"]) for m in listed] == [("ballot-link", "sent"),
                                                         ("code", "failed")]
    assert "unknown outcome" in listed[1]["error"]
    # the dead worker's late record does not overwrite
    assert outbox.record(store(app), claimed[1], None, now=t0) == "lost"


def test_outbox_backend_sends_nothing(app, runner, world):
    ok(cli(runner, "ballots", "send", world.proposal_id))
    refused(cli(runner, "messages", "send", "--once"), "outbox")
    listed = json.loads(ok(cli(runner, "messages", "list", world.proposal_id, "--json")))
    assert {m["status"] for m in listed} == {"queued"}


def test_messages_list_unknown_proposal(runner, app):
    refused(cli(runner, "messages", "list", 999), "999")


def test_one_reminder_on_the_chosen_day_to_non_voters_with_phone(app, runner, world, sms_file):
    factories.cast(app, world.proposal_id, "1-1-102")
    with app.app_context():
        day = links.set_reminder(store(app), world.proposal_id, None, actor="staff1")
    with read(app) as s:
        from residents_vote.models import Proposal

        closes = s.get(Proposal, world.proposal_id).closes_at
    assert day == (closes.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
                   - dt.timedelta(days=3))
    before = dt.datetime.combine(day, dt.time(12), dt.timezone(dt.timedelta(hours=8)))
    before -= dt.timedelta(days=1)
    app.config["CLOCK"] = lambda: before
    ok(cli(runner, "messages", "send", "--once"))
    assert lines(sms_file) == []
    app.config["CLOCK"] = lambda: before + dt.timedelta(days=1)
    ok(cli(runner, "messages", "send", "--once"))
    ok(cli(runner, "messages", "send", "--once"))
    sent = lines(sms_file)
    assert [(m["to"], m["kind"]) for m in sent] == [("13800001234", "reminder")]
