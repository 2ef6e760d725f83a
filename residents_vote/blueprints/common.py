"""Helpers shared by the signed-in blueprints: scoping and form plumbing."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Response, abort, flash, redirect
from flask_login import current_user

from .. import extensions
from ..models import Community, Proposal
from ..services import users


def community_or_404(slug: str) -> Community:
    """The community if the signed-in user is assigned to it; 404 otherwise (no leak)."""
    community = users.community_for(extensions.session(), current_user, slug)
    if community is None:
        abort(404)
    return community


def proposal_or_404(proposal_id: int) -> Proposal:
    """The proposal if the signed-in user may see its community; 404 otherwise."""
    proposal = users.proposal_for(extensions.session(), current_user, proposal_id)
    if proposal is None:
        abort(404)
    return proposal


def actor() -> str:
    return current_user.username


def close_if_due(proposal: Proposal) -> Proposal:
    """Voting closes by itself at the announced time: the first page view after it moves
    the vote to `counting` (one use case, its own write transaction), then the page reads
    on from a fresh snapshot. Nothing is published until staff publish the result."""
    from ..services import proposals

    if proposals.due_to_stop(proposal):
        proposal_id = proposal.id
        proposals.stop_if_due(extensions.store(), proposal_id)
        extensions.fresh_snapshot()
        proposal = proposals.get(extensions.session(), proposal_id)
    return proposal


def file_response(data: bytes, mimetype: str, filename: str, *, inline: bool = False) -> Response:
    """A file to open in the browser (inline) or to save (attachment)."""
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f"{disposition}; filename={filename}"},
    )


def on_refusal(back: Callable[..., str]):
    """The one mapping of a service refusal for a form post: the refusal's message is
    flashed (translated) and the browser goes back with a 303 to `back(**view_args)`.
    Views under it call one use case and never catch ServiceError themselves."""
    from ..services.errors import ServiceError
    from ..web import translate_error

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except ServiceError as exc:
                flash(translate_error(exc), "error")
                return redirect(back(*args, **kwargs), code=303)

        return wrapper

    return decorate
