"""Test material for the scan reader: ballots the app prints, marked and "scanned" here.

Shared by tests/test_scan_reader.py and bench/scan_accuracy.py. A page is rendered
from the app's ballot PDF with pypdfium2, marked with OpenCV in page millimetres
(pen tick, cross, filled box, light pencil tick, a crossed-out mark, a stray line,
a signature), then turned into a flatbed scan (rotation, blur, noise, JPEG) or a
phone photo (perspective, uneven light, a table around the page, colour JPEG).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from residents_vote.pdf import BallotPage
from residents_vote.pdf.geometry import ANSWERS, BallotGeometry, Rect
from tests.helpers import SAMPLE_BALLOT

COMMON = SAMPLE_BALLOT


def ballot_pages(n: int, *, share: bool = False) -> list[BallotPage]:
    return [
        BallotPage(
            serial=f"B{i + 1:06d}",
            household=f"3-2-{501 + i}",
            building="3",
            unit="2",
            room=str(501 + i),
            area=f"{87 + i}.65",
            owner_name=("张三", "欧阳建国", "李四")[i % 3],
            url=f"https://vote.example.org/b/tok{i:04d}-Xq9_Zr7LmB2vKp0sWd4Hy",
            share=f"本户分摊：{1234 + i:,}.56 元" if share else "",
        )
        for i in range(n)
    ]


def render(pdf_bytes: bytes, dpi: float) -> list[np.ndarray]:
    """Every page of a PDF as a grayscale image at dpi (what a perfect scanner sees)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf_bytes)
    out = []
    for i in range(len(doc)):
        arr = doc[i].render(scale=dpi / 72, grayscale=True).to_numpy()
        if arr.ndim == 3:
            arr = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2GRAY)
        out.append(np.ascontiguousarray(arr))
    doc.close()
    return out


# --------------------------------------------------------------------------- marks

MARK_KINDS = ("tick", "cross", "fill", "pencil")


@dataclass
class Marking:
    """What a page should read: answers per question (None: no answer is right)."""

    answers: dict[int, str | None] = field(default_factory=dict)
    signed: bool = True
    must_review: set[str] = field(default_factory=set)  # reasons one of which must show
    may_review: bool = False  # a person might be asked (stray line), never a wrong answer


class Pen:
    """Draws in page millimetres on an image rendered at dpi."""

    def __init__(self, image: np.ndarray, dpi: float, rng: np.random.Generator) -> None:
        self.image = image
        self.s = dpi / 25.4
        self.rng = rng

    def _pt(self, x: float, y: float) -> tuple[int, int]:
        return int(round(x * self.s * 16)), int(round(y * self.s * 16))

    def stroke(self, pts: list[tuple[float, float]], width_mm: float, gray: int) -> None:
        arr = np.array([self._pt(x, y) for x, y in pts], dtype=np.int32)
        thick = max(1, int(round(width_mm * self.s)))
        cv2.polylines(self.image, [arr], False, int(gray), thick, cv2.LINE_AA, shift=4)

    def jitter(self, r: float) -> float:
        return float(self.rng.uniform(-r, r))

    # ---- mark kinds, inside box b
    def tick(self, b: Rect, *, gray: int | None = None, width: float | None = None) -> None:
        g = int(self.rng.integers(10, 70)) if gray is None else gray
        w = float(self.rng.uniform(0.35, 0.7)) if width is None else width
        k = float(self.rng.uniform(0.55, 1.05))  # size of the tick against the box
        cx, cy = b.cx + self.jitter(1.2), b.cy + self.jitter(1.2)
        h = b.w * k
        a = (cx - h * 0.40, cy + self.jitter(0.5))
        m = (cx - h * 0.12, cy + h * 0.32)
        z = (cx + h * 0.45 + self.jitter(0.8), cy - h * 0.55 + self.jitter(0.8))
        self.stroke([a, m, z], w, g)

    def cross(self, b: Rect) -> None:
        g = int(self.rng.integers(10, 70))
        w = float(self.rng.uniform(0.35, 0.7))
        h = b.w * float(self.rng.uniform(0.3, 0.5))
        cx, cy = b.cx + self.jitter(1.0), b.cy + self.jitter(1.0)
        self.stroke([(cx - h, cy - h), (cx + h + self.jitter(0.6), cy + h)], w, g)
        self.stroke([(cx + h, cy - h + self.jitter(0.6)), (cx - h, cy + h)], w, g)

    def fill(self, b: Rect) -> None:
        g = int(self.rng.integers(10, 80))
        inset = float(self.rng.uniform(0.3, 1.5))
        r = b.grown(-inset)
        pts = np.array([self._pt(*p) for p in r.corners()], dtype=np.int32)
        cv2.fillPoly(self.image, [pts], g, cv2.LINE_AA, shift=4)

    def pencil(self, b: Rect) -> None:
        """A light, thin pencil tick (the lightest deliberate mark)."""
        gray = int(self.rng.integers(120, 165))
        self.tick(b, gray=gray, width=float(self.rng.uniform(0.25, 0.4)))

    def scribble_out(self, b: Rect) -> None:
        """A tick crossed out by a dense zigzag (the voter changed their mind)."""
        self.tick(b)
        g = int(self.rng.integers(10, 60))
        pts = []
        n = int(self.rng.integers(5, 9))
        for i in range(n):
            y = b.y + 1 + (b.h - 2) * i / (n - 1)
            pts.append((b.x + 0.5 + self.jitter(0.5), y))
            pts.append((b.x1 - 0.5 + self.jitter(0.5), y + (b.h - 2) / (2 * (n - 1))))
        self.stroke(pts, 0.5, g)

    def stray_line(self, row: Rect, boxes: tuple[Rect, ...]) -> None:
        """A pen line drawn across the answer boxes of a row (slip of the hand)."""
        y = boxes[0].cy + self.jitter(boxes[0].h * 0.35)
        x0 = boxes[0].x - float(self.rng.uniform(2, 4))
        x1 = boxes[-1].x1 + float(self.rng.uniform(1, 4))
        self.stroke([(x0, y), (x1, y + self.jitter(1.2))], float(self.rng.uniform(0.3, 0.5)), 30)

    def signature(self, area: Rect) -> None:
        g = int(self.rng.integers(10, 60))
        x = area.x + float(self.rng.uniform(2, 8))
        for _char in range(int(self.rng.integers(2, 4))):
            w = float(self.rng.uniform(5, 8))
            pts = []
            for _i in range(int(self.rng.integers(6, 12))):
                pts.append(
                    (x + float(self.rng.uniform(0, w)), area.y1 - float(self.rng.uniform(0.8, 7.5)))
                )
            self.stroke(pts, float(self.rng.uniform(0.35, 0.6)), g)
            x += w + float(self.rng.uniform(1, 3))


def mark_page(
    image: np.ndarray,
    dpi: float,
    geometry: BallotGeometry,
    rng: np.random.Generator,
    *,
    plan: dict[int, tuple[str, ...]] | None = None,
    signed: bool = True,
) -> Marking:
    """Mark a rendered page in place. plan: question -> (kind, answer[, answer2]).

    kinds: tick cross fill pencil (one answer), blank, two (two answers ticked),
    crossed (first answer crossed out, second ticked), stray (answer ticked plus a
    line through the row). Without a plan every question gets a random clear mark.
    """
    pen = Pen(image, dpi, rng)
    truth = Marking(signed=signed)
    for q in geometry.questions:
        boxes = dict(q.boxes())
        step = plan.get(q.number) if plan else None
        if step is None:
            step = (MARK_KINDS[int(rng.integers(0, 4))], ANSWERS[int(rng.integers(0, 3))])
        kind = step[0]
        if kind in MARK_KINDS:
            getattr(pen, kind)(boxes[step[1]])
            truth.answers[q.number] = step[1]
        elif kind == "blank":
            truth.answers[q.number] = None
            truth.must_review.add("blank")
        elif kind == "two":
            pen.tick(boxes[step[1]])
            pen.tick(boxes[step[2]])
            truth.answers[q.number] = None
            truth.must_review.update({"multiple", "unclear"})
        elif kind == "crossed":
            pen.scribble_out(boxes[step[1]])
            pen.tick(boxes[step[2]])
            truth.answers[q.number] = None  # a person decides, never the reader
            truth.must_review.update({"multiple", "unclear"})
        elif kind == "stray":
            pen.tick(boxes[step[1]])
            pen.stray_line(q.row, tuple(boxes.values()))
            truth.answers[q.number] = step[1]
            truth.may_review = True
        else:
            raise ValueError(kind)
    if signed:
        pen.signature(geometry.signature)
    else:
        truth.must_review.add("unsigned")
    return truth


# --------------------------------------------------------------------------- scanning


def cut_stub(image: np.ndarray, dpi: float, geometry: BallotGeometry, rng) -> np.ndarray:
    """The owner keeps the stub: the page ends near the dashed cut line."""
    y = int((geometry.cut_y + float(rng.uniform(-1.0, 2.0))) * dpi / 25.4)
    return image[:y].copy()


def rotate(image: np.ndarray, degrees: float, background: int = 255) -> np.ndarray:
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(background,) * 3)


def jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    return buf.tobytes()


def png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return buf.tobytes()


def flatbed(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    max_angle: float = 5.0,
    quality: int | None = None,
) -> bytes:
    """A sheet-fed / flatbed scan: slightly rotated, blurred, noisy, JPEG."""
    img = rotate(image, float(rng.uniform(-max_angle, max_angle)))
    img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.4, 0.9)))
    noise = np.empty(img.shape, dtype=np.float32)
    cv2.randn(noise, 0.0, float(rng.uniform(2, 7)))
    img = np.clip(img.astype(np.float32) * float(rng.uniform(0.9, 1.0)) + noise, 0, 255)
    q = int(rng.integers(55, 92)) if quality is None else quality
    return jpeg(img.astype(np.uint8), q)


def phone_photo(image: np.ndarray, rng: np.random.Generator) -> bytes:
    """A phone photo of the page: on a table, in perspective, under uneven light."""
    h, w = image.shape[:2]
    pad = int(0.12 * max(h, w))
    canvas_w, canvas_h = w + 2 * pad, h + 2 * pad
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    d = 0.07 * w
    dst = src + pad + rng.uniform(-d, d, size=(4, 2)).astype(np.float32)
    # a tilted phone: one side of the page further away (smaller)
    tilt = float(rng.uniform(-0.08, 0.08))
    dst[:, 0] += (dst[:, 1] - canvas_h / 2) * tilt * (dst[:, 0] - canvas_w / 2) / canvas_w
    m = cv2.getPerspectiveTransform(src, dst)
    table = np.empty((canvas_h, canvas_w), dtype=np.uint8)
    cv2.randu(table, 0, 25)
    table = cv2.add(table, int(rng.integers(40, 140)))
    photo = cv2.warpPerspective(
        image, m, (canvas_w, canvas_h), dst=table, borderMode=cv2.BORDER_TRANSPARENT
    )
    # light and shadow vary slowly: computed on a 1/8 grid, then enlarged
    gh, gw = canvas_h // 8 + 1, canvas_w // 8 + 1
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32) * 8
    angle = float(rng.uniform(0, 2 * math.pi))
    ramp = (xx * math.cos(angle) + yy * math.sin(angle)) / max(canvas_w, canvas_h)
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min() + 1e-6)
    low = float(rng.uniform(0.45, 0.75))
    light = low + (1 - low) * ramp
    if rng.random() < 0.5:  # a soft shadow (the phone, a hand)
        cx, cy = rng.uniform(0, canvas_w), rng.uniform(0, canvas_h)
        r = float(rng.uniform(0.15, 0.35)) * canvas_w
        shade = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        light *= 1 - float(rng.uniform(0.2, 0.4)) * shade
    light = cv2.resize(light, (canvas_w, canvas_h), interpolation=cv2.INTER_LINEAR)
    photo = cv2.GaussianBlur(photo, (0, 0), float(rng.uniform(0.6, 1.3)))
    lit = cv2.multiply(photo, light, dtype=cv2.CV_32F)
    noise = np.empty((canvas_h, canvas_w), dtype=np.float32)
    cv2.randn(noise, 0.0, float(rng.uniform(3, 8)))
    lit = cv2.add(lit, noise)
    tint = (float(rng.uniform(0.85, 1.0)), float(rng.uniform(0.92, 1.0)), 1.0)  # B, G, R
    color = cv2.merge([cv2.convertScaleAbs(lit, alpha=t) for t in tint])
    return jpeg(color, int(rng.integers(75, 92)))


# --------------------------------------------------------------------------- batches


def scanned_batch(
    pdf_bytes: bytes,
    geometry: BallotGeometry,
    dpi: float,
    plans: list[tuple[dict[int, tuple[str, ...]] | None, bool]],
    *,
    seed: int = 3,
) -> bytes:
    """A sheet-feeding scanner's PDF of the printed ballots the app made (pdf_bytes), the
    page i marked by plans[i] = (plan, signed) (see mark_page; plan None: random clear
    marks), stub cut off, scanned (flatbed: rotation, noise, JPEG) one JPEG page each."""
    import io

    from PIL import Image

    rng = np.random.default_rng(seed)
    pages = render(pdf_bytes, dpi)
    assert len(plans) <= len(pages), "more plans than printed ballots"
    scanned = []
    for image, (plan, signed) in zip(pages, plans, strict=False):
        image = image.copy()
        mark_page(image, dpi, geometry, rng, plan=plan, signed=signed)
        blob = flatbed(cut_stub(image, dpi, geometry, rng), rng, max_angle=2.0, quality=80)
        scanned.append(Image.open(io.BytesIO(blob)))
    return pdf_of(*scanned, dpi=dpi)


CLEAR_PLAN = {1: ("tick", "agree"), 2: ("cross", "oppose")}


def marked(
    page: tuple[np.ndarray, BallotGeometry],
    plan: dict[int, tuple[str, ...]] | None = CLEAR_PLAN,
    *,
    dpi: float,
    signed: bool = True,
    seed: int = 1,
) -> np.ndarray:
    """A copy of a rendered ballot page (image, geometry) marked by `plan` (see mark_page),
    its stub cut off, as a flatbed scanner would see it before noise."""
    image, geometry = page
    image = image.copy()
    mark_page(image, dpi, geometry, np.random.default_rng(seed), plan=plan, signed=signed)
    return cut_stub(image, dpi, geometry, np.random.default_rng(seed))


def pdf_of(*images, dpi: float) -> bytes:
    """Page images (arrays or PIL images) in one PDF, as a sheet-feeding scanner sends it."""
    import io

    from PIL import Image

    pages = [Image.fromarray(i) if isinstance(i, np.ndarray) else i for i in images]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return out.getvalue()
