"""Helpers shared by the signed-in blueprints: scoping and form plumbing."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from .. import extensions
from ..models import Community, Proposal
from ..services import users


def community_or_404(slug: str) -> Community:
    """The community if the signed-in user is assigned to it; 404 otherwise (no leak)."""
    community = extensions.session().scalar(select(Community).where(Community.slug == slug))
    if community is None or not users.can_see(current_user, community):
        abort(404)
    return community


def proposal_or_404(proposal_id: int) -> Proposal:
    proposal = extensions.session().get(Proposal, proposal_id)
    if proposal is None or not users.can_see(current_user, proposal.community):
        abort(404)
    return proposal


def actor() -> str:
    return current_user.username
