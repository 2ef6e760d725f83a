"""Staff correct a data-entry error while voting is open: reason required, audited."""

from __future__ import annotations

import json

from sqlalchemy import select

from residents_vote.models import AuditEvent, Vote
from tests import factories
from tests.helpers import csrf_token, login, read


def _answers(app, proposal_id):
    with read(app) as s:
        vote = s.scalar(select(Vote).where(Vote.proposal_id == proposal_id))
        return {a.question_number: a.answer for a in vote.answers}


def test_correction_needs_reason_and_is_audited(app, client):
    world = factories.voting_world(app, issue=False)
    factories.cast(app, world.proposal_id, "1-1-101", {1: "agree", 2: "agree"})
    assert login(client, world.staff).status_code == 303
    url = f"/staff/proposals/{world.proposal_id}/votes/1-1-101/correct"
    page = client.get(url)
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))

    refused = client.post(url, data={"csrf_token": token, "q1": "oppose", "q2": "agree"})
    assert refused.status_code == 422
    assert _answers(app, world.proposal_id) == {1: "agree", 2: "agree"}

    done = client.post(
        url,
        data={"csrf_token": token, "q1": "oppose", "q2": "agree", "reason": "entered wrong box"},
    )
    assert done.status_code == 303
    assert _answers(app, world.proposal_id) == {1: "oppose", 2: "agree"}
    with read(app) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "vote.correct"))
    data = json.loads(event.data)
    assert event.subject == "1-1-101"
    assert data["reason"] == "entered wrong box"
    assert data["before"] == {"1": "agree", "2": "agree"}


def test_correcting_a_household_without_vote_is_404(app, client):
    world = factories.voting_world(app, issue=False)
    login(client, world.staff)
    assert (
        client.get(f"/staff/proposals/{world.proposal_id}/votes/1-1-102/correct").status_code == 404
    )


def test_short_window_warns_but_does_not_refuse(app, client):
    world = factories.voting_world(app, issue=False, closes=factories.ahead(days=2))
    login(client, world.staff)
    page = client.get(f"/staff/proposals/{world.proposal_id}?lang=en")
    assert page.status_code == 200
    assert "shorter than 5 days" in page.get_data(as_text=True)
    long = factories.voting_world(app, slug="hy", staff="staff2", issue=False)
    login(client, long.staff)
    page = client.get(f"/staff/proposals/{long.proposal_id}?lang=en")
    assert "shorter than 5 days" not in page.get_data(as_text=True)
