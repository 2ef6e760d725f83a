"""Staff pages of the hearing route: attendance, the sign-in sheet, concluding the hearing
(CONTRACT.md "Hearing route"). Handlers translate forms into use cases; services decide."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from .. import extensions
from ..services import hearings
from .common import actor, file_response, on_refusal, proposal_or_404
from .staff import bp
from .staff_proposals import _action_form, _back_to_proposal, raw_upload


def _hearing_anchor(proposal_id: int, **_kwargs) -> str:
    return url_for("staff.proposal", proposal_id=proposal_id) + "#hearing"


@bp.route("/proposals/<int:proposal_id>/hearing/sheet.pdf")
@on_refusal(_back_to_proposal)
def hearing_sheet(proposal_id: int):
    proposal_or_404(proposal_id)
    data = hearings.sign_in_sheet_pdf(extensions.store(), proposal_id)
    return file_response(data, "application/pdf", f"sign-in-{proposal_id}.pdf", inline=True)


@bp.route("/proposals/<int:proposal_id>/hearing/attend", methods=["POST"])
@on_refusal(_hearing_anchor)
def hearing_attend(proposal_id: int):
    _action_form(proposal_id)
    codes = request.form.get("households", "").replace(",", " ").split()
    count = hearings.attend(
        extensions.store(),
        proposal_id,
        codes,
        proxy_name=request.form.get("proxy_name", ""),
        username=actor(),
    )
    flash(_("%(n)s household(s) recorded as present.", n=count), "ok")
    return redirect(_hearing_anchor(proposal_id), code=303)


@bp.route("/proposals/<int:proposal_id>/hearing/conclude", methods=["POST"])
@on_refusal(_hearing_anchor)
def hearing_conclude(proposal_id: int):
    _action_form(proposal_id)
    minutes = raw_upload("minutes") or ("", b"")
    done = hearings.conclude_hearing(
        extensions.store(),
        proposal_id,
        outcome=request.form.get("outcome", ""),
        minutes=minutes,
        summary=request.form.get("summary", ""),
        username=actor(),
    )
    flash(
        _(
            "The hearing result is posted; objections until %(end)s.",
            end=done.objections_until_text,
        ),
        "ok",
    )
    if done.few:
        flash(
            _("Fewer than half the households attended: a vote is the stronger evidence."), "error"
        )
    return redirect(_back_to_proposal(proposal_id), code=303)


@bp.route("/proposals/<int:proposal_id>/hearing/minutes.pdf")
def hearing_minutes(proposal_id: int):
    """The signed minutes as uploaded (staff only: a scan may carry names and signatures;
    the public posting carries the summary)."""
    from flask import abort

    proposal = proposal_or_404(proposal_id)
    attachment = hearings.minutes_attachment(extensions.session(), proposal)
    if attachment is None or attachment.data is None:
        abort(404)
    return file_response(
        attachment.data, "application/pdf", f"minutes-{proposal_id}.pdf", inline=True
    )
