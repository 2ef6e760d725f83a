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

from .. import extensions
from ..services import voting
from ..services.errors import ServiceError
from ..web import translate_error
from .common import actor, proposal_or_404
from .staff import bp
from .staff_proposals import ActionForm


def _recorded(proposal, code: str):
    """The electorate entry and recorded vote of a household code; 404 without a vote."""
    found = voting.recorded_entry(extensions.session(), proposal.id, code)
    if found is None:
        abort(404)
    return found


def _refusal(proposal, vote, code: str) -> str | None:
    """Why this entry cannot be changed now (shown with 409), or None."""
    refusal = voting.change_refusal(proposal, vote, code)
    return translate_error(refusal) if refusal is not None else None


def _change(change, done_message: str):
    """Run a change use case: (response, None) on success, else (None, (status,
    refusal)); a 409 is shown instead of the form, other refusals are flashed."""
    try:
        change()
    except ServiceError as exc:
        if exc.status == 409:
            return None, (409, translate_error(exc))
        flash(translate_error(exc), "error")
        return None, (exc.status, None)
    flash(done_message, "ok")
    return True, None


@bp.route("/proposals/<int:proposal_id>/votes/<code>/correct", methods=["GET", "POST"])
def vote_correct(proposal_id: int, code: str):
    proposal = proposal_or_404(proposal_id)
    entry, vote = _recorded(proposal, code)
    form = ActionForm()
    refusal = _refusal(proposal, vote, entry.code)
    status = 409 if refusal else 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        done, failed = _change(
            lambda: voting.correct_entry(
                extensions.store(),
                proposal.id,
                entry.code,
                request.form,
                request.form.get("reason", ""),
                by=actor(),
            ),
            _("The vote of %(code)s was corrected.", code=code),
        )
        if done:
            return redirect(url_for("staff.proposal", proposal_id=proposal.id), code=303)
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
    entry, vote = _recorded(proposal, code)
    form = ActionForm()
    refusal = _refusal(proposal, vote, entry.code)
    status = 409 if refusal else 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        done, failed = _change(
            lambda: voting.void_entry(
                extensions.store(),
                proposal.id,
                entry.code,
                request.form.get("reason", ""),
                by=actor(),
            ),
            _("The entry of %(code)s was voided; the household may vote again.", code=code),
        )
        if done:
            return redirect(url_for("staff.proposal", proposal_id=proposal.id), code=303)
        status, refusal = failed
    entered_by, evidence = voting.entry_evidence(extensions.session(), vote)
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
