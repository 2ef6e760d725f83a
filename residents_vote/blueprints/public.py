"""Public pages of a proposal /r/<public_id>: notices, results, receipts, objections.

No login. Everything shown is public by design: the voting notice, the published result
revision (room and area of participating units, never names or phones), receipts looked
up by their code, and the objection form during the objection period.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from .. import extensions, labels
from ..domain import receipts
from ..models import Proposal
from ..services import costs, notices, proposals, results, voting
from ..services.errors import Forbidden, Invalid, NotFound
from ..web import translate_error
from .common import close_if_due, file_response

bp = Blueprint("public", __name__, url_prefix="/r")
bp.add_app_template_global(labels.objection_status, "objection_status")

FINAL = ("final", "confirmed", "submitted", "filed")


class ObjectionForm(FlaskForm):
    """CSRF only; the fields are read from request.form."""


def _proposal(public_id: str) -> Proposal:
    proposal = proposals.by_public_id(extensions.session(), public_id)
    if proposal is None or proposal.status == "draft" or proposal.opened_at is None:
        abort(404)  # a draft, or a draft cancelled before it was ever published
    # Voting closes by itself at the announced time: the first request after it starts
    # the count (status `counting`, in its own write transaction); nothing is published.
    return close_if_due(proposal)


@bp.route("/<public_id>")
def show(public_id: str):
    proposal = _proposal(public_id)
    db = extensions.session()
    data = results.published_json(db, proposal)
    head = results.revision_head(db, proposal) if data else None
    view = notices.view_model(proposal, data, head) if data else None
    final = data is not None and proposal.status in FINAL
    if proposal.route == "hearing":
        return _hearing(proposal, data, view, final)
    context = {}
    if data is None:
        notice = notices.voting_notice_model(proposal)
        context = {"notice": notice, "qr": notices.qr_data_uri(notice.url)}
    else:
        context = {
            "objection_period": notices.objection_period_text(view),
            "how_to_object": notices.how_to_object(proposal),
            "final_statement": notices.final_statement(view) if final else "",
            "resolutions": notices.resolutions(db, proposal) if final else [],
        }
    return render_template(
        "public/proposal.html",
        proposal=proposal,
        community=proposal.community,
        result=data,
        view=view,
        final=final,
        objection_open=results.objection_window_open(proposal),
        objections=results.objections(db, proposal) if data else [],
        form=ObjectionForm(),
        plan=costs.plan_attachment(db, proposal),
        plan_summary=costs.summary(proposal),
        phase=proposals.phase(proposal),
        **context,
    )


def _hearing(proposal: Proposal, data: dict | None, view: dict | None, final: bool):
    """The public page of a hearing: its notice, then its result posting and final notice."""
    from ..services import hearing_docs

    db = extensions.session()
    context: dict = {"fields": hearing_docs.notice_fields(proposal)}
    if data is None:
        url = notices.public_url(proposal)
        context.update(
            how_to_attend=hearing_docs.how_to_attend(proposal), qr=notices.qr_data_uri(url)
        )
    else:
        context.update(
            lines=hearing_docs.result_lines(view),
            objection_period=notices.objection_period_text(view),
            how_to_object=hearing_docs.how_to_object(proposal),
            final_statement=notices.final_statement(view) if final else "",
            resolutions=notices.resolutions(db, proposal) if final else [],
        )
    return render_template(
        "public/hearing.html",
        proposal=proposal,
        community=proposal.community,
        result=data,
        view=view,
        final=final,
        names=hearing_docs.NAMES,
        **context,
    )


@bp.route("/<public_id>.json")
def show_json(public_id: str):
    proposal = _proposal(public_id)
    data = results.published_json(extensions.session(), proposal)
    if data is None:
        abort(404)
    return data


@bp.route("/<public_id>/receipt")
def receipt(public_id: str):
    proposal = _proposal(public_id)
    code = request.args.get("code", "")
    if not code:
        return render_template(
            "public/receipt.html", proposal=proposal, community=proposal.community, vote=None
        )
    if extensions.over_failure_limit("receipt"):
        abort(429)
    try:
        vote, entry = voting.by_receipt(extensions.session(), proposal, code)
    except NotFound:
        voided = _voided_receipt(proposal, code)
        if voided is not None:
            return voided
        extensions.record_failure("receipt")
        return render_template(
            "public/receipt.html",
            proposal=proposal,
            community=proposal.community,
            vote=None,
            unknown=True,
            code=code[:40],
        ), 404
    return render_template(
        "public/receipt.html",
        proposal=proposal,
        community=proposal.community,
        vote=vote,
        entry=entry,
        code=receipts.display(vote.receipt_code),
    )


def _voided_receipt(proposal: Proposal, code: str):
    """A receipt of an entry that staff voided: say so (it is not counted), without its
    answers; None when the code is not one of those either."""
    try:
        voided, entry = voting.voided_by_receipt(extensions.session(), proposal, code)
    except NotFound:
        return None
    return render_template(
        "public/receipt.html",
        proposal=proposal,
        community=proposal.community,
        vote=None,
        voided=voided,
        entry=entry,
        code=receipts.display(voided.receipt_code),
    )


@bp.route("/<public_id>/objections", methods=["POST"])
def objection(public_id: str):
    """An objection from a household that proves itself with its receipt code."""
    proposal = _proposal(public_id)
    if extensions.over_failure_limit("receipt"):
        abort(429)
    return file_objection(proposal, receipt=request.form.get("receipt", ""))


def file_objection(proposal, **proof):
    """File the form's objection for `proposal`, proved by `receipt=` or `ballot_id=`;
    303 to the public page, or the refusal page. An unknown receipt code counts as a
    failure for the client's rate limit."""
    form = request.form
    try:
        results.file_online_objection(
            extensions.store(),
            proposal.id,
            text=form.get("text", ""),
            name=form.get("name", ""),
            contact=form.get("contact", ""),
            **proof,
        )
    except (Forbidden, Invalid) as exc:
        if isinstance(exc, results.UnknownReceipt):
            extensions.record_failure("receipt")
        return render_template(
            "public/objection_refused.html",
            proposal=proposal,
            community=proposal.community,
            message=translate_error(exc),
        ), exc.status
    url = url_for("public.show", public_id=proposal.public_id, filed=1)
    return redirect(url + "#objections", code=303)


@bp.route("/<public_id>/<any(notice, results, final):kind>.pdf")
def pdf(public_id: str, kind: str):
    proposal = _proposal(public_id)
    if not notices.reached(proposal, kind):
        abort(404)
    data = notices.published_pdf(
        extensions.session(), proposal, kind, store=extensions.database().factory
    )
    return file_response(data, "application/pdf", f"{kind}-{proposal.id}.pdf", inline=True)


@bp.route("/<public_id>/plan.pdf")
def plan(public_id: str):
    proposal = _proposal(public_id)
    attachment = costs.plan_attachment(extensions.session(), proposal)
    if attachment is None or attachment.data is None:
        abort(404)
    return file_response(attachment.data, "application/pdf", f"plan-{proposal.id}.pdf", inline=True)
