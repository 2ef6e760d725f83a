"""The documents of the hearing route as A4 PDFs (same style as the voting notice):
the hearing notice (听评会公告), the sign-in sheet to print for the hearing, the hearing
result posting (听评会结果公示) and the final notice of a hearing.

Every figure of a posting comes from the stored result revision (never a live count), so
the page, the JSON and the PDF of one revision agree."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..models import Proposal
from ..pdf import Notice
from . import hearings, notices, results

NAMES = {
    "notice": _l("Hearing notice"),
    "results": _l("Hearing result posting"),
    "final": _l("Final notice of the hearing"),
}
KEY_WIDTH = notices.KEY_WIDTH
CARD_QR_MASK = 4  # a fixed mask, as on the ballots: one card per household, encoded fast


def outcome_text(outcome: str | None) -> str:
    if outcome == "agreed":
        return _("Agreed: the residents agree to apply for renovation")
    if outcome == "not-agreed":
        return _("Not agreed: the residents do not agree to apply for renovation")
    return _("Not concluded yet")


def organiser(proposal: Proposal) -> str:
    return proposal.organiser or proposal.community.name


def notice_fields(proposal: Proposal) -> list[tuple[str, str]]:
    """The hearing notice's facts (page and PDF)."""
    fields = [
        (_("Community"), proposal.community.name),
        (_("Matter"), notices.matter(proposal)),
        (_("Hearing time"), hearings.hearing_time_text(proposal)),
        (_("Place"), proposal.place),
        (_("Organiser"), organiser(proposal)),
        (_("Total households"), str(proposal.frozen_households or 0)),
        (_("Total exclusive area (m²)"), notices.format_area(proposal.frozen_area or 0)),
    ]
    if proposal.opened_at:
        fields.append((_("Posted"), notices._local(proposal.opened_at)))
    return fields


def how_to_attend(proposal: Proposal) -> str:
    return _(
        "Each household may attend once and signs in on arrival; a proxy needs the owner's "
        "written authorisation. The views heard and the common opinion reached are recorded "
        "in minutes, which are posted with the attendance for %(days)s days of objections.",
        days=proposal.objection_days,
    )


def hearing_notice(session: Session, proposal: Proposal) -> Notice:
    community = proposal.community
    doc = Notice(str(NAMES["notice"]), footer=community.name)
    doc.heading(f"{community.name} {NAMES['notice']}")
    for key, value in notice_fields(proposal):
        doc.kv(key, value, key_width=KEY_WIDTH)
    doc.heading(_("Agenda"), level=2)
    doc.paragraph(proposal.agenda or proposal.title)
    if proposal.body:
        doc.heading(_("Description"), level=2)
        doc.paragraph(proposal.body)
    doc.heading(_("How to take part"), level=2)
    doc.paragraph(how_to_attend(proposal))
    if community.contact or community.address:
        doc.heading(_("Organiser and contact"), level=2)
        if community.address:
            doc.kv(_("Address"), community.address, key_width=KEY_WIDTH)
        if community.contact:
            doc.kv(_("Contact"), community.contact, key_width=KEY_WIDTH)
    notices._head_block(doc, notices.notice_head(proposal))
    doc.spacer(3)
    url = notices.public_url(proposal)
    doc.qr(url, _("Public page of this hearing: %(url)s", url=url))
    return doc


def sign_in_sheet(session: Session, proposal: Proposal) -> Notice:
    """One row per household of the frozen electorate: code, area, a signature cell and a
    proxy column (name of the authorised proxy)."""
    community = proposal.community
    title = _("Hearing sign-in sheet")
    doc = Notice(title, footer=f"{community.name} · {proposal.title}")
    doc.heading(f"{community.name} {title}")
    doc.kv(_("Matter"), proposal.title, key_width=KEY_WIDTH)
    doc.kv(_("Hearing time"), hearings.hearing_time_text(proposal), key_width=KEY_WIDTH)
    doc.kv(_("Place"), proposal.place, key_width=KEY_WIDTH)
    doc.paragraph(
        _(
            "A proxy signs in the proxy column with their own name and hands in the owner's "
            "written authorisation."
        ),
        size=9,
    )
    rows = [
        [str(i), code, area, "", ""]
        for i, (code, area) in enumerate(hearings.electorate_rows(session, proposal), 1)
    ]
    doc.table(
        [_("No."), _("Household"), _("Area (m²)"), _("Signature"), _("Proxy (name)")],
        rows,
        col_widths=[8, 22, 16, 32, 32],
        align=["R", "L", "R", "L", "L"],
    )
    return doc


def result_lines(view: dict) -> list[tuple[str, str]]:
    """Attendance and outcome as key/value lines, from a published hearing revision."""
    data = view["data"]
    seen = data["attendance"]
    total_households = data["electorate"]["households"]
    return [
        (_("Total households"), str(total_households)),
        (_("Total exclusive area (m²)"), data["electorate"]["area"]),
        (
            _("Households present"),
            _(
                "%(n)s (%(share)s%% of the total)",
                n=seen["households"],
                share=view["participation_persons_share"],
            ),
        ),
        (
            _("Area present (m²)"),
            _(
                "%(n)s (%(share)s%% of the total)",
                n=seen["area"],
                share=view["participation_area_share"],
            ),
        ),
        (_("Outcome"), outcome_text(data.get("outcome"))),
    ]


def _result_body(doc: Notice, proposal: Proposal, view: dict) -> None:
    doc.kv(_("Matter"), notices.matter(proposal), key_width=KEY_WIDTH)
    doc.kv(_("Hearing time"), hearings.hearing_time_text(proposal), key_width=KEY_WIDTH)
    doc.kv(_("Place"), proposal.place, key_width=KEY_WIDTH)
    for key, value in result_lines(view):
        doc.kv(key, value, key_width=KEY_WIDTH)
    doc.heading(_("Minutes"), level=2)
    doc.paragraph(proposal.minutes_summary or _("See the signed minutes kept with the evidence."))
    doc.paragraph(
        _("The signed minutes are kept with the evidence and may be read at the office."),
        size=9,
    )
    doc.heading(_("Households present (room and area; no names)"), level=2)
    notices.units_table(doc, view["units"])


def how_to_object(proposal: Proposal) -> str:
    office = proposal.community.office or proposal.community.name
    return _(
        "Households of the electorate who disagree with this record of the hearing may object "
        "during this period in writing at: %(office)s, giving their name, their household "
        "(e.g. 3-2-501) and what they object to. Anonymous objections are not accepted.",
        office=office,
    )


def results_notice(session: Session, proposal: Proposal) -> Notice:
    doc, view = notices.revision_document(session, proposal, NAMES["results"])
    doc.paragraph(notices.objection_period_text(view), bold=True)
    _result_body(doc, proposal, view)
    doc.heading(_("Objections"), level=2)
    doc.paragraph(notices.objection_period_text(view), bold=True)
    doc.paragraph(how_to_object(proposal))
    notices._head_block(doc, results.revision_head(session, proposal))
    doc.spacer(3)
    url = notices.public_url(proposal)
    doc.qr(url, _("Public page of this hearing: %(url)s", url=url))
    return doc


def final_notice(session: Session, proposal: Proposal) -> Notice:
    doc, view = notices.revision_document(session, proposal, NAMES["final"])
    doc.paragraph(notices.final_statement(view), bold=True)
    doc.heading(_("Objections and how they were resolved"), level=2)
    items = notices.resolutions(session, proposal)
    if items:
        doc.table(
            [_("No."), _("Received"), _("Decision"), _("Reply")],
            [[str(r.number), r.received, r.decision, r.answer] for r in items],
            col_widths=[10, 28, 20, 92],
        )
    else:
        doc.paragraph(_("No objections were filed during the posting period."))
    _result_body(doc, proposal, view)
    if proposal.finalized_at:
        doc.paragraph(_("Finalized at %(at)s.", at=notices._local(proposal.finalized_at)), size=9)
    notices._head_block(doc, notices.final_head(proposal))
    doc.spacer(3)
    url = notices.public_url(proposal)
    doc.qr(url, _("Public page of this hearing: %(url)s", url=url))
    return doc


BUILDERS = {"notice": hearing_notice, "results": results_notice, "final": final_notice}


def card_instructions() -> str:
    return _(
        "Bring this card to the hearing: staff scan its code to record your household as "
        "present. A proxy brings this card and the owner's written authorisation."
    )


def invitation_cards(session: Session, proposal: Proposal, cards: list[tuple]) -> Notice:
    """One A4 page per household of the electorate (`ballots issue` on a pending hearing):
    the hearing's time, place, agenda and organiser, the household's code and area, what to
    bring, and the QR code of the card's link /b/<token> (the household's notice; staff
    record attendance from it). `cards`: (household code, area text, serial, url)."""
    community = proposal.community
    title = _("Hearing invitation card")
    doc = Notice(title, footer=f"{community.name} · {proposal.title}", numbered=False)
    contact = community.contact
    for number, (code, area, serial, url) in enumerate(cards):
        if number:
            doc.new_page()
        doc.heading(f"{community.name} {title}")
        doc.paragraph(_("Serial no. %(serial)s", serial=serial), size=8.5)
        doc.heading(_("Household %(code)s · %(area)s m²", code=code, area=area))
        doc.kv(_("Matter"), notices.matter(proposal), key_width=KEY_WIDTH)
        doc.kv(_("Hearing time"), hearings.hearing_time_text(proposal), key_width=KEY_WIDTH)
        doc.kv(_("Place"), proposal.place, key_width=KEY_WIDTH)
        doc.kv(_("Organiser"), organiser(proposal), key_width=KEY_WIDTH)
        if contact:
            doc.kv(_("Contact"), contact, key_width=KEY_WIDTH)
        doc.heading(_("Agenda"), level=2)
        doc.paragraph(proposal.agenda or proposal.title)
        doc.spacer(2)
        doc.paragraph(card_instructions(), bold=True)
        doc.spacer(3)
        doc.qr(
            url,
            _(
                "Scan for your household's hearing notice; at the hearing staff scan it to "
                "record your attendance. Or type: %(url)s",
                url=url,
            ),
            size=48,
            mask=CARD_QR_MASK,
        )
    return doc
