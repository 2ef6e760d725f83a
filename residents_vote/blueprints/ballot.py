"""The resident's ballot page /b/<token>: no login, no JavaScript (CONTRACT.md)."""

from __future__ import annotations

import math

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from .. import extensions
from ..domain import receipts
from ..models import ElectorateEntry, Proposal
from ..services import ballots, owner_checks, proposals, results, voting
from ..services import costs as cost_service
from ..services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from ..web import translate_error
from . import public
from .common import close_if_due

bp = Blueprint("ballot", __name__)

CHOICES = ("agree", "oppose", "abstain")


def _ballot(token: str):
    """The ballot for a token; failures count toward the client's failure limit."""
    try:
        return ballots.find(extensions.session(), token)
    except (NotFound, ServiceError):
        if extensions.over_failure_limit("token"):
            abort(429)
        extensions.record_failure("token")
        raise


def _context(ballot):
    db = extensions.session()
    proposal = close_if_due(db.get(Proposal, ballot.proposal_id))
    entry = db.scalar(
        select(ElectorateEntry).where(
            ElectorateEntry.proposal_id == proposal.id,
            ElectorateEntry.household_id == ballot.household_id,
        )
    )
    vote = voting.existing_vote(db, proposal.id, ballot.household_id)
    share = cost_service.share_text(entry)
    return {
        "proposal": proposal,
        "community": proposal.community,
        "entry": entry,
        "vote": vote,
        "receipt": receipts.display(vote.receipt_code) if vote else "",
        "phase": proposals.phase(proposal),
        "share": share,
        "plan": cost_service.plan_attachment(db, proposal),
        "objection_end": results.local_end(proposal.objection_ends_at)
        if results.objection_window_open(proposal)
        else "",
    }


@bp.route("/b/<token>", methods=["GET"])
def show(token: str):
    ballot = _ballot(token)
    ctx = _context(ballot)
    if ctx["vote"] is not None:
        return render_template("ballot/voted.html", token=token, **ctx)
    if ctx["phase"] != "open":
        return render_template("ballot/closed.html", token=token, **ctx), 403
    return render_template("ballot/ballot.html", token=token, answers={}, errors=[], **ctx)


@bp.route("/b/<token>", methods=["POST"])
def submit(token: str):
    ballot = _ballot(token)
    db = extensions.session()
    proposal = close_if_due(db.get(Proposal, ballot.proposal_id))

    def page(template: str, status: int = 200, **extra):
        # The full page context is built only when a page is shown, not on a plain vote.
        return render_template(template, token=token, **extra, **_context(ballot)), status

    if voting.existing_vote(db, proposal.id, ballot.household_id) is not None:
        return page("ballot/voted.html", 409, already=True)
    if proposals.phase(proposal) != "open":
        return page("ballot/closed.html", 403)
    answers = {}
    errors = []
    for question in proposal.questions:
        value = request.form.get(f"q{question.number}", "")
        if value in CHOICES:
            answers[question.number] = value
        else:
            errors.append(question.number)
    if errors:
        return page("ballot/ballot.html", 422, answers=answers, errors=errors)
    if request.form.get("edit"):
        return page("ballot/ballot.html", answers=answers, errors=[])
    phone4 = request.form.get("phone4", "")
    if proposal.verify == "phone4":
        now = extensions.now()
        check = owner_checks.check_phone4(
            db, ballot, phone4, now=now, limited=extensions.limits_enabled()
        )
        if check.retry_at is not None:
            db.rollback()
            wait = max(1, math.ceil((check.retry_at - now).total_seconds()))
            html, status = page("ballot/locked.html", 429, retry_at=check.retry_at)
            return html, status, {"Retry-After": str(wait)}
        if not check.ok:
            db.commit()  # the wrong answer stays counted
            return page("ballot/ballot.html", 422, answers=answers, errors=[], phone_error=True)
    if request.form.get("confirm") != "yes":
        return page("ballot/confirm.html", answers=answers, phone4=phone4)
    try:
        voting.cast_online(db, ballot, answers, phone4=phone4)
        db.commit()
    except Conflict:
        db.rollback()
        return page("ballot/voted.html", 409, already=True)
    except (Forbidden, Invalid) as exc:
        db.rollback()
        return render_template(
            "error.html", status=exc.status, messages=[translate_error(exc)]
        ), exc.status
    return redirect(url_for("ballot.show", token=token), code=303)


@bp.route("/b/<token>/objections", methods=["POST"])
def objection(token: str):
    """An objection from the household of this ballot (voted or not), CONTRACT.md."""
    ballot = _ballot(token)
    proposal = close_if_due(extensions.session().get(Proposal, ballot.proposal_id))
    return public.file_objection(
        proposal,
        lambda db, locked, form: results.file_objection_by_ballot(
            db,
            locked,
            ballot,
            text=form.get("text", ""),
            name=form.get("name", ""),
            contact=form.get("contact", ""),
        ),
    )


@bp.app_template_global()
def choice_label(value: str) -> str:
    return {
        "agree": _("Agree"),
        "oppose": _("Oppose"),
        "abstain": _("Abstain"),
        "invalid": _("Invalid"),
    }.get(value, value)
