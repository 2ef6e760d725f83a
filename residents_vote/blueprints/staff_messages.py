"""Staff pages for text messages (issue 15): send ballot links, the reminder day, the
delivery of a proposal's messages, and with the `outbox` backend the queued links to
send by hand. Phones are masked to their last four digits except in the hand-sending
list (that is the sending itself)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import extensions
from ..messages import backends, links, outbox
from .common import actor, close_if_due, file_response, on_refusal, proposal_or_404
from .staff import bp
from .staff_proposals import ActionForm


def _back(proposal_id: int, **_kwargs) -> str:
    return url_for("staff.messages", proposal_id=proposal_id)


def _form(proposal_id: int) -> None:
    proposal_or_404(proposal_id)
    if not ActionForm().validate_on_submit():
        abort(400)


def _backend_kind() -> str:
    try:
        return backends.kind_of(extensions.store().settings)
    except backends.ConfigError:
        return "invalid"


@bp.route("/proposals/<int:proposal_id>/messages")
def messages(proposal_id: int):
    proposal = close_if_due(proposal_or_404(proposal_id))
    if proposal.opened_at is None:
        abort(404)
    kind = _backend_kind()
    if kind == backends.OUTBOX and links.reminder_due(proposal, extensions.now()):
        # nobody runs the worker with the outbox backend: the reminder is queued here,
        # for staff to send by hand
        links.queue_due_reminders(extensions.store(), now=extensions.now(),
                                  proposal_id=proposal.id)
        extensions.fresh_snapshot()
    db = extensions.session()
    return render_template(
        "staff/messages.html",
        proposal=proposal,
        community=proposal.community,
        form=ActionForm(),
        backend=kind,
        delivery=outbox.delivery(db, proposal),
        listed=outbox.listed(db, proposal.id),
        hand=outbox.hand_queue(db, proposal.id) if kind == backends.OUTBOX else [],
        reminder=links.reminder_of(db, proposal),
    )


@bp.route("/proposals/<int:proposal_id>/messages/send", methods=["POST"])
@on_refusal(_back)
def messages_send(proposal_id: int):
    _form(proposal_id)
    codes = [c for c in request.form.get("households", "").replace(",", " ").split() if c]
    report = links.send_links(
        extensions.store(),
        proposal_id,
        unvoted=request.form.get("unvoted") == "1",
        codes=codes or None,
        force=request.form.get("force") == "1",
        actor=actor(),
        now=extensions.now(),
    )
    flash(_("Queued %(queued)s messages; %(no_phone)s households have no phone.",
            queued=report.queued, no_phone=report.no_phone), "ok")
    if report.recent:
        flash(_("Skipped %(n)s households sent a link within the last 24 hours.",
                n=len(report.recent)), "error")
    if report.unsealed:
        flash(_("The link of these households' ballots is not known (issued before links "
                "were kept); reissue their ballots to send them: %(codes)s",
                codes=", ".join(report.unsealed[:20])), "error")
    return redirect(_back(proposal_id), code=303)


@bp.route("/proposals/<int:proposal_id>/messages/reminder", methods=["POST"])
@on_refusal(_back)
def messages_reminder(proposal_id: int):
    _form(proposal_id)
    text = request.form.get("day", "").strip()
    day = None
    if text:
        import datetime as dt

        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            flash(_("Give the day as YYYY-MM-DD."), "error")
            return redirect(_back(proposal_id), code=303)
    chosen = links.set_reminder(extensions.store(), proposal_id, day, actor=actor())
    flash(_("The reminder goes to households that have not voted on %(day)s.",
            day=chosen.isoformat()), "ok")
    return redirect(_back(proposal_id), code=303)


@bp.route("/proposals/<int:proposal_id>/messages/outbox.csv")
def messages_csv(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    data = outbox.export_hand_queue(extensions.store(), proposal.id, actor=actor())
    response = file_response(data, "text/csv", f"messages-{proposal.id}.csv")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/proposals/<int:proposal_id>/messages/mark-sent", methods=["POST"])
@on_refusal(_back)
def messages_mark_sent(proposal_id: int):
    _form(proposal_id)
    ids = [int(v) for v in request.form.getlist("message") if v.isdigit()]
    done = outbox.mark_sent_by_hand(
        extensions.store(), proposal_id, ids, actor=actor(), now=extensions.now()
    )
    flash(_("%(n)s messages marked as sent.", n=done), "ok")
    return redirect(_back(proposal_id), code=303)
