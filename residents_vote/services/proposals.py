"""Proposals: drafting, opening (electorate freeze), extending, cancelling."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Community, Proposal


def for_community(session: Session, community: Community) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.community_id == community.id)
            .order_by(Proposal.created_at.desc())
        )
    )
