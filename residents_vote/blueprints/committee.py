"""Pages for the signing body: review a final result and sign it off (or decline).

Who may open these pages is decided by web.ACCESS (admin, staff, committee) and by the
community scoping (another community's proposal answers 404); who may sign is decided
by services.signoff (the community's signing body; anyone else gets 403).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import extensions, labels
from ..models import Community, Proposal
from ..services import costs, notices, results, signoff, users
from ..services.errors import Forbidden, ServiceError, TooManyAttempts
from ..web import translate_error
from .common import proposal_or_404

bp = Blueprint("committee", __name__, url_prefix="/committee")

FAILURE_SCOPE = "login"  # a wrong re-entered password counts like a failed login


class SignForm(FlaskForm):
    """CSRF only; password and reason are read from request.form."""


@bp.app_template_global()
def signable(community: Community) -> list[Proposal]:
    """Final proposals of the community awaiting the signed-in user's signature."""
    return signoff.awaiting(extensions.session(), community, current_user)


@bp.app_template_global()
def signoff_view(proposal: Proposal) -> signoff.SignoffStatus | None:
    """Sign-off state for the staff proposal page (None before the result is final)."""
    if proposal.finalized_at is None:
        return None
    return signoff.status(extensions.session(), proposal)


@bp.route("/")
def home():
    communities = users.visible_communities(extensions.session(), current_user)
    return render_template("committee/home.html", communities=communities)


def _page(proposal: Proposal, status: int = 200, error: str | None = None):
    db = extensions.session()
    data = results.published_json(db, proposal) if proposal.finalized_at else None
    state = signoff.status(db, proposal)
    return render_template(
        "committee/proposal.html",
        proposal=proposal,
        community=proposal.community,
        view=notices.view_model(proposal, data) if data else None,
        state=state,
        eligible=signoff.is_eligible(current_user, proposal.community),
        mine=state.decision_of(current_user),
        plan_summary=costs.summary(proposal),
        plan=costs.plan_attachment(db, proposal),
        objections=results.objections(db, proposal) if data else [],
        form=SignForm(),
        error=error,
        objection_label=labels.objection_status,
    ), status


@bp.route("/proposals/<int:proposal_id>")
def proposal(proposal_id: int):
    return _page(proposal_or_404(proposal_id))


def _act(proposal_id: int, act):
    """Run a sign-off use case with the re-entered password; a refusal shows the page
    again with its status and message (a wrong password counts as a failed login)."""
    p = proposal_or_404(proposal_id)
    if not SignForm().validate_on_submit():
        abort(400)
    if extensions.over_failure_limit(FAILURE_SCOPE):
        abort(429)
    try:
        message = act(
            p.id,
            current_user.username,
            request.form.get("password", ""),
            now=extensions.now(),
            limited=extensions.limits_enabled(),
        )
    except TooManyAttempts:
        abort(429)  # the account's failed-login limit (CONTRACT "Configuration")
    except ServiceError as exc:
        if isinstance(exc, Forbidden) and signoff.is_eligible(current_user, p.community):
            extensions.record_failure(FAILURE_SCOPE)
        return _page(proposal_or_404(proposal_id), exc.status, translate_error(exc))
    flash(message, "ok")
    return redirect(url_for("committee.proposal", proposal_id=p.id), code=303)


@bp.route("/proposals/<int:proposal_id>/sign", methods=["POST"])
def sign(proposal_id: int):
    def act(proposal_id: int, username: str, password: str, **kw) -> str:
        signed = signoff.sign_result(extensions.store(), proposal_id, username, password, **kw)
        if not signed.new:
            return _("You had already signed; nothing changed.")
        if signed.confirmed:
            return _("Signed. Enough members have signed: the result is confirmed.")
        return _("Signed.")

    return _act(proposal_id, act)


@bp.route("/proposals/<int:proposal_id>/decline", methods=["POST"])
def decline(proposal_id: int):
    def act(proposal_id: int, username: str, password: str, **kw) -> str:
        reason = request.form.get("reason", "")
        signoff.decline_result(extensions.store(), proposal_id, username, password, reason, **kw)
        return _("Your refusal and its reason are recorded.")

    return _act(proposal_id, act)
