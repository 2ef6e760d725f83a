"""Correcting or voiding a paper or proxy entry before the preliminary result.

A vote cast online belongs to the household: staff never change it (409). For a paper or
proxy entry staff may correct a data-entry error, or void an entry made under the wrong
household (the household may then vote again), each with a reason kept in the audit log,
while the status is `voting` or `counting`. After the preliminary result, corrections go
through an accepted objection, which republishes the result.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import extensions
from ..models import Attachment, ElectorateEntry, User
from ..services import proposals, voting
from ..services.errors import Conflict, ServiceError
from ..web import translate_error
from .common import proposal_or_404
from .staff import bp
from .staff_proposals import ActionForm


def _recorded(db, proposal, code: str):
    """The electorate entry and recorded vote of a household code; 404 without a vote."""
    entry = db.scalar(
        select(ElectorateEntry).where(
            ElectorateEntry.proposal_id == proposal.id, ElectorateEntry.code == code
        )
    )
    vote = voting.existing_vote(db, proposal.id, entry.household_id) if entry else None
    if vote is None:
        abort(404)
    return entry, vote


def _refusal(proposal, vote, code: str) -> str | None:
    """Why this entry cannot be changed now (shown with 409), or None."""
    try:
        voting.require_changeable(proposal, vote, code)
    except Conflict as exc:
        return translate_error(exc)
    return None


def _change(db, proposal_id: int, action):
    """Run a change on the locked proposal: (response, None) on success, else
    (None, (status, refusal)) after a rollback; a 409 is shown instead of the form."""
    try:
        response = action(proposals.lock(db, proposal_id))
        db.commit()
        return response, None
    except ServiceError as exc:
        db.rollback()
        if exc.status == 409:
            return None, (409, translate_error(exc))
        flash(translate_error(exc), "error")
        return None, (exc.status, None)


@bp.route("/proposals/<int:proposal_id>/votes/<code>/correct", methods=["GET", "POST"])
def vote_correct(proposal_id: int, code: str):
    proposal = proposal_or_404(proposal_id)
    db = extensions.session()
    entry, vote = _recorded(db, proposal, code)
    form = ActionForm()
    refusal = _refusal(proposal, vote, entry.code)
    status = 409 if refusal else 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)

        def action(locked):
            answers = {q.number: request.form.get(f"q{q.number}", "") for q in locked.questions}
            voting.correct(db, vote, answers, request.form.get("reason", ""), by=current_user)
            flash(_("The vote of %(code)s was corrected.", code=code), "ok")
            return redirect(url_for("staff.proposal", proposal_id=proposal.id), code=303)

        done, failed = _change(db, proposal.id, action)
        if done is not None:
            return done
        status, refusal = failed
    return render_template(
        "staff/correct.html",
        proposal=proposal,
        community=proposal.community,
        entry=entry,
        vote=vote,
        form=form,
        refusal=refusal,
    ), status


@bp.route("/proposals/<int:proposal_id>/votes/<code>/void", methods=["GET", "POST"])
def vote_void(proposal_id: int, code: str):
    """Void a paper or proxy entry made under the wrong household, with a reason."""
    proposal = proposal_or_404(proposal_id)
    db = extensions.session()
    entry, vote = _recorded(db, proposal, code)
    form = ActionForm()
    refusal = _refusal(proposal, vote, entry.code)
    status = 409 if refusal else 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)

        def action(locked):
            voting.void(db, locked, entry.code, request.form.get("reason", ""), by=current_user)
            flash(
                _("The entry of %(code)s was voided; the household may vote again.", code=code),
                "ok",
            )
            return redirect(url_for("staff.proposal", proposal_id=proposal.id), code=303)

        done, failed = _change(db, proposal.id, action)
        if done is not None:
            return done
        status, refusal = failed
    entered_by = db.get(User, vote.entered_by_id) if vote.entered_by_id else None
    evidence = list(
        db.scalars(select(Attachment).where(Attachment.vote_id == vote.id).order_by(Attachment.id))
    )
    return render_template(
        "staff/void.html",
        proposal=proposal,
        community=proposal.community,
        entry=entry,
        vote=vote,
        entered_by=entered_by,
        evidence=evidence,
        form=form,
        refusal=refusal,
    ), status


@bp.route("/proposals/<int:proposal_id>/votes/lookup")
def vote_lookup(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    code = request.args.get("code", "").strip()
    return redirect(url_for("staff.vote_correct", proposal_id=proposal.id, code=code or "-"))
