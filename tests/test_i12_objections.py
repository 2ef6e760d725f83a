"""Issue 12 item 10: objections come from households of the electorate only.

DOMAIN.md section 5: a household proves itself with its receipt code or its ballot (the
QR link), or staff record an objection handed in at the office with the objector's name.
CONTRACT.md: `POST /r/<public_id>/objections` takes `receipt` (422 on empty text or an
unknown receipt, counted as a failure for the rate limit, nothing recorded);
`POST /b/<token>/objections` (voted or not; 404 unknown, 410 revoked, 403 outside the
period); the ballot page shows that form during the objection period.
Limits: text at most 2,000 characters; at most 3 unanswered objections per household
filed online (receipt or ballot).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from residents_vote import create_app
from residents_vote.models import AuditEvent, Objection, User
from residents_vote.services import ballots, proposals, results
from tests import factories
from tests.factories import travel
from tests.helpers import (
    TEST_CONFIG,
    any_csrf,
    csrf_token,
    english,
    html_text,
    objections_of,
    public_id,
    read,
    staff_client,
    vote_online,
    write,
)


class Posted:
    """1-1-101 voted online, 1-1-102 on paper, 2-1-201 did not vote; result posted."""

    def __init__(self, app, client, runner, **options) -> None:
        world = factories.voting_world(app, closes=factories.ahead(hours=1), **options)
        self.world = world
        self.pid = world.proposal_id
        self.online_receipt = vote_online(client, world.tokens["1-1-101"], {1: "agree", 2: "agree"})
        self.paper_receipt = factories.cast(app, self.pid, "1-1-102", {1: "oppose", 2: "agree"})
        # 2-1-201 loses its ballot while voting is open: the old link is revoked.
        self.revoked = world.tokens["2-1-201"]
        with write(app) as s:
            (issued,) = ballots.reissue(s, proposals.lock(s, self.pid), ["2-1-201"], actor="t")
            self.unvoted = issued.token
        travel(app, self.pid, hours=2)  # the announced close has passed
        result = runner.invoke(args=["proposal", "close", str(self.pid)])
        assert result.exit_code == 0, result.stderr
        self.pub = public_id(app, self.pid)


def by_receipt(client, pub: str, **fields: str):
    data = {"csrf_token": any_csrf(client), "text": "计票有误"}
    data.update(fields)
    return client.post(f"/r/{pub}/objections", data=data)


def by_ballot(client, token: str, **fields: str):
    data = {"csrf_token": any_csrf(client), "text": "计票有误"}
    data.update(fields)
    return client.post(f"/b/{token}/objections", data=data)


# --- anonymous objections are refused ----------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "某人", "contact": "13800000000"},  # no receipt at all
        {"name": "某人", "household": "1-1-101"},  # the old form: a household code typed in
        {"receipt": "ABCD-EFGH-JKLM"},  # well-formed but unknown
        {"receipt": "   "},
        {"receipt": "x" * 500},
    ],
)
def test_an_anonymous_objection_is_refused(app, client, runner, fields):
    english(client)
    posted = Posted(app, client, runner)
    response = by_receipt(client, posted.pub, **fields)
    assert response.status_code == 422
    assert "receipt code" in html_text(response.get_data(as_text=True))
    assert objections_of(app, posted.pid) == []


def test_forty_anonymous_long_objections_from_one_address_are_all_refused(app, client, runner):
    posted = Posted(app, client, runner)
    long_text = "长" * 5000
    statuses = {
        by_receipt(client, posted.pub, name="x", text=long_text).status_code for _ in range(40)
    }
    assert statuses == {422}
    assert objections_of(app, posted.pid) == []
    # Nothing holds up the final result.
    travel(app, posted.pid, days=10)
    assert runner.invoke(args=["proposal", "finalize", str(posted.pid)]).exit_code == 0


# --- a household proves itself -------------------------------------------------------------


def test_objection_with_a_receipt_code_is_filed_for_its_household(app, client, runner):
    english(client)
    posted = Posted(app, client, runner)
    page = client.get(f"/r/{posted.pub}").get_data(as_text=True)
    assert 'name="receipt"' in page
    token = csrf_token(page, "/objections")
    response = client.post(
        f"/r/{posted.pub}/objections",
        data={"csrf_token": token, "receipt": posted.online_receipt, "text": "我的票被记错了"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    # The paper ballot's receipt works too, typed loosely (case, spaces, no dashes).
    loose = posted.paper_receipt.lower().replace("-", " ")
    assert by_receipt(client, posted.pub, receipt=loose, name="王芳").status_code == 303
    first, second = objections_of(app, posted.pid)
    assert (first.household_code, first.name, first.channel) == ("1-1-101", "", "online")
    assert (second.household_code, second.name) == ("1-1-102", "王芳")
    with read(app) as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "objection.file")))
    assert [e.subject for e in events] == [f"objection {first.id}", f"objection {second.id}"]
    assert all(posted.online_receipt not in e.data for e in events), "no receipt in the log"


def test_ballot_page_carries_the_objection_form_during_the_period(app, client, runner):
    english(client)
    posted = Posted(app, client, runner)
    for token in (posted.world.tokens["1-1-101"], posted.unvoted):  # voted or not
        page = client.get(f"/b/{token}").get_data(as_text=True)
        assert f'action="/b/{token}/objections"' in page
        form_token = csrf_token(page, f"/b/{token}/objections")
        response = client.post(
            f"/b/{token}/objections", data={"csrf_token": form_token, "text": "面积登记有误"}
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        assert "/objections" not in response.headers["Location"]
    codes = [o.household_code for o in objections_of(app, posted.pid)]
    assert codes == ["1-1-101", "2-1-201"]


def test_ballot_objection_refusals(app, client, runner):
    english(client)
    world = factories.voting_world(app, closes=factories.ahead(hours=1))
    pid = world.proposal_id
    token = world.tokens["1-1-101"]
    before = by_ballot(client, token)
    assert before.status_code == 403, "no objection while voting is open"
    page = client.get(f"/b/{token}").get_data(as_text=True)
    assert "/objections" not in page, "no objection form before the result is posted"
    with write(app) as s:
        ballots.reissue(s, proposals.lock(s, pid), ["1-1-102"], actor="t")
    travel(app, pid, hours=2)
    assert runner.invoke(args=["proposal", "close", str(pid)]).exit_code == 0
    assert by_ballot(client, "not-a-ballot-token").status_code == 404
    assert by_ballot(client, world.tokens["1-1-102"]).status_code == 410
    assert by_ballot(client, token, text="  ").status_code == 422
    assert by_ballot(client, token, text="长" * 2001).status_code == 422
    assert objections_of(app, pid) == []
    travel(app, pid, days=10)
    assert by_ballot(client, token).status_code == 403, "after the period"
    assert "/objections" not in client.get(f"/b/{token}").get_data(as_text=True)
    assert objections_of(app, pid) == []


# --- staff record an objection handed in at the office --------------------------------------


def test_staff_record_an_office_objection_with_the_objectors_name(app, client, runner):
    english(client)
    posted = Posted(app, client, runner)
    staff_client(app, client, posted.world)
    dashboard = f"/staff/proposals/{posted.pid}"
    page = client.get(dashboard).get_data(as_text=True)
    token = csrf_token(page, f"{dashboard}/objections")

    def office(**fields):
        data = {"csrf_token": token, "text": "书面异议"}
        data.update(fields)
        return client.post(f"{dashboard}/objections", data=data)

    office(household="2-1-201")  # no name
    office(name="李娜")  # no household
    office(name="李娜", household="9-9-999")  # not in the electorate
    assert objections_of(app, posted.pid) == []
    shown = html_text(client.get(dashboard).get_data(as_text=True))
    assert "Please give the objector's name" in shown
    assert office(name="李娜", household="2-1-201", contact="13700000000").status_code == 303
    (objection,) = objections_of(app, posted.pid)
    assert (objection.name, objection.household_code, objection.channel) == (
        "李娜",
        "2-1-201",
        "paper",
    )
    assert objection.contact == "13700000000"


# --- limits ------------------------------------------------------------------------------------


def test_text_at_most_2000_characters(app, client, runner):
    english(client)
    posted = Posted(app, client, runner)
    long = by_receipt(client, posted.pub, receipt=posted.online_receipt, text="长" * 2001)
    assert long.status_code == 422
    assert "2000 characters" in html_text(long.get_data(as_text=True))
    assert objections_of(app, posted.pid) == []
    ok = by_receipt(client, posted.pub, receipt=posted.online_receipt, text="长" * 2000)
    assert ok.status_code == 303


def test_at_most_three_unanswered_objections_per_household(app, client, runner):
    english(client)
    posted = Posted(app, client, runner)
    receipt = posted.online_receipt
    token = posted.world.tokens["1-1-101"]
    assert [by_receipt(client, posted.pub, receipt=receipt).status_code for _ in range(2)] == [
        303,
        303,
    ]
    assert by_ballot(client, token).status_code == 303  # the same household, by its ballot
    fourth = by_receipt(client, posted.pub, receipt=receipt)
    assert fourth.status_code == 422
    assert "3 objections awaiting an answer" in html_text(fourth.get_data(as_text=True))
    assert by_ballot(client, token).status_code == 422
    assert len(objections_of(app, posted.pid)) == 3
    # Another household is not affected.
    assert by_receipt(client, posted.pub, receipt=posted.paper_receipt).status_code == 303
    # Once staff answer one, the household may file again.
    with write(app) as s:
        staff = s.scalar(select(User).where(User.username == posted.world.staff))
        first = s.scalar(select(Objection).order_by(Objection.id))
        results.answer_objection(s, first, "rejected", "已核对", by=staff)
    assert by_receipt(client, posted.pub, receipt=receipt).status_code == 303
    assert by_receipt(client, posted.pub, receipt=receipt).status_code == 422


# --- unknown receipts count toward the failure limit ----------------------------------------


@pytest.fixture
def limited_app(migrated_url):
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": migrated_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    from residents_vote.extensions import limiter

    with app.app_context():
        limiter.reset()
    yield app
    app.extensions["rv_db"].engine.dispose()


def test_unknown_receipts_on_the_objection_form_count_as_failures(limited_app):
    app = limited_app
    client = app.test_client()
    posted = Posted(app, client, app.test_cli_runner())
    statuses = [
        by_receipt(client, posted.pub, receipt=f"ABCD-EFGH-{n:04d}").status_code for n in range(60)
    ]
    assert statuses == [422] * 60
    assert by_receipt(client, posted.pub, receipt="ABCD-EFGH-JKLM").status_code == 429
    # The same limit as the receipt check page.
    assert client.get(f"/r/{posted.pub}/receipt?code=ABCD-EFGH-JKLM").status_code == 429
    assert objections_of(app, posted.pid) == []
