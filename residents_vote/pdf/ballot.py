"""The paper ballot: one A4 page per household, laid out once per proposal.

`BallotLayout` lays the page out as drawing items (canvas.py): everything that is the
same on every page once (`static`), plus the slots each page fills with its household's
strings, and the place of its QR code. `render_ballots` hands the layout to a writer:
the fast one (fastpath.py, thousands of pages per second) when the installed fpdf2 is
the version it was written against, otherwise the public-API one (public.py).

Layout promises (CONTRACT.md "Paper ballot scans"): the answer boxes stand in a table,
one row per question and one column per answer under 同意 反对 弃权, each box centred
under its heading on its question's row; the owner signs on the line after 业主签名：;
the text stays extractable; the QR code encodes the ballot link.

Scan reading (issue 14): four solid corner marks frame the part above the cut line, and
the layout records where it put them, the QR code, every answer box and the signature
areas (`geometry.BallotGeometry`, `ballot_geometry`), so the reader never guesses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .canvas import PAGE_H, PAGE_W, PT, Canvas, Face, Item, Slot, Text, UrlSlot
from .fonts import FAMILY, MONO, new_pdf
from .geometry import BallotGeometry, GeometryRecorder
from .qr import QUIET_ZONE, qr_runs
from .text import wrap_text
from .words import ballot_words

if TYPE_CHECKING:
    from fpdf import FPDF

QR_MASK = 4  # fixed QR mask for ballots (see qr_runs)
QR_SYMBOL_MM = 42.0  # dark symbol width, quiet zone excluded


@dataclass(frozen=True)
class BallotCommon:
    """What every ballot of one proposal shares."""

    community: str
    title: str
    stage: str  # stage label already translated, e.g. "改造方案"
    questions: tuple[str, ...]
    opens: str  # already formatted local times, e.g. "2026-12-01 09:00"
    deadline: str
    hand_in: str  # where/how to hand in the paper ballot
    organiser: str
    contact: str
    rule: str  # one-line description of the decision rule
    adoption: str = ""  # several questions: adopted only if every one passes (DOMAIN.md 2)


@dataclass(frozen=True)
class BallotPage:
    """One household's ballot."""

    serial: str
    household: str  # household code, e.g. "3-2-501"
    building: str
    unit: str
    room: str
    area: str  # already formatted, e.g. "87.65"
    owner_name: str
    url: str  # BASE_URL + "/b/" + token
    share: str = ""  # optional, e.g. "本户分摊：1,234.56 元"


def _lh(size: float, factor: float = 1.45) -> float:
    """Line height in mm for a font size in pt."""
    return size * PT * factor


def _mid(top: float, h: float, size: float) -> float:
    """Baseline that centres text of this size vertically in a row."""
    return top + h / 2 + size * PT * 0.36


class BallotLayout:
    """One ballot design: static drawing items plus the slots each page fills in.

    Built once per render. If the common text (long title, several long questions) does
    not fit one page, the whole layout is rebuilt at a smaller scale; spare room then
    goes to the answer rows. `_build` runs the drawing steps top to bottom; a new
    element of the page is one more step.
    """

    MARGIN = 13.0
    BOTTOM = 8.0
    STUB_H = 27.0
    X0, X1 = MARGIN, PAGE_W - MARGIN
    STUB_TOP = PAGE_H - BOTTOM - STUB_H
    CUT_Y = STUB_TOP - 3.5
    LIMIT = CUT_Y - 3.0  # the ballot above the cut line ends here

    def __init__(
        self,
        pdf: FPDF,
        common: BallotCommon,
        words: dict[str, str],
        *,
        has_share: bool,
        qr_modules: int,
    ) -> None:
        self.reg = Face(pdf, "reg", FAMILY)
        self.bold = Face(pdf, "bold", FAMILY, "B")
        self.mono = Face(pdf, "mono", MONO)
        self.common = common
        self.words = words
        self.has_share = has_share
        self.qr_modules = qr_modules
        # QR area such that the dark symbol itself is QR_SYMBOL_MM wide
        self.qr_size = QR_SYMBOL_MM * (qr_modules + 2 * QUIET_ZONE) / qr_modules
        for step in range(0, 10):
            scale = 1.0 - 0.05 * step
            if self._build(scale):
                break
        else:
            raise ValueError(
                "ballot text does not fit one A4 page even at 55 % size; "
                "shorten the title, questions, rule or hand-in text"
            )
        self.scale = scale
        spare = self._spare
        if spare > 2 and common.questions:  # give spare room to the answer rows
            self._build(scale, extra=min(spare * 0.85 / len(common.questions), 9.0))

    @property
    def faces(self) -> tuple[Face, ...]:
        return (self.reg, self.bold, self.mono)

    # ------------------------------------------------------------------ build
    def _wrap(self, face: Face, size: float, text: str, width: float) -> list[str]:
        return wrap_text(text, lambda s: face.width(s, size), width)

    def _build(self, s: float, extra: float = 0.0) -> bool:
        """Lay the page out at text scale s; False when it overflows the page.

        extra is added to the height of every question row.
        """
        self.s, self.g = s, (1 + s) / 2  # g: everything but the questions shrinks half as fast
        self.canvas = Canvas()
        self.slots: dict[str, Slot] = {}
        self.geo = GeometryRecorder(PAGE_W, PAGE_H, self.CUT_Y)
        self._marks()
        y = self._header(13.0)
        y = self._details_and_qr(y)
        y = self._answer_table(y, extra)
        y = self._adoption(y)
        y = self._how_to_fill_in(y)
        y = self._signatures(y)
        y = self._hand_in(y)
        self._spare = self.LIMIT - y
        if y > self.LIMIT:
            return False
        self._cut_line()
        self._stub()
        self.static: list[Item] = self.canvas.items
        self.geometry: BallotGeometry = self.geo.result()
        return True

    def _marks(self) -> None:
        """Four solid black squares near the corners of the part above the cut line: the
        scan reader finds the page by them (positions from geometry.GeometryRecorder)."""
        for m in self.geo.marks:
            self.canvas.rect(m.x, m.y, m.w, m.h, fill=0.0, stroke=None)

    def _header(self, y: float) -> float:
        """Community (left), serial (right), the big title, the proposal's title, its stage."""
        c, w, ops, reg, bold = self.common, self.words, self.canvas, self.reg, self.bold
        x0, x1 = self.X0, self.X1
        ops.items += Slot(reg, 9, x0, y, x1 - 62 - x0 - 4, gray=0.35).place(c.community)
        lw = reg.width(w["serial"], 9.5)
        ops.text(reg, 9.5, x1 - 62, y, w["serial"], gray=0.25)
        self.slots["serial"] = Slot(bold, 12, x1 - 62 + lw, y + 0.2, 62 - lw, min_scale=0.45)
        y += 11.0
        ops.centred(bold, 24, 0, PAGE_W, y, w["ballot"])
        y += 2.5
        tsize = 13.5 * self.g
        for line in self._wrap(bold, tsize, c.title, x1 - x0 - 10):
            y += _lh(tsize, 1.4)
            ops.centred(bold, tsize, 0, PAGE_W, y, line)
        y += _lh(9.5, 1.6)
        ops.centred(reg, 9.5, 0, PAGE_W, y, w["matter_of"] % {"stage": c.stage}, gray=0.25)
        return y + 4.0

    def _label_cell(self, x: float, y: float, w: float, h: float, text: str, size: float):
        self.canvas.rect(x, y, w, h, fill=0.92, stroke=None)
        self.canvas.centred(self.reg, size, x, w, _mid(y, h, size), text, gray=0.15)

    def _details_and_qr(self, y: float) -> float:
        """The household table (left) and the QR code with the printed link (right)."""
        bottom = self._details(y)
        return max(bottom, self._qr_column(y)) + 4.5

    def _details(self, top: float) -> float:
        """Labelled cells: community, building/unit/room, household/area, owner, share,
        voting period, then the decision rule (may wrap). Returns the table's bottom."""
        c, w, ops, reg, bold, s = self.common, self.words, self.canvas, self.reg, self.bold, self.s
        x0 = self.X0
        left_w = self.X1 - x0 - (self.qr_size + 2) - 3
        rh = 8.6 * (0.85 + 0.15 * s)
        fs = 10.5 * (0.9 + 0.1 * s)  # value size
        ls = 9.5 * (0.9 + 0.1 * s)  # label size
        label_w = 22.0
        rest = left_w - label_w
        # (label, width) or ("", width, slot key); "@..." values are common to all pages
        rows: list[list[tuple[str, float, str | None]]] = [
            [(w["community"], label_w, None), ("", rest, "@community")],
            [
                (w["building"], label_w, None),
                ("", 20, "building"),
                (w["unit"], 16, None),
                ("", 20, "unit"),
                (w["room"], 16, None),
                ("", rest - 72, "room"),
            ],
            [
                (w["household"], label_w, None),
                ("", 34, "household"),
                (w["area"], 22, None),
                ("", rest - 56, "area"),
            ],
            [(w["owner"], label_w, None), ("", rest, "owner_name")],
        ]
        if self.has_share:
            rows.append([(w["share"], label_w, None), ("", rest, "share")])
        rows.append([(w["window"], label_w, None), ("", rest, "@window")])
        y = top
        for row in rows:
            x = x0
            for text, cw, key in row:
                if key is None:
                    self._label_cell(x, y, cw, rh, text, ls)
                elif key == "@community":
                    ops.items += Slot(bold, fs, x + 2, _mid(y, rh, fs), cw - 4).place(c.community)
                elif key == "@window":
                    span = w["window_span"] % {"opens": c.opens, "closes": c.deadline}
                    ops.text(reg, fs * 0.95, x + 2, _mid(y, rh, fs * 0.95), span)
                else:
                    self.slots[key] = Slot(bold, fs, x + 2, _mid(y, rh, fs), cw - 4)
                x += cw
            y += rh
        # decision rule row: may wrap
        rsize = 9.0 * self.g
        rule_lines = self._wrap(reg, rsize, c.rule, rest - 4)
        rule_h = max(rh, len(rule_lines) * _lh(rsize, 1.4) + 3)
        self._label_cell(x0, y, label_w, rule_h, w["rule"], ls)
        ry = y + (rule_h - len(rule_lines) * _lh(rsize, 1.4)) / 2
        for line in rule_lines:
            ry += _lh(rsize, 1.4)
            ops.text(reg, rsize, x0 + label_w + 2, ry - rsize * PT * 0.45, line)
        y += rule_h
        # grid lines
        ops.rect(x0, top, left_w, y - top, stroke=0.7, gray=0.3)
        gy = top
        for row in rows:
            gy += rh
            ops.line(x0, gy, x0 + left_w, gy, width=0.4, gray=0.55)
            x = x0
            for _text, cw, _key in row[:-1]:
                x += cw
                ops.line(x, gy - rh, x, gy, width=0.4, gray=0.55)
        ops.line(x0 + label_w, gy, x0 + label_w, y, width=0.4, gray=0.55)
        return y

    def _qr_column(self, top: float) -> float:
        """Where each page's QR code goes, its caption and the printed link's slot."""
        w, ops, reg, bold = self.words, self.canvas, self.reg, self.bold
        x1, qr_col = self.X1, self.qr_size + 2
        qx, qy = x1 - self.qr_size, top - 1.5
        self.qr_xy = (qx, qy)
        self.geo.qr(qx, qy, self.qr_size, self.qr_modules, QUIET_ZONE)
        cy = qy + self.qr_size + 0.5
        ops.centred(bold, 10.5, qx, self.qr_size, cy, w["scan"])
        cy += 4.2
        hs = 7.2
        while reg.width(w["type_link"], hs) > qr_col and hs > 5.5:
            hs -= 0.2
        ops.centred(reg, hs, x1 - qr_col, qr_col, cy, w["type_link"], gray=0.3)
        self.url_slot = UrlSlot(self.mono, 8.0, x1 - qr_col, cy + 3.6, qr_col, 3.3, 3)
        return cy + 3.6 + 2 * 3.3 + 1.5

    def _answer_table(self, y: float, extra: float) -> float:
        """The instruction, then one row per question with a box under 同意 反对 弃权."""
        c, w, ops, reg, bold, s = self.common, self.words, self.canvas, self.reg, self.bold, self.s
        x0, x1 = self.X0, self.X1
        ops.text(bold, 10.0 * (0.9 + 0.1 * s), x0, y, w["instruction"])
        y += 2.5
        opt_w, num_w = 19.0, 10.0
        q_w = x1 - x0 - num_w - 3 * opt_w
        head_h = 7.5
        ops.rect(x0, y, x1 - x0, head_h, fill=0.88, stroke=None)
        columns = [(w["number"], x0, num_w), (w["matter"], x0 + num_w, q_w)]
        columns += [
            (w[answer], x0 + num_w + q_w + j * opt_w, opt_w)
            for j, answer in enumerate(("agree", "oppose", "abstain"))
        ]
        for text, xx, cw in columns:
            ops.centred(bold, 10.0, xx, cw, _mid(y, head_h, 10.0), text)
        table_top = y
        y += head_h
        qsize = 10.5 * s
        qlh = _lh(qsize, 1.45)
        row_tops = [y]
        box = 9.0 if s >= 0.9 else 8.0 if s >= 0.75 else 7.0 if s >= 0.65 else 6.0
        row_min = box + (5.0 if s >= 0.85 else 2.5)
        for i, q in enumerate(c.questions, start=1):
            lines = self._wrap(reg, qsize, q, q_w - 5)
            row_h = max(row_min, len(lines) * qlh + 3.5) + extra
            self.geo.row(i, x0, y, x1 - x0, row_h)
            ty = y + (row_h - len(lines) * qlh) / 2
            for line in lines:
                ty += qlh
                ops.text(reg, qsize, x0 + num_w + 2.5, ty - qsize * PT * 0.42, line)
            ops.centred(bold, 11, x0, num_w, _mid(y, row_h, 11), str(i))
            for j in range(3):
                bx = x0 + num_w + q_w + j * opt_w + (opt_w - box) / 2
                by = y + (row_h - box) / 2
                ops.rect(bx, by, box, box, stroke=1.1)
                self.geo.box(i, j, bx, by, box, 1.1 * PT)
            y += row_h
            row_tops.append(y)
        ops.rect(x0, table_top, x1 - x0, y - table_top, stroke=0.8, gray=0.2)
        for ry in row_tops[:-1]:
            ops.line(x0, ry, x1, ry, width=0.5, gray=0.4)
        for xx in (x0 + num_w, *(x0 + num_w + q_w + j * opt_w for j in range(3))):
            ops.line(xx, table_top, xx, y, width=0.5, gray=0.4)
        return y + 3.0

    def _adoption(self, y: float) -> float:
        """Several questions: adopted only if every one passes (below the answer table)."""
        if not self.common.adoption:
            return y
        asz = 10.0 * (0.9 + 0.1 * self.s)
        for line in self._wrap(self.bold, asz, self.common.adoption, self.X1 - self.X0):
            y += _lh(asz, 1.35)
            self.canvas.text(self.bold, asz, self.X0, y, line)
        return y + 2.0

    def _how_to_fill_in(self, y: float) -> float:
        """The validity rules, numbered, hanging under their heading."""
        w, ops, reg, bold = self.words, self.canvas, self.reg, self.bold
        x0 = self.X0
        rs = 8.3 * (0.85 + 0.15 * self.s)
        ops.text(bold, rs, x0, y + _lh(rs, 1.0), w["how"])
        indent = bold.width(w["how"], rs)
        mw = reg.width("0. ", rs)
        for i, key in enumerate(("how_1", "how_2", "how_3", "how_4"), start=1):
            lines = self._wrap(reg, rs, w[key], self.X1 - x0 - indent - mw)
            for j, line in enumerate(lines):
                y += _lh(rs, 1.45)
                if j == 0:
                    ops.text(reg, rs, x0 + indent, y, f"{i}. ", gray=0.15)
                ops.text(reg, rs, x0 + indent + mw, y, line, gray=0.15)
        return y + 3.5

    def _fill_line(self, x: float, y: float, label: str, w: float, *, bold=False) -> float:
        """A label and a line to write on; returns where the next one starts."""
        ss = self.ss
        self.canvas.text(self.bold if bold else self.reg, ss, x, y, label)
        lx = x + self.reg.width(label, ss) + 1
        self.canvas.line(lx, y + 1.0, lx + w, y + 1.0, width=0.5)
        return lx + w + 4

    def _signatures(self, y: float) -> float:
        """The owner's signature, phone and date; below a dashed line, the proxy's."""
        w, ops, reg, bold = self.words, self.canvas, self.reg, self.bold
        x0, x1 = self.X0, self.X1
        ss = self.ss = 10.0 * (0.9 + 0.1 * self.s)
        sign_top = y
        line_gap = 10.5 * (0.85 + 0.15 * self.s)
        y += line_gap - 2
        xx = self._fill_line(x0 + 3, y, w["owner_sign"], 48, bold=True)
        self.geo.signature(xx - 4 - 48, xx - 4, sign_top, y + 1.0)
        xx = self._fill_line(xx, y, w["phone"], 36)
        ops.text(reg, ss, xx, y, w["date"])
        dx = xx + reg.width(w["date"], ss) + 1
        unit_w = max(reg.width(w[k], ss) for k in ("year", "month", "day"))
        seg = (x1 - 3 - dx - 3 * (unit_w + 1)) / 4  # year twice as long as month / day
        for key, lw in (("year", 2 * seg), ("month", seg), ("day", seg)):
            ops.line(dx, y + 1.0, dx + lw, y + 1.0, width=0.5)
            ops.text(reg, ss, dx + lw + 0.5, y, w[key])
            dx += lw + unit_w + 1
        y += 4.2
        ops.line(x0, y, x1, y, width=0.4, gray=0.55, dash=(1.5, 1.5))
        y += _lh(ss * 0.9, 1.6)
        ops.text(bold, ss * 0.9, x0 + 3, y, w["proxy"])
        note = w["proxy_note"]
        ops.text(reg, ss * 0.85, x1 - 3 - reg.width(note, ss * 0.85), y, note, gray=0.25)
        y += line_gap - 1
        xx = self._fill_line(x0 + 3, y, w["proxy_name"], 30)
        xx = self._fill_line(xx, y, w["proxy_sign"], 38)
        self.geo.proxy_signature(xx - 4 - 38, xx - 4, y - (line_gap - 1) + 1.2, y + 1.0)
        rest = x1 - 3 - xx - reg.width(w["proxy_phone"], ss) - 1
        self._fill_line(xx, y, w["proxy_phone"], rest)
        y += 3.5
        ops.rect(x0, sign_top, x1 - x0, y - sign_top, stroke=0.8, gray=0.2)
        return y + 2.0

    def _hand_in(self, y: float) -> float:
        """Where and by when to hand the ballot in, who organises the vote."""
        c, w, ops, reg, bold = self.common, self.words, self.canvas, self.reg, self.bold
        cw = self.X1 - self.X0
        hs2 = 9.5 * (0.9 + 0.1 * self.s)
        hand = w["hand_in"] % {"deadline": c.deadline, "place": c.hand_in}
        for line in self._wrap(bold, hs2, hand, cw):
            y += _lh(hs2, 1.5)
            ops.text(bold, hs2, self.X0, y, line)
        org = w["organiser"] % {"organiser": c.organiser, "contact": c.contact}
        for line in self._wrap(reg, hs2 * 0.95, org, cw):
            y += _lh(hs2, 1.45)
            ops.text(reg, hs2 * 0.95, self.X0, y, line, gray=0.2)
        return y

    def _cut_line(self) -> None:
        """The dashed cut line across the page, its caption and a pair of scissors."""
        ops, reg, cut_y = self.canvas, self.reg, self.CUT_Y
        ops.line(4, cut_y, PAGE_W - 4, cut_y, width=0.6, gray=0.35, dash=(3, 2))
        cut, cs = self.words["cut"], 7.5
        cxl = (PAGE_W - reg.width(cut, cs)) / 2
        ops.rect(cxl - 2, cut_y - 2, reg.width(cut, cs) + 4, 4, fill=1, stroke=None)
        ops.text(reg, cs, cxl, cut_y + cs * PT * 0.36, cut, gray=0.35)
        ops.rect(8, cut_y - 2.5, 5, 5, fill=1, stroke=None)
        ops.text(reg, 11, 8, cut_y + 11 * PT * 0.36, "✂", gray=0.35)

    def _stub(self) -> None:
        """The receipt the owner keeps (serial, household) and the staff's record box."""
        c, w, ops, reg, bold = self.common, self.words, self.canvas, self.reg, self.bold
        x0, x1, top = self.X0, self.X1, self.STUB_TOP
        sy = top + 4.5
        ops.text(bold, 11, x0, sy, w["stub"])
        sy += 6.5
        lw = reg.width(w["serial"], 9.5)
        ops.text(reg, 9.5, x0, sy, w["serial"])
        self.slots["stub_serial"] = Slot(bold, 10, x0 + lw, sy, 60 - lw - 2, min_scale=0.55)
        ops.text(reg, 9.5, x0 + 60, sy, w["stub_household"])
        hw = reg.width(w["stub_household"], 9.5)
        self.slots["stub_household"] = Slot(bold, 10, x0 + 60 + hw, sy, 40 - hw)
        sy += 5.2
        stub_w = 100.0
        ops.items += Slot(reg, 8.5, x0, sy, stub_w).place(f"{c.community} · {c.title}")
        sy += 4.6
        ops.text(reg, 7.5, x0, sy, w["keep"], gray=0.3)
        bx = x0 + stub_w + 8 + 25
        bw = x1 - bx
        bt = top + 1.0
        ops.rect(bx, bt, bw, self.STUB_H - 3, stroke=0.8, gray=0.2)
        ops.rect(bx, bt, bw, 5.5, fill=0.9, stroke=None)
        ops.text(reg, 8.5, bx + 2, bt + 4, w["received"])
        labels = (w["received_by"], w["received_on"], w["receipt_code"])
        lx = bx + 2.5 + max(reg.width(label, 8.5) for label in labels) + 1
        ry = bt + 11.5
        for label in labels:
            ops.text(reg, 8.5, bx + 2.5, ry, label)
            ops.line(lx, ry + 0.8, bx + bw - 3, ry + 0.8, width=0.4)
            ry += 5.5

    # ------------------------------------------------------------------ per page
    def fields(self, p: BallotPage) -> list[tuple[Slot, str]]:
        """The per-page strings and where they go."""
        s = self.slots
        out = [
            (s["serial"], p.serial),
            (s["building"], p.building),
            (s["unit"], p.unit),
            (s["room"], p.room),
            (s["household"], p.household),
            (s["area"], f"{p.area} m²" if p.area else ""),
            (s["owner_name"], p.owner_name),
            (s["stub_serial"], p.serial),
            (s["stub_household"], p.household),
        ]
        if "share" in s:
            out.append((s["share"], p.share))
        return out

    def page_items(self, p: BallotPage) -> list[Text]:
        """One household's own strings (its QR code goes to `qr_xy`, `qr_size`)."""
        items = [t for slot, text in self.fields(p) for t in slot.place(text)]
        items += self.url_slot.place(p.url)
        return items

    def learn(self, pages: Sequence[BallotPage], learn: Callable[[Face, str], None]) -> None:
        """Show every character the pages will print to `learn` (measure, pick glyphs)."""
        chars: dict[str, set[str]] = {face.key: set() for face in self.faces}
        for p in pages:
            for slot, text in self.fields(p):
                chars[slot.face.key].update(text)
            chars[self.mono.key].update(p.url)
        for face in self.faces:
            learn(face, "".join(sorted(chars[face.key])) + "…M")


def prepare(pdf: FPDF, common: BallotCommon, pages: Sequence[BallotPage]) -> BallotLayout:
    """Register the fonts on pdf (core Courier for links too) and lay the ballot out."""
    new_pdf(pdf)
    pdf.set_font(MONO, "", 8)  # registers the core font used for printed links
    pdf.set_font(FAMILY, "", 10)
    pdf.set_auto_page_break(False)
    pdf.set_title(f"{common.title} {ballot_words()['ballot']}")
    pdf.set_creator("residents_vote")
    shortest = min(pages, key=lambda p: len(p.url)).url
    return BallotLayout(
        pdf,
        common,
        ballot_words(),
        has_share=any(p.share for p in pages),
        qr_modules=qr_runs(shortest, mask=QR_MASK).modules,
    )


def render_ballots(
    common: BallotCommon, pages: Sequence[BallotPage], *, workers: int | None = None
) -> bytes:
    """One A4 ballot page per household, as PDF bytes.

    The words of the page are translated in the current locale (the printed ballot is
    Chinese: call under `force_locale("zh_CN")`). workers=None uses every CPU for large
    jobs; see fastpath.render.
    """
    pages = list(pages)
    if not pages:
        raise ValueError("render_ballots needs at least one page")
    from . import fastpath

    if fastpath.supported():
        return fastpath.render(common, pages, workers=workers)
    from . import public

    return public.render(common, pages)


def ballot_geometry(common: BallotCommon, pages: Sequence[BallotPage]) -> BallotGeometry:
    """Where `render_ballots(common, pages)` puts the corner marks, the QR code, every
    answer box and the signature lines (millimetres from the top-left corner).

    Call it in the same locale as render_ballots: the layout depends on the words.
    """
    pages = list(pages)
    if not pages:
        raise ValueError("ballot_geometry needs at least one page")
    from fpdf import FPDF

    return prepare(FPDF(unit="mm", format="A4"), common, pages).geometry
