"""The confirmation document and the filing package (备案) of a confirmed proposal.

The package is a ZIP the street / district office can check on its own: the three
notices, the signed confirmation, the final tally JSON exactly as published (its
SHA-256 is printed on the confirmation), every vote without names, the entries voided as
made under the wrong household (with the reason and their scans), the evidence files,
the proposal's audit events, and a manifest with the SHA-256 of every other file.
Documents are rendered in Chinese whatever the language of the staff member's page.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .. import labels, settings
from ..domain.costs import format_yuan
from ..models import (
    Attachment,
    AuditEvent,
    ElectorateEntry,
    NoticePosting,
    Proposal,
    User,
    VoidedVote,
    Vote,
    utcnow,
)
from ..pdf import Notice
from . import audit, costs, notices, proposals, results, signoff
from .errors import N_, Conflict
from .transitions import Action, move

if TYPE_CHECKING:
    from .unit import Store

DOCUMENT_LOCALE = "zh_CN"
FILEABLE = ("confirmed", "submitted", "filed")
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MANIFEST = "manifest.json"


def _require_fileable(proposal: Proposal) -> None:
    if proposal.status not in FILEABLE:
        raise Conflict(
            N_(
                "The filing documents exist once the signing body has confirmed the result "
                "(status: %(status)s)"
            ),
            status=proposal.status,
        )


def _local(value: dt.datetime | None) -> str:
    return results.local(value) if value else ""


# --------------------------------------------------------------------------- confirmation


def _confirmation(session: Session, proposal: Proposal) -> Notice:
    community = proposal.community
    state = signoff.status(session, proposal)
    revision = state.revision
    data = json.loads(revision.tally_json)
    doc = Notice(_("Confirmation of the vote result"), footer=community.name)
    doc.heading(f"{community.name} {_('Confirmation of the vote result')}")
    doc.kv(_("Community"), community.name)
    doc.kv(_("Matter"), f"{labels.stage_label(proposal.stage)}: {proposal.title}")
    doc.kv(_("Scope"), ", ".join(proposal.scope_buildings) or _("the whole community"))
    doc.kv(_("Decision rule"), labels.rule_label(proposal.rule))
    doc.kv(_("Voting window"), f"{_local(proposal.starts_at)} — {_local(proposal.closed_at)}")
    doc.kv(_("Final result"), _local(proposal.finalized_at))
    headcount = labels.headcount_label(data["proposal"]["headcount"])
    doc.kv(
        _("Electorate"),
        f"{data['electorate']['persons']} {headcount}, {data['electorate']['area']} m²",
    )
    doc.kv(
        _("Participation"),
        f"{data['participation']['persons']} {headcount}, {data['participation']['area']} m²",
    )

    _section(doc, _("Final result"))
    rows = []
    for q in data["questions"]:
        rows.append(
            [
                f"{q['number']}. {q['text']}",
                *(f"{q[a]['persons']} / {q[a]['area']}" for a in ("agree", "oppose", "abstain")),
                f"{q['invalid']['persons']} / {q['invalid']['area']}",
                _("PASSED") if q["passed"] else _("NOT PASSED"),
            ]
        )
    doc.table(
        [
            _("Question"),
            labels.answer_label("agree"),
            labels.answer_label("oppose"),
            labels.answer_label("abstain"),
            labels.answer_label("invalid"),
            _("Result"),
        ],
        rows,
        col_widths=[52, 26, 26, 26, 22, 20],
    )
    doc.paragraph(_("Figures: %(unit)s / m² of exclusive area.", unit=headcount), size=9)
    for q in data["questions"]:
        for t in q["thresholds"]:
            doc.paragraph(
                f"{q['number']}. {notices.threshold_text(t, data['proposal']['headcount'])}: "
                f"{_('required')} {t['required']}, {_('actual')} {t['actual']} — "
                f"{_('met') if t['met'] else _('not met')}",
                size=9,
            )

    plan = costs.summary(proposal)
    attachment = costs.plan_attachment(session, proposal)
    if plan or attachment:
        _section(doc, _("Plan"))
        if plan:
            doc.kv(_("Total budget"), f"{format_yuan(plan.totals.budget)} {_('yuan')}")
            doc.kv(_("Government subsidy"), f"{format_yuan(plan.totals.subsidy)} {_('yuan')}")
            for label, fen in (
                (_("Pipeline companies and operators"), plan.totals.pipeline),
                (_("Property owner"), plan.totals.property_owner),
                (_("Other funding channels"), plan.totals.other_channels),
            ):
                if fen:
                    doc.kv(label, f"{format_yuan(fen)} {_('yuan')}")
            doc.kv(
                _("Raised by residents"),
                f"{format_yuan(plan.totals.community_share)} {_('yuan')}",
            )
        if attachment:
            doc.kv(_("Plan document"), f"{attachment.filename} (SHA-256 {attachment.sha256})")

    _section(doc, _("Objections"))
    objections = results.objections(session, proposal)
    if objections:
        accepted = sum(1 for o in objections if o.status == "accepted")
        doc.paragraph(
            _(
                "%(total)s objections were filed: %(accepted)s accepted, %(rejected)s rejected.",
                total=len(objections),
                accepted=accepted,
                rejected=len(objections) - accepted,
            )
        )
        doc.table(
            [_("No."), _("Decision"), _("Answer")],
            [[str(o.id), labels.objection_status(o.status), o.answer] for o in objections],
            col_widths=[12, 28, 130],
        )
    else:
        doc.paragraph(_("No objections were filed during the posting period."))

    _section(doc, _("Signing body"))
    doc.kv(_("Signing body"), labels.signatory_label(proposal.community.signatory))
    doc.kv(
        _("Signatures"),
        _(
            "%(count)s of %(members)s members signed (%(required)s required)",
            count=state.count,
            members=state.members,
            required=state.required,
        ),
    )
    doc.table(
        [_("Name"), _("Role"), _("Signed online at"), _("Handwritten signature")],
        [
            [
                user.full_name or user.username,
                labels.role_label(sig.role),
                _local(sig.signed_at),
                " \n ",  # room for a pen
            ]
            for sig, user in state.signed
        ],
        col_widths=[45, 35, 45, 45],
    )
    if state.declined:
        doc.paragraph(_("Declined to sign:"), bold=True)
        doc.table(
            [_("Name"), _("Reason"), _("Time")],
            [
                [user.full_name or user.username, sig.reason, _local(sig.signed_at)]
                for sig, user in state.declined
            ],
            col_widths=[40, 90, 40],
        )
    doc.kv(_("Confirmed at"), _local(proposal.confirmed_at))
    doc.spacer(3)
    doc.kv(_("Seal and date"), "")
    doc.spacer(8)

    _section(doc, _("Integrity"))
    doc.kv(_("Result revision"), str(revision.revision))
    doc.kv(_("Tally SHA-256"), revision.sha256)
    doc.kv(_("Public page"), notices.public_url(proposal))
    doc.paragraph(
        _(
            "The final tally JSON (tally.json in the filing package, and the public page of "
            "this vote) hashes to the value above; any change to a figure changes the hash."
        ),
        size=9,
    )
    return doc


def _section(doc: Notice, title: str, need: float = 30) -> None:
    """A section heading kept together with the first `need` mm of its content."""
    if doc.pdf.will_page_break(need):
        doc.pdf.add_page()
    doc.heading(title, level=2)


def confirmation_pdf(session: Session, proposal: Proposal) -> bytes:
    _require_fileable(proposal)
    with force_locale(DOCUMENT_LOCALE):
        return _confirmation(session, proposal).output()


# --------------------------------------------------------------------------- package


def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else ""


def votes_csv(session: Session, proposal: Proposal) -> bytes:
    """household, channel, answers, time (no names, no receipt codes)."""
    rows = session.execute(
        select(Vote, ElectorateEntry.code)
        .join(
            ElectorateEntry,
            (ElectorateEntry.proposal_id == Vote.proposal_id)
            & (ElectorateEntry.household_id == Vote.household_id),
        )
        .where(Vote.proposal_id == proposal.id)
        .order_by(ElectorateEntry.code)
    ).all()
    out: list[list[object]] = [["household", "channel", "answers", "time", "corrected"]]
    for vote, code in rows:
        answers = ";".join(f"{a.question_number}={a.answer}" for a in vote.answers)
        out.append([code, vote.channel, answers, _iso(vote.cast_at), _iso(vote.corrected_at)])
    return _csv(out)


VOIDED_HEADER = [
    "household",
    "channel",
    "answers",
    "time",
    "received",
    "corrected",
    "voided_at",
    "voided_by",
    "entered_by",
    "reason",
    "evidence",
]


def _voided(session: Session, proposal: Proposal) -> list[tuple[VoidedVote, str]]:
    return list(
        session.execute(
            select(VoidedVote, ElectorateEntry.code)
            .join(
                ElectorateEntry,
                (ElectorateEntry.proposal_id == VoidedVote.proposal_id)
                & (ElectorateEntry.household_id == VoidedVote.household_id),
            )
            .where(VoidedVote.proposal_id == proposal.id)
            .order_by(VoidedVote.voided_at, VoidedVote.id)
        ).all()
    )


def voided_csv(
    session: Session, proposal: Proposal, evidence: dict[int, list[str]] | None = None
) -> bytes:
    """Entries voided as made under the wrong household: answers, who, when, why, and the
    evidence files kept with them (no names, no proxy names, no receipt codes)."""
    users = dict(session.execute(select(User.id, User.username)).all())
    out: list[list[object]] = [list(VOIDED_HEADER)]
    for voided, code in _voided(session, proposal):
        answers = json.loads(voided.answers)
        out.append(
            [
                code,
                voided.channel,
                ";".join(f"{n}={answers[n]}" for n in sorted(answers, key=int)),
                _iso(voided.cast_at),
                _iso(voided.received_at),
                _iso(voided.corrected_at),
                _iso(voided.voided_at),
                users.get(voided.voided_by_id, ""),
                users.get(voided.entered_by_id, ""),
                voided.reason,
                " ".join((evidence or {}).get(voided.id, [])),
            ]
        )
    return _csv(out)


def proposal_events(session: Session, proposal: Proposal) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.proposal_id == proposal.id)
            .order_by(AuditEvent.chain, AuditEvent.seq)
        )
    )


AUDIT_FIELDS = (
    "chain",
    "seq",
    "at",
    "actor",
    "action",
    "community_id",
    "proposal_id",
    "subject",
    "data",
    "prev_hash",
    "hash",
)


def event_dict(event: AuditEvent) -> dict:
    """Every field that enters the event's hash, as stored (see services.audit)."""
    return {
        "chain": event.chain,
        "seq": event.seq,
        "at": _iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "community_id": event.community_id,
        "proposal_id": event.proposal_id,
        "subject": event.subject,
        "data": event.data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def audit_json(events: list[AuditEvent]) -> bytes:
    text = json.dumps([event_dict(e) for e in events], ensure_ascii=False, indent=1)
    return text.encode("utf-8")


def audit_csv(events: list[AuditEvent]) -> bytes:
    rows: list[list[object]] = [list(AUDIT_FIELDS)]
    for e in events:
        d = event_dict(e)
        rows.append([d[f] for f in AUDIT_FIELDS])
    return _csv(rows)


def _safe_name(text: str) -> str:
    return re.sub(r"[^\w.]+", "_", text, flags=re.UNICODE).strip("._") or "file"


def _evidence(session: Session, proposal: Proposal) -> list[Attachment]:
    postings = select(NoticePosting.id).where(NoticePosting.proposal_id == proposal.id)
    return list(
        session.scalars(
            select(Attachment)
            .where(or_(Attachment.proposal_id == proposal.id, Attachment.posting_id.in_(postings)))
            .order_by(Attachment.id)
        )
    )


def _postings_csv(session: Session, proposal: Proposal, photos: dict[int, list[str]]) -> bytes:
    rows: list[list[object]] = [["stage", "place", "posted_at", "recorded_by", "photos"]]
    for posting, username in session.execute(
        select(NoticePosting, User.username)
        .outerjoin(User, User.id == NoticePosting.recorded_by_id)
        .where(NoticePosting.proposal_id == proposal.id)
        .order_by(NoticePosting.posted_at, NoticePosting.id)
    ).all():
        rows.append(
            [
                posting.stage,
                posting.place,
                _iso(posting.posted_at),
                username or "",
                " ".join(photos.get(posting.id, [])),
            ]
        )
    return _csv(rows)


@dataclass(frozen=True)
class Package:
    data: bytes
    manifest: dict
    filename: str


def package(session: Session, proposal: Proposal, *, now: dt.datetime | None = None) -> Package:
    """Build the filing ZIP of a confirmed (or filed) proposal."""
    _require_fileable(proposal)
    now = now or utcnow()
    state = signoff.status(session, proposal)
    revision = state.revision
    files: list[tuple[str, bytes]] = []
    with force_locale(DOCUMENT_LOCALE):
        for kind in ("notice", "results", "final"):
            files.append(
                (f"{kind}.pdf", notices.published_pdf(session, proposal, kind, locale="zh_CN"))
            )
        files.append(("confirmation.pdf", _confirmation(session, proposal).output()))
    files.append(("tally.json", revision.tally_json.encode("utf-8")))
    files.append(("votes.csv", votes_csv(session, proposal)))

    codes = dict(
        session.execute(
            select(Vote.id, ElectorateEntry.code)
            .join(
                ElectorateEntry,
                (ElectorateEntry.proposal_id == Vote.proposal_id)
                & (ElectorateEntry.household_id == Vote.household_id),
            )
            .where(Vote.proposal_id == proposal.id)
        ).all()
    )
    voided_codes = {v.id: code for v, code in _voided(session, proposal)}
    attachments = []
    photos: dict[int, list[str]] = {}
    voided_files: dict[int, list[str]] = {}
    for a in _evidence(session, proposal):
        name = None
        household = codes.get(a.vote_id) or voided_codes.get(a.voided_vote_id) or ""
        if a.data is not None:
            label = _safe_name(household) + "-" if household else ""
            if a.voided_vote_id is not None:
                label = "voided-" + label
            ext = EXTENSIONS.get(a.content_type, ".bin")
            name = f"evidence/{_safe_name(a.kind)}/{label}{a.id}{ext}"
            files.append((name, a.data))
            if a.posting_id is not None:
                photos.setdefault(a.posting_id, []).append(name)
            if a.voided_vote_id is not None:
                voided_files.setdefault(a.voided_vote_id, []).append(name)
        attachments.append(
            {
                "id": a.id,
                "kind": a.kind,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "household": household,
                "voided": a.voided_vote_id is not None,
                "posting_id": a.posting_id,
                "uploaded_at": _iso(a.created_at),
                "file": name,
                "purged": a.data is None,
            }
        )
    files.append(("voided.csv", voided_csv(session, proposal, voided_files)))
    files.append(("postings.csv", _postings_csv(session, proposal, photos)))
    events = proposal_events(session, proposal)
    files.append(("audit.csv", audit_csv(events)))
    files.append(("audit.json", audit_json(events)))

    community = proposal.community
    head_seq, head_hash = audit.head(session, proposal.community_id)
    manifest = {
        "format": "residents_vote filing package 1",
        "generated_at": _iso(now),
        "community": {"slug": community.slug, "name": community.name},
        "proposal": {
            "id": proposal.id,
            "public_id": proposal.public_id,
            "title": proposal.title,
            "stage": proposal.stage,
            "status": proposal.status,
            "rule": proposal.rule,
            "headcount": proposal.headcount,
            "finalized_at": _iso(proposal.finalized_at),
            "confirmed_at": _iso(proposal.confirmed_at),
            "filed_at": _iso(proposal.filed_at),
        },
        "final_result": {
            "revision": revision.revision,
            "sha256": revision.sha256,
            "published_at": _iso(revision.published_at),
            "file": "tally.json",
        },
        "signoff": {
            "signatory": community.signatory,
            "members": state.members,
            "required": state.required,
            "signatures": [
                {
                    "user": u.username,
                    "name": u.full_name or u.username,
                    "role": s.role,
                    "time": _iso(s.signed_at),
                }
                for s, u in state.signed
            ],
            "declined": [
                {"user": u.username, "reason": s.reason, "time": _iso(s.signed_at)}
                for s, u in state.declined
            ],
        },
        "attachments": attachments,
        "audit": {
            "events": len(events),
            "chain_ok": audit.verify(session, community_id=proposal.community_id).ok,
            "head": {"seq": head_seq, "hash": head_hash},
            "published_heads": notices.published_heads(session, proposal),
        },
        "files": [
            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in files
        ],
    }
    files.append((MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")))
    stamp = now.astimezone(settings.of(session).zone).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return Package(buffer.getvalue(), manifest, f"filing-{community.slug}-{proposal.id}.zip")


def verify_package(data: bytes) -> list[str]:
    """Problems found when checking a package against its manifest (empty: it verifies)."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        if MANIFEST not in names:
            return [f"{MANIFEST} is missing"]
        manifest = json.loads(zf.read(MANIFEST))
        listed = {f["name"] for f in manifest["files"]}
        for entry in manifest["files"]:
            if entry["name"] not in names:
                problems.append(f"{entry['name']}: missing")
                continue
            digest = hashlib.sha256(zf.read(entry["name"])).hexdigest()
            if digest != entry["sha256"]:
                problems.append(f"{entry['name']}: SHA-256 does not match")
        for name in sorted(names - listed - {MANIFEST}):
            problems.append(f"{name}: not listed in the manifest")
        tally = zf.read("tally.json") if "tally.json" in names else b""
        if hashlib.sha256(tally).hexdigest() != manifest["final_result"]["sha256"]:
            problems.append("tally.json: does not match the final result's SHA-256")
    return problems


def mark_filed(
    session: Session,
    proposal: Proposal,
    *,
    actor: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Record that the package was handed to the district office: status `filed`."""
    if proposal.status == "filed":
        raise Conflict(N_("This proposal is already marked as filed"))
    _require_fileable(proposal)
    if proposal.community.district_id is not None:
        raise Conflict(
            N_("This community's filings go to its district's inbox: submit it for filing")
        )
    note = (note or "").strip()[:500]
    move(proposal, Action.FILE, now=now, passed=True)  # _require_fileable: it passed
    proposal.filed_at = now or utcnow()
    audit.record_for(
        session,
        proposal,
        "proposal.file",
        actor=actor,
        subject=proposal.title,
        data={"note": note} if note else {},
    )


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def file_proposal(store: Store, proposal_id: int, *, actor: str, note: str = "") -> None:
    """Mark a confirmed proposal as filed with the district office (CLI, staff page)."""
    with store.write() as s:
        mark_filed(s, proposals.lock(s, proposal_id), actor=actor, note=note)
