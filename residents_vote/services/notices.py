"""The three public notices (DOMAIN.md section 5) as page data and A4 PDFs.

Everything shown comes from a stored tally JSON (the published revision) or, for the
voting notice, from the frozen electorate: the page, the JSON and the PDF of one
revision agree number for number.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from .. import labels
from ..domain.tally import ANSWERS, RULES, format_area, parse_area, percent, ratio_text
from ..models import Proposal
from . import results, tally
from .pdf import Notice


@dataclass(frozen=True)
class AnswerRow:
    answer: str
    persons: int
    area: str
    share_participants_persons: str
    share_participants_area: str
    share_total_persons: str
    share_total_area: str


def _favourable(answer: str) -> bool:
    return answer == "agree"


def view_model(proposal: Proposal, data: dict) -> dict:
    """Rows and shares for the result page and PDFs, from one tally JSON."""
    total_persons = data["electorate"]["persons"]
    total_area = parse_area(data["electorate"]["area"])
    part_persons = data["participation"]["persons"]
    part_area = parse_area(data["participation"]["area"])
    questions = []
    for q in data["questions"]:
        rows = []
        for answer in ANSWERS:
            persons = q[answer]["persons"]
            area = parse_area(q[answer]["area"])
            fav = _favourable(answer)
            rows.append(
                AnswerRow(
                    answer,
                    persons,
                    q[answer]["area"],
                    percent(persons, part_persons, favourable=fav),
                    percent(area, part_area, favourable=fav),
                    percent(persons, total_persons, favourable=fav),
                    percent(area, total_area, favourable=fav),
                )
            )
        questions.append({"q": q, "rows": rows})
    return {
        "data": data,
        "questions": questions,
        "participation_persons_share": percent(part_persons, total_persons, favourable=True),
        "participation_area_share": percent(part_area, total_area, favourable=True),
        "headcount": labels.headcount_label(data["proposal"]["headcount"]),
    }


def threshold_text(t: dict, headcount: str) -> str:
    what = _("agreeing") if t["counts"] == "agree" else _("taking part")
    of = _("of all") if t["of"] == "electorate" else _("of participants")
    unit = "m²" if t["measure"] == "area" else labels.headcount_label(headcount)
    cmp = _("more than") if t["strict"] else _("at least")
    return f"{what}: {cmp} {t['ratio']} {of} ({unit})"


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def public_url(proposal: Proposal) -> str:
    return f"{_base_url()}/r/{proposal.public_id}"


def _header(doc: Notice, proposal: Proposal) -> None:
    community = proposal.community
    doc.kv(_("Community"), community.name)
    doc.kv(_("Matter"), f"{labels.stage_label(proposal.stage)}: {proposal.title}")
    scope = ", ".join(proposal.scope_buildings) or _("the whole community")
    doc.kv(_("Scope"), scope)
    doc.kv(_("Legal basis"), _("Civil Code of the PRC art. 278; local renovation rules"))
    doc.kv(_("Decision rule"), labels.rule_label(proposal.rule))


def voting_notice(session: Session, proposal: Proposal) -> Notice:
    community = proposal.community
    doc = Notice(_("Voting notice"), footer=community.name)
    doc.heading(f"{community.name} {_('Voting notice')}")
    if proposal.notice_revision > 1:
        doc.paragraph(
            _("Revision %(n)s: the voting window was extended.", n=proposal.notice_revision)
        )
    _header(doc, proposal)
    headcount = labels.headcount_label(proposal.headcount)
    electorate = tally.electorate(proposal, proposal.headcount)
    doc.kv(_("Total %(unit)s", unit=headcount), str(electorate.persons))
    doc.kv(_("Total exclusive area"), f"{format_area(electorate.area)} m²")
    doc.kv(
        _("Voting window"),
        f"{results.local(proposal.starts_at)} — {results.local(proposal.closes_at)}",
    )
    doc.heading(_("Questions"), level=2)
    for q in proposal.questions:
        doc.paragraph(f"{q.number}. {q.text}")
    rule = RULES[proposal.rule]
    doc.heading(_("What is required"), level=2)
    for t in rule.thresholds:
        doc.paragraph(f"· {t.counts} {t.measure} {ratio_text(t)} {t.of}")
    doc.heading(_("How to vote"), level=2)
    doc.paragraph(
        _(
            "Online: scan the QR code on your household's ballot with your phone and follow the "
            "steps; you receive a receipt code."
        )
    )
    doc.paragraph(
        _(
            "On paper: fill in the paper ballot and hand it in before the deadline at: %(office)s",
            office=community.office or community.name,
        )
    )
    doc.kv(_("Organiser"), community.name)
    if community.contact:
        doc.kv(_("Contact"), community.contact)
    doc.qr(public_url(proposal), _("Public page of this vote"))
    return doc


def _result_body(doc: Notice, proposal: Proposal, data: dict) -> None:
    view = view_model(proposal, data)
    _header(doc, proposal)
    headcount = view["headcount"]
    doc.kv(_("Total %(unit)s", unit=headcount), str(data["electorate"]["persons"]))
    doc.kv(_("Total exclusive area"), f"{data['electorate']['area']} m²")
    doc.kv(
        _("Participation"),
        f"{data['participation']['persons']} {headcount} "
        f"({view['participation_persons_share']}%), {data['participation']['area']} m² "
        f"({view['participation_area_share']}%)",
    )
    for item in view["questions"]:
        q = item["q"]
        doc.heading(f"{_('Question %(n)s', n=q['number'])}: {q['text']}", level=2)
        doc.table(
            [
                _("Answer"),
                headcount,
                _("% of participants"),
                _("% of total"),
                "m²",
                _("% of participants"),
                _("% of total"),
            ],
            [
                [
                    labels.answer_label(r.answer),
                    str(r.persons),
                    r.share_participants_persons,
                    r.share_total_persons,
                    r.area,
                    r.share_participants_area,
                    r.share_total_area,
                ]
                for r in item["rows"]
            ],
            col_widths=[22, 20, 26, 24, 28, 26, 24],
        )
        for t in q["thresholds"]:
            doc.paragraph(
                f"{threshold_text(t, data['proposal']['headcount'])}: "
                f"{_('required')} {t['required']}, {_('actual')} {t['actual']} — "
                f"{_('met') if t['met'] else _('not met')}"
            )
        doc.paragraph(
            _("Result: PASSED") if q["passed"] else _("Result: NOT PASSED"),
        )
        if q.get("advisory"):
            doc.paragraph(
                _("For reference, under other rules: ")
                + "; ".join(
                    f"{a['rule']}: {_('passed') if a['passed'] else _('not passed')}"
                    for a in q["advisory"]
                )
            )
    doc.heading(_("Participating units (room and area; no names)"), level=2)
    units = data.get("households", [])
    rows = [[u["code"], u["area"]] for u in units]
    if rows:
        doc.table([_("Household"), _("Area (m²)")], rows, col_widths=[60, 40])
    else:
        doc.paragraph(_("None."))


def results_notice(session: Session, proposal: Proposal) -> Notice:
    community = proposal.community
    data = results.published_json(session, proposal)
    doc = Notice(_("Preliminary result"), footer=community.name)
    doc.heading(f"{community.name} {_('Preliminary result posting')}")
    doc.paragraph(_("Result revision %(n)s", n=data.get("revision", 1)))
    _result_body(doc, proposal, data)
    doc.heading(_("Objections"), level=2)
    doc.paragraph(
        _(
            "Objection period: %(start)s to %(end)s. Owners who object may file online on the "
            "public page below, or in writing at: %(office)s",
            start=results.local(proposal.closed_at),
            end=results.local(proposal.objection_ends_at),
            office=community.office or community.name,
        )
    )
    doc.paragraph(_("Check your own vote with your receipt code on the public page."))
    doc.qr(public_url(proposal), _("Public page of this vote"))
    return doc


def final_notice(session: Session, proposal: Proposal) -> Notice:
    community = proposal.community
    data = results.published_json(session, proposal)
    doc = Notice(_("Final result"), footer=community.name)
    doc.heading(f"{community.name} {_('Final result notice')}")
    doc.paragraph(
        _(
            "The posting period has expired (it ended %(end)s). The result below is confirmed.",
            end=results.local(proposal.objection_ends_at),
        )
    )
    objections = results.objections(session, proposal)
    if objections:
        doc.heading(_("Objections and how they were resolved"), level=2)
        doc.table(
            [_("No."), _("Decision"), _("Answer")],
            [[str(o.id), o.status, o.answer] for o in objections],
            col_widths=[15, 30, 125],
        )
    else:
        doc.paragraph(_("No objections were filed during the posting period."))
    _result_body(doc, proposal, data)
    doc.qr(public_url(proposal), _("Public page of this vote"))
    return doc


def pdf_for(session: Session, proposal: Proposal, kind: str) -> bytes:
    builders = {"notice": voting_notice, "results": results_notice, "final": final_notice}
    return builders[kind](session, proposal).output()
