"""Pages for the district and city renovation offices: the district overview, its
filing inbox, and the city's view of every district (CONTRACT.md "Districts and the
filing inbox").

Who may open them is decided by web.ACCESS (admin, city, district) and by the district
scoping here: a district user sees only their own district, anything else answers 404.
No register, no names, no phones: only stages, dates and counts.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import extensions, labels
from ..models import District
from ..services import districts, inbox
from ..web import local_time
from .common import actor, file_response, on_refusal

bp = Blueprint("district", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}


class ActionForm(FlaskForm):
    """CSRF only; the fields are read from request.form."""


def _district_or_404(slug: str) -> District:
    district = districts.district_for(extensions.session(), current_user, slug)
    if district is None:
        abort(404)
    return district


def _item_or_404(slug: str, item_id: int) -> inbox.Item:
    district = _district_or_404(slug)
    item = inbox.item_for(extensions.session(), current_user, district, item_id)
    if item is None:
        abort(404)
    return item


def _city_only() -> None:
    if current_user.role not in ("city", "admin"):
        abort(404)


def stage_status_label(status: str) -> str:
    if status == "none":
        return _("Not started")
    return labels.status_label(status)


def short_status_label(status: str) -> str:
    """A stage's status in a few characters (the city's table on a phone)."""
    short = {
        "none": _("Not started"),
        "counting": _("Counting"),
        "publicity": _("Result posted"),
        "submitted": _("Sent to district"),
    }
    return short.get(status) or labels.status_label(status)


bp.add_app_template_global(stage_status_label, "stage_status_label")
bp.add_app_template_global(short_status_label, "short_status_label")


@bp.route("/district/")
def home():
    """A district user's own district; the city page for city users and admins."""
    if current_user.role == "district":
        district = extensions.session().get(District, current_user.district_id or 0)
        if district is None:
            abort(404)
        return redirect(url_for("district.overview", district=district.slug))
    return redirect(url_for("district.city"))


@bp.route("/district/<district>")
def overview(district: str):
    d = _district_or_404(district)
    view = districts.overview(extensions.session(), d)
    return render_template(
        "district/overview.html",
        view=view,
        form=ActionForm(),
        may_set_targets=districts.may_set_targets(current_user),
        stages=districts.TRACKED_STAGES,
    )


def _stage_cells(row: districts.StageRow) -> list[object]:
    return [
        stage_status_label(row.status),
        row.title,
        local_time(row.opened_at),
        local_time(row.closes_at),
        local_time(row.objection_ends_at),
        local_time(row.confirmed_at),
        local_time(row.filed_at),
        row.voted,
        row.electorate,
        row.days_left if row.days_left is not None else "",
        row.target.isoformat() if row.target else "",
        _("behind") if row.behind else "",
    ]


def _stage_headers(stage: str) -> list[str]:
    name = labels.stage_label(stage)
    return [
        f"{name}: {h}"
        for h in (
            _("Stage"),
            _("Title"),
            _("Opened"),
            _("Voting closes"),
            _("Objection period ends"),
            _("Confirmed"),
            _("Filed"),
            _("Voted"),
            _("Households"),
            _("Days left"),
            _("Target date"),
            _("Behind"),
        )
    ]


@bp.route("/district/<district>/overview.xlsx")
def overview_xlsx(district: str):
    d = _district_or_404(district)
    view = districts.overview(extensions.session(), d)
    header = [_("Community")]
    for stage in districts.TRACKED_STAGES:
        header += _stage_headers(stage)
    rows = []
    for c in view.communities:
        row: list[object] = [c.name]
        for stage in districts.TRACKED_STAGES:
            row += _stage_cells(c.stages[stage])
        rows.append(row)
    data = districts.overview_xlsx(view, header, rows)
    return file_response(data, XLSX, f"district-{d.slug}.xlsx")


def _back_to_overview(district: str, **_kwargs) -> str:
    return url_for("district.overview", district=district)


@bp.route("/district/<district>/targets", methods=["POST"])
@on_refusal(_back_to_overview)
def targets(district: str):
    d = _district_or_404(district)
    if not districts.may_set_targets(current_user):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    districts.change_targets(
        extensions.store(),
        d.slug,
        application=request.form.get("application", ""),
        design=request.form.get("design", ""),
        actor=actor(),
    )
    flash(_("Campaign dates saved."), "ok")
    return redirect(url_for("district.overview", district=d.slug), code=303)


@bp.route("/district/<district>/inbox/<int:item_id>")
def inbox_item(district: str, item_id: int):
    item = _item_or_404(district, item_id)
    return render_template(
        "district/item.html",
        item=item,
        form=ActionForm(),
        may_decide=inbox.may_decide(current_user, item.district.id),
    )


@bp.route("/district/<district>/inbox/<int:item_id>/package.zip")
def inbox_package(district: str, item_id: int):
    item = _item_or_404(district, item_id)
    return file_response(item.submission.package, "application/zip", item.submission.filename)


@bp.route("/district/<district>/inbox/<int:item_id>/files/<path:member>")
def inbox_file(district: str, item_id: int, member: str):
    item = _item_or_404(district, item_id)
    data = inbox.member(item, member)
    if data is None:
        abort(404)
    suffix = "." + member.rpartition(".")[2].lower()
    mimetype = FILE_TYPES.get(suffix, "application/octet-stream")
    filename = member.replace("/", "_")
    return file_response(data, mimetype, filename, inline=suffix in (".pdf", ".png", ".jpg"))


def _back_to_item(district: str, item_id: int, **_kwargs) -> str:
    return url_for("district.inbox_item", district=district, item_id=item_id)


def _decide(district: str, item_id: int) -> inbox.Item:
    item = _item_or_404(district, item_id)
    if not inbox.may_decide(current_user, item.district.id):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    return item


@bp.route("/district/<district>/inbox/<int:item_id>/accept", methods=["POST"])
@on_refusal(_back_to_item)
def inbox_accept(district: str, item_id: int):
    item = _decide(district, item_id)
    inbox.accept_filing(
        extensions.store(), item.proposal.id, by=actor(), item_id=item.submission.id
    )
    flash(_("Filing accepted: the proposal is filed."), "ok")
    return redirect(url_for("district.overview", district=item.district.slug), code=303)


@bp.route("/district/<district>/inbox/<int:item_id>/return", methods=["POST"])
@on_refusal(_back_to_item)
def inbox_return(district: str, item_id: int):
    item = _decide(district, item_id)
    reason = request.form.get("reason", "")
    inbox.return_filing(
        extensions.store(),
        item.proposal.id,
        reason=reason,
        by=actor(),
        item_id=item.submission.id,
    )
    flash(_("Filing returned to the community with the reason."), "ok")
    return redirect(url_for("district.overview", district=item.district.slug), code=303)


@bp.route("/city")
def city():
    _city_only()
    view = districts.city(extensions.session())
    return render_template(
        "district/city.html",
        view=view,
        stages=districts.TRACKED_STAGES,
        statuses=districts.STAGE_STATUSES,
    )


@bp.route("/city.xlsx")
def city_xlsx():
    _city_only()
    view = districts.city(extensions.session())
    header = [_("District"), _("Communities"), _("Behind"), _("Waiting in the inbox")]
    for stage in districts.TRACKED_STAGES:
        header += [
            f"{labels.stage_label(stage)}: {stage_status_label(s)}"
            for s in districts.STAGE_STATUSES
        ]

    def counts(c: dict[str, dict[str, int]]) -> list[object]:
        return [c[stage][s] for stage in districts.TRACKED_STAGES for s in districts.STAGE_STATUSES]

    rows: list[list[object]] = [
        [r.name, r.communities, r.behind, r.waiting, *counts(r.counts)] for r in view.districts
    ]
    rows.append([_("Total"), view.communities, view.behind, view.waiting, *counts(view.totals)])
    data = districts.city_xlsx(_("Renovation campaign by district"), header, rows)
    return file_response(data, XLSX, "city.xlsx")
