"""Staff pages for one proposal: drafting, opening, ballots, paper entry, closing.

Handlers only translate forms into service calls; the services decide.
"""

from __future__ import annotations

import hashlib

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import extensions
from ..domain import catalog, receipts
from ..models import Attachment, Objection, Proposal
from ..services import (
    ballots,
    costs,
    dashboard,
    notices,
    printing,
    proposals,
    results,
    tally,
    voting,
)
from ..services.errors import ServiceError
from ..web import translate_error
from .common import (
    actor,
    close_if_due,
    community_or_404,
    file_response,
    on_refusal,
    proposal_or_404,
)
from .staff import bp

UPLOAD_TYPES = {
    "application/pdf": b"%PDF",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG",
}
MAX_UPLOAD = 10 * 1024 * 1024


class ActionForm(FlaskForm):
    """CSRF only; the fields are read from request.form."""


def _draft_from_form(form) -> proposals.Draft:
    questions = [q.strip() for q in form.get("questions", "").splitlines() if q.strip()]
    try:
        objection_days = int(form.get("objection_days") or 7)
    except ValueError:
        objection_days = -1
    return proposals.Draft(
        title=form.get("title", ""),
        stage=form.get("stage", "application"),
        questions=questions,
        rule=form.get("rule", "seed"),
        headcount=form.get("headcount") or None,
        scope=[b.strip() for b in form.get("scope", "").split(",") if b.strip()],
        starts_at=proposals.parse_time(form.get("starts")),
        closes_at=proposals.parse_time(form.get("closes")),
        objection_days=objection_days,
        verify=form.get("verify", "none"),
        body=form.get("body", ""),
    )


def read_upload(field: str, kinds: tuple[str, ...] = tuple(UPLOAD_TYPES)) -> tuple | None:
    """Default-deny upload check: size limit and a content sniff, not the client's word."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return None
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ServiceError("The file is too large (at most 10 MB).")
    for mime in kinds:
        if data.startswith(UPLOAD_TYPES[mime]):
            return upload.filename[:200], mime, data
    raise ServiceError("Only PDF, JPEG or PNG files are accepted.")


def _done(proposal: Proposal, message: str):
    flash(message, "ok")
    return redirect(url_for("staff.proposal", proposal_id=proposal.id), code=303)


def _refused(proposal: Proposal, exc: ServiceError):
    extensions.session().rollback()
    flash(translate_error(exc), "error")
    return redirect(url_for("staff.proposal", proposal_id=proposal.id), code=303)


@bp.route("/c/<slug>/proposals/new", methods=["GET", "POST"])
def proposal_new(slug: str):
    community = community_or_404(slug)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        db = extensions.session()
        try:
            proposal = proposals.create(
                db, community, _draft_from_form(request.form), actor=actor()
            )
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return render_template(
                "staff/proposal_form.html",
                community=community,
                form=form,
                values=request.form,
                error=translate_error(exc),
                proposal=None,
            ), 422
        return _done(proposal, _("Draft saved."))
    return render_template(
        "staff/proposal_form.html", community=community, form=form, values={}, proposal=None
    )


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
def proposal_edit(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        db = extensions.session()
        try:
            proposals.update(db, proposal, _draft_from_form(request.form), actor=actor())
            db.commit()
        except ServiceError as exc:
            db.rollback()
            return render_template(
                "staff/proposal_form.html",
                community=proposal.community,
                form=form,
                values=request.form,
                error=translate_error(exc),
                proposal=proposal,
            ), 422
        return _done(proposal, _("Draft saved."))
    values = {
        "title": proposal.title,
        "stage": proposal.stage,
        "body": proposal.body,
        "questions": "\n".join(q.text for q in proposal.questions),
        "rule": proposal.rule,
        "headcount": proposal.headcount,
        "scope": proposal.scope,
        "starts": _local_input(proposal.starts_at),
        "closes": _local_input(proposal.closes_at),
        "objection_days": proposal.objection_days,
        "verify": proposal.verify,
    }
    return render_template(
        "staff/proposal_form.html",
        community=proposal.community,
        form=form,
        values=values,
        proposal=proposal,
    )


def _local_input(value) -> str:
    from ..web import local_time

    return local_time(value, "%Y-%m-%dT%H:%M") if value else ""


@bp.route("/proposals/<int:proposal_id>")
def proposal(proposal_id: int):
    p = proposal_or_404(proposal_id)
    db = extensions.session()
    p = close_if_due(p)
    live = tally.compute(db, p) if p.status != "draft" else None
    return render_template(
        "staff/proposal.html",
        proposal=p,
        community=p.community,
        live=live,
        stats=dashboard.stats(db, p) if live else None,
        voided=dashboard.voided_entries(db, p) if live else [],
        shortfall=[notices.shortfall_label(v.results, p.headcount) for v in live.verdicts]
        if live
        else [],
        phase=proposals.phase(p),
        short_window=proposals.short_window(p),
        form=ActionForm(),
        objections=results.objections(db, p),
        plan_summary=costs.summary(p),
        plan=costs.plan_attachment(db, p),
        voted=proposals.voted_count(db, p) if live else 0,
        catalog_items=catalog.ITEMS,
        plan_lines=costs.format_lines(p),
        counting_overdue=results.counting_overdue(p),
        missing_schedule=results.missing_schedule_years(p),
    )


def _action_form(proposal_id: int):
    """The proposal must be visible to this user (404) and the form carry its CSRF (400)."""
    proposal_or_404(proposal_id)
    if not ActionForm().validate_on_submit():
        abort(400)


def _action(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = extensions.session()
    return proposal, db, proposals.lock(db, proposal.id)


def _perform(proposal_id: int, change, message):
    """Run one state change on the locked proposal; commit, or roll back and say why."""
    p, db, locked = _action(proposal_id)
    try:
        outcome = change(db, locked)
        db.commit()
    except ServiceError as exc:
        return _refused(p, exc)
    return _done(p, message(outcome))


def _new_closing_time():
    closes = proposals.parse_time(request.form.get("closes"))
    if closes is None:
        raise ServiceError("Give the new closing time.")
    return closes


def _back_to_proposal(proposal_id: int, **_kwargs) -> str:
    return url_for("staff.proposal", proposal_id=proposal_id)


@bp.route("/proposals/<int:proposal_id>/open", methods=["POST"])
@on_refusal(_back_to_proposal)
def proposal_open(proposal_id: int):
    _action_form(proposal_id)
    opened = proposals.open_proposal(
        extensions.store(), proposal_id, starts=request.form.get("starts"), actor=actor()
    )
    flash(
        _("Voting notice published; %(n)s households in the electorate.", n=opened.households),
        "ok",
    )
    return redirect(_back_to_proposal(proposal_id), code=303)


@bp.route("/proposals/<int:proposal_id>/extend", methods=["POST"])
def proposal_extend(proposal_id: int):
    return _perform(
        proposal_id,
        lambda db, p: proposals.extend(db, p, _new_closing_time(), actor=actor()),
        lambda _o: _("Closing time extended; a new revision of the voting notice is published."),
    )


@bp.route("/proposals/<int:proposal_id>/cancel", methods=["POST"])
def proposal_cancel(proposal_id: int):
    reason = request.form.get("reason", "")
    return _perform(
        proposal_id,
        lambda db, p: proposals.cancel(db, p, reason, actor=actor()),
        lambda _o: _("The vote was cancelled."),
    )


@bp.route("/proposals/<int:proposal_id>/close", methods=["POST"])
def proposal_close(proposal_id: int):
    if request.form.get("confirm") != "yes":
        proposal_or_404(proposal_id)
        flash(_("Tick the confirmation box to close the vote."), "error")
        return redirect(url_for("staff.proposal", proposal_id=proposal_id), code=303)
    return _perform(
        proposal_id,
        lambda db, p: results.close(db, p, actor=actor()),
        lambda _o: _("Voting closed; the preliminary result is posted."),
    )


@bp.route("/proposals/<int:proposal_id>/finalize", methods=["POST"])
def proposal_finalize(proposal_id: int):
    return _perform(
        proposal_id,
        lambda db, p: results.finalize(db, p, actor=actor()),
        lambda _o: _("The final result is published."),
    )


@bp.route("/proposals/<int:proposal_id>/ballots", methods=["POST"])
def proposal_ballots(proposal_id: int):
    p, db, locked = _action(proposal_id)
    mode = request.form.get("mode", "issue")
    try:
        if mode == "issue":
            issued = ballots.issue(db, locked, actor=actor())
        elif mode == "unvoted":
            issued = ballots.reissue(db, locked, None, actor=actor())
        else:
            codes = [c for c in request.form.get("households", "").replace(",", " ").split() if c]
            if not codes:
                raise ServiceError("Give the household codes to reissue.")
            issued = ballots.reissue(db, locked, codes, actor=actor())
        if not issued:
            db.rollback()
            flash(_("No ballots to issue: every household has a ballot or has voted."), "ok")
            return redirect(url_for("staff.proposal", proposal_id=p.id), code=303)
        data = printing.ballots_pdf(db, locked, issued, shares=_share_texts(db, locked))
        db.commit()
    except ServiceError as exc:
        return _refused(p, exc)
    return file_response(data, "application/pdf", f"ballots-{p.id}.pdf")


def _share_texts(db, proposal: Proposal) -> dict[str, str]:
    return printing.share_texts(db, proposal)


@bp.route("/proposals/<int:proposal_id>/paper", methods=["GET", "POST"])
def proposal_paper(proposal_id: int):
    """Enter a paper or proxy ballot, with the scan of the signed ballot as evidence."""
    p = close_if_due(proposal_or_404(proposal_id))
    form = ActionForm()
    status = 200
    recorded = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            scan = read_upload("scan")
            proxy_doc = read_upload("proxy_doc")
            done = voting.record_paper_ballot(
                extensions.store(),
                p.id,
                request.form.get("household", "").strip(),
                request.form,
                serial=request.form.get("serial", "").strip(),
                channel=request.form.get("channel", "paper"),
                by=actor(),
                proxy_name=request.form.get("proxy_name", ""),
                received=request.form.get("received"),
                scan=scan,
                proxy_doc=proxy_doc,
            )
            recorded = (done.household, done.receipt)
        except ServiceError as exc:
            flash(translate_error(exc), "error")
            status = exc.status if exc.status >= 400 else 422
    return render_template(
        "staff/paper.html",
        proposal=p,
        community=p.community,
        form=form,
        recorded=recorded,
        values=request.form if status != 200 else {},
        phase=proposals.phase(p),
    ), status


def _attach(db, proposal: Proposal, kind: str, upload: tuple, **links) -> Attachment:
    filename, mime, data = upload
    attachment = Attachment(
        community_id=proposal.community_id,
        proposal_id=proposal.id,
        kind=kind,
        filename=filename,
        content_type=mime,
        data=data,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=current_user.id,
        **links,
    )
    db.add(attachment)
    db.flush()
    from ..services import audit

    audit.record_for(
        db,
        proposal,
        "evidence.upload",
        actor=actor(),
        subject=kind,
        data={"sha256": attachment.sha256, **links},
    )
    return attachment


@bp.route("/proposals/<int:proposal_id>/plan", methods=["POST"])
def proposal_plan(proposal_id: int):
    """Attach the design plan PDF and/or set the costed plan items (draft only)."""
    p, db, locked = _action(proposal_id)
    try:
        if locked.status != "draft":
            raise ServiceError("Only a draft can be edited")
        upload = read_upload("plan", ("application/pdf",))
        if upload:
            _attach(db, locked, "plan", upload)
        if "items" in request.form:
            items = costs.parse_lines(request.form.get("items", ""))
            costs.set_items(db, locked, items, actor=actor())
        db.commit()
    except ServiceError as exc:
        return _refused(p, exc)
    return _done(p, _("Plan saved."))


@bp.route("/objections/<int:objection_id>", methods=["POST"])
def objection_answer(objection_id: int):
    db = extensions.session()
    objection = db.get(Objection, objection_id)
    if objection is None:
        abort(404)
    p = proposal_or_404(objection.proposal_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        proposals.lock(db, p.id)
        correction = None
        if request.form.get("correct") == "yes":
            correction = {q.number: request.form.get(f"q{q.number}", "") for q in p.questions}
        results.answer_objection(
            db,
            objection,
            request.form.get("decision", ""),
            request.form.get("answer", ""),
            by=current_user,
            correction=correction,
        )
        db.commit()
    except ServiceError as exc:
        return _refused(p, exc)
    return _done(p, _("Objection answered."))


@bp.route("/proposals/<int:proposal_id>/objections", methods=["POST"])
def objection_paper(proposal_id: int):
    """Staff enter an objection received on paper (only during the period)."""
    p, db, locked = _action(proposal_id)
    try:
        results.file_objection(
            db,
            locked,
            name=request.form.get("name", ""),
            text=request.form.get("text", ""),
            household=request.form.get("household", ""),
            contact=request.form.get("contact", ""),
            channel="paper",
            actor=actor(),
        )
        db.commit()
    except ServiceError as exc:
        return _refused(p, exc)
    return _done(p, _("Objection recorded."))


@bp.app_template_global()
def receipt_display(code: str) -> str:
    return receipts.display(code)


__all__ = ["bp", "community_or_404"]
