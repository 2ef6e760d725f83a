"""Staff pages for one proposal: drafting, opening, ballots, paper entry, closing.

Handlers only translate forms into service calls; the services decide.
"""

from __future__ import annotations

import base64
import binascii

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from .. import extensions
from ..domain import catalog, receipts
from ..messages import outbox
from ..services import (
    attachments,
    costs,
    dashboard,
    hearings,
    notices,
    printing,
    proposals,
    results,
    scans,
    share_images,
    tally,
    voting,
)
from ..services.errors import N_, Invalid, ServiceError
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
        route=form.get("route", "vote"),
        hearing_at=proposals.parse_time(form.get("hearing_at")),
        place=form.get("place", ""),
        agenda=form.get("agenda", ""),
        organiser=form.get("organiser", ""),
    )


def raw_upload(field: str) -> tuple[str, bytes] | None:
    """The file name and bytes of an uploaded file (at most one byte over the limit is
    read: attachments.accept refuses it); None when no file was chosen."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        return None
    return upload.filename, upload.read(attachments.MAX_UPLOAD + 1)


def read_upload(
    field: str, kinds: tuple[str, ...] = tuple(attachments.TYPES)
) -> attachments.Upload | None:
    """An uploaded file checked by the service (size limit and a content sniff, not the
    client's word); None when no file was chosen."""
    raw = raw_upload(field)
    return attachments.accept(*raw, kinds) if raw else None


def _done(proposal_id: int, message: str):
    flash(message, "ok")
    return redirect(url_for("staff.proposal", proposal_id=proposal_id), code=303)


@bp.route("/c/<slug>/proposals/new", methods=["GET", "POST"])
def proposal_new(slug: str):
    community = community_or_404(slug)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            proposal_id = proposals.create_draft(
                extensions.store(), community.slug, _draft_from_form(request.form), actor=actor()
            )
        except ServiceError as exc:
            return render_template(
                "staff/proposal_form.html",
                community=community,
                form=form,
                values=request.form,
                error=translate_error(exc),
                proposal=None,
            ), 422
        return _done(proposal_id, _("Draft saved."))
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
        try:
            proposals.edit_draft(
                extensions.store(), proposal.id, _draft_from_form(request.form), actor=actor()
            )
        except ServiceError as exc:
            return render_template(
                "staff/proposal_form.html",
                community=proposal.community,
                form=form,
                values=request.form,
                error=translate_error(exc),
                proposal=proposal,
            ), 422
        return _done(proposal.id, _("Draft saved."))
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
        "route": proposal.route,
        "hearing_at": _local_input(proposal.hearing_at),
        "place": proposal.place,
        "agenda": proposal.agenda,
        "organiser": proposal.organiser,
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
    hearing = p.route == "hearing"
    if hearing:
        live = None  # no ballots, no turnout: the hearing section shows the attendance
    return render_template(
        "staff/proposal.html",
        proposal=p,
        community=p.community,
        live=live,
        hearing=hearing,
        attendance=hearings.attendance(db, p) if hearing and p.status != "draft" else None,
        attendees=hearings.attendance_rows(db, p) if hearing else [],
        short_notice=hearings.short_notice(p),
        minutes=hearings.minutes_attachment(db, p) if hearing else None,
        stats=dashboard.stats(db, p) if live else None,
        voided=dashboard.voided_entries(db, p) if live else [],
        delivery=outbox.delivery(db, p) if live else None,
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
        share_stages=share_images.stages(p),
    )


def _action_form(proposal_id: int):
    """The proposal must be visible to this user (404) and the form carry its CSRF (400)."""
    proposal_or_404(proposal_id)
    if not ActionForm().validate_on_submit():
        abort(400)


def _back_to_proposal(proposal_id: int, **_kwargs) -> str:
    return url_for("staff.proposal", proposal_id=proposal_id)


@bp.route("/proposals/<int:proposal_id>/open", methods=["POST"])
@on_refusal(_back_to_proposal)
def proposal_open(proposal_id: int):
    _action_form(proposal_id)
    opened = proposals.open_proposal(
        extensions.store(), proposal_id, starts=request.form.get("starts"), actor=actor()
    )
    if opened.route == "hearing":
        flash(
            _("Hearing notice posted; %(n)s households in the electorate.", n=opened.households),
            "ok",
        )
    else:
        flash(
            _("Voting notice published; %(n)s households in the electorate.", n=opened.households),
            "ok",
        )
    return redirect(_back_to_proposal(proposal_id), code=303)


@bp.route("/proposals/<int:proposal_id>/extend", methods=["POST"])
@on_refusal(_back_to_proposal)
def proposal_extend(proposal_id: int):
    _action_form(proposal_id)
    proposals.extend_voting(
        extensions.store(), proposal_id, request.form.get("closes"), actor=actor()
    )
    return _done(
        proposal_id,
        _("Closing time extended; a new revision of the voting notice is published."),
    )


@bp.route("/proposals/<int:proposal_id>/cancel", methods=["POST"])
@on_refusal(_back_to_proposal)
def proposal_cancel(proposal_id: int):
    _action_form(proposal_id)
    proposals.cancel_vote(
        extensions.store(), proposal_id, request.form.get("reason", ""), actor=actor()
    )
    return _done(proposal_id, _("The vote was cancelled."))


@bp.route("/proposals/<int:proposal_id>/close", methods=["POST"])
@on_refusal(_back_to_proposal)
def proposal_close(proposal_id: int):
    if request.form.get("confirm") != "yes":
        proposal_or_404(proposal_id)
        flash(_("Tick the confirmation box to close the vote."), "error")
        return redirect(_back_to_proposal(proposal_id), code=303)
    _action_form(proposal_id)
    results.publish_preliminary(extensions.store(), proposal_id, actor=actor())
    return _done(proposal_id, _("Voting closed; the preliminary result is posted."))


@bp.route("/proposals/<int:proposal_id>/finalize", methods=["POST"])
@on_refusal(_back_to_proposal)
def proposal_finalize(proposal_id: int):
    _action_form(proposal_id)
    results.finalize_result(extensions.store(), proposal_id, actor=actor())
    return _done(proposal_id, _("The final result is published."))


ISSUE_MODES = {"issue": "new", "unvoted": "unvoted"}  # anything else: the named households


@bp.route("/proposals/<int:proposal_id>/ballots", methods=["POST"])
@on_refusal(_back_to_proposal)
def proposal_ballots(proposal_id: int):
    _action_form(proposal_id)
    mode = ISSUE_MODES.get(request.form.get("mode", "issue"), "households")
    codes = [c for c in request.form.get("households", "").replace(",", " ").split() if c]
    printed = printing.issue_ballots(
        extensions.store(), proposal_id, mode=mode, codes=codes, actor=actor()
    )
    if printed is None:
        return _done(
            proposal_id, _("No ballots to issue: every household has a ballot or has voted.")
        )
    return file_response(printed.pdf, "application/pdf", f"ballots-{proposal_id}.pdf")


@bp.route("/proposals/<int:proposal_id>/paper", methods=["GET", "POST"])
def proposal_paper(proposal_id: int):
    """Enter a paper or proxy ballot, with the scan of the signed ballot as evidence.

    GET ?household=CODE pre-selects the household (the staff banner of /b/<token>). A POST
    with `read` reads the photo (services/scans.read_photo) and shows the form again,
    pre-filled, with the reading's reasons; the photo's page image rides along in
    `photo_png` and becomes the ballot's scan when the staff member records it."""
    p = close_if_due(proposal_or_404(proposal_id))
    form = ActionForm()
    status = 200
    recorded = None
    reading = None
    values: dict = {}
    if request.method == "GET":
        values = {"household": request.args.get("household", "").strip()[:40]}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = request.form
        try:
            if request.form.get("read"):
                values, reading = _read_photo(p.id)
            else:
                scan = read_upload("scan") or read_upload("photo") or _kept_photo()
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
                values = {}
        except ServiceError as exc:
            flash(translate_error(exc), "error")
            status = exc.status if exc.status >= 400 else 422
    return render_template(
        "staff/paper.html",
        proposal=p,
        community=p.community,
        form=form,
        recorded=recorded,
        values=values,
        reading=reading,
        phase=proposals.phase(p),
    ), status


def _read_photo(proposal_id: int) -> tuple[dict, scans.PhotoReading]:
    """The form's values with the photo's certain answers (and its household when none
    was given) filled in, and the reading."""
    raw = raw_upload("photo")
    if raw is None:
        raise Invalid(N_("Take or choose a photo of the ballot first."))
    reading = scans.read_photo(extensions.store(), proposal_id, *raw)
    values = {k: v for k, v in request.form.items() if k not in ("read", "photo_png")}
    if reading.household and not values.get("household", "").strip():
        values["household"] = reading.household
    for number, answer in reading.answers.items():
        values[f"q{number}"] = answer
    values["photo_png"] = base64.b64encode(reading.image_png).decode("ascii")
    return values, reading


def _kept_photo() -> attachments.Upload | None:
    """The page image of a photo read earlier on this form (see proposal_paper)."""
    kept = request.form.get("photo_png", "")
    if not kept:
        return None
    try:
        data = base64.b64decode(kept, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise Invalid(N_("Only PDF, JPEG or PNG files are accepted.")) from exc
    return attachments.accept("photo.png", data, ("image/png",))


@bp.route("/proposals/<int:proposal_id>/plan", methods=["POST"])
@on_refusal(_back_to_proposal)
def proposal_plan(proposal_id: int):
    """Attach the design plan PDF and/or set the costed plan items (draft only)."""
    _action_form(proposal_id)
    costs.save_plan(
        extensions.store(),
        proposal_id,
        plan=raw_upload("plan"),
        items=request.form.get("items", "") if "items" in request.form else None,
        username=actor(),
    )
    return _done(proposal_id, _("Plan saved."))


def _back_to_objection(objection_id: int, **_kwargs) -> str:
    proposal_id = results.objection_proposal(extensions.session(), objection_id)
    return _back_to_proposal(proposal_id)


@bp.route("/objections/<int:objection_id>", methods=["POST"])
@on_refusal(_back_to_objection)
def objection_answer(objection_id: int):
    proposal_id = results.objection_proposal(extensions.session(), objection_id)
    if proposal_id is None:
        abort(404)
    p = proposal_or_404(proposal_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    correction = None
    if request.form.get("correct") == "yes":
        correction = {q.number: request.form.get(f"q{q.number}", "") for q in p.questions}
    results.answer_objection_as(
        extensions.store(),
        objection_id,
        decision=request.form.get("decision", ""),
        answer=request.form.get("answer", ""),
        correction=correction,
        username=actor(),
    )
    return _done(proposal_id, _("Objection answered."))


@bp.route("/proposals/<int:proposal_id>/objections", methods=["POST"])
@on_refusal(_back_to_proposal)
def objection_paper(proposal_id: int):
    """Staff enter an objection received on paper (only during the period)."""
    _action_form(proposal_id)
    results.record_paper_objection(
        extensions.store(),
        proposal_id,
        name=request.form.get("name", ""),
        text=request.form.get("text", ""),
        household=request.form.get("household", ""),
        contact=request.form.get("contact", ""),
        actor=actor(),
    )
    return _done(proposal_id, _("Objection recorded."))


@bp.app_template_global()
def receipt_display(code: str) -> str:
    return receipts.display(code)


__all__ = ["bp", "community_or_404"]
