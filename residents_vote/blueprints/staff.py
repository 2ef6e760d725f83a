"""Pages for neighborhood committee staff: communities, the register, proposals."""

from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

from .. import extensions
from ..services import households, users
from ..services.errors import Problems
from .common import actor, community_or_404, file_response

bp = Blueprint("staff", __name__, url_prefix="/staff")

REGISTER_TYPES = (".csv", ".xlsx")


class UploadForm(FlaskForm):
    file = FileField("file", validators=[FileRequired()])


class ConfirmImportForm(FlaskForm):
    filename = HiddenField()
    payload = HiddenField()
    digest = HiddenField()
    remove_missing = HiddenField()


@bp.route("/")
def home():
    communities = users.visible_communities(extensions.session(), current_user)
    return render_template("staff/home.html", communities=communities)


@bp.route("/c/<slug>")
def community(slug: str):
    c = community_or_404(slug)
    db = extensions.session()
    query = request.args.get("q", "")[:50]
    rows = households.search(db, c, query)
    from ..services import proposals as proposal_service

    return render_template(
        "staff/community.html",
        community=c,
        totals=households.totals(db, c),
        rows=rows,
        query=query,
        proposals=proposal_service.for_community(db, c),
        upload=UploadForm(),
    )


@bp.route("/c/<slug>/export.<fmt>")
def export(slug: str, fmt: str):
    c = community_or_404(slug)
    if fmt not in ("csv", "xlsx"):
        return redirect(url_for("staff.community", slug=slug))
    filename = f"register-{c.slug}.{fmt}"
    # A GET that writes the audit event: a use case with its own write transaction.
    data = households.export_register(extensions.store(), c.slug, filename, actor=actor())
    mimetype = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return file_response(data, mimetype, f"{filename}")


@bp.route("/c/<slug>/import", methods=["POST"])
def import_preview(slug: str):
    """Check an uploaded register and show what importing it would do; nothing is written."""
    c = community_or_404(slug)
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choose a CSV or XLSX file to upload."), "error")
        return redirect(url_for("staff.community", slug=slug), code=303)
    upload = form.file.data
    filename = upload.filename or "register.csv"
    data = upload.read()
    if not filename.lower().endswith(REGISTER_TYPES):
        return render_template(
            "staff/import.html", community=c, problems=[_("Only .csv and .xlsx files.")]
        ), 422
    remove_missing = request.form.get("remove_missing") == "1"
    try:
        preview = households.preview_import(
            extensions.store(), c.slug, filename, data, remove_missing=remove_missing
        )
    except Problems as exc:
        return render_template("staff/import.html", community=c, problems=exc.problems), 422
    # Carry the checked rows as our own CSV: the confirm step then re-reads a small,
    # fast format instead of parsing the original (possibly XLSX) file again.
    data = preview.checked_csv
    confirm = ConfirmImportForm(
        filename="register.csv",
        payload=base64.b64encode(data).decode("ascii"),
        digest=hashlib.sha256(data).hexdigest(),
        remove_missing="1" if remove_missing else "",
    )
    return render_template(
        "staff/import.html",
        community=c,
        problems=[],
        report=preview.report,
        rows=preview.rows,
        confirm=confirm,
        filename=filename,
    )


@bp.route("/c/<slug>/import/confirm", methods=["POST"])
def import_confirm(slug: str):
    c = community_or_404(slug)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        flash(_("The form expired or was not sent from this site. Please reload and retry."))
        return redirect(url_for("staff.community", slug=slug), code=303)
    try:
        data = base64.b64decode(form.payload.data or "", validate=True)
    except ValueError:
        data = b""
    if hashlib.sha256(data).hexdigest() != form.digest.data:
        flash(_("The uploaded file was damaged; please upload it again."), "error")
        return redirect(url_for("staff.community", slug=slug), code=303)
    try:
        report = households.import_register(
            extensions.store(),
            c.slug,
            form.filename.data or "register.csv",
            data,
            remove_missing=form.remove_missing.data == "1",
            actor=actor(),
        )
    except Problems as exc:
        return render_template("staff/import.html", community=c, problems=exc.problems), 422
    flash(
        _(
            "Imported: %(added)s added, %(updated)s updated, %(unchanged)s unchanged.",
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
        ),
        "ok",
    )
    return redirect(url_for("staff.community", slug=slug), code=303)
