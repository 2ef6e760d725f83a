"""Issue 15 item 4: `--verify sms` over HTTP (the browser journey is in
tests/e2e/test_i15_sms_journey.py): send code, 6 digits valid 10 minutes, stored hashed,
3 codes per hour, wrong/missing/expired 422 counted with the owner-check limit, 6th 429,
no phone: paper; refused while SMS_BACKEND is outbox."""

from __future__ import annotations

import json

import pytest

from residents_vote.messages import outbox
from residents_vote.models import AuditEvent, Message, SmsCode, Vote
from tests import factories
from tests.helpers import PROPOSAL_CREATE, Clock, cli, count, csrf_token, ok, read, refused

BOTH = {"q1": "agree", "q2": "agree"}




@pytest.fixture
def sms(app, tmp_path):
    path = tmp_path / "sms.jsonl"
    app.config.update(SMS_BACKEND=f"file://{path}", RATELIMIT_ENABLED=True)
    world = factories.voting_world(app, verify="sms")
    clock = Clock()  # after the opening: voting has started
    app.config["CLOCK"] = clock
    return world, path, clock


def deliver(app, clock) -> list[dict]:
    """Run the worker once; the codes sent so far (newest last)."""
    outbox.send_due(app.extensions["rv_db"].store, now=clock())
    path = app.config["SMS_BACKEND"][len("file://"):]
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def ask_code(client, url: str):
    html = client.get(url).get_data(as_text=True)
    return client.post(f"{url}/code", data={"csrf_token": csrf_token(html)})


def vote(client, url: str, code: str | None, confirm: bool = True):
    html = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), **BOTH}
    if code is not None:
        data["sms_code"] = code
    if confirm:
        data["confirm"] = "yes"
    return client.post(url, data=data)


def test_refused_while_the_backend_is_outbox(app, runner):
    factories.community(app)
    refused(cli(runner, *PROPOSAL_CREATE, "--verify", "sms"), "outbox")
    app.config["SMS_BACKEND"] = "file:///tmp/never-written.jsonl"
    assert ok(cli(runner, *PROPOSAL_CREATE, "--verify", "sms")).strip().isdigit()


def test_code_sent_then_the_vote_is_recorded(app, client, sms):
    world, _path, clock = sms
    url = world.url("1-1-101")
    page = client.get(url).get_data(as_text=True)
    assert f'action="{url}/code"' in page and 'name="sms_code"' in page
    response = ask_code(client, url)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{url}?code=sent")
    assert 'id="code-sent"' in client.get(f"{url}?code=sent").get_data(as_text=True)
    (message,) = deliver(app, clock)
    assert message["to"] == "13800001234" and message["kind"] == "code"
    code = message["params"]["code"]
    assert len(code) == 6 and code.isdigit() and code in message["text"]
    with read(app) as s:
        stored = s.query(SmsCode).one()
        assert code not in stored.code_hash and len(stored.code_hash) == 64
        assert {m.text for m in s.query(Message)} == {""}  # not kept once sent
        assert all(code not in e.data and "13800001234" not in e.data
                   for e in s.query(AuditEvent))
    confirm = vote(client, url, code, confirm=False)
    assert confirm.status_code == 200
    assert f'name="sms_code" value="{code}"' in confirm.get_data(as_text=True)
    assert vote(client, url, code).status_code == 303
    assert count(app, Vote) == 1


def test_wrong_missing_and_expired_codes_are_422_and_counted(app, client, sms):
    world, _path, clock = sms
    url = world.url("1-1-101")
    ask_code(client, url)
    code = deliver(app, clock)[-1]["params"]["code"]
    wrong = "000000" if code != "000000" else "111111"
    assert vote(client, url, wrong).status_code == 422
    assert vote(client, url, None).status_code == 422
    clock.advance(minutes=10, seconds=1)
    assert vote(client, url, code).status_code == 422  # expired
    assert count(app, Vote) == 0
    ask_code(client, url)
    fresh = deliver(app, clock)[-1]["params"]["code"]
    assert vote(client, url, wrong).status_code == 422
    assert vote(client, url, wrong).status_code == 422  # 5 failures now
    locked = vote(client, url, fresh)  # the 6th try: refused even with the right code
    assert locked.status_code == 429
    assert "Retry-After" in locked.headers
    # a new code is not sent either while the ballot is locked
    assert ask_code(client, url).status_code == 429
    clock.advance(hours=1, minutes=1)
    ask_code(client, url)
    newest = deliver(app, clock)[-1]["params"]["code"]
    assert vote(client, url, newest).status_code == 303


def test_at_most_three_codes_per_hour(app, client, sms):
    world, _path, clock = sms
    url = world.url("1-1-101")
    for _ in range(3):
        assert ask_code(client, url).status_code == 303
        clock.advance(minutes=5)
    fourth = ask_code(client, url)
    assert fourth.status_code == 429
    assert len(deliver(app, clock)) == 3
    clock.advance(minutes=46)
    assert ask_code(client, url).status_code == 303


def test_household_without_phone_is_told_to_vote_on_paper(app, client, sms):
    world, _path, clock = sms
    url = world.url("2-1-201")
    page = client.get(url).get_data(as_text=True)
    assert 'id="sms-no-phone"' in page and 'name="sms_code"' not in page
    assert ask_code(client, url).status_code == 303
    assert count(app, Message) == 0
