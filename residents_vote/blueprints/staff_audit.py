"""Staff pages for a proposal's record: the audit trail, the confirmation and filing.

Routes live on staff.bp (admin and staff, scoped to their communities).
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from .. import extensions
from ..services import audit, filing, inbox
from ..services import audit_log as audit_text
from ..services.errors import ServiceError
from ..web import local_time
from .common import actor, file_response, on_refusal, proposal_or_404
from .staff import bp

__all__ = ["bp"]

PAGE_SIZE = 200


class FiledForm(FlaskForm):
    """CSRF only; the note is read from request.form."""


def _filters() -> tuple[str, str]:
    return request.args.get("action", "")[:64], request.args.get("household", "")[:100].strip()


@bp.route("/proposals/<int:proposal_id>/audit")
def audit_log(proposal_id: int):
    p = proposal_or_404(proposal_id)
    db = extensions.session()
    action, household = _filters()
    trail = audit_text.trail(db, p, action=action, household=household)
    if request.args.get("format") == "csv":
        return _csv(p, trail.events)
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, -(-len(trail.events) // PAGE_SIZE))
    page = min(page, pages)
    shown = trail.events[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render_template(
        "staff/audit.html",
        proposal=p,
        community=p.community,
        rows=[(e, audit_text.describe(e)) for e in shown],
        trail=trail,
        action=action,
        household=household,
        action_label=audit_text.action_label,
        check=audit.verify(db, community_id=p.community_id),
        head=audit.head(db, p.community_id),
        page=page,
        pages=pages,
    )


def _csv(p, events) -> Response:
    rows = [["seq", "time", "actor", "action", "description", "subject", "data", "hash"]]
    for e in events:
        rows.append(
            [
                e.seq,
                local_time(e.at, "%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.action,
                audit_text.describe(e),
                e.subject,
                e.data,
                e.hash,
            ]
        )
    data = filing._csv(rows)
    return file_response(data, "text/csv; charset=utf-8", f"audit-{p.id}.csv")


@bp.route("/proposals/<int:proposal_id>/confirmation.pdf")
def confirmation_pdf(proposal_id: int):
    p = proposal_or_404(proposal_id)
    try:
        data = filing.confirmation_pdf(extensions.session(), p)
    except ServiceError as exc:
        abort(exc.status)
    return file_response(data, "application/pdf", f"confirmation-{p.id}.pdf", inline=True)


@bp.route("/proposals/<int:proposal_id>/filing.zip")
def filing_zip(proposal_id: int):
    p = proposal_or_404(proposal_id)
    try:
        package = filing.package(extensions.session(), p)
    except ServiceError as exc:
        abort(exc.status)
    return file_response(package.data, "application/zip", f"{package.filename}")


def _proposal_page(proposal_id: int) -> str:
    return url_for("staff.proposal", proposal_id=proposal_id)


@bp.route("/proposals/<int:proposal_id>/filed", methods=["POST"])
@on_refusal(_proposal_page)
def mark_filed(proposal_id: int):
    p = proposal_or_404(proposal_id)
    if not FiledForm().validate_on_submit():
        abort(400)
    note = request.form.get("note", "")
    filing.file_proposal(extensions.store(), p.id, actor=actor(), note=note)
    flash(_("Marked as filed."), "ok")
    return redirect(url_for("staff.proposal", proposal_id=p.id), code=303)


@bp.app_template_global()
def district_filing(proposal) -> inbox.FilingState:
    """The district filing of a proposal, for its staff page (a returned filing's reason)."""
    return inbox.state(extensions.session(), proposal)


@bp.route("/proposals/<int:proposal_id>/submit", methods=["POST"])
@on_refusal(_proposal_page)
def filing_submit(proposal_id: int):
    """Send the confirmed proposal's filing package to its district's inbox."""
    p = proposal_or_404(proposal_id)
    if not FiledForm().validate_on_submit():
        abort(400)
    done = inbox.submit_filing(extensions.store(), p.id, by=actor())
    flash(_("Submitted to the district's inbox (%(district)s).", district=done.district), "ok")
    return redirect(url_for("staff.proposal", proposal_id=p.id), code=303)
