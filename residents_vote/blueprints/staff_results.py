"""Staff pages for turnout follow-up and publication evidence (non-voters, postings).

The non-voter list carries owner names and phones: staff only, never cached, and every
download is audited. Postings record where and when each notice was put up, with an
optional photo kept as evidence.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import extensions
from ..domain.tally import format_area
from ..messages import outbox
from ..models import Proposal
from ..pdf import Notice
from ..services import dashboard, notices
from ..services.errors import ServiceError
from ..web import local_time, translate_error
from .common import actor, file_response, proposal_or_404
from .staff import bp
from .staff_proposals import ActionForm, read_upload

PHOTO_SUFFIX = {"image/png": "png", "image/jpeg": "jpg", "application/pdf": "pdf"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _electorate_proposal(proposal_id: int) -> Proposal:
    proposal = proposal_or_404(proposal_id)
    if proposal.opened_at is None:
        abort(404)  # a draft has no electorate yet
    return proposal


def _listing(proposal: Proposal) -> tuple[dashboard.NonVoterList, str]:
    sort = request.args.get("sort", "building")
    if sort not in dashboard.SORTS:
        sort = "building"
    return dashboard.nonvoters(extensions.session(), proposal, sort), sort


def _headers() -> list[str]:
    return [
        _("Building"),
        _("Unit"),
        _("Room"),
        _("Household"),
        _("Area (m²)"),
        _("Owner"),
        _("Phone"),
    ]


def _audit_export(proposal: Proposal, fmt: str, count: int) -> None:
    """Personal data left the system: record who took it (PIPL; no names in the log)."""
    dashboard.record_nonvoters_export(
        extensions.store(), proposal.id, fmt=fmt, count=count, actor=actor()
    )


@bp.route("/proposals/<int:proposal_id>/nonvoters")
def nonvoters(proposal_id: int):
    proposal = _electorate_proposal(proposal_id)
    listing, sort = _listing(proposal)
    return render_template(
        "staff/nonvoters.html",
        proposal=proposal,
        community=proposal.community,
        listing=listing,
        sort=sort,
        delivery=outbox.delivery(extensions.session(), proposal),
    )


def _title(proposal: Proposal) -> str:
    return _("Households that have not voted: %(title)s", title=proposal.title)


@bp.route("/proposals/<int:proposal_id>/nonvoters.pdf")
def nonvoters_pdf(proposal_id: int):
    proposal = _electorate_proposal(proposal_id)
    listing, sort = _listing(proposal)
    community = proposal.community
    doc = Notice(
        _("Households that have not voted"),
        footer=_(
            "%(community)s · personal information: staff use only, do not post",
            community=community.name,
        ),
    )
    doc.heading(_title(proposal))
    doc.paragraph(
        _(
            "%(count)s of %(total)s households have not voted (%(area)s of %(total_area)s m²). "
            "Printed %(now)s; voting closes %(closes)s.",
            count=listing.count,
            total=listing.households,
            area=format_area(listing.missing_area),
            total_area=format_area(listing.area),
            now=local_time(dt.datetime.now(dt.UTC)),
            closes=local_time(proposal.closes_at),
        )
    )
    if sort == "area":
        doc.paragraph(_("Largest areas first."), size=9)
    for group in listing.groups:
        doc.heading(_group_title(group), level=2)
        doc.table(
            [_("Room"), _("Area (m²)"), _("Owner"), _("Phone"), _("Notes")],
            [[r.room, format_area(r.area), r.owner_name, r.phone, ""] for r in group.rows],
            col_widths=[16, 18, 26, 30, 60],
            align=["L", "R", "L", "L", "L"],
        )
    if not listing.groups:
        doc.paragraph(_("Every household has voted."))
    data = doc.output()
    _audit_export(proposal, "pdf", listing.count)
    return file_response(data, "application/pdf", f"nonvoters-{proposal.id}.pdf", inline=True)


def _group_title(group: dashboard.NonVoterGroup) -> str:
    if group.unit:
        where = _("Building %(b)s, unit %(u)s", b=group.building, u=group.unit)
    else:
        where = _("Building %(b)s", b=group.building)
    households = ngettext("%(num)s household", "%(num)s households", len(group.rows))
    return _(
        "%(where)s: %(households)s, %(area)s m²",
        where=where,
        households=households,
        area=format_area(group.area),
    )


@bp.route("/proposals/<int:proposal_id>/nonvoters.xlsx")
def nonvoters_xlsx(proposal_id: int):
    proposal = _electorate_proposal(proposal_id)
    listing, _sort = _listing(proposal)
    data = dashboard.nonvoters_xlsx(listing, _headers(), _title(proposal))
    _audit_export(proposal, "xlsx", listing.count)
    return file_response(data, XLSX, f"nonvoters-{proposal.id}.xlsx")


# --------------------------------------------------------------------------- postings


@bp.route("/proposals/<int:proposal_id>/postings", methods=["GET", "POST"])
def postings(proposal_id: int):
    """Record where and when a notice was posted, with an optional photo as evidence."""
    proposal = _electorate_proposal(proposal_id)
    form = ActionForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            notices.record_posting_as(
                extensions.store(),
                proposal.id,
                stage=request.form.get("stage", ""),
                place=request.form.get("place", ""),
                posted_at=request.form.get("posted_at"),
                username=actor(),
                photo=read_upload("photo"),
            )
        except ServiceError as exc:
            flash(translate_error(exc), "error")
            status = 422 if exc.status == 400 else exc.status  # a refused upload is 422 too
        else:
            flash(_("Posting recorded."), "ok")
            return redirect(url_for("staff.postings", proposal_id=proposal.id), code=303)
    page = notices.postings_page(extensions.session(), proposal)
    stages = [(s, str(notices.STAGE_NAMES[s])) for s in notices.STAGES]
    return render_template(
        "staff/postings.html",
        proposal=proposal,
        community=proposal.community,
        form=form,
        rows=page.rows,
        photos=page.photos,
        recorders=page.recorders,
        stages=stages,
        available={s for s in notices.STAGES if notices.reached(proposal, s)},
        values=request.form if status != 200 else {},
        now=local_time(dt.datetime.now(dt.UTC), "%Y-%m-%dT%H:%M"),
    ), status


@bp.route("/postings/<int:posting_id>/photo")
def posting_photo(posting_id: int):
    found = notices.posting_photo(extensions.session(), posting_id)
    if found is None:
        abort(404)
    proposal_id, photo = found
    proposal_or_404(proposal_id)
    if photo is None or photo.data is None:
        abort(404)
    ext = PHOTO_SUFFIX.get(photo.content_type, "bin")
    return file_response(photo.data, photo.content_type, f"posting-{posting_id}.{ext}", inline=True)


@bp.app_template_global()
def notice_stage_label(stage: str) -> str:
    name = notices.STAGE_NAMES.get(stage)
    return str(name) if name is not None else stage


__all__ = ["bp"]
