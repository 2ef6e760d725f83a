"""The three public notices (DOMAIN.md section 5) as page data and A4 PDFs.

1. Voting notice (投票通知公告): from the proposal and its frozen electorate.
2. Preliminary result posting (初步统计结果公示): from the published result revision.
3. Final result notice (投票结果通知公告): the same revision, once final.

The public page and the PDF of a stage are built from the same view model, and every
figure of a result comes from the stored revision JSON (never a live count): the page,
the JSON and the PDF of one revision agree number for number. Labels are English
msgids translated as whole sentences, so a catalog can word them naturally.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .. import labels, settings
from ..db import write_session
from ..domain.tally import (
    ANSWERS,
    RULES,
    format_area,
    parse_area,
    percent,
    ratio_text,
    shortfalls,
)
from ..models import Attachment, NoticePosting, Proposal, ResultRevision, User, utcnow
from ..pdf import Notice
from . import audit, results, tally
from .errors import N_, Invalid
from .unit import Store

STAGES = ("notice", "results", "final")
STAGE_NAMES = {
    "notice": _l("Voting notice"),
    "results": _l("Preliminary result posting"),
    "final": _l("Final result notice"),
}
# The status from which each notice exists (CONTRACT.md: notice from opening, ...).
STAGE_STATUS = {"notice": "voting", "results": "publicity", "final": "final"}
_ORDER = (
    "voting", "counting", "hearing", "publicity", "final", "confirmed", "submitted", "filed"
)

LEGAL_BASIS = {
    "seed": _l(
        "Liuzhou pilot programme for old residential community renovation (attachment 2); "
        "Civil Code of the PRC art. 278"
    ),
    "civil-major": _l(
        "Civil Code of the PRC art. 278 (para. 1 items 6-8, para. 2); Supreme People's Court "
        "interpretation on building co-ownership arts. 8 and 9"
    ),
    "civil-ordinary": _l(
        "Civil Code of the PRC art. 278 (para. 2); Supreme People's Court interpretation on "
        "building co-ownership arts. 8 and 9"
    ),
}
RULE_SHORT = {
    "seed": _l("double two-thirds"),
    "civil-major": _l("Civil Code, major matters"),
    "civil-ordinary": _l("Civil Code, ordinary matters"),
}


def reached(proposal: Proposal, stage: str) -> bool:
    """Whether the notice of `stage` exists for the proposal's current status."""
    if proposal.status == "cancelled":
        return stage == "notice" and proposal.opened_at is not None
    if proposal.status not in _ORDER:
        return False
    return _ORDER.index(proposal.status) >= _ORDER.index(STAGE_STATUS[stage])


# --------------------------------------------------------------------------- wording


def measure_noun(measure: str, headcount: str) -> str:
    """What a threshold measures, as a noun of its own (not the headcount label, whose
    translation may not fit a sentence): area, number of households, number of owners."""
    if measure == "area":
        return _("exclusive area (m²)")
    return _("number of owners") if headcount == "owner" else _("number of households")


def total_label(headcount: str) -> str:
    return _("Total owners") if headcount == "owner" else _("Total households")


def persons_noun(headcount: str) -> str:
    return _("Owners") if headcount == "owner" else _("Households")


def threshold_text(t: dict, headcount: str) -> str:
    """One condition as a whole sentence, e.g. "Agreement by number of households: at least
    2/3 of the total". `t` has the keys of a tally JSON threshold (counts, measure, of,
    ratio, strict)."""
    p = {"measure": measure_noun(t["measure"], headcount), "ratio": t["ratio"]}
    if t["counts"] == "agree" and t["of"] == "electorate":
        if t["strict"]:
            return _("Agreement by %(measure)s: more than %(ratio)s of the total", **p)
        return _("Agreement by %(measure)s: at least %(ratio)s of the total", **p)
    if t["counts"] == "agree":
        if t["strict"]:
            return _("Agreement by %(measure)s: more than %(ratio)s of those taking part", **p)
        return _("Agreement by %(measure)s: at least %(ratio)s of those taking part", **p)
    if t["strict"]:
        return _("Participation by %(measure)s: more than %(ratio)s of the total", **p)
    return _("Participation by %(measure)s: at least %(ratio)s of the total", **p)


def threshold_line(t: dict, headcount: str) -> str:
    """A threshold with its published figures: what is required, what was reached."""
    return _(
        "%(condition)s: required %(required)s, actual %(actual)s: %(verdict)s",
        condition=threshold_text(t, headcount),
        required=t["required"],
        actual=t["actual"],
        verdict=_("met") if t["met"] else _("not met"),
    )


def verdict_text(passed: bool) -> str:
    return _("Result: PASSED") if passed else _("Result: NOT PASSED")


def shortfall_label(results, headcount: str) -> str:
    """What staff still need while canvassing, in the reader's language:
    "needs 12 more households and 930.40 m² agreeing"."""
    parts = []
    for counts, persons, area in shortfalls(results):
        pieces = []
        if persons:
            pieces.append(
                _("%(n)s more %(unit)s", n=persons, unit=labels.headcount_label(headcount))
            )
        if area:
            pieces.append(_("%(area)s m²", area=format_area(area)))
        what = _(" and ").join(pieces)
        if counts == "participation":
            parts.append(_("needs %(what)s taking part", what=what))
        else:
            parts.append(_("needs %(what)s agreeing", what=what))
    return _("; ").join(parts)


def advisory_text(advisory: list[dict]) -> str:
    if not advisory:
        return ""
    parts = [
        _(
            "%(rule)s: %(verdict)s",
            rule=RULE_SHORT.get(a["rule"], a["rule"]),
            verdict=_("passed") if a["passed"] else _("not passed"),
        )
        for a in advisory
    ]
    return _("For reference, under other rules: %(list)s", list="; ".join(parts))


def adoption_text(questions: int) -> str:
    """DOMAIN.md section 2: a proposal with several questions is adopted only when every
    question passed, and its notice and ballot say so in those words. Empty for one."""
    if questions < 2:
        return ""
    return _(
        "This proposal has %(n)s questions; it is adopted only if every question passes.",
        n=questions,
    )


def matter(proposal: Proposal) -> str:
    return _("%(stage)s: %(title)s", stage=labels.stage_label(proposal.stage), title=proposal.title)


def scope_text(buildings: list[str]) -> str:
    if not buildings:
        return _("the whole community")
    return _("buildings %(list)s", list=", ".join(buildings))


# --------------------------------------------------------------------------- audit head


def head_text(head: tuple[int, str] | None) -> str:
    """The audit chain head printed on a notice (DOMAIN.md section 8), or "" for a notice
    published before heads were recorded."""
    if head is None or head[0] is None:
        return ""
    return _("Audit log at publication: entry %(seq)s, hash %(hash)s", seq=head[0], hash=head[1])


def head_note() -> str:
    return _(
        "This entry of the audit log was the last one when this notice was published; "
        "if the log is ever rewritten, it will no longer match."
    )


def notice_head(proposal: Proposal) -> tuple[int, str] | None:
    if proposal.notice_head_seq is None:
        return None
    return proposal.notice_head_seq, proposal.notice_head_hash


def final_head(proposal: Proposal) -> tuple[int, str] | None:
    if proposal.final_head_seq is None:
        return None
    return proposal.final_head_seq, proposal.final_head_hash


def published_heads(session: Session, proposal: Proposal) -> list[dict]:
    """Every audit head printed on a notice of the proposal, for the filing package."""
    heads = []
    if proposal.notice_head_seq is not None:
        heads.append(
            {
                "notice": "voting notice",
                "revision": proposal.notice_revision,
                "seq": proposal.notice_head_seq,
                "hash": proposal.notice_head_hash,
            }
        )
    for row in session.scalars(
        select(ResultRevision)
        .where(ResultRevision.proposal_id == proposal.id)
        .order_by(ResultRevision.revision)
    ):
        if row.head_seq is not None:
            heads.append(
                {
                    "notice": "result posting",
                    "revision": row.revision,
                    "seq": row.head_seq,
                    "hash": row.head_hash,
                }
            )
    if proposal.final_head_seq is not None:
        heads.append(
            {
                "notice": "final notice",
                "revision": proposal.result_revision,
                "seq": proposal.final_head_seq,
                "hash": proposal.final_head_hash,
            }
        )
    return heads


def _head_block(doc: Notice, head: tuple[int, str] | None) -> None:
    text = head_text(head)
    if text:
        doc.spacer(2)
        doc.paragraph(text, size=8)
        doc.paragraph(head_note(), size=8)


def public_url(proposal: Proposal) -> str:
    return settings.of(proposal).url(f"/r/{proposal.public_id}")


@functools.lru_cache(maxsize=256)
def qr_data_uri(url: str) -> str:
    """An SVG QR code as a data: URI for the page (CSP allows data: images); the same
    page is asked for thousands of times, the code is made once."""
    import segno

    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=4)


# --------------------------------------------------------------------------- stage 1


@dataclass(frozen=True)
class VotingNotice:
    """Every field of the voting notice (DOMAIN.md section 5, item 1)."""

    title: str
    revision: int
    revision_note: str
    fields: list[tuple[str, str]]
    questions: list[tuple[int, str]]
    rule: str
    requirements: list[str]
    how_online: str
    how_paper: str
    contact: list[tuple[str, str]]
    body: str
    url: str
    adoption: str = ""
    head: str = ""  # the audit chain head at publication of this revision


def _requirement(t, headcount: str, totals: dict[str, int]) -> str:
    """A rule's condition; for a share of the total, the smallest figure that meets it."""
    data = {
        "counts": t.counts,
        "measure": t.measure,
        "of": t.of,
        "ratio": ratio_text(t),
        "strict": t.strict,
    }
    text = threshold_text(data, headcount)
    if t.of != "electorate":
        return text
    # The unit is in the sentence ("exclusive area (m²)", "households"): a figure is
    # printed bare, so a line never breaks inside "m²".
    required = t.required(totals[t.measure])
    shown = format_area(required) if t.measure == "area" else str(required)
    return _("%(condition)s (at least %(figure)s)", condition=text, figure=shown)


def voting_notice_model(proposal: Proposal) -> VotingNotice:
    community = proposal.community
    headcount = proposal.headcount
    electorate = tally.electorate(proposal, headcount)
    window = _(
        "from %(start)s to %(end)s",
        start=_local(proposal.starts_at),
        end=_local(proposal.closes_at),
    )
    fields = [
        (_("Community"), community.name),
        (_("Matter"), matter(proposal)),
        (_("Legal basis"), str(LEGAL_BASIS.get(proposal.rule, ""))),
        (_("Scope"), scope_text(proposal.scope_buildings)),
        (_("Total households"), str(electorate.households)),
    ]
    if headcount == "owner":
        fields.append((_("Total owners"), str(electorate.persons)))
    fields += [
        (_("Total exclusive area (m²)"), format_area(electorate.area)),
        (_("Voting window"), window),
    ]
    rule = RULES[proposal.rule]
    totals = {"persons": electorate.persons, "area": electorate.area}
    revision = proposal.notice_revision or 1
    note = ""
    if revision > 1:
        note = _(
            "Revision %(n)s: the voting window was extended; voting now closes at %(closes)s. "
            "This notice replaces the earlier ones.",
            n=revision,
            closes=_local(proposal.closes_at),
        )
    office = community.office or community.name
    contact = [(_("Organiser"), community.name)]
    if community.address:
        contact.append((_("Address"), community.address))
    contact.append((_("Paper ballots"), office))
    if community.contact:
        contact.append((_("Contact"), community.contact))
    return VotingNotice(
        title=proposal.title,
        revision=revision,
        revision_note=note,
        fields=fields,
        questions=[(q.number, q.text) for q in proposal.questions],
        rule=labels.rule_label(proposal.rule),
        requirements=[_requirement(t, headcount, totals) for t in rule.thresholds],
        how_online=_(
            "Online: scan the QR code printed on your household's ballot with your phone, "
            "answer each question and confirm. You receive a receipt code; keep it to check "
            "your vote after the count. Voting closes at %(closes)s.",
            closes=_local(proposal.closes_at),
        ),
        how_paper=_(
            "On paper: fill in your household's paper ballot (ask for one if you have none), "
            "sign it and hand it in before %(closes)s at: %(office)s. A proxy needs the "
            "owner's written authorisation. Each household votes once, online or on paper.",
            closes=_local(proposal.closes_at),
            office=office,
        ),
        contact=contact,
        body=proposal.body or "",
        url=public_url(proposal),
        adoption=adoption_text(len(proposal.questions)),
        head=head_text(notice_head(proposal)),
    )


def voting_notice(session: Session, proposal: Proposal) -> Notice:
    model = voting_notice_model(proposal)
    community = proposal.community
    doc = Notice(str(STAGE_NAMES["notice"]), footer=community.name)
    doc.heading(f"{community.name} {STAGE_NAMES['notice']}")
    doc.paragraph(_("Notice revision %(n)s", n=model.revision), size=9)
    if model.revision_note:
        doc.paragraph(model.revision_note, bold=True)
    for key, value in model.fields:
        doc.kv(key, value, key_width=KEY_WIDTH)
    doc.heading(_("Questions"), level=2)
    for number, text in model.questions:
        doc.paragraph(f"{number}. {text}")
    doc.heading(_("Decision rule"), level=2)
    doc.paragraph(model.rule)
    for line in model.requirements:
        doc.paragraph(f"· {line}")
    doc.paragraph(_("Each question is decided on its own."))
    if model.adoption:
        doc.paragraph(model.adoption, bold=True)
    if model.body:
        doc.heading(_("Description"), level=2)
        doc.paragraph(model.body)
    doc.heading(_("How to vote"), level=2)
    doc.paragraph(model.how_online)
    doc.paragraph(model.how_paper)
    doc.heading(_("Organiser and contact"), level=2)
    for key, value in model.contact:
        doc.kv(key, value, key_width=KEY_WIDTH)
    _head_block(doc, notice_head(proposal))
    doc.spacer(3)
    doc.qr(model.url, _("Public page of this vote: %(url)s", url=model.url))
    return doc


KEY_WIDTH = 52


def _local(value: dt.datetime | None) -> str:
    return results.local(value) if value else ""


# --------------------------------------------------------------------------- stages 2 and 3


@dataclass(frozen=True)
class AnswerRow:
    answer: str
    label: str
    persons: int
    area: str
    share_participants_persons: str
    share_total_persons: str
    share_participants_area: str
    share_total_area: str


# The figures of one question, one printed row each, answers as columns: the same order
# on the page and in the PDF (a narrow table that fits a phone and an A4 page).
MEASURES = (
    "persons",
    "share_participants_persons",
    "share_total_persons",
    "area",
    "share_participants_area",
    "share_total_area",
)


def measure_labels(headcount: str) -> dict[str, str]:
    owners = headcount == "owner"
    return {
        "persons": _("Owners") if owners else _("Households"),
        "share_participants_persons": _("Share of participating owners (%)")
        if owners
        else _("Share of participating households (%)"),
        "share_total_persons": _("Share of all owners (%)")
        if owners
        else _("Share of all households (%)"),
        "area": _("Exclusive area (m²)"),
        "share_participants_area": _("Share of participating area (%)"),
        "share_total_area": _("Share of total area (%)"),
    }


def figure_table(rows: list[AnswerRow], headcount: str) -> tuple[list[str], list[list[str]]]:
    """Header and body of a question's figures: one row per measure, one column per answer."""
    names = measure_labels(headcount)
    header = [_("Vote")] + [r.label for r in rows]
    body = [[names[m]] + [str(getattr(r, m)) for r in rows] for m in MEASURES]
    return header, body


def _parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def view_model(proposal: Proposal, data: dict, head: tuple[int, str] | None = None) -> dict:
    """Rows, shares and sentences for the result page and PDFs, from one tally JSON
    (`head`: the audit chain head printed on that revision, results.revision_head)."""
    headcount = data["proposal"]["headcount"]
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
            fav = answer == "agree"
            rows.append(
                AnswerRow(
                    answer,
                    labels.answer_label(answer),
                    persons,
                    q[answer]["area"],
                    percent(persons, part_persons, favourable=fav),
                    percent(persons, total_persons, favourable=fav),
                    percent(area, part_area, favourable=fav),
                    percent(area, total_area, favourable=fav),
                )
            )
        header, body = figure_table(rows, headcount)
        questions.append(
            {
                "q": q,
                "rows": rows,
                "header": header,
                "body": body,
                "thresholds": [threshold_line(t, headcount) for t in q["thresholds"]],
                "verdict": verdict_text(q["passed"]),
                "advisory": advisory_text(q.get("advisory", [])),
                "conflicts": [", ".join(c["households"]) for c in q.get("conflicts", [])],
            }
        )
    persons_share = percent(part_persons, total_persons, favourable=True)
    area_share = percent(part_area, total_area, favourable=True)
    period = data.get("objection_period") or {}
    start = _parse_time(period.get("start")) or proposal.closed_at
    end = _parse_time(period.get("end")) or proposal.objection_ends_at
    published = _parse_time(data.get("published_at"))
    totals = [(total_label(headcount), str(total_persons))]
    if headcount == "owner":
        totals.insert(0, (_("Total households"), str(data["electorate"]["households"])))
    totals.append((_("Total exclusive area (m²)"), data["electorate"]["area"]))
    return {
        "data": data,
        "headcount": headcount,
        "persons_noun": persons_noun(headcount),
        "questions": questions,
        "totals": totals,
        "participation_persons_share": persons_share,
        "participation_area_share": area_share,
        "participation": [
            (
                _("Participating owners")
                if headcount == "owner"
                else _("Participating households"),
                _("%(n)s (%(share)s%% of the total)", n=part_persons, share=persons_share),
            ),
            (
                _("Participating area (m²)"),
                _(
                    "%(n)s (%(share)s%% of the total)",
                    n=data["participation"]["area"],
                    share=area_share,
                ),
            ),
        ],
        "scope": scope_text(data["proposal"].get("scope") or []),
        "window": result_window(proposal),
        "rule": labels.rule_label(data["proposal"]["rule"]),
        "revision": data.get("revision", 1),
        "published": _local(published),
        "objection_start": _local(start),
        "objection_end": results.local_end(end) if end else "",
        "units": data.get("households", []),
        "head": head_text(head),
        "final_head": head_text(final_head(proposal)),
        "head_note": head_note(),
    }


def result_window(proposal: Proposal) -> str:
    """When voting ran; an early close (every household had voted) says so."""
    closed = proposal.closed_at or proposal.closes_at
    text = _("from %(start)s to %(end)s", start=_local(proposal.starts_at), end=_local(closed))
    if proposal.closed_at and proposal.closes_at and proposal.closed_at < proposal.closes_at:
        text += " " + _(
            "(announced until %(closes)s; closed early because every household had voted)",
            closes=_local(proposal.closes_at),
        )
    return text


def objection_period_text(view: dict) -> str:
    return _(
        "Objection period: from %(start)s to %(end)s.",
        start=view["objection_start"],
        end=view["objection_end"],
    )


def how_to_object(proposal: Proposal) -> str:
    office = proposal.community.office or proposal.community.name
    return _(
        "Households of the electorate who disagree with the count may object during this "
        "period: online on the public page of this vote with the household's receipt code, "
        "or on the household's ballot page (scan the QR code on the ballot); or in writing "
        "at: %(office)s, giving your name, your household (e.g. 3-2-501) and what you object "
        "to. Anonymous objections are not accepted. Check your own vote with your receipt "
        "code on the public page.",
        office=office,
    )


def _result_body(doc: Notice, proposal: Proposal, view: dict) -> None:
    data = view["data"]
    doc.kv(_("Matter"), matter(proposal), key_width=KEY_WIDTH)
    doc.kv(
        _("Legal basis"), str(LEGAL_BASIS.get(data["proposal"]["rule"], "")), key_width=KEY_WIDTH
    )
    doc.kv(_("Scope"), view["scope"], key_width=KEY_WIDTH)
    doc.kv(_("Voting window"), view["window"], key_width=KEY_WIDTH)
    for key, value in view["totals"]:
        doc.kv(key, value, key_width=KEY_WIDTH)
    for key, value in view["participation"]:
        doc.kv(key, value, key_width=KEY_WIDTH)
    doc.kv(_("Decision rule"), view["rule"], key_width=KEY_WIDTH)
    for item in view["questions"]:
        q = item["q"]
        doc.heading(_("Question %(n)s: %(text)s", n=q["number"], text=q["text"]), level=2)
        doc.table(
            item["header"],
            item["body"],
            col_widths=[70, 26, 26, 26, 26],
            align=["L", "R", "R", "R", "R"],
        )
        for line in item["thresholds"]:
            doc.paragraph(f"· {line}")
        doc.paragraph(item["verdict"], bold=True)
        if item["advisory"]:
            doc.paragraph(item["advisory"], size=9)
        if item["conflicts"]:
            doc.paragraph(
                _(
                    "Owners whose units answered differently (counted under the least "
                    "favourable answer): %(list)s",
                    list="; ".join(item["conflicts"]),
                ),
                size=9,
            )
    doc.heading(_("Participating units (room and area; no names)"), level=2)
    units_table(doc, view["units"])


def units_table(doc: Notice, units: list[dict]) -> None:
    """The households of a posting as (code, area) cells, three a row read left to right:
    a 400-unit list fits on a few pages. "None." when there are none."""
    cells = [(u["code"], u["area"]) for u in units]
    if not cells:
        doc.paragraph(_("None."))
        return
    per_row = 3
    rows = []
    for i in range(0, len(cells), per_row):
        chunk = cells[i : i + per_row]
        chunk += [("", "")] * (per_row - len(chunk))
        rows.append([cell for unit in chunk for cell in unit])
    doc.table(
        [_("Household"), _("Area (m²)")] * per_row,
        rows,
        col_widths=[30, 25] * per_row,
        align=["L", "R"] * per_row,
    )


def revision_document(session: Session, proposal: Proposal, name: object) -> tuple[Notice, dict]:
    """A posting of the published result (`name`: its title): the document opened with the
    community's heading and the revision line, and the view model of the revision."""
    community = proposal.community
    view = view_model(proposal, results.published_json(session, proposal))
    doc = Notice(str(name), footer=community.name)
    doc.heading(f"{community.name} {name}")
    doc.paragraph(
        _("Result revision %(n)s, published %(at)s", n=view["revision"], at=view["published"]),
        size=9,
    )
    return doc, view


def results_notice(session: Session, proposal: Proposal) -> Notice:
    doc, view = revision_document(session, proposal, STAGE_NAMES["results"])
    doc.paragraph(objection_period_text(view), bold=True)
    _result_body(doc, proposal, view)
    _objection_block(doc, proposal, view)
    _head_block(doc, results.revision_head(session, proposal))
    doc.spacer(3)
    doc.qr(public_url(proposal), _("Public page of this vote: %(url)s", url=public_url(proposal)))
    return doc


def _objection_block(doc: Notice, proposal: Proposal, view: dict) -> None:
    doc.heading(_("Objections"), level=2)
    doc.paragraph(objection_period_text(view), bold=True)
    doc.paragraph(how_to_object(proposal))


@dataclass(frozen=True)
class Resolution:
    number: int
    received: str
    channel: str
    decision: str
    answer: str
    correction: str


def resolutions(session: Session, proposal: Proposal) -> list[Resolution]:
    """How each objection was resolved, for the final notice (no objector names)."""
    corrected = {
        r.reason: r.revision
        for r in session.scalars(
            select(ResultRevision).where(ResultRevision.proposal_id == proposal.id)
        )
    }
    out = []
    for o in results.objections(session, proposal):
        revision = corrected.get(f"correction after objection {o.id}")
        out.append(
            Resolution(
                number=o.id,
                received=_local(o.created_at),
                channel=labels.channel_label(o.channel),
                decision=labels.objection_status(o.status),
                answer=o.answer,
                correction=_("result corrected in revision %(n)s", n=revision) if revision else "",
            )
        )
    return out


def final_statement(view: dict) -> str:
    return _(
        "The posting period of the preliminary result has expired (it ended at %(end)s). "
        "The result below is final.",
        end=view["objection_end"],
    )


def final_notice(session: Session, proposal: Proposal) -> Notice:
    doc, view = revision_document(session, proposal, STAGE_NAMES["final"])
    doc.paragraph(final_statement(view), bold=True)
    doc.heading(_("Objections and how they were resolved"), level=2)
    items = resolutions(session, proposal)
    if items:
        doc.table(
            [_("No."), _("Received"), _("Decision"), _("Reply")],
            [
                [
                    str(r.number),
                    r.received,
                    r.decision,
                    "; ".join(filter(None, [r.answer, r.correction])),
                ]
                for r in items
            ],
            col_widths=[10, 28, 20, 92],
        )
    else:
        doc.paragraph(_("No objections were filed during the posting period."))
    _result_body(doc, proposal, view)
    if proposal.finalized_at:
        doc.paragraph(_("Finalized at %(at)s.", at=_local(proposal.finalized_at)), size=9)
    _head_block(doc, final_head(proposal))
    doc.spacer(3)
    doc.qr(public_url(proposal), _("Public page of this vote: %(url)s", url=public_url(proposal)))
    return doc


def pdf_for(session: Session, proposal: Proposal, kind: str) -> bytes:
    builders = {"notice": voting_notice, "results": results_notice, "final": final_notice}
    if proposal.route == "hearing":
        from . import hearing_docs

        builders = hearing_docs.BUILDERS
    return builders[kind](session, proposal).output()


PUBLISHED_KIND = "published_pdf"


def document_name(proposal: Proposal, kind: str, locale: str) -> str:
    """One file per published revision and language: a new revision is a new document."""
    revision = proposal.notice_revision if kind == "notice" else proposal.result_revision
    return f"{kind}-{proposal.id}-rev{revision}-{locale}.pdf"


def _stored(session: Session, proposal: Proposal, name: str) -> bytes | None:
    return session.scalar(
        select(Attachment.data).where(
            Attachment.proposal_id == proposal.id,
            Attachment.kind == PUBLISHED_KIND,
            Attachment.filename == name,
        )
    )


def published_pdf(
    session: Session,
    proposal: Proposal,
    kind: str,
    *,
    store: sessionmaker | None = None,
    locale: str | None = None,
) -> bytes:
    """The PDF of the current revision of a notice, rendered once per language and kept.

    Rendering embeds a subset of the CJK font and takes a second or more; every later
    request (and the filing package) gets the very same bytes from the database. With
    `store` (a session factory) a first rendering is saved in its own write transaction.
    """
    locale = locale or ("en" if str(get_locale() or "").startswith("en") else "zh_CN")
    name = document_name(proposal, kind, locale)
    data = _stored(session, proposal, name)
    if data is not None:
        return data
    with force_locale(locale):
        data = pdf_for(session, proposal, kind)
    if store is not None:
        with write_session(store) as w:
            if _stored(w, proposal, name) is None:
                w.add(
                    Attachment(
                        community_id=proposal.community_id,
                        proposal_id=proposal.id,
                        kind=PUBLISHED_KIND,
                        filename=name,
                        content_type="application/pdf",
                        data=data,
                        size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(),
                    )
                )
    return data


# --------------------------------------------------------------------------- postings


def record_posting(
    session: Session,
    proposal: Proposal,
    *,
    stage: str,
    place: str,
    posted_at: dt.datetime | None,
    by: User,
    now: dt.datetime | None = None,
) -> NoticePosting:
    """Record that a notice was put up (where, when): evidence a court may ask for."""
    now = now or utcnow()
    if stage not in STAGES:
        raise Invalid(N_("Unknown notice %(stage)s"), stage=stage)
    if not reached(proposal, stage):
        raise Invalid(N_("This notice is not published yet, so it cannot have been posted"))
    place = place.strip()
    if not place or len(place) > 300:
        raise Invalid(N_("Say where the notice was posted (up to 300 characters)"))
    if posted_at is None:
        raise Invalid(N_("Give the date and time the notice was posted"))
    if posted_at > now + dt.timedelta(minutes=5):
        raise Invalid(N_("The posting time is in the future"))
    opened = proposal.opened_at
    if opened is not None and posted_at < opened - dt.timedelta(days=1):
        raise Invalid(N_("The posting time is before the vote was opened"))
    posting = NoticePosting(
        proposal_id=proposal.id,
        stage=stage,
        place=place,
        posted_at=posted_at,
        recorded_by_id=by.id,
        created_at=now,
    )
    session.add(posting)
    session.flush()
    audit.record_for(
        session,
        proposal,
        "notice.posting",
        actor=by.username,
        subject=f"posting {posting.id}",
        data={"stage": stage, "place": place, "posted_at": posted_at.isoformat()},
    )
    return posting


def postings(session: Session, proposal: Proposal) -> list[NoticePosting]:
    return list(
        session.scalars(
            select(NoticePosting)
            .where(NoticePosting.proposal_id == proposal.id)
            .order_by(NoticePosting.posted_at, NoticePosting.id)
        )
    )


@dataclass(frozen=True)
class PostingsPage:
    """What the postings page shows: the postings, each one's latest photo (by posting id)
    and who recorded it (user name by user id)."""

    rows: list[NoticePosting]
    photos: dict[int, Attachment]
    recorders: dict[int, str]


def postings_page(session: Session, proposal: Proposal) -> PostingsPage:
    rows = postings(session, proposal)
    photos = {
        a.posting_id: a
        for a in session.scalars(
            select(Attachment).where(
                Attachment.proposal_id == proposal.id, Attachment.kind == "notice_photo"
            )
        )
    }
    ids = {p.recorded_by_id for p in rows if p.recorded_by_id}
    recorders = {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(ids)))}
    return PostingsPage(rows, photos, recorders)


def posting_photo(session: Session, posting_id: int) -> tuple[int, Attachment | None] | None:
    """(proposal id, latest photo or None) of a posting; None if there is no such posting."""
    posting = session.get(NoticePosting, posting_id)
    if posting is None:
        return None
    photo = session.scalar(
        select(Attachment)
        .where(Attachment.posting_id == posting.id, Attachment.kind == "notice_photo")
        .order_by(Attachment.id.desc())
        .limit(1)
    )
    return posting.proposal_id, photo


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def record_posting_as(
    store: Store,
    proposal_id: int,
    *,
    stage: str,
    place: str,
    posted_at: str | None,
    username: str,
    photo: tuple | None = None,
) -> int:
    """Record that a notice was put up (where, when), with an optional photo (an accepted
    upload, see attachments.accept) kept as evidence; returns the posting id."""
    from . import attachments, proposals, users

    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        user = users.acting_user(s, username)
        posting = record_posting(
            s,
            proposal,
            stage=stage,
            place=place,
            posted_at=proposals.parse_time(posted_at, s),
            by=user,
        )
        if photo:
            attachments.add(s, proposal, "notice_photo", photo, by=user, posting_id=posting.id)
        return posting.id
