"""Returned paper ballots from a scanner or a phone: upload a batch, look at every page's
reading beside its image, record the `ok` pages on one confirmation and decide each
doubtful page (CONTRACT.md "Paper ballot scans"). Staff of the proposal's community."""

from __future__ import annotations

import threading

from flask import Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import extensions
from ..services import scans
from .common import actor, file_response, on_refusal, proposal_or_404
from .staff import bp
from .staff_proposals import ActionForm

MAX_FILES = 200


def _checked(proposal_id: int) -> None:
    proposal_or_404(proposal_id)
    if not ActionForm().validate_on_submit():
        abort(400)


def _batch_or_404(batch_id: int):
    batch = scans.batch_of(extensions.session(), batch_id)
    if batch is None:
        abort(404)
    proposal_or_404(batch.proposal_id)
    return batch


def _page_or_404(page_id: int):
    page = scans.page_of(extensions.session(), page_id)
    if page is None:
        abort(404)
    proposal_or_404(page.batch.proposal_id)
    return page


def _back_to_proposal(proposal_id: int, **_kwargs) -> str:
    return url_for("staff.proposal", proposal_id=proposal_id)


def _back_to_batch(batch_id: int, **_kwargs) -> str:
    return url_for("staff.scan_batch", batch_id=batch_id)


def _back_from_page(page_id: int, **_kwargs) -> str:
    page = scans.page_of(extensions.session(), page_id)
    return url_for("staff.scan_batch", batch_id=page.batch_id) if page else url_for("staff.home")


def _read_in_background(app: Flask, batch_id: int, files: list[tuple[str, bytes]]) -> None:
    """A large batch is read in a thread of this process while its page refreshes
    itself; a failure marks the batch failed (services/scans.read_batch) and is logged."""
    with app.app_context():
        try:
            scans.read_batch(extensions.store(), batch_id, files)
        except Exception:  # noqa: BLE001 - the batch page shows the failure
            app.logger.exception("reading scan batch %s failed", batch_id)


@bp.route("/proposals/<int:proposal_id>/scans/upload", methods=["POST"])
@on_refusal(_back_to_proposal)
def scans_upload(proposal_id: int):
    _checked(proposal_id)
    files = [
        (f.filename, f.read())
        for f in request.files.getlist("files")[:MAX_FILES]
        if f is not None and f.filename
    ]
    store = extensions.store()
    started = scans.start_batch(store, proposal_id, files, username=actor())
    target = url_for("staff.scan_batch", batch_id=started.batch_id)
    if started.existing:
        flash(_("This upload was read before: here is its batch; nothing is recorded twice."), "ok")
    elif started.pages > extensions.settings().scan_read_at_once_pages:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        threading.Thread(
            target=_read_in_background,
            args=(app, started.batch_id, files),
            name=f"scan-batch-{started.batch_id}",
            daemon=True,
        ).start()
    else:
        batch = scans.read_batch(store, started.batch_id, files)
        flash(
            _(
                "%(pages)s pages read: %(ok)s ok, %(review)s to review.",
                pages=batch.pages,
                ok=batch.ok,
                review=batch.review,
            ),
            "ok",
        )
    return redirect(target, code=303)


@bp.route("/proposals/<int:proposal_id>/scans")
def scans_list(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    batches = [
        {
            "batch": b,
            "pages": len(b.pages),
            "pending": sum(1 for p in b.pages if p.decision == "pending"),
            "recorded": sum(1 for p in b.pages if p.decision == "recorded"),
        }
        for b in scans.batches_for(extensions.session(), proposal_id)
    ]
    return render_template(
        "staff/scans_list.html", proposal=proposal, batches=batches, form=ActionForm()
    )


@bp.route("/scans/<int:batch_id>")
def scan_batch(batch_id: int):
    batch = _batch_or_404(batch_id)
    proposal = proposal_or_404(batch.proposal_id)
    rows = [
        {
            "page": p,
            "answers": scans.page_answers(p),
            "reasons": scans.page_reasons(p),
            "crops": sorted(scans.page_crops(p)),
        }
        for p in batch.pages
    ]
    pending_ok = sum(1 for p in batch.pages if p.status == "ok" and p.decision == "pending")
    reading = batch.state == "reading" and not scans.reading_died(batch)
    return render_template(
        "staff/scans_batch.html",
        reading=reading,
        failed=batch.state != "ready" and not reading,
        batch=batch,
        proposal=proposal,
        rows=rows,
        pending_ok=pending_ok,
        form=ActionForm(),
    )


@bp.route("/scans/<int:batch_id>/record", methods=["POST"])
@on_refusal(_back_to_batch)
def scan_batch_record(batch_id: int):
    batch = _batch_or_404(batch_id)
    _checked(batch.proposal_id)
    done = scans.record_ok_pages(extensions.store(), batch_id, username=actor())
    flash(_("%(n)s pages recorded as paper ballots.", n=done.recorded), "ok")
    if done.held:
        flash(
            _(
                "%(n)s pages were held for review: the household voted since the reading.",
                n=done.held,
            ),
            "error",
        )
    return redirect(_back_to_batch(batch_id), code=303)


@bp.route("/scans/pages/<int:page_id>/decide", methods=["POST"])
@on_refusal(_back_from_page)
def scan_page_decide(page_id: int):
    page = _page_or_404(page_id)
    batch_id = page.batch_id
    _checked(page.batch.proposal_id)
    if request.form.get("reject"):
        scans.decide_page(extensions.store(), page_id, username=actor(), reject=True)
        flash(_("Page %(n)s rejected: nothing recorded.", n=page.number), "ok")
    else:
        answers = {
            int(key[1:]): value
            for key, value in request.form.items()
            if key[:1] == "q" and key[1:].isdigit()
        }
        scans.decide_page(extensions.store(), page_id, username=actor(), answers=answers)
        flash(_("Page %(n)s recorded as a paper ballot.", n=page.number), "ok")
    return redirect(_back_to_batch(batch_id), code=303)


@bp.route("/scans/pages/<int:page_id>/image")
def scan_page_image(page_id: int):
    page = _page_or_404(page_id)
    if not page.image:
        abort(404)
    return file_response(
        page.image, "image/png", f"scan-{page.batch_id}-{page.number}.png", inline=True
    )


@bp.route("/scans/pages/<int:page_id>/crops/<name>")
def scan_page_crop(page_id: int, name: str):
    page = _page_or_404(page_id)
    crop = scans.page_crops(page).get(name)
    if crop is None:
        abort(404)
    return file_response(crop, "image/png", f"crop-{page.id}-{name}.png", inline=True)
