"""Share images for the community's WeChat groups (issue 15 item 6).

Staff post notices in WeChat groups as pictures. For each stage of a vote (the voting
notice, the live turnout, the preliminary result, the final result) this makes a PNG
1080 px wide in Chinese: the community and the proposal, the figures, a QR code to the
proposal's public page and the date. Figures come from the tally service (live) or the
published result revision; no names and nothing per household.

Rendered with Pillow and the Noto Sans CJK font the PDFs use (pdf/fonts.py); the QR
code with segno. Words are English msgids shown in the poster's language (Chinese).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from .. import labels
from ..domain import tally as rules
from ..models import Proposal, utcnow
from ..pdf.fonts import find_cjk_fonts
from . import notices, proposals, results, tally, users
from .errors import N_, Forbidden, NotFound
from .unit import Store

POSTER_LOCALE = "zh_CN"  # posted in the community's WeChat groups
STAGES = ("notice", "turnout", "preliminary", "final")
WIDTH = 1080
MARGIN = 72
ACCENT = (11, 87, 164)
INK = (26, 26, 26)
MUTED = (90, 90, 90)
GOOD = (20, 110, 50)
BAD = (176, 32, 32)
SOFT = (238, 243, 250)

_OPEN = ("voting", "counting", "publicity", "final", "confirmed", "filed")
_PUBLISHED = ("publicity", "final", "confirmed", "filed")
_FINAL = ("final", "confirmed", "filed")


def stages(proposal: Proposal, *, published: bool | None = None) -> list[str]:
    """The stages a poster can be made for now: the voting notice once voting opened,
    the turnout while voting or counting, the preliminary result once published, the
    final result once final. A hearing has no poster yet (its figures are attendance,
    not votes)."""
    if proposal.route == "hearing":
        return []
    out = []
    if proposal.status in _OPEN:
        out.append("notice")
    if proposal.status in ("voting", "counting"):
        out.append("turnout")
    has_result = proposal.result_revision > 0 if published is None else published
    if proposal.status in _PUBLISHED and has_result:
        out.append("preliminary")
    if proposal.status in _FINAL and has_result:
        out.append("final")
    return out


# --- What a poster says ---------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One block of the poster: a label, a big value, an optional line under it."""

    label: str
    value: str
    note: str = ""
    color: tuple[int, int, int] = INK


@dataclass(frozen=True)
class Poster:
    stage: str
    community: str
    headline: str
    title: str
    figures: tuple[Figure, ...]
    lines: tuple[str, ...]
    url: str
    scan_hint: str
    footer: str
    extra: dict = field(default_factory=dict, compare=False)  # figures for tests


def _unit_word(headcount: str) -> str:
    return _("households") if headcount == "household" else _("owners")


def _area(text: str) -> str:
    return f"{text} m²"


def _notice(session: Session, proposal: Proposal) -> tuple[list[Figure], list[str], dict]:
    electorate = tally.electorate(proposal, proposal.headcount)
    when = _("%(start)s\nto %(end)s", start=_local(session, proposal.starts_at),
             end=_local(session, proposal.closes_at))  # fmt: skip
    figures = [
        Figure(_("Voting period"), when),
        Figure(
            _("Who votes"),
            _("%(n)s %(unit)s", n=electorate.households, unit=_("households")),
            _("total floor area %(area)s", area=_area(rules.format_area(electorate.area))),
        ),
    ]
    lines = [
        _("Decision rule: %(rule)s", rule=labels.rule_label(proposal.rule)),
        _("Vote online by the link on your paper ballot, or hand the paper ballot in at: "
          "%(office)s", office=proposal.community.office or proposal.community.name),
    ]  # fmt: skip
    return figures, lines, {"households": electorate.households}


def _turnout(
    session: Session, proposal: Proposal, now: dt.datetime
) -> tuple[list[Figure], list[str], dict]:
    live = tally.compute(session, proposal)
    rule = rules.RULES[proposal.rule]
    voted, total = live.participation.persons, live.electorate.persons
    needed = rules.participation_needed(rule, live.electorate, live.participation)
    unit = _unit_word(proposal.headcount)
    figures = [
        Figure(
            _("Voted"),
            f"{voted} / {total} {unit}",
            _(
                "area %(voted)s of %(total)s",
                voted=_area(rules.format_area(live.participation.area)),
                total=_area(rules.format_area(live.electorate.area)),
            ),
        ),  # fmt: skip
        Figure(
            _("Still needed"),
            _("%(n)s %(unit)s", n=needed, unit=unit) if needed else _("reached"),
            _("to reach two thirds of the total") if needed else "",
            BAD if needed else GOOD,
        ),
    ]
    lines = [_("Figures as of %(when)s", when=_local(session, now))]
    if proposal.status == "voting" and proposal.closes_at:
        lines.append(_("Voting closes %(when)s", when=_local(session, proposal.closes_at)))
    else:
        lines.append(_("Voting has ended; the votes are being counted."))
    return figures, lines, {"voted": voted, "total": total, "needed": needed}


def _result(
    session: Session, proposal: Proposal, final: bool
) -> tuple[list[Figure], list[str], dict]:
    data = results.published_json(session, proposal)
    if data is None:
        raise NotFound(N_("No result has been published for proposal %(id)s"), id=proposal.id)
    unit = _unit_word(data["proposal"]["headcount"])
    figures = []
    passed = []
    for q in data["questions"]:
        ok = bool(q["passed"])
        passed.append(ok)
        figures.append(
            Figure(
                _("Question %(n)s: %(text)s", n=q["number"], text=q["text"]),
                _("adopted") if ok else _("not adopted"),
                _("agree %(n)s %(unit)s, %(area)s; oppose %(o)s; abstain %(a)s",
                  n=q["agree"]["persons"], unit=unit, area=_area(q["agree"]["area"]),
                  o=q["oppose"]["persons"], a=q["abstain"]["persons"]),
                GOOD if ok else BAD,
            )
        )  # fmt: skip
    part, elect = data["participation"], data["electorate"]
    lines = [
        _("Took part: %(n)s of %(total)s %(unit)s, area %(area)s of %(total_area)s",
          n=part["persons"], total=elect["persons"], unit=unit, area=_area(part["area"]),
          total_area=_area(elect["area"])),
    ]  # fmt: skip
    if not final and proposal.objection_ends_at:
        lines.append(
            _("Objections until %(when)s: see the public page.",
              when=results.local_end(proposal.objection_ends_at, session))
        )  # fmt: skip
    return figures, lines, {"passed": passed, "participation": part["persons"]}


def _local(session: Session, when: dt.datetime | None) -> str:
    return results.local(when, session) if when else ""


def poster(session: Session, proposal: Proposal, stage: str, now: dt.datetime) -> Poster:
    """What the poster of `stage` says; NotFound when the stage has none yet."""
    if stage not in stages(proposal):
        raise NotFound(N_("No share image for this stage of the vote yet"))
    with force_locale(POSTER_LOCALE):
        if stage == "notice":
            headline = _("Voting notice")
            figures, lines, extra = _notice(session, proposal)
        elif stage == "turnout":
            headline = _("Turnout so far")
            figures, lines, extra = _turnout(session, proposal, now)
        elif stage == "preliminary":
            headline = _("Preliminary result of the vote")
            figures, lines, extra = _result(session, proposal, final=False)
        else:
            headline = _("Final result of the vote")
            figures, lines, extra = _result(session, proposal, final=True)
        date = results.local(now, session)[:10]
        return Poster(
            stage=stage,
            community=proposal.community.name,
            headline=headline,
            title=proposal.title,
            figures=tuple(figures),
            lines=tuple(lines),
            url=notices.public_url(proposal),
            scan_hint=_("Scan for the details on the public page"),
            footer=_("%(organiser)s · %(date)s", organiser=proposal.community.name, date=date),
            extra=extra,
        )


# --- Drawing -------------------------------------------------------------------------------


def _fonts() -> tuple[str, int, str, int]:
    regular, bold = find_cjk_fonts()
    b = bold or regular
    return str(regular.path), regular.index, str(b.path), b.index


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    reg_path, reg_index, bold_path, bold_index = _fonts()
    if bold:
        return ImageFont.truetype(bold_path, size, index=bold_index)
    return ImageFont.truetype(reg_path, size, index=reg_index)


_NO_LINE_START = set("。，、；：？！）》」』”’.,;:?!)%")


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines of at most `width` pixels: Chinese breaks between any two characters, a
    Latin word or number is kept whole."""
    lines: list[str] = []
    for para in text.split("\n"):
        tokens: list[str] = []
        for ch in para:
            if tokens and ch.isascii() and ch != " " and tokens[-1][-1:].isascii() \
                    and tokens[-1][-1:] != " ":  # fmt: skip
                tokens[-1] += ch
            else:
                tokens.append(ch)
        line = ""
        for tok in tokens:
            if line and tok not in _NO_LINE_START and font.getlength(line + tok) > width:
                lines.append(line.rstrip())
                line = tok.lstrip()
            else:
                line += tok
        lines.append(line.rstrip())
    return lines


def _qr_image(url: str, size: int) -> Image.Image:
    import segno

    qr = segno.make(url, error="m", micro=False)
    buf = io.BytesIO()
    modules = qr.symbol_size(scale=1, border=4)[0]
    qr.save(buf, kind="png", scale=max(1, size // modules), border=4)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def render(p: Poster) -> bytes:
    """The poster as a PNG, WIDTH px wide, as tall as its text needs."""
    inner = WIDTH - 2 * MARGIN
    canvas = Image.new("RGB", (WIDTH, 4000), "white")
    d = ImageDraw.Draw(canvas)
    f_comm, f_head = _font(40), _font(76, bold=True)
    f_title, f_label = _font(50, bold=True), _font(36)
    f_value, f_note, f_line = _font(64, bold=True), _font(34), _font(36)

    # the band: community, headline
    y = 64
    for line in _wrap(p.community, f_comm, inner):
        d.text((MARGIN, y), line, font=f_comm, fill="white")
        y += 56
    y += 12
    d.text((MARGIN, y), p.headline, font=f_head, fill="white")
    y += 112
    band = y
    d.rectangle((0, 0, WIDTH, band), fill=ACCENT)
    # drawn again over the band (the band's height was known only now)
    y = 64
    for line in _wrap(p.community, f_comm, inner):
        d.text((MARGIN, y), line, font=f_comm, fill=(220, 232, 247))
        y += 56
    y += 12
    d.text((MARGIN, y), p.headline, font=f_head, fill="white")

    y = band + 48
    for line in _wrap(p.title, f_title, inner):
        d.text((MARGIN, y), line, font=f_title, fill=INK)
        y += 70
    y += 24

    for fig in p.figures:
        top = y
        y += 28
        d.text((MARGIN + 36, y), fig.label, font=f_label, fill=MUTED)
        y += 56
        for line in _wrap(fig.value, f_value, inner - 72):
            d.text((MARGIN + 36, y), line, font=f_value, fill=fig.color)
            y += 84
        if fig.note:
            for line in _wrap(fig.note, f_note, inner - 72):
                d.text((MARGIN + 36, y), line, font=f_note, fill=INK)
                y += 48
        y += 24
        d.rounded_rectangle((MARGIN, top, WIDTH - MARGIN, y), radius=20, fill=None,
                            outline=(200, 210, 225), width=3)  # fmt: skip
        d.rectangle((MARGIN, top + 20, MARGIN + 10, y - 20), fill=fig.color)
        y += 28

    for text in p.lines:
        for line in _wrap(text, f_line, inner):
            d.text((MARGIN, y), line, font=f_line, fill=INK)
            y += 54
        y += 12

    # the QR code to the public page, centred, with its hint
    y += 28
    qr = _qr_image(p.url, 420)
    d.rounded_rectangle(((WIDTH - qr.width) // 2 - 24, y - 24, (WIDTH + qr.width) // 2 + 24,
                         y + qr.height + 24), radius=24, fill=SOFT)  # fmt: skip
    canvas.paste(qr, ((WIDTH - qr.width) // 2, y))
    y += qr.height + 48
    for line in _wrap(p.scan_hint, f_line, inner):
        d.text(((WIDTH - f_line.getlength(line)) // 2, y), line, font=f_line, fill=INK)
        y += 54
    y += 24
    d.line((MARGIN, y, WIDTH - MARGIN, y), fill=(210, 210, 210), width=2)
    y += 28
    for line in _wrap(p.footer, f_note, inner):
        d.text((MARGIN, y), line, font=f_note, fill=MUTED)
        y += 48
    y += 40
    out = io.BytesIO()
    canvas.crop((0, 0, WIDTH, y)).save(out, "PNG", optimize=True)
    return out.getvalue()


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class ShareImage:
    filename: str
    png: bytes
    poster: Poster


def share_image(
    store: Store, proposal_id: int, stage: str, *, username: str, now: dt.datetime | None = None
) -> ShareImage:
    """The share image of one stage of a proposal, for staff of its community (or an
    admin). NotFound for a stage that has no image yet."""
    now = now or utcnow()
    with store.read() as s:
        proposal = proposals.get(s, proposal_id)
        user = users.by_username(s, username)
        if (
            user is None
            or not user.active
            or user.role not in ("staff", "admin")
            or not (users.can_see(user, proposal.community))
        ):
            raise Forbidden(N_("User %(user)s may not see this community"), user=username)
        made = poster(s, proposal, stage, now)
        filename = f"vote-{proposal.public_id}-{stage}.png"
    return ShareImage(filename, render(made), made)
