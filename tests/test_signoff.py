"""Sign-off of a final result by the signing body (CONTRACT.md "Staff and committee pages").

The builders (`signing_community`, `final_proposal`, `committee_users`, `do_sign`…) are
in tests/factories.py; the committee page helpers (`sign_page`, `committee_post`) in
tests/helpers.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from residents_vote.models import (
    AuditEvent,
    Community,
    Proposal,
    Signature,
    User,
)
from residents_vote.services import results, signoff
from residents_vote.services.errors import Conflict, Forbidden, NotFound
from tests import factories
from tests.factories import (
    CODES,
    committee_users,
    do_decline,
    do_sign,
    final_proposal,
    signing_community,
)
from tests.helpers import (
    PASSWORD,
    committee_post,
    count,
    csrf_token,
    login,
    make_user,
    read,
    sign_page,
    status_of,
    write,
)

# Two of three households oppose question 2: it fails (1 of 3 < 2/3), question 1 passes.
FAIL_Q2 = {CODES[0]: {1: "agree", 2: "oppose"}, CODES[1]: {1: "agree", 2: "oppose"}}


def user(app, username: str) -> User:
    with read(app) as s:
        u = s.scalar(select(User).where(User.username == username))
        u.communities  # noqa: B018 - load before the session closes
        return u


def actions(app, proposal_id: int) -> list[str]:
    with read(app) as s:
        return list(
            s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.proposal_id == proposal_id)
                .order_by(AuditEvent.seq)
            )
        )


# --- services --------------------------------------------------------------------------


def test_k_of_n_defaults_to_more_than_half_of_the_accounts(app):
    signing_community(app)
    names = committee_users(app, "hx", 4)  # n = 4, k = 3
    pid = final_proposal(app)
    with read(app) as s:
        state = signoff.status(s, s.get(Proposal, pid))
        assert (state.members, state.required, state.count) == (4, 3, 0)
    assert do_sign(app, pid, names[0])
    assert do_sign(app, pid, names[1])
    assert status_of(app, pid) == "final"  # k - 1 signatures do not confirm
    assert "proposal.confirm" not in actions(app, pid)
    assert do_sign(app, pid, names[2])
    assert status_of(app, pid) == "confirmed"
    with read(app) as s:
        p = s.get(Proposal, pid)
        assert p.confirmed_at is not None
    assert actions(app, pid)[-4:] == [
        "proposal.sign",
        "proposal.sign",
        "proposal.sign",
        "proposal.confirm",
    ]


def test_configured_members_and_required(app):
    signing_community(app, members=7, required=2)
    names = committee_users(app, "hx", 3)
    pid = final_proposal(app)
    do_sign(app, pid, names[0])
    assert status_of(app, pid) == "final"
    do_sign(app, pid, names[1])
    assert status_of(app, pid) == "confirmed"


def test_default_k_is_more_than_half_of_configured_members(app):
    signing_community(app, members=5)  # k = 3 although only 3 accounts exist
    names = committee_users(app, "hx", 3)
    pid = final_proposal(app)
    do_sign(app, pid, names[0])
    do_sign(app, pid, names[1])
    assert status_of(app, pid) == "final"
    do_sign(app, pid, names[2])
    assert status_of(app, pid) == "confirmed"


def test_accounts_added_after_the_result_still_count(app):
    signing_community(app)
    pid = final_proposal(app)
    names = committee_users(app, "hx", 3)  # created after finalization: n = 3, k = 2
    do_sign(app, pid, names[0])
    assert status_of(app, pid) == "final"


def test_signing_twice_counts_once(app):
    signing_community(app)
    names = committee_users(app, "hx", 3)
    pid = final_proposal(app)
    assert do_sign(app, pid, names[0]) is True
    before = count(app, AuditEvent)
    assert do_sign(app, pid, names[0]) is False
    assert count(app, AuditEvent) == before
    assert count(app, Signature, Signature.proposal_id == pid) == 1
    assert status_of(app, pid) == "final"


def test_wrong_password_signs_nothing(app):
    signing_community(app)
    names = committee_users(app, "hx", 1)
    pid = final_proposal(app)
    before = count(app, AuditEvent)
    with pytest.raises(Forbidden):
        do_sign(app, pid, names[0], password="not the password")
    assert count(app, Signature) == 0
    assert count(app, AuditEvent) == before
    assert status_of(app, pid) == "final"


def test_failed_proposal_is_not_signed(app):
    signing_community(app)
    names = committee_users(app, "hx", 1)
    pid = final_proposal(app, answers=FAIL_Q2)
    with pytest.raises(Conflict):
        do_sign(app, pid, names[0])
    with pytest.raises(Conflict):
        do_decline(app, pid, names[0], "no")
    assert count(app, Signature) == 0


def test_only_a_final_result_is_signed(app):
    signing_community(app)
    names = committee_users(app, "hx", 1)
    pid = final_proposal(app, finalize=False)  # still in its objection period
    assert status_of(app, pid) == "publicity"
    with pytest.raises(Conflict):
        do_sign(app, pid, names[0])
    assert count(app, Signature) == 0


def test_wrong_role_and_other_community(app):
    signing_community(app)
    signing_community(app, "other")
    committee_users(app, "hx", 1)
    (stranger,) = committee_users(app, "other", 1)
    pid = final_proposal(app)
    with pytest.raises(NotFound):
        do_sign(app, pid, stranger)
    with pytest.raises(Forbidden):
        do_sign(app, pid, "staff-hx")  # staff do not sign for an owner committee
    make_user(app, "boss", "admin")
    with pytest.raises(Forbidden):
        do_sign(app, pid, "boss")
    assert count(app, Signature) == 0


def test_neighborhood_committee_signs_with_staff_accounts(app):
    signing_community(app, signatory="neighborhood-committee")
    committee_users(app, "hx", 2)  # committee accounts are not the signing body here
    pid = final_proposal(app)
    with pytest.raises(Forbidden):
        do_sign(app, pid, "hx-m1")
    with read(app) as s:
        assert signoff.status(s, s.get(Proposal, pid)).members == 1  # staff-hx
    do_sign(app, pid, "staff-hx")
    assert status_of(app, pid) == "confirmed"
    with read(app) as s:
        assert s.scalar(select(Signature.role)) == "staff"


def test_self_governance_signs_with_committee_accounts(app):
    signing_community(app, signatory="self-governance")
    names = committee_users(app, "hx", 1)
    pid = final_proposal(app)
    do_sign(app, pid, names[0])
    assert status_of(app, pid) == "confirmed"


def test_decline_is_recorded_and_may_turn_into_a_signature(app):
    signing_community(app)
    names = committee_users(app, "hx", 3)
    pid = final_proposal(app)
    do_decline(app, pid, names[0], "预算表第三项金额有误")
    with read(app) as s:
        state = signoff.status(s, s.get(Proposal, pid))
        assert [(sig.reason, u.username) for sig, u in state.declined] == [
            ("预算表第三项金额有误", names[0])
        ]
        assert state.count == 0 and state.reachable
    assert "proposal.decline" in actions(app, pid)
    do_sign(app, pid, names[0])
    do_sign(app, pid, names[1])
    assert status_of(app, pid) == "confirmed"
    with pytest.raises(Conflict):
        do_decline(app, pid, names[1], "changed my mind")


def test_deactivating_a_signer_does_not_lower_k(app):
    signing_community(app)
    names = committee_users(app, "hx", 4)  # k = 3
    pid = final_proposal(app)
    do_sign(app, pid, names[0])
    with write(app) as s:
        from residents_vote.services import users

        users.set_active(
            s, s.scalar(select(User).where(User.username == names[0])), False, actor="t"
        )
    with read(app) as s:
        state = signoff.status(s, s.get(Proposal, pid))
        assert (state.members, state.required, state.count) == (4, 3, 1)


def test_awaiting_lists_what_the_member_has_not_signed(app):
    signing_community(app)
    names = committee_users(app, "hx", 3)
    pid = final_proposal(app)
    failed = final_proposal(app, answers=FAIL_Q2)
    with read(app) as s:
        c = s.scalar(select(Community).where(Community.slug == "hx"))
        u = s.scalar(select(User).where(User.username == names[0]))
        assert [p.id for p in signoff.awaiting(s, c, u)] == [pid]
        assert failed != pid
    do_sign(app, pid, names[0])
    with read(app) as s:
        c = s.scalar(select(Community).where(Community.slug == "hx"))
        u = s.scalar(select(User).where(User.username == names[0]))
        assert signoff.awaiting(s, c, u) == []


# --- pages -----------------------------------------------------------------------------


def test_sign_page_shows_result_plan_and_form(app, client):
    signing_community(app)
    names = committee_users(app, "hx", 3)
    pid = final_proposal(app)
    assert login(client, names[0]).status_code == 303
    page = sign_page(client, pid)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert factories.QUESTIONS[0] in html
    assert 'name="password"' in html
    with read(app) as s:
        sha = results.latest_revision(s, s.get(Proposal, pid)).sha256
    assert sha in html
    home = client.get("/committee/").get_data(as_text=True)
    assert f"/committee/proposals/{pid}" in home


def test_web_k_of_n_sign_off(app, client):
    signing_community(app)
    names = committee_users(app, "hx", 3)  # k = 2
    pid = final_proposal(app)
    login(client, names[0])
    r = committee_post(client, pid, "sign", password=PASSWORD)
    assert r.status_code == 303
    assert status_of(app, pid) == "final"
    again = committee_post(client, pid, "sign", password=PASSWORD)
    assert again.status_code == 303
    assert count(app, Signature) == 1
    other = app.test_client()
    login(other, names[1])
    assert committee_post(other, pid, "sign", password=PASSWORD).status_code == 303
    assert status_of(app, pid) == "confirmed"


def test_web_wrong_password_403_nothing_signed(app, client):
    signing_community(app)
    names = committee_users(app, "hx", 1)
    pid = final_proposal(app)
    login(client, names[0])
    r = committee_post(client, pid, "sign", password="wrong password")
    assert r.status_code == 403
    assert count(app, Signature) == 0
    assert status_of(app, pid) == "final"


def test_web_failed_or_unfinished_proposal_409(app, client):
    signing_community(app)
    names = committee_users(app, "hx", 1)
    failed = final_proposal(app, answers=FAIL_Q2)
    posted = final_proposal(app, finalize=False)
    login(client, names[0])
    assert committee_post(client, failed, "sign", password=PASSWORD).status_code == 409
    assert committee_post(client, posted, "sign", password=PASSWORD).status_code == 409
    declined = committee_post(client, failed, "decline", password=PASSWORD, reason="x")
    assert declined.status_code == 409
    assert count(app, Signature) == 0


def test_web_other_community_404_wrong_role_403(app, client):
    signing_community(app)
    signing_community(app, "other")
    committee_users(app, "hx", 1)
    (stranger,) = committee_users(app, "other", 1)
    pid = final_proposal(app)
    login(client, stranger)
    assert sign_page(client, pid).status_code == 404
    token = csrf_token(client.get("/committee/").get_data(as_text=True))
    r = client.post(
        f"/committee/proposals/{pid}/sign", data={"csrf_token": token, "password": PASSWORD}
    )
    assert r.status_code == 404
    staff = app.test_client()
    login(staff, "staff-hx")
    assert sign_page(staff, pid).status_code == 200  # staff may look
    assert committee_post(staff, pid, "sign", password=PASSWORD).status_code == 403
    assert count(app, Signature) == 0


def test_web_decline_shown_to_staff(app, client):
    signing_community(app)
    names = committee_users(app, "hx", 3)
    pid = final_proposal(app)
    login(client, names[0])
    r = committee_post(client, pid, "decline", password=PASSWORD, reason="方案附件缺少预算明细")
    assert r.status_code == 303
    with read(app) as s:
        sig = s.scalar(select(Signature))
        assert (sig.decision, sig.reason) == ("decline", "方案附件缺少预算明细")
    assert committee_post(client, pid, "decline", password="bad", reason="x").status_code == 403
    staff = app.test_client()
    login(staff, "staff-hx")
    html = staff.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert "方案附件缺少预算明细" in html
    assert count(app, Signature, Signature.decision == "sign") == 0
    with read(app) as s:
        assert s.scalar(select(func.count()).select_from(Signature)) == 1
