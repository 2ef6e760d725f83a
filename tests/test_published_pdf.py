"""A notice PDF is rendered once per revision and language, then served as stored."""

from __future__ import annotations

from sqlalchemy import select

from residents_vote.models import Attachment, Proposal
from residents_vote.services import proposals
from tests import factories
from tests.helpers import read, write


def _stored(app):
    with read(app) as s:
        return list(
            s.scalars(select(Attachment.filename).where(Attachment.kind == "published_pdf"))
        )


def test_notice_pdf_is_stored_once_and_served_identically(app, client):
    world = factories.voting_world(app, issue=False)
    with read(app) as s:
        public_id = s.get(Proposal, world.proposal_id).public_id
    first = client.get(f"/r/{public_id}/notice.pdf")
    second = client.get(f"/r/{public_id}/notice.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data.startswith(b"%PDF") and first.data == second.data
    assert _stored(app) == [f"notice-{world.proposal_id}-rev1-zh_CN.pdf"]

    english = client.get(f"/r/{public_id}/notice.pdf?lang=en")
    assert english.status_code == 200 and english.data != first.data
    with write(app) as s:
        proposals.extend(
            s, proposals.lock(s, world.proposal_id), factories.ahead(days=30), actor="test"
        )
    client.get(f"/r/{public_id}/notice.pdf?lang=zh_CN")
    assert sorted(_stored(app)) == sorted(
        [
            f"notice-{world.proposal_id}-rev1-zh_CN.pdf",
            f"notice-{world.proposal_id}-rev1-en.pdf",
            f"notice-{world.proposal_id}-rev2-zh_CN.pdf",
        ]
    )
