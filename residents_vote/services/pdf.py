"""PDF layer: printable ballots and A4 notices, rendered from plain data.

Pure rendering: no database, no Flask. Chinese text uses Noto Sans CJK SC embedded
as a subset, so the PDFs print correctly on machines without Chinese fonts. QR codes
are drawn as vector rectangles (one per horizontal run of dark modules), which keeps
them sharp at any printer resolution and much cheaper than embedding images.

Ballots are the hot path (thousands of pages per vote): everything that is the same
on every page (layout, line wrapping, labels, boxes) is laid out once and stored once,
as a Form XObject that each page draws; a page's own stream holds only its household's
strings and QR code. fpdf2 is used for what it is good at (loading the font, subsetting
and writing it); the ballot file itself is assembled here around fpdf2's font objects
(see `_assemble`). Large jobs encode their pages in a fork-based process pool.

fpdf2 internals relied on (pinned fpdf2==2.8.9, covered by tests/unit/test_pdf.py):
`FPDF._out` for raw operators, `TTFFont.subset.pick` / `.cw` for glyph codes and widths,
`FPDF.single_resources_object`, and the shape of its output (classic xref table,
uncompressed object dictionaries).
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import TableCellFillMode, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from .ballot_geometry import BallotGeometry, GeometryRecorder

__all__ = [
    "BallotCommon",
    "BallotGeometry",
    "BallotPage",
    "FontNotFoundError",
    "Notice",
    "ballot_geometry",
    "draw_qr",
    "find_cjk_fonts",
    "new_pdf",
    "qr_runs",
    "render_ballots",
    "wrap_text",
]

# --------------------------------------------------------------------------- fonts

FONT_ENV = "RV_CJK_FONT"
FONT_BOLD_ENV = "RV_CJK_FONT_BOLD"
FAMILY = "cjk"

_FONT_DIRS = (
    "/usr/share/fonts/opentype/noto",  # Debian / Ubuntu fonts-noto-cjk
    "/usr/share/fonts/noto-cjk",  # Arch, Alpine
    "/usr/share/fonts/google-noto-cjk",  # Fedora
    "/usr/share/fonts/opentype/noto-cjk",
    "/usr/share/fonts/truetype/noto",
    "/usr/local/share/fonts",
    "/usr/share/fonts",
)
_REGULAR_NAMES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf")
_BOLD_NAMES = ("NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf", "NotoSansSC-Bold.otf")


class FontNotFoundError(RuntimeError):
    """No Chinese font could be found; PDFs would show empty boxes instead of text."""


@dataclass(frozen=True)
class FontFile:
    """A font file plus the face to use inside a collection (.ttc)."""

    path: Path
    index: int = 0


@cache
def _sc_face_index(path: Path) -> int:
    """Index of the Simplified Chinese face in a collection (face 0 of Noto CJK is JP)."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as coll:
        for i, face in enumerate(coll.fonts):
            name = face["name"].getBestFamilyName() or ""
            if name.endswith(" SC"):
                return i
    return 0


def _find(names: Sequence[str]) -> Path | None:
    for folder in _FONT_DIRS:
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                return path
    return None


@cache
def find_cjk_fonts() -> tuple[FontFile, FontFile | None]:
    """Locate regular (and, if present, bold) CJK fonts; `RV_CJK_FONT` overrides the search."""
    override = os.environ.get(FONT_ENV)
    if override:
        regular = Path(override)
        if not regular.is_file():
            raise FontNotFoundError(
                f"{FONT_ENV}={override} is not a font file; point it to e.g. "
                "NotoSansCJK-Regular.ttc (Debian: apt-get install fonts-noto-cjk)"
            )
        bold_env = os.environ.get(FONT_BOLD_ENV)
        bold: Path | None = Path(bold_env) if bold_env else None
        if bold is None and "Regular" in regular.name:
            bold = regular.with_name(regular.name.replace("Regular", "Bold"))
        if bold is not None and not bold.is_file():
            bold = None
    else:
        found = _find(_REGULAR_NAMES)
        if found is None:
            raise FontNotFoundError(
                "No Chinese font found (looked for NotoSansCJK-Regular.ttc in "
                f"{', '.join(_FONT_DIRS)}). Install fonts-noto-cjk "
                f"(apt-get install fonts-noto-cjk) or set {FONT_ENV} to a CJK font file."
            )
        regular, bold = found, _find(_BOLD_NAMES)
    reg = FontFile(regular, _sc_face_index(regular))
    return reg, (FontFile(bold, _sc_face_index(bold)) if bold else None)


def _skip_bbox_recalc(pdf: FPDF) -> None:
    """Speed up output: fpdf2 saves each subset font through fontTools, which by default
    recomputes every glyph's bounding box (~0.3 s per CJK face); the stored boxes of the
    full font remain valid bounds for the subset."""
    for font in pdf.fonts.values():
        tt = getattr(font, "ttfont", None)
        if tt is not None:
            tt.recalcBBoxes = False


def new_pdf(pdf: FPDF | None = None) -> FPDF:
    """An A4/mm FPDF with the CJK family registered as "cjk" ("" and "B" styles)."""
    pdf = pdf or FPDF(unit="mm", format="A4")
    regular, bold = find_cjk_fonts()
    pdf.add_font(FAMILY, "", str(regular.path), collection_font_number=regular.index)
    b = bold or regular  # without a bold file, "bold" text falls back to the regular face
    pdf.add_font(FAMILY, "B", str(b.path), collection_font_number=b.index)
    pdf.set_font(FAMILY, "", 10.5)
    return pdf


# --------------------------------------------------------------------------- text wrapping

# Characters that must not start a line (closing punctuation) or end one (opening).
_NO_START = set("²³，。、；：？！）》」』】〕〉”’…—·%,.;:!?)]}")
_NO_END = set("（《「『【〔〈“‘([{")
_TOKEN = re.compile(r"[\x21-\x7e]+|\s|.", re.S)


def wrap_text(text: str, width: Callable[[str], float], max_width: float) -> list[str]:
    """Break text into lines no wider than max_width.

    Chinese breaks between any two characters, runs of ASCII (words, numbers, URLs)
    only at spaces unless they are longer than a line, and closing punctuation never
    starts a line (the previous character moves down with it).
    """
    lines: list[str] = []
    for para in text.split("\n"):
        cur: list[str] = []
        cur_w = 0.0
        first = len(lines)  # leading spaces of a paragraph are kept (indent), of a line not
        for tok in _TOKEN.findall(para):
            if tok.isspace() and not cur and len(lines) > first:
                continue
            w = width(tok)
            if cur_w + w <= max_width + 1e-6:
                cur.append(tok)
                cur_w += w
                continue
            if tok.isspace():
                lines.append("".join(cur).rstrip())
                cur, cur_w = [], 0.0
                continue
            if len(tok) > 1 and w > max_width:  # over-long ASCII run: split it by characters
                for ch in tok:
                    cw = width(ch)
                    if cur and cur_w + cw > max_width + 1e-6:
                        lines.append("".join(cur).rstrip())
                        cur, cur_w = [], 0.0
                    cur.append(ch)
                    cur_w += cw
                continue
            carry: list[str] = []
            head = tok
            while head in _NO_START and len(cur) > 1 and not cur[-1].isspace():
                head = cur.pop()  # pull the previous character down with the punctuation
                carry.insert(0, head)
            while len(cur) > 1 and cur[-1] in _NO_END:
                carry.insert(0, cur.pop())
            if cur:
                lines.append("".join(cur).rstrip())
            cur = [*carry, tok]
            cur_w = sum(width(t) for t in cur)
        lines.append("".join(cur).rstrip())
    return lines


# --------------------------------------------------------------------------- QR codes


@dataclass(frozen=True)
class QRRuns:
    """A QR symbol as horizontal runs of dark modules: (row, column, length)."""

    modules: int  # symbol width in modules, without the quiet zone
    runs: tuple[tuple[int, int, int], ...]


QUIET_ZONE = 4
_DARK_RUN = re.compile(rb"\x01+")


def qr_runs(data: str, *, error: str = "m", mask: int | None = None) -> QRRuns:
    """Encode data and merge dark modules into runs (one rectangle each when drawn).

    mask=None lets segno score all eight masks (slow, ~3.5 ms); ballots pass a fixed
    mask, which every decoder accepts, to encode about five times faster.
    """
    qr = segno.make(data, error=error, micro=False, mask=mask, boost_error=False)
    runs = []
    for r, row in enumerate(qr.matrix):
        for m in _DARK_RUN.finditer(bytes(row)):
            runs.append((r, m.start(), m.end() - m.start()))
    return QRRuns(len(qr.matrix), tuple(runs))


def _qr_ops(qr: QRRuns, x: float, y: float, size: float, k: float, page_h: float) -> str:
    """PDF operators for a QR whose area (quiet zone included) is size x size mm at (x, y).

    A module-unit coordinate system is set with `cm`, so each run is a short integer
    `col row len 1 re`; all runs form one path filled once (no seams between rows).
    """
    total = qr.modules + 2 * QUIET_ZONE
    m = size / total * k  # module size in points
    x0 = (x + size / total * QUIET_ZONE) * k
    y0 = (page_h - y - size / total * QUIET_ZONE) * k
    body = "\n".join(f"{c} {r} {n} 1 re" for r, c, n in qr.runs)
    return f"q 0 g {m:.4f} 0 0 {-m:.4f} {x0:.3f} {y0:.3f} cm\n{body}\nf Q\n"


def draw_qr(
    pdf: FPDF, data: str, x: float, y: float, size_mm: float, *, mask: int | None = None
) -> None:
    """Draw a vector QR code (error correction M) filling size_mm x size_mm at (x, y).

    The area includes the 4-module quiet zone, which is left unpainted (white paper).
    """
    qr = qr_runs(data, mask=mask)
    pdf._out(_qr_ops(qr, x, y, size_mm, pdf.k, pdf.h))  # raw operators: one path, see _qr_ops


# --------------------------------------------------------------------------- notices


class _NoticePDF(FPDF):
    """FPDF with a "第 N 页 / 共 M 页" footer."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8.5)
        self.set_text_color(90)
        left = self.footer_text
        if left:
            self.cell(0, 5, left, align="L")
            self.set_x(self.l_margin)
        self.cell(0, 5, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="R")
        self.set_text_color(0)


class Notice:
    """Minimal A4 document builder for notices, results and filing documents.

    Calls append blocks top to bottom; page breaks are automatic. Text is wrapped
    with `wrap_text` so Chinese breaks between characters and punctuation stays put.
    """

    def __init__(self, title: str = "", *, footer: str = "", font_size: float = 10.5) -> None:
        pdf = _NoticePDF(unit="mm", format="A4")
        pdf.footer_text = footer
        new_pdf(pdf)
        pdf.set_margins(18, 16, 18)
        pdf.set_auto_page_break(True, margin=18)
        if title:
            pdf.set_title(title)
        pdf.set_creator("residents_vote")
        pdf.add_page()
        self.pdf = pdf
        self.font_size = font_size

    # -- helpers
    def _width(self) -> float:
        return self.pdf.w - self.pdf.l_margin - self.pdf.r_margin

    def _lines(self, text: str, width: float) -> list[str]:
        return wrap_text(text, self.pdf.get_string_width, width)

    def _line_h(self, size: float) -> float:
        return size * 0.3528 * 1.55

    # -- blocks
    def heading(self, text: str, *, level: int = 1) -> Notice:
        """Centered bold title (level 1) or left-aligned section heading (level 2+)."""
        size = {1: 17.0, 2: 13.0}.get(level, 11.5)
        pdf = self.pdf
        pdf.set_font(FAMILY, "B", size)
        align = "C" if level == 1 else "L"
        if level > 1:
            pdf.ln(1.5)
        for line in self._lines(text, self._width()):
            pdf.cell(0, self._line_h(size), line, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2 if level == 1 else 1)
        pdf.set_font(FAMILY, "", self.font_size)
        return self

    def paragraph(
        self, text: str, *, bold: bool = False, size: float | None = None, indent: bool = False
    ) -> Notice:
        """Wrapped paragraph; indent=True adds the customary two-character first-line indent."""
        size = size or self.font_size
        pdf = self.pdf
        pdf.set_font(FAMILY, "B" if bold else "", size)
        if indent:
            text = "\u3000\u3000" + text
        for line in self._lines(text, self._width()):
            pdf.cell(0, self._line_h(size), line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)
        pdf.set_font(FAMILY, "", self.font_size)
        return self

    def kv(self, key: str, value: str, *, key_width: float = 32) -> Notice:
        """A "key：value" line; the value wraps under itself, not under the key."""
        pdf = self.pdf
        lh = self._line_h(self.font_size)
        lines = self._lines(value, self._width() - key_width)
        if pdf.will_page_break(lh * min(len(lines), 2)):
            pdf.add_page()
        pdf.set_font(FAMILY, "B", self.font_size)
        pdf.cell(key_width, lh, key + "：")
        pdf.set_font(FAMILY, "", self.font_size)
        for i, line in enumerate(lines):
            if i:
                pdf.set_x(pdf.l_margin + key_width)
            pdf.cell(0, lh, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return self

    def spacer(self, mm: float = 4) -> Notice:
        self.pdf.ln(mm)
        return self

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[object]],
        col_widths: Sequence[float] | None = None,
        *,
        align: Sequence[str] | None = None,
        size: float | None = None,
    ) -> Notice:
        """Bordered table; the header row repeats on every page the table spans.

        col_widths are relative (like fpdf2's table): (1, 3, 1) = 20 %, 60 %, 20 %.
        align is one of "L", "C", "R" per column (default: left).
        """
        pdf = self.pdf
        size = size or self.font_size - 1
        pdf.set_font(FAMILY, "", size)
        heading = FontFace(emphasis="BOLD", fill_color=(228, 228, 228))
        with pdf.table(
            col_widths=tuple(col_widths) if col_widths else None,
            width=self._width(),
            headings_style=heading,
            line_height=size * 0.3528 * 1.4,
            text_align=tuple(align) if align else "LEFT",
            wrapmode=WrapMode.CHAR,
            padding=(1.2, 1.5),
            repeat_headings=1,
            cell_fill_mode=TableCellFillMode.NONE,
        ) as tbl:
            head = tbl.row()
            for h in headers:
                head.cell(str(h))
            for values in rows:
                row = tbl.row()
                for v in values:
                    row.cell("" if v is None else str(v))
        pdf.ln(3)
        pdf.set_font(FAMILY, "", self.font_size)
        return self

    def qr(self, data: str, caption: str = "", *, size: float = 40) -> Notice:
        """A centered vector QR code with an optional caption below it."""
        pdf = self.pdf
        lh = self._line_h(9)
        if pdf.will_page_break(size + (lh * 2 if caption else 0)):
            pdf.add_page()
        x = (pdf.w - size) / 2
        draw_qr(pdf, data, x, pdf.get_y(), size)
        pdf.set_y(pdf.get_y() + size)
        if caption:
            pdf.set_font(FAMILY, "", 9)
            for line in self._lines(caption, self._width()):
                pdf.cell(0, lh, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FAMILY, "", self.font_size)
        pdf.ln(2)
        return self

    def output(self) -> bytes:
        """The finished PDF (call once: fpdf2 closes the fonts when writing)."""
        _skip_bbox_recalc(self.pdf)
        return bytes(self.pdf.output())


# --------------------------------------------------------------------------- ballots


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


PT = 25.4 / 72  # one point in mm
PAGE_W, PAGE_H = 210.0, 297.0
K = 72 / 25.4  # mm -> pt
QR_MASK = 4  # fixed QR mask for ballots (see qr_runs)
QR_SYMBOL_MM = 42.0  # dark symbol width, quiet zone excluded


def _f(v: float) -> str:
    return f"{v:.2f}"


class _Face:
    """A font as used by the raw writer: resource name, widths and cached glyph codes.

    Glyph codes come from the document's subset map, so every character must be
    picked before the fonts are written out. `freeze()` drops the font object (which
    makes the face cheap to pickle to a worker) and from then on only characters seen
    before are accepted.
    """

    def __init__(self, pdf: FPDF, key: str) -> None:
        font = pdf.fonts[key]
        self.font: object | None = font
        self.name = f"/F{font.i}"
        self.core = getattr(font, "type", "") == "core"
        self._hex: dict[str, str] = {}
        self._w: dict[str, float] = {}

    def learn(self, text: str) -> None:
        """Pick glyphs and look up widths for the characters of text."""
        font = self.font
        assert font is not None, "face is frozen"
        for ch in text:
            if ch in self._w:
                continue
            if self.core:
                self._w[ch] = float(font.cw.get(ch, 600))  # type: ignore[attr-defined]
                self._hex[ch] = ch if ord(ch) < 256 else "?"
            else:
                self._w[ch] = float(font.cw[ord(ch)])  # type: ignore[attr-defined]
                gid = font.subset.pick(ord(ch))  # type: ignore[attr-defined]
                self._hex[ch] = "" if gid is None else f"{gid:04X}"

    def freeze(self) -> None:
        self.font = None

    def width(self, text: str, size: float) -> float:
        """Width in mm at size pt."""
        w = self._w
        try:
            total = sum(w[ch] for ch in text)
        except KeyError:
            self.learn(text)
            total = sum(w[ch] for ch in text)
        return total * size / 1000 * PT

    def encode(self, text: str) -> str:
        """PDF string operand: hex glyph codes of the document's subset (or latin-1)."""
        h = self._hex
        try:
            codes = [h[ch] for ch in text]
        except KeyError:
            self.learn(text)
            codes = [h[ch] for ch in text]
        if self.core:
            raw = "".join(codes)
            return "(" + raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"
        return "<" + "".join(codes) + ">"


class _Ops:
    """Collects PDF content-stream operators, taking mm coordinates from the top-left."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(self, face: _Face, size: float, x: float, y: float, s: str, gray: float = 0) -> None:
        """Text with its baseline at y."""
        if not s:
            return
        color = f"{gray:.2f} g " if gray else ""
        self.parts.append(
            f"BT {color}{face.name} {size:.2f} Tf {_f(x * K)} {_f((PAGE_H - y) * K)} Td "
            f"{face.encode(s)} Tj ET{' 0 g' if gray else ''}\n"
        )

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: float | None = None,
        stroke: float | None = 0.6,
        gray: float = 0,
    ) -> None:
        """Rectangle; fill is a gray level (0..1), stroke a line width in pt."""
        op = f"{_f(x * K)} {_f((PAGE_H - y - h) * K)} {_f(w * K)} {_f(h * K)} re"
        if fill is not None and stroke is not None:
            self.parts.append(f"q {fill:.2f} g {gray:.2f} G {stroke:.2f} w {op} B Q\n")
        elif fill is not None:
            self.parts.append(f"q {fill:.2f} g {op} f Q\n")
        else:
            self.parts.append(f"q {gray:.2f} G {stroke or 0.6:.2f} w {op} S Q\n")

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        width: float = 0.5,
        gray: float = 0,
        dash: str = "",
    ) -> None:
        d = f"[{dash}] 0 d " if dash else ""
        self.parts.append(
            f"q {gray:.2f} G {width:.2f} w {d}{_f(x1 * K)} {_f((PAGE_H - y1) * K)} m "
            f"{_f(x2 * K)} {_f((PAGE_H - y2) * K)} l S Q\n"
        )

    def getvalue(self) -> str:
        return "".join(self.parts)


@dataclass
class _Slot:
    """Where one per-page string goes: single line, shrunk (then cut) to fit its width."""

    face: _Face
    size: float
    x: float
    y: float  # baseline
    w: float
    align: str = "L"
    min_scale: float = 0.7

    def ops(self, text: str) -> str:
        if not text:
            return ""
        face, size = self.face, self.size
        w = face.width(text, size)
        if w > self.w:
            size = max(size * self.w / w, self.size * self.min_scale)
            w = face.width(text, size)
            while w > self.w and len(text) > 1:
                text = text[:-2] + "…"
                w = face.width(text, size)
        x = self.x
        if self.align == "R":
            x += self.w - w
        elif self.align == "C":
            x += (self.w - w) / 2
        return (
            f"BT {face.name} {size:.2f} Tf {_f(x * K)} {_f((PAGE_H - self.y) * K)} Td "
            f"{face.encode(text)} Tj ET\n"
        )


@dataclass
class _UrlSlot:
    """The printed link under the QR code, broken into lines at any character."""

    face: _Face
    size: float
    x: float
    y: float  # first baseline
    w: float
    line_h: float
    max_lines: int

    def ops(self, url: str) -> str:
        size = self.size
        # shrink when the url would need more lines than reserved
        while size > self.size * 0.6:
            per_line = max(1, int(self.w / self.face.width("M", size)))
            if math.ceil(len(url) / per_line) <= self.max_lines:
                break
            size -= 0.25
        per_line = max(1, int(self.w / self.face.width("M", size)))  # Courier: fixed pitch
        out = []
        for i in range(0, min(len(url), per_line * self.max_lines), per_line):
            part = url[i : i + per_line]
            x = self.x + (self.w - self.face.width(part, size)) / 2
            y = self.y + (i // per_line) * self.line_h
            out.append(
                f"BT {self.face.name} {size:.2f} Tf {_f(x * K)} {_f((PAGE_H - y) * K)} Td "
                f"{self.face.encode(part)} Tj ET\n"
            )
        return "".join(out)


class _BallotLayout:
    """One ballot design: static operators plus the slots each page fills in.

    Built once per `render_ballots` call. If the common text (long title, several long
    questions) does not fit one page, the whole layout is rebuilt at a smaller scale.
    """

    MARGIN = 13.0
    BOTTOM = 8.0
    STUB_H = 27.0

    def __init__(self, pdf: FPDF, common: BallotCommon, *, has_share: bool, qr_modules: int):
        self.reg = _Face(pdf, FAMILY)
        self.bold = _Face(pdf, FAMILY + "B")
        self.mono = _Face(pdf, "courier")
        self.common = common
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

    # ------------------------------------------------------------------ build
    def _wrap(self, face: _Face, size: float, text: str, width: float) -> list[str]:
        return wrap_text(text, lambda s: face.width(s, size), width)

    def _build(self, s: float, extra: float = 0.0) -> bool:
        """Lay the page out at text scale s; False when it overflows the page.

        extra is added to the height of every question row.
        """
        c = self.common
        reg, bold, mono = self.reg, self.bold, self.mono
        ops = _Ops()
        slots: dict[str, _Slot] = {}
        x0 = self.MARGIN
        x1 = PAGE_W - self.MARGIN
        cw = x1 - x0
        stub_top = PAGE_H - self.BOTTOM - self.STUB_H
        cut_y = stub_top - 3.5
        limit = cut_y - 3.0
        geo = GeometryRecorder(PAGE_W, PAGE_H, cut_y)
        ops.parts.append(geo.marks_ops(K))

        def lh(size: float, factor: float = 1.45) -> float:
            return size * PT * factor

        # ---- header: community (left), serial (right), big title, proposal title
        y = 13.0
        head = _Slot(reg, 9, x0, y, x1 - 62 - x0 - 4).ops(c.community)
        ops.parts.append(f"0.35 g\n{head}0 g\n")
        label = "编号："
        lw = reg.width(label, 9.5)
        ops.text(reg, 9.5, x1 - 62, y, label, gray=0.25)
        slots["serial"] = _Slot(bold, 12, x1 - 62 + lw, y + 0.2, 62 - lw, min_scale=0.45)
        y += 11.0
        t = "表决票"
        ops.text(bold, 24, (PAGE_W - bold.width(t, 24)) / 2, y, t)
        y += 2.5
        g = (1 + s) / 2  # everything but the questions shrinks half as fast
        tsize = 13.5 * g
        for line in self._wrap(bold, tsize, c.title, cw - 10):
            y += lh(tsize, 1.4)
            ops.text(bold, tsize, (PAGE_W - bold.width(line, tsize)) / 2, y, line)
        sub = f"表决事项：{c.stage}"
        y += lh(9.5, 1.6)
        ops.text(reg, 9.5, (PAGE_W - reg.width(sub, 9.5)) / 2, y, sub, gray=0.25)
        y += 4.0

        # ---- info table (left) + QR (right)
        qr_col = self.qr_size + 2
        left_w = cw - qr_col - 3
        info_top = y
        rh = 8.6 * (0.85 + 0.15 * s)
        fs = 10.5 * (0.9 + 0.1 * s)  # value size
        ls = 9.5 * (0.9 + 0.1 * s)  # label size
        label_w = 22.0

        def cell_label(x: float, yy: float, w: float, h: float, text: str) -> None:
            ops.rect(x, yy, w, h, fill=0.92, stroke=None)
            ops.text(
                reg,
                ls,
                x + (w - reg.width(text, ls)) / 2,
                yy + h / 2 + ls * PT * 0.36,
                text,
                gray=0.15,
            )

        def base(yy: float, h: float, size: float) -> float:
            return yy + h / 2 + size * PT * 0.36

        rows: list[list[tuple[str, float, str | None]]] = [
            [("小区名称", label_w, None), ("", left_w - label_w, "@community")],
            [
                ("楼栋", label_w, None),
                ("", 20, "building"),
                ("单元", 16, None),
                ("", 20, "unit"),
                ("房号", 16, None),
                ("", left_w - label_w - 72, "room"),
            ],
            [
                ("户号", label_w, None),
                ("", 34, "household"),
                ("专有面积", 22, None),
                ("", left_w - label_w - 56, "area"),
            ],
            [("业主姓名", label_w, None), ("", left_w - label_w, "owner_name")],
        ]
        if self.has_share:
            rows.append([("费用分摊", label_w, None), ("", left_w - label_w, "share")])
        rows.append([("投票时间", label_w, None), ("", left_w - label_w, "@window")])
        yy = info_top
        for row in rows:
            x = x0
            for text, w, key in row:
                if key is None:
                    cell_label(x, yy, w, rh, text)
                elif key == "@community":
                    ops.parts.append(
                        _Slot(bold, fs, x + 2, base(yy, rh, fs), w - 4).ops(c.community)
                    )
                elif key == "@window":
                    ops.text(
                        reg, fs * 0.95, x + 2, base(yy, rh, fs * 0.95), f"{c.opens} 至 {c.deadline}"
                    )
                else:
                    slots[key] = _Slot(bold, fs, x + 2, base(yy, rh, fs), w - 4)
                x += w
            yy += rh
        # decision rule row: may wrap
        rsize = 9.0 * g
        rule_lines = self._wrap(reg, rsize, c.rule, left_w - label_w - 4)
        rule_h = max(rh, len(rule_lines) * lh(rsize, 1.4) + 3)
        cell_label(x0, yy, label_w, rule_h, "表决规则")
        ry = yy + (rule_h - len(rule_lines) * lh(rsize, 1.4)) / 2
        for line in rule_lines:
            ry += lh(rsize, 1.4)
            ops.text(reg, rsize, x0 + label_w + 2, ry - rsize * PT * 0.45, line)
        yy += rule_h
        # grid lines of the info table
        ops.rect(x0, info_top, left_w, yy - info_top, stroke=0.7, gray=0.3)
        gy = info_top
        for row in rows:
            gy += rh
            ops.line(x0, gy, x0 + left_w, gy, width=0.4, gray=0.55)
            x = x0
            for _text, w, _key in row[:-1]:
                x += w
                ops.line(x, gy - rh, x, gy, width=0.4, gray=0.55)
        ops.line(x0 + label_w, gy, x0 + label_w, yy, width=0.4, gray=0.55)
        info_bottom = yy

        # QR column
        qx = x1 - self.qr_size
        qy = info_top - 1.5
        self.qr_xy = (qx, qy)
        geo.qr(qx, qy, self.qr_size, self.qr_modules)
        cap = "手机扫码 · 在线投票"
        cy = qy + self.qr_size + 0.5
        ops.text(bold, 10.5, qx + (self.qr_size - bold.width(cap, 10.5)) / 2, cy, cap)
        hint = "无法扫码时，请在浏览器输入（区分大小写）："
        cy += 4.2
        hs = 7.2
        while reg.width(hint, hs) > qr_col and hs > 5.5:
            hs -= 0.2
        ops.text(reg, hs, x1 - qr_col + (qr_col - reg.width(hint, hs)) / 2, cy, hint, gray=0.3)
        self.url_slot = _UrlSlot(mono, 8.0, x1 - qr_col, cy + 3.6, qr_col, 3.3, 3)
        qr_bottom = cy + 3.6 + 2 * 3.3 + 1.5
        y = max(info_bottom, qr_bottom) + 4.5

        # ---- questions
        instr = "请对每一表决事项在“同意”“反对”“弃权”中选择一项，在对应方框内打“✓”。"
        isz = 10.0 * (0.9 + 0.1 * s)
        ops.text(bold, isz, x0, y, instr)
        y += 2.5
        opt_w = 19.0
        num_w = 10.0
        q_w = cw - num_w - 3 * opt_w
        head_h = 7.5
        ops.rect(x0, y, cw, head_h, fill=0.88, stroke=None)
        hs = 10.0
        for text, xx, w in (
            ("序号", x0, num_w),
            ("表决事项", x0 + num_w, q_w),
            ("同意", x0 + num_w + q_w, opt_w),
            ("反对", x0 + num_w + q_w + opt_w, opt_w),
            ("弃权", x0 + num_w + q_w + 2 * opt_w, opt_w),
        ):
            ops.text(bold, hs, xx + (w - bold.width(text, hs)) / 2, base(y, head_h, hs), text)
        table_top = y
        y += head_h
        qsize = 10.5 * s
        qlh = lh(qsize, 1.45)
        row_tops = [y]
        box = 9.0 if s >= 0.9 else 8.0 if s >= 0.75 else 7.0 if s >= 0.65 else 6.0
        row_min = box + (5.0 if s >= 0.85 else 2.5)
        for i, q in enumerate(c.questions, start=1):
            lines = self._wrap(reg, qsize, q, q_w - 5)
            row_h = max(row_min, len(lines) * qlh + 3.5) + extra
            geo.row(i, x0, y, cw, row_h)
            ty = y + (row_h - len(lines) * qlh) / 2
            for line in lines:
                ty += qlh
                ops.text(reg, qsize, x0 + num_w + 2.5, ty - qsize * PT * 0.42, line)
            num = str(i)
            ops.text(bold, 11, x0 + (num_w - bold.width(num, 11)) / 2, base(y, row_h, 11), num)
            for j in range(3):
                bx = x0 + num_w + q_w + j * opt_w + (opt_w - box) / 2
                ops.rect(bx, y + (row_h - box) / 2, box, box, stroke=1.1)
                geo.box(i, j, bx, y + (row_h - box) / 2, box, 1.1 * PT)
            y += row_h
            row_tops.append(y)
        ops.rect(x0, table_top, cw, y - table_top, stroke=0.8, gray=0.2)
        for ry in row_tops[:-1]:
            ops.line(x0, ry, x1, ry, width=0.5, gray=0.4)
        for xx in (
            x0 + num_w,
            x0 + num_w + q_w,
            x0 + num_w + q_w + opt_w,
            x0 + num_w + q_w + 2 * opt_w,
        ):
            ops.line(xx, table_top, xx, y, width=0.5, gray=0.4)
        y += 3.0

        # ---- validity rules
        rs = 8.3 * (0.85 + 0.15 * s)
        rules = [
            "每一事项只能选择一项。某项未作任何选择的，该项按“弃权”计；某项选择两项及以上的，"
            "该项表决无效。",
            "本票须由业主本人签名；委托他人投票的，由代理人签名并附书面授权委托书。"
            "未签名的表决票为无效票。",
            "每户限投一票，网上投票与纸质表决票合并统计；本户已在网上确认投票的，纸质票不再受理。"
            "投票一经确认不可更改。",
            "表决票遗失的，可向组织单位申请补发，原表决票及其二维码同时作废。",
        ]
        head = "填票说明："
        ops.text(bold, rs, x0, y + lh(rs, 1.0), head)
        indent = bold.width(head, rs)
        for i, text in enumerate(rules, start=1):
            mark = f"{i}. "
            mw = reg.width("0. ", rs)
            lines = self._wrap(reg, rs, text, cw - indent - mw)
            for j, line in enumerate(lines):
                y += lh(rs, 1.45)
                if j == 0:
                    ops.text(reg, rs, x0 + indent, y, mark, gray=0.15)
                ops.text(reg, rs, x0 + indent + mw, y, line, gray=0.15)
        y += 3.5

        # ---- signature and proxy
        ss = 10.0 * (0.9 + 0.1 * s)
        sign_top = y
        line_gap = 10.5 * (0.85 + 0.15 * s)

        def fill_line(x: float, yy: float, label: str, w: float, size: float = ss) -> float:
            ops.text(bold if label.startswith("业主") else reg, size, x, yy, label)
            lx = x + reg.width(label, size) + 1
            ops.line(lx, yy + 1.0, lx + w, yy + 1.0, width=0.5)
            return lx + w + 4

        y += line_gap - 2
        xx = fill_line(x0 + 3, y, "业主签名：", 48)
        geo.signature(xx - 4 - 48, xx - 4, sign_top, y + 1.0)
        xx = fill_line(xx, y, "联系电话：", 36)
        ops.text(reg, ss, xx, y, "日期：")
        dx = xx + reg.width("日期：", ss) + 1
        unit_w = reg.width("年", ss)
        seg = (x1 - 3 - dx - 3 * (unit_w + 1)) / 4  # year twice as long as month / day
        for label, w in (("年", 2 * seg), ("月", seg), ("日", seg)):
            ops.line(dx, y + 1.0, dx + w, y + 1.0, width=0.5)
            ops.text(reg, ss, dx + w + 0.5, y, label)
            dx += w + unit_w + 1
        y += 4.2
        ops.line(x0, y, x1, y, width=0.4, gray=0.55, dash="1.5 1.5")
        y += lh(ss * 0.9, 1.6)
        ops.text(bold, ss * 0.9, x0 + 3, y, "委托代理投票（业主本人投票的无需填写）")
        note = "代理人须附业主签名的书面授权委托书，与本票一并交回。"
        ops.text(reg, ss * 0.85, x1 - 3 - reg.width(note, ss * 0.85), y, note, gray=0.25)
        y += line_gap - 1
        xx = fill_line(x0 + 3, y, "代理人姓名：", 30)
        xx = fill_line(xx, y, "代理人签名：", 38)
        geo.proxy_signature(xx - 4 - 38, xx - 4, y - (line_gap - 1) + 1.2, y + 1.0)
        fill_line(xx, y, "代理人电话：", x1 - 3 - xx - reg.width("代理人电话：", ss) - 1)
        y += 3.5
        ops.rect(x0, sign_top, cw, y - sign_top, stroke=0.8, gray=0.2)
        y += 2.0

        # ---- hand in
        hs2 = 9.5 * (0.9 + 0.1 * s)
        hand = f"交票：请于 {c.deadline} 前将本票交至{c.hand_in}"
        for line in self._wrap(bold, hs2, hand, cw):
            y += lh(hs2, 1.5)
            ops.text(bold, hs2, x0, y, line)
        org = f"组织单位：{c.organiser}　　联系方式：{c.contact}"
        for line in self._wrap(reg, hs2 * 0.95, org, cw):
            y += lh(hs2, 1.45)
            ops.text(reg, hs2 * 0.95, x0, y, line, gray=0.2)
        self._spare = limit - y
        if y > limit:
            return False

        # ---- cut line and stub (anchored to the bottom of the page)
        ops.line(4, cut_y, PAGE_W - 4, cut_y, width=0.6, gray=0.35, dash="3 2")
        cut = "沿此虚线剪下，下联（回执）由业主留存"
        cs = 7.5
        cxl = (PAGE_W - reg.width(cut, cs)) / 2
        ops.rect(cxl - 2, cut_y - 2, reg.width(cut, cs) + 4, 4, fill=1, stroke=None)
        ops.text(reg, cs, cxl, cut_y + cs * PT * 0.36, cut, gray=0.35)
        ops.rect(8, cut_y - 2.5, 5, 5, fill=1, stroke=None)
        ops.text(reg, 11, 8, cut_y + 11 * PT * 0.36, "✂", gray=0.35)
        sy = stub_top + 4.5
        ops.text(bold, 11, x0, sy, "表决票回执（由业主留存）")
        sy += 6.5
        lw = reg.width("编号：", 9.5)
        ops.text(reg, 9.5, x0, sy, "编号：")
        slots["stub_serial"] = _Slot(bold, 10, x0 + lw, sy, 60 - lw - 2, min_scale=0.55)
        ops.text(reg, 9.5, x0 + 60, sy, "户号：")
        slots["stub_household"] = _Slot(bold, 10, x0 + 60 + lw, sy, 40 - lw)
        sy += 5.2
        stub_w = 100.0
        ops.parts.append(_Slot(reg, 8.5, x0, sy, stub_w).ops(f"{c.community} · {c.title}"))
        sy += 4.6
        keep = "交票时请收票人填写右栏。请保管好回执，公示期内可凭回执码查询本户表决记录。"
        ops.text(reg, 7.5, x0, sy, keep, gray=0.3)
        bx = x0 + stub_w + 8 + 25
        bw = x1 - bx
        bt = stub_top + 1.0
        bh = self.STUB_H - 3
        ops.rect(bx, bt, bw, bh, stroke=0.8, gray=0.2)
        ops.rect(bx, bt, bw, 5.5, fill=0.9, stroke=None)
        ops.text(reg, 8.5, bx + 2, bt + 4, "收票登记（工作人员填写）")
        ry = bt + 11.5
        for label in ("收票人：", "收票日期：", "回执码："):
            ops.text(reg, 8.5, bx + 2.5, ry, label)
            lx = bx + 2.5 + reg.width("收票日期：", 8.5) + 1
            ops.line(lx, ry + 0.8, bx + bw - 3, ry + 0.8, width=0.4)
            ry += 5.5
        self.static = ops.getvalue()
        self.geometry = geo.result()
        self.slots = slots
        return True

    # ------------------------------------------------------------------ per page
    def fields(self, p: BallotPage) -> list[tuple[_Slot, str]]:
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

    def learn(self, pages: Sequence[BallotPage]) -> None:
        """Register every character the pages will print, then freeze the faces."""
        chars: dict[int, set[str]] = {}
        faces: dict[int, _Face] = {}
        for p in pages:
            for slot, text in self.fields(p):
                chars.setdefault(id(slot.face), set()).update(text)
                faces[id(slot.face)] = slot.face
            chars.setdefault(id(self.mono), set()).update(p.url)
        faces[id(self.mono)] = self.mono
        for key, face in faces.items():
            face.learn("".join(sorted(chars.get(key, ()))) + "…M")
        for face in (self.reg, self.bold, self.mono):
            face.freeze()

    def page_ops(self, p: BallotPage) -> str:
        """Operators for one household's own content: its strings and its QR code."""
        qx, qy = self.qr_xy
        qr = qr_runs(p.url, mask=QR_MASK)
        parts = [slot.ops(text) for slot, text in self.fields(p)]
        parts.append(self.url_slot.ops(p.url))
        parts.append(_qr_ops(qr, qx, qy, self.qr_size, K, PAGE_H))
        return "".join(parts)


TEMPLATE = "/Tpl"  # name of the Form XObject that holds the static part of a ballot


def _page_streams(layout: _BallotLayout, pages: Sequence[BallotPage]) -> list[bytes]:
    """Compressed content streams for these pages (runs in the worker processes)."""
    head = f"q {TEMPLATE} Do Q\n"
    return [zlib.compress((head + layout.page_ops(p)).encode("latin-1")) for p in pages]


_OBJ_REF = r"(\d+) 0 R"


class _Carrier:
    """An fpdf2 output parsed just enough to reuse its font objects.

    fpdf2 writes a classic xref table and uncompressed object dictionaries, so the
    objects can be located by offset and copied verbatim.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        xref_at = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))  # type: ignore[union-attr]
        m = re.compile(rb"xref\s+0 (\d+)\s+").match(data, xref_at)
        if m is None:
            raise RuntimeError("unexpected fpdf2 output: no classic xref table")
        count = int(m.group(1))
        table = data[m.end() : m.end() + 20 * count]
        self.offsets = {i: int(table[20 * i : 20 * i + 10]) for i in range(1, count)}
        self.xref_at = xref_at
        trailer = data[m.end() + 20 * count :]
        self.trailer = trailer
        self.root = self._ref(trailer, b"Root")
        self.info = self._ref(trailer, b"Info")
        idm = re.search(rb"/ID\s*(\[[^\]]*\])", trailer)
        self.id = idm.group(1) if idm else b""
        self.pages = self._ref(self.body(self.root), b"Pages")
        kids = re.search(rb"/Kids\s*\[\s*(\d+) 0 R", self.body(self.pages))
        assert kids is not None
        self.page = int(kids.group(1))
        page = self.body(self.page)
        self.contents = self._ref(page, b"Contents")
        self.resources = self._ref(page, b"Resources")

    @staticmethod
    def _ref(text: bytes, key: bytes) -> int:
        m = re.search(rb"/" + key + rb"\s+(\d+) 0 R", text)
        if m is None:
            raise RuntimeError(f"unexpected fpdf2 output: no /{key.decode()} reference")
        return int(m.group(1))

    def span(self, num: int) -> bytes:
        """The bytes of object num, from "num 0 obj" up to the next object."""
        start = self.offsets[num]
        ends = [o for o in self.offsets.values() if o > start]
        return self.data[start : min(ends) if ends else self.xref_at]

    def body(self, num: int) -> bytes:
        """The dictionary of object num (between "obj" and "endobj"/"stream")."""
        text = self.span(num)
        text = text[text.index(b"obj") + 3 :]
        for end in (b"stream", b"endobj"):
            if end in text:
                text = text[: text.index(end)]
        return text.strip()


def _assemble(
    carrier: _Carrier, template: bytes, streams: Sequence[bytes], media_box: str
) -> bytes:
    """Write the ballot PDF: the carrier's fonts and info, one template, many pages.

    The carrier's catalog, page tree, page, page content and resources objects are
    replaced (same numbers, so no gaps or orphans); everything else is copied as is.
    """
    replaced = {carrier.root, carrier.pages, carrier.page, carrier.contents, carrier.resources}
    size = max(carrier.offsets) + 1
    nums = iter(sorted(replaced - {carrier.root, carrier.pages, carrier.resources}))
    tpl_num = next(nums)
    first_page = next(nums)
    page_nums = [first_page] + list(range(size, size + len(streams) - 1))
    content_nums = list(range(size + len(streams) - 1, size + 2 * len(streams) - 1))
    total = size + 2 * len(streams) - 1

    out = io.BytesIO()
    header_end = min(carrier.offsets.values())
    out.write(carrier.data[:header_end])
    offsets: dict[int, int] = {}
    for num in sorted(carrier.offsets, key=carrier.offsets.__getitem__):
        if num not in replaced:
            offsets[num] = out.tell()
            out.write(carrier.span(num))

    def obj(num: int, body: bytes, stream: bytes | None = None) -> None:
        offsets[num] = out.tell()
        out.write(b"%d 0 obj\n" % num)
        out.write(body)
        if stream is not None:
            out.write(b"\nstream\n")
            out.write(stream)
            out.write(b"\nendstream")
        out.write(b"\nendobj\n")

    fonts_res = carrier.body(carrier.resources)  # << /Font <<...>> /ProcSet [...] >>
    assert fonts_res.startswith(b"<<") and fonts_res.endswith(b">>")
    page_res = fonts_res[:-2] + b"/XObject <<%s %d 0 R>>\n>>" % (TEMPLATE.encode(), tpl_num)
    obj(carrier.resources, page_res)
    obj(
        tpl_num,
        b"<<\n/Type /XObject\n/Subtype /Form\n/BBox %s\n/Resources %s\n/Filter /FlateDecode"
        b"\n/Length %d\n>>" % (media_box.encode(), fonts_res, len(template)),
        template,
    )
    kids = b" ".join(b"%d 0 R" % n for n in page_nums)
    obj(
        carrier.pages,
        b"<<\n/Type /Pages\n/Count %d\n/MediaBox %s\n/Kids [%s]\n>>"
        % (len(streams), media_box.encode(), kids),
    )
    obj(
        carrier.root,
        b"<<\n/Type /Catalog\n/Pages %d 0 R\n/PageLayout /OneColumn\n>>" % carrier.pages,
    )
    res_ref = b"%d 0 R" % carrier.resources
    for pnum, cnum, data in zip(page_nums, content_nums, streams, strict=True):
        obj(
            pnum,
            b"<</Type /Page /Parent %d 0 R /Resources %s /Contents %d 0 R>>"
            % (carrier.pages, res_ref, cnum),
        )
        obj(cnum, b"<</Filter /FlateDecode /Length %d>>" % len(data), data)

    xref_at = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % total)
    out.write(b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, total)))
    info = b"/Info %d 0 R\n" % carrier.info
    ident = b"/ID %s\n" % carrier.id if carrier.id else b""
    out.write(
        b"trailer\n<<\n/Size %d\n/Root %d 0 R\n%s%s>>\nstartxref\n%d\n%%%%EOF\n"
        % (total, carrier.root, info, ident, xref_at)
    )
    return out.getvalue()


def _ballot_setup(common: BallotCommon, pages: Sequence[BallotPage]) -> tuple[FPDF, _BallotLayout]:
    """A fresh FPDF (fonts loaded) and the frozen layout for these ballots."""
    pdf = new_pdf()
    pdf.set_font("courier", "", 8)  # registers the core font used for printed links
    pdf.set_font(FAMILY, "", 10)
    pdf.set_auto_page_break(False)
    pdf.single_resources_object = True  # one /Resources object, reused by every page
    pdf.allow_images_transparency = False
    pdf.alias_nb_pages(None)  # type: ignore[arg-type]
    pdf.set_title(f"{common.title} 表决票")
    pdf.set_creator("residents_vote")
    shortest = min(pages, key=lambda p: len(p.url)).url
    layout = _BallotLayout(
        pdf,
        common,
        has_share=any(p.share for p in pages),
        qr_modules=qr_runs(shortest, mask=QR_MASK).modules,
    )
    layout.learn(pages)
    return pdf, layout


def _font_carrier(pdf: FPDF) -> _Carrier:
    """Let fpdf2 write the (subset) fonts into a one-page document we take apart."""
    _skip_bbox_recalc(pdf)
    pdf.add_page()
    return _Carrier(bytes(pdf.output()))


SMALL_JOB = 200  # below this many pages one process is faster than forking


def _cpus() -> int:
    """CPUs this process may run on (a container may allow fewer than the host has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def render_ballots(
    common: BallotCommon, pages: Sequence[BallotPage], *, workers: int | None = None
) -> bytes:
    """One A4 ballot page per household, as PDF bytes.

    The static part of the page is laid out once and stored once, as a Form XObject
    that every page draws; each page stream holds only that household's strings and
    QR code. workers=None uses every CPU for large jobs (>= 200 pages) and a single
    process for small ones; the worker pool is forked before the fonts are loaded so
    the workers stay small, and encodes QR codes and page streams while this process
    writes the font subsets.
    """
    pages = list(pages)
    if not pages:
        raise ValueError("render_ballots needs at least one page")
    if workers is None:
        workers = _cpus() if len(pages) >= SMALL_JOB else 1
    workers = max(1, min(workers, len(pages) // 50 or 1))
    if "fork" not in multiprocessing.get_all_start_methods():
        workers = 1
    if workers == 1:
        pdf, layout = _ballot_setup(common, pages)
        streams = _page_streams(layout, pages)
        template = zlib.compress(layout.static.encode("latin-1"))
        media_box = f"[0 0 {pdf.w_pt:.2f} {pdf.h_pt:.2f}]"
        return _assemble(_font_carrier(pdf), template, streams, media_box)

    step = math.ceil(len(pages) / workers)
    chunks = [pages[i : i + step] for i in range(0, len(pages), step)]
    with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
        pdf, layout = _ballot_setup(common, pages)
        pending = [pool.apply_async(_page_streams, (layout, chunk)) for chunk in chunks]
        template = zlib.compress(layout.static.encode("latin-1"))
        media_box = f"[0 0 {pdf.w_pt:.2f} {pdf.h_pt:.2f}]"
        carrier = _font_carrier(pdf)  # font subsetting overlaps with the workers
        streams = [s for job in pending for s in job.get()]
    return _assemble(carrier, template, streams, media_box)


def ballot_geometry(common: BallotCommon, pages: Sequence[BallotPage]) -> BallotGeometry:
    """Where `render_ballots(common, pages)` puts the corner marks, the QR code, every
    answer box and the signature lines (millimetres from the top-left corner)."""
    pages = list(pages)
    if not pages:
        raise ValueError("ballot_geometry needs at least one page")
    _pdf, layout = _ballot_setup(common, pages)
    return layout.geometry
