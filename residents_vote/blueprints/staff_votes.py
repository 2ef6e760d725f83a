"""Correcting a data-entry error on a recorded vote while voting is open.

A confirmed vote is final; staff may only fix an entry error, with a recorded reason
(audited with the answers before and after). After closing, corrections go through an
accepted objection, which republishes the result.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import extensions
from ..models import ElectorateEntry
from ..services import proposals, voting
from ..services.errors import N_, Conflict, ServiceError
from ..web import translate_error
from .common import proposal_or_404
from .staff import bp
from .staff_proposals import ActionForm


@bp.route("/proposals/<int:proposal_id>/votes/<code>/correct", methods=["GET", "POST"])
def vote_correct(proposal_id: int, code: str):
    proposal = proposal_or_404(proposal_id)
    db = extensions.session()
    entry = db.scalar(
        select(ElectorateEntry).where(
            ElectorateEntry.proposal_id == proposal.id, ElectorateEntry.code == code
        )
    )
    vote = voting.existing_vote(db, proposal.id, entry.household_id) if entry else None
    if vote is None:
        abort(404)
    form = ActionForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            locked = proposals.lock(db, proposal.id)
            if locked.status not in ("voting", "counting"):
                raise Conflict(N_("After closing, correct a vote by answering an objection"))
            answers = {q.number: request.form.get(f"q{q.number}", "") for q in locked.questions}
            voting.correct(db, vote, answers, request.form.get("reason", ""), by=current_user)
            db.commit()
            flash(_("The vote of %(code)s was corrected.", code=code), "ok")
            return redirect(url_for("staff.proposal", proposal_id=proposal.id), code=303)
        except ServiceError as exc:
            db.rollback()
            flash(translate_error(exc), "error")
            status = exc.status
    return render_template(
        "staff/correct.html",
        proposal=proposal,
        community=proposal.community,
        entry=entry,
        vote=vote,
        form=form,
    ), status


@bp.route("/proposals/<int:proposal_id>/votes/lookup")
def vote_lookup(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    code = request.args.get("code", "").strip()
    return redirect(url_for("staff.vote_correct", proposal_id=proposal.id, code=code or "-"))
