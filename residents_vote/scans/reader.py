"""Read one ballot page image: QR, registration, answer boxes and the owner's signature.

Steps (array operations only, OpenCV and NumPy):

1. QR code and registration (register.py): page millimetres -> image pixels.
2. The answer columns and the signature block are warped into the page's own frame
   at CANON_PX_PER_MM; uneven light is taken out by dividing by the paper's
   brightness (a max filter over ~15 mm on a 1 px/mm copy, which removes strokes,
   ticks and even filled boxes, then smoothed). Darkness d = 1 - pixel / paper: 0 on
   paper, ~1 on ink, lightly blurred (DARK_BLUR_PX) to take the grain out of photos.
3. Each table row is located again by matching the printed frames of its three boxes
   (a ring of their stroke, minus the paper just outside) within +-ROW_SEARCH_MM, so
   paper curl or lens distortion left by the homography does not move a box. A box
   whose frame then measures less than FRAME_MIN is not where the geometry says (a
   wrong registration, another layout): its question is `unclear`.
4. A box's `fill` is the mean darkness inside its frame (inset INSET_MM from the
   stroke's middle) minus the paper's own (mean darkness of the paper in a band around
   the box inside its table cell, ink left out). A question is decided with a margin:
   one box >= MARK_FILL and every other box <= EMPTY_FILL gives that answer; all boxes
   <= EMPTY_FILL is `blank`; two or more boxes >= MARK_FILL is `multiple`; anything
   else (a box between the two thresholds, a frame not found) is `unclear`. A mark
   crossed out and another box ticked is `multiple`: a person decides.
5. The owner's signature area (above the printed line after 业主签名：, that line
   located again and left out) is `signed` when at least SIGNED_INK of it is ink,
   not signed at most UNSIGNED_INK, and undecided (None, reason `unsigned`) between.
   A proxy's signature alone is reported (`proxy_signed`) but leaves the page
   `unsigned`: the proxy's written authorisation is for a person to check.

The thresholds are chosen from the measurements of bench/scan_accuracy.py (its
docstring has the figures): empty boxes measure at most ~0.005 in every condition,
the lightest deliberate mark (a thin light pencil tick) at least ~0.013; found frames
at least ~0.42; signatures at least ~0.035 ink, unsigned areas 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from ..pdf.geometry import ANSWERS, BallotGeometry, QuestionBoxes, Rect
from .register import QRCode, Registration, find_qr, register

CANON_PX_PER_MM = 8.0
ROW_SEARCH_MM = 1.6  # after a registration by the corner marks
ROW_SEARCH_QR_MM = 3.5  # after a registration by the QR code only
INSET_MM = 0.75  # inside a box, distance kept from the middle of its frame stroke
DARK_BLUR_PX = 1.2  # Gaussian sigma on the darkness image, canonical pixels
INK_D = 0.22  # darkness above the paper's that counts a pixel as ink

MARK_FILL = 0.011  # a box with at least this mean darkness holds a mark
EMPTY_FILL = 0.006  # a box with at most this holds none
FRAME_MIN = 0.3  # a printed frame darker than its surroundings by less: not there (ok: >= 0.42)
SIGNED_INK = 0.012  # share of ink pixels in the signature area
UNSIGNED_INK = 0.003

REASONS = ("qr-unreadable", "blank", "multiple", "unclear", "unsigned")


@dataclass(frozen=True)
class BoxMeasure:
    answer: str  # agree / oppose / abstain
    fill: float  # mean darkness inside the frame, paper subtracted
    ink: float  # share of pixels inside the frame darker than the paper by INK_D
    frame: float  # darkness of the printed frame against the paper just outside it


@dataclass(frozen=True)
class QuestionReading:
    number: int
    answer: str  # agree / oppose / abstain / blank / multiple / unclear
    margin: float  # distance of the nearest measure to the thresholds (fill units)
    boxes: tuple[BoxMeasure, ...]
    shift_mm: tuple[float, float]  # row correction found by matching the frames


@dataclass(frozen=True)
class PageReading:
    qr: str | None
    registration: str  # marks / marks+qr / qr / none
    answers: dict[int, str]
    questions: tuple[QuestionReading, ...]
    signed: bool | None
    signature_ink: float | None
    proxy_signed: bool | None
    reasons: tuple[str, ...]  # image-side review reasons, in REASONS order
    crops: dict[str, bytes] = field(default_factory=dict, repr=False)  # "q2", "signature"

    @property
    def certain(self) -> bool:
        return not self.reasons


# --------------------------------------------------------------------------- canonical frame


@dataclass(frozen=True)
class _Canon:
    """The warped region: x0, y0 in page mm of its top-left pixel, P px per mm."""

    x0: float
    y0: float
    image: np.ndarray  # uint8
    dark: np.ndarray  # float32 darkness

    def px(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        return (x_mm - self.x0) * CANON_PX_PER_MM, (y_mm - self.y0) * CANON_PX_PER_MM

    def region(self, r: Rect, dx: float = 0.0, dy: float = 0.0) -> tuple[slice, slice]:
        a, b = self.px(r.x + dx, r.y + dy)
        c, d = self.px(r.x1 + dx, r.y1 + dy)
        h, w = self.dark.shape
        ys = slice(max(int(round(b)), 0), min(int(round(d)), h))
        xs = slice(max(int(round(a)), 0), min(int(round(c)), w))
        return ys, xs


def _answers_roi(geometry: BallotGeometry, search: float) -> Rect:
    """The answer columns of the whole table, with room for the row search."""
    qs = geometry.questions
    x0 = qs[0].agree.x - 6.0 - search
    x1 = max(q.abstain.x1 for q in qs) + 6.0 + search
    y0 = qs[0].row.y - 4.0 - search
    y1 = qs[-1].row.y1 + 4.0 + search
    return Rect(x0, y0, x1 - x0, y1 - y0)


def _signature_roi(geometry: BallotGeometry) -> Rect:
    sig, proxy = geometry.signature, geometry.proxy_signature
    x0 = min(sig.x, proxy.x) - 4.0
    x1 = max(sig.x1, proxy.x1) + 4.0
    y0 = min(sig.y, proxy.y) - 4.0
    y1 = max(geometry.signature_line.y, proxy.y1) + 4.0
    return Rect(x0, y0, x1 - x0, y1 - y0)


def _warp(gray: np.ndarray, reg: Registration, roi: Rect) -> _Canon:
    p = CANON_PX_PER_MM
    w, h = int(round(roi.w * p)), int(round(roi.h * p))
    to_mm = np.array([[1 / p, 0, roi.x], [0, 1 / p, roi.y], [0, 0, 1]], dtype=np.float64)
    m = reg.homography @ to_mm
    canon = cv2.warpPerspective(
        gray,
        m,
        (w, h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    small_size = (max(w // int(p), 1), max(h // int(p), 1))
    small = cv2.resize(canon, small_size, interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    np.maximum(paper, 40.0, out=paper)
    dark = 1.0 - canon.astype(np.float32) / paper
    # a light blur keeps every stroke's mass but takes the grain out of a noisy photo,
    # so telling ink from paper (INK_D) does not cut the noise off one-sidedly
    dark = cv2.GaussianBlur(dark, (0, 0), DARK_BLUR_PX)
    return _Canon(roi.x, roi.y, canon, dark)


# --------------------------------------------------------------------------- answer boxes


@lru_cache(maxsize=8)
def _row_template(box: float, pitch: float, stroke: float) -> tuple[np.ndarray, float]:
    """Weights for three frames `pitch` apart: +1/n on each stroke, -1/n just outside.

    Returns the template and the margin (mm) it adds around the three boxes.
    """
    p = CANON_PX_PER_MM
    margin = 2.0
    span = 2 * pitch + box + 2 * margin
    size = int(round(span * p)), int(round((box + 2 * margin) * p))
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32) / p
    # distance to the nearest box's frame path: Chebyshev distance to its centre - box/2
    cy = margin + box / 2
    dist = np.full(yy.shape, np.inf, dtype=np.float32)
    for j in range(3):
        cx = margin + j * pitch + box / 2
        cheb = np.maximum(np.abs(xx - cx), np.abs(yy - cy)) - box / 2
        dist = np.minimum(dist, cheb)
    ring = np.abs(dist) <= stroke / 2 + 0.15
    outside = (dist > stroke / 2 + 0.55) & (dist < stroke / 2 + 1.4)
    tmpl = np.zeros(yy.shape, dtype=np.float32)
    tmpl[ring] = 1.0 / ring.sum()
    tmpl[outside] = -1.0 / outside.sum()
    return tmpl, margin


def _frame_ring(canon: _Canon, r: Rect, stroke: float) -> float:
    """Darkness of the frame stroke minus the paper just outside it, at rect r."""
    half = stroke / 2
    outer, inner = r.grown(half + 0.15), r.grown(-half - 0.15)
    band_o, band_i = r.grown(half + 1.4), r.grown(half + 0.55)

    def ssum(rect: Rect) -> tuple[float, int]:
        ys, xs = canon.region(rect)
        a = canon.dark[ys, xs]
        return float(a.sum()), a.size

    so, no = ssum(outer)
    si, ni = ssum(inner)
    sbo, nbo = ssum(band_o)
    sbi, nbi = ssum(band_i)
    ring = (so - si) / max(no - ni, 1)
    band = (sbo - sbi) / max(nbo - nbi, 1)
    return ring - band


def _paper_around(canon: _Canon, r: Rect, cell: Rect, stroke: float) -> float:
    """Mean darkness of the paper in a band 0.9-3.5 mm around a box's frame, ink left out.

    The band stays 0.7 mm inside the box's table cell (the table's lines are not paper).
    Local on every side, so a shadow's slope across the row cancels out; a mean, like
    the boxes' fill (noise clipped at white is skewed, its median would be off).
    """
    half = stroke / 2
    grown, inner_cell = r.grown(half + 3.5), cell.grown(-0.7)
    x0, y0 = max(grown.x, inner_cell.x), max(grown.y, inner_cell.y)
    x1, y1 = min(grown.x1, inner_cell.x1), min(grown.y1, inner_cell.y1)
    oy, ox = canon.region(Rect(x0, y0, x1 - x0, y1 - y0))
    iy, ix = canon.region(r.grown(half + 0.9))
    iy = slice(max(iy.start, oy.start), min(iy.stop, oy.stop))
    ix = slice(max(ix.start, ox.start), min(ix.stop, ox.stop))
    a = canon.dark[oy, ox]
    paper = a < INK_D
    cut = (
        slice(iy.start - oy.start, iy.stop - oy.start),
        slice(ix.start - ox.start, ix.stop - ox.start),
    )
    inner, inner_d = paper[cut], a[cut]
    n = int(paper.sum()) - int(inner.sum())
    total = float(a[paper].sum()) - float(inner_d[inner].sum())
    return total / n if n > 0 else 0.0


def _read_row(canon: _Canon, q: QuestionBoxes, stroke: float, search: float) -> QuestionReading:
    p = CANON_PX_PER_MM
    box = q.agree.w
    pitch = q.oppose.x - q.agree.x
    tmpl, margin = _row_template(round(box, 3), round(pitch, 3), round(stroke, 3))
    win = Rect(q.agree.x - margin - search, q.agree.y - margin - search, 0, 0)
    win = Rect(win.x, win.y, tmpl.shape[1] / p + 2 * search, tmpl.shape[0] / p + 2 * search)
    ys, xs = canon.region(win)
    area = canon.dark[ys, xs]
    dx = dy = 0.0
    if area.shape[0] >= tmpl.shape[0] and area.shape[1] >= tmpl.shape[1]:
        score = cv2.matchTemplate(area, tmpl, cv2.TM_CCORR)
        _lo, _hi, _lo_at, (bx, by) = cv2.minMaxLoc(score)
        # position of the template's origin in page mm, vs where it should be
        dx = (xs.start + bx) / p + canon.x0 - (q.agree.x - margin)
        dy = (ys.start + by) / p + canon.y0 - (q.agree.y - margin)
    inset = stroke / 2 + INSET_MM
    measures = []
    for name, r in q.boxes():
        frame = _frame_ring(canon, r.moved(dx, dy), stroke)
        cell = Rect(r.cx - pitch / 2, q.row.y, pitch, q.row.h).moved(dx, dy)
        paper = _paper_around(canon, r.moved(dx, dy), cell, stroke)
        iy, ix = canon.region(r.grown(-inset), dx, dy)
        inner = canon.dark[iy, ix] - paper
        fill = float(inner.mean()) if inner.size else 0.0
        ink = float(np.count_nonzero(inner > INK_D) / inner.size) if inner.size else 0.0
        measures.append(BoxMeasure(name, fill, ink, frame))
    answer, margin_v = decide_question(measures)
    shift = (round(dx, 2), round(dy, 2))
    return QuestionReading(q.number, answer, margin_v, tuple(measures), shift)


def decide_question(boxes: list[BoxMeasure] | tuple[BoxMeasure, ...]) -> tuple[str, float]:
    """agree/oppose/abstain, blank, multiple or unclear, with the margin to the thresholds."""
    if any(b.frame < FRAME_MIN for b in boxes):
        return "unclear", 0.0
    fills = [b.fill for b in boxes]
    marked = [b for b in boxes if b.fill >= MARK_FILL]
    if len(marked) >= 2:
        second = sorted(fills)[-2]
        return "multiple", second - MARK_FILL
    if len(marked) == 1:
        others = [b.fill for b in boxes if b is not marked[0]]
        margin = min(marked[0].fill - MARK_FILL, EMPTY_FILL - max(others))
        if max(others) <= EMPTY_FILL:
            return marked[0].answer, margin
        return "unclear", margin
    if max(fills) <= EMPTY_FILL:
        return "blank", EMPTY_FILL - max(fills)
    return "unclear", min(max(fills) - EMPTY_FILL, MARK_FILL - max(fills))


# --------------------------------------------------------------------------- signature


def _signature_ink(canon: _Canon, area: Rect, line_y: float) -> float:
    """Share of ink pixels in the writing area above a printed line (line left out)."""
    p = CANON_PX_PER_MM
    # find the printed line again: the darkest row within +-2.5 mm of where it should be
    band = Rect(area.x + 2, line_y - 2.5, area.w - 4, 5.0)
    ys, xs = canon.region(band)
    prof = canon.dark[ys, xs].mean(axis=1)
    dy = 0.0
    if prof.size and prof.max() > 0.15:
        dy = (ys.start + int(np.argmax(prof))) / p + canon.y0 - line_y
    ys, xs = canon.region(Rect(area.x, area.y + dy, area.w, line_y - area.y - 0.45))
    a = canon.dark[ys, xs]
    if not a.size:
        return 0.0
    paper = float(np.median(a))
    return float(np.count_nonzero(a - paper > INK_D) / a.size)


def _signed(ink: float) -> bool | None:
    if ink >= SIGNED_INK:
        return True
    if ink <= UNSIGNED_INK:
        return False
    return None


# --------------------------------------------------------------------------- page


def _crop(gray: np.ndarray, reg: Registration, r: Rect) -> bytes:
    """PNG of a page region, light evened out and paper made white (small and fast)."""
    canon = _warp(gray, reg, r)
    shade = np.clip(canon.dark * 1.15, 0.0, 1.0)
    shade[shade < 0.08] = 0.0
    image = (255 - (shade * 255)).astype(np.uint8) & 0xF0 | 0x0F
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return buf.tobytes() if ok else b""


def read_page(
    gray: np.ndarray,
    geometry: BallotGeometry,
    *,
    crops: bool = True,
    qr: QRCode | None = None,
) -> PageReading:
    """Read one page image (uint8 grayscale) of a ballot printed with this geometry."""
    if qr is None:
        qr = find_qr(gray)
    if qr is None:
        return PageReading(None, "none", {}, (), None, None, None, ("qr-unreadable",))
    reg = register(gray, geometry, qr)
    search = ROW_SEARCH_MM if reg.method != "qr" else ROW_SEARCH_QR_MM
    canon = _warp(gray, reg, _answers_roi(geometry, search))
    questions = tuple(_read_row(canon, q, geometry.box_stroke, search) for q in geometry.questions)
    sign = _warp(gray, reg, _signature_roi(geometry))
    ink = _signature_ink(sign, geometry.signature, geometry.signature_line.y)
    proxy_ink = _signature_ink(sign, geometry.proxy_signature, geometry.proxy_signature.y1)
    signed = _signed(ink)
    found = set()
    for q in questions:
        if q.answer in ("blank", "multiple", "unclear"):
            found.add(q.answer)
    if signed is not True:
        found.add("unsigned")
    shots: dict[str, bytes] = {}
    if crops:
        for qg, q in zip(geometry.questions, questions, strict=True):
            if q.answer not in ANSWERS:
                dx, dy = q.shift_mm
                shots[f"q{q.number}"] = _crop(gray, reg, qg.row.moved(dx, dy).grown(1.0))
        if signed is not True:
            sig = geometry.signature
            shots["signature"] = _crop(gray, reg, Rect(sig.x - 22, sig.y, sig.w + 24, sig.h + 3))
    return PageReading(
        qr=qr.text,
        registration=reg.method,
        answers={q.number: q.answer for q in questions},
        questions=questions,
        signed=signed,
        signature_ink=round(ink, 5),
        proxy_signed=_signed(proxy_ink),
        reasons=tuple(r for r in REASONS if r in found),
        crops=shots,
    )
