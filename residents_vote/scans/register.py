"""Find the QR code and register a page image to the printed ballot's geometry.

The QR code (decoded by zxing-cpp) gives the household's link and, from its four
corners, a first page-to-image homography that already knows the page's rotation
(any angle, upside down too), scale and perspective. With it the four corner marks
are looked for near where they must be; when all four are found (or three, helped
by the QR corners), they give the final homography, which is much more precise
over the answer table because the marks surround it. A homography whose QR corners
land more than QR_AGREE_MM away from where zxing saw them is refused in favour of
the QR-only one (an affine map: a small QR code's perspective extrapolates badly),
and so is one that would make the page's scale at a mark differ from the QR code's
by more than a factor of two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from ..pdf.geometry import BallotGeometry

QR_TARGET_SIDE = 1800  # zxing looks at a copy whose longest side is at most this
# half side of the window a corner mark is looked for in: first around where the QR
# code says, then (for the marks still missing) where the marks found so far say
MARK_SEARCH_ROUNDS_MM = (14.0, 30.0, 55.0)
QR_AGREE_MM = 2.5


@dataclass(frozen=True)
class QRCode:
    text: str
    corners: np.ndarray  # 4x2 float32, image px: top-left, top-right, bottom-right, bottom-left


@dataclass(frozen=True)
class Registration:
    homography: np.ndarray  # 3x3, page mm -> image px
    method: str  # "marks" (4 marks), "marks+qr" (3 marks and the QR), "qr"
    marks_found: int
    px_per_mm: float


def _decode(img: np.ndarray, binarizer) -> list:
    return zxingcpp.read_barcodes(
        img,
        formats=zxingcpp.BarcodeFormat.QRCode,
        try_rotate=True,
        try_downscale=True,
        try_invert=False,
        binarizer=binarizer,
    )


def find_qr(gray: np.ndarray) -> QRCode | None:
    """The ballot's QR code: decoded on a reduced copy first (fast), then at full size."""
    factor = math.ceil(max(gray.shape) / QR_TARGET_SIDE)
    attempts = []
    if factor > 1:  # an integer factor: INTER_AREA is a fast block average then
        scale = 1 / factor
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        attempts.append((small, scale, zxingcpp.Binarizer.LocalAverage))
    attempts.append((gray, 1.0, zxingcpp.Binarizer.LocalAverage))
    attempts.append((gray, 1.0, zxingcpp.Binarizer.GlobalHistogram))
    for img, s, binarizer in attempts:
        found = [r for r in _decode(img, binarizer) if r.valid and r.text]
        if not found:
            continue

        # several QR codes on one page: prefer a ballot link, then the largest
        def size(r) -> float:
            p = r.position
            return abs(p.top_right.x - p.top_left.x) + abs(p.bottom_left.y - p.top_left.y)

        found.sort(key=lambda r: ("/b/" not in r.text, -size(r)))
        p = found[0].position
        pts = np.array(
            [[q.x, q.y] for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
            dtype=np.float32,
        )
        return QRCode(found[0].text, pts / s)
    return None


def _project(h: np.ndarray, pts_mm: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(pts_mm.reshape(-1, 1, 2).astype(np.float32), h).reshape(-1, 2)


def _local_scale(h: np.ndarray, point_mm: np.ndarray) -> float:
    """Image pixels per page millimetre at a point of the page under map h."""
    pts = np.array([point_mm, point_mm + (1, 0), point_mm + (0, 1)], dtype=np.float32)
    p0, px, py = _project(h, pts)
    (ax, ay), (bx, by) = px - p0, py - p0
    return float(np.sqrt(abs(ax * by - ay * bx)))


def _on_paper(
    win: np.ndarray, white: np.ndarray, x: int, y: int, w: int, h: int, px_per_mm: float
) -> bool:
    """A printed mark has paper all around it: the band 1-2.5 mm outside its box is
    bright (not the table beside the sheet, not more print)."""
    a, b = int(1.0 * px_per_mm), int(2.5 * px_per_mm)
    y0, y1 = max(y - b, 0), min(y + h + b, win.shape[0])
    x0, x1 = max(x - b, 0), min(x + w + b, win.shape[1])
    outer = win[y0:y1, x0:x1].astype(np.float32)
    ref = white[y0:y1, x0:x1].astype(np.float32)
    mask = np.ones(outer.shape, dtype=bool)
    mask[max(y - a - y0, 0) : y + h + a - y0, max(x - a - x0, 0) : x + w + a - x0] = False
    if not mask.any():
        return False
    return float(np.mean(outer[mask] / np.maximum(ref[mask], 1.0))) > 0.75


def _find_mark(
    gray: np.ndarray, centre: np.ndarray, px_per_mm: float, side_mm: float, search_mm: float
) -> np.ndarray | None:
    """Centre (image px) of the solid square mark nearest to `centre`, or None."""
    half = int(search_mm * px_per_mm)
    cx, cy = int(round(centre[0])), int(round(centre[1]))
    x0, y0 = max(cx - half, 0), max(cy - half, 0)
    x1, y1 = min(cx + half, gray.shape[1]), min(cy + half, gray.shape[0])
    if min(x1 - x0, y1 - y0) < 2 * side_mm * px_per_mm:  # (nearly) off the image
        return None
    win = gray[y0:y1, x0:x1]
    # darker than half the local paper (the brightest within a block three marks wide):
    # a shadow or a dark table around the sheet neither hides the mark nor joins it
    block = max(int(3 * side_mm * px_per_mm) | 1, 3)
    white = cv2.dilate(win, cv2.getStructuringElement(cv2.MORPH_RECT, (block, block)))
    binary = np.where(win.astype(np.float32) < 0.55 * white, 255, 0).astype(np.uint8)
    contours, _h = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    want = (side_mm * px_per_mm) ** 2
    best, best_d = None, None
    for c in contours:
        area = cv2.contourArea(c)
        if not 0.4 * want <= area <= 2.8 * want:  # the scale varies across a photo
            continue
        (_mx, _my), (w, h), _angle = cv2.minAreaRect(c)
        if w <= 0 or h <= 0 or not 0.75 <= w / h <= 1.33 or area / (w * h) < 0.82:
            continue
        bx, by, bw, bh = cv2.boundingRect(c)
        if bx == 0 or by == 0 or bx + bw >= win.shape[1] or by + bh >= win.shape[0]:
            continue  # cut by the window: a piece of something larger (the table)
        if np.count_nonzero(binary[by : by + bh, bx : bx + bw]) < 0.8 * area:
            continue  # hollow (a printed frame), not a solid mark
        if not _on_paper(win, white, bx, by, bw, bh, px_per_mm):
            continue
        m = cv2.moments(c)
        if m["m00"] <= 0:
            continue
        p = np.array([m["m10"] / m["m00"] + x0, m["m01"] / m["m00"] + y0], dtype=np.float32)
        d = float(np.hypot(*(p - centre)))
        if best_d is None or d < best_d:
            best, best_d = p, d
    return best


def _affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares affine map (3x3) taking src points to dst points."""
    a = np.hstack([src.astype(np.float64), np.ones((len(src), 1))])
    sol, *_rest = np.linalg.lstsq(a, dst.astype(np.float64), rcond=None)
    return np.vstack([sol.T, [0.0, 0.0, 1.0]])


def _fit(mm: list, px: list, sym: np.ndarray, qr_px: np.ndarray) -> tuple[np.ndarray, str]:
    """The page-to-image map from the marks found (and the QR corners when needed)."""
    n = len(mm)
    if n == 4:
        return cv2.getPerspectiveTransform(np.array(mm), np.array(px)), "marks"
    src = np.vstack([np.array(mm).reshape(-1, 2), sym]).astype(np.float32)
    dst = np.vstack([np.array(px).reshape(-1, 2), qr_px]).astype(np.float32)
    if n == 3:
        h, _mask = cv2.findHomography(src, dst, 0)
        if h is not None:
            return h, "marks+qr"
    # a small QR code's corners extrapolate its perspective badly: affine only
    return _affine(src, dst), "marks+qr" if n else "qr"


def register(gray: np.ndarray, geometry: BallotGeometry, qr: QRCode) -> Registration:
    sym = np.array(geometry.qr_symbol.corners(), dtype=np.float32)
    side_px = np.mean(np.linalg.norm(qr.corners - np.roll(qr.corners, 1, axis=0), axis=1))
    px_per_mm = float(side_px / geometry.qr_symbol.w)
    h_qr = _affine(sym, qr.corners)

    mark_mm = np.array([[m.cx, m.cy] for m in geometry.marks], dtype=np.float32)
    side = geometry.marks[0].w
    found: dict[int, np.ndarray] = {}
    guess = h_qr
    # again with a better guess and a wider window when some marks were missed (a
    # photo's perspective moves the far marks away from where the QR code alone says)
    for search in MARK_SEARCH_ROUNDS_MM:
        predicted = _project(guess, mark_mm)
        for i, centre in enumerate(predicted):
            if i not in found:
                scale = _local_scale(guess, mark_mm[i])
                p = _find_mark(gray, centre, scale, side, search)
                if p is not None:
                    found[i] = p
        if len(found) == 4:
            break
        keys = sorted(found)
        guess, _method = _fit([mark_mm[i] for i in keys], [found[i] for i in keys], sym, qr.corners)
    keys = sorted(found)
    h, method = _fit([mark_mm[i] for i in keys], [found[i] for i in keys], sym, qr.corners)
    err = np.linalg.norm(_project(h, sym) - qr.corners, axis=1).max() / px_per_mm
    scales = [_local_scale(h, p) / px_per_mm for p in mark_mm]
    if err > QR_AGREE_MM or not all(0.5 < s < 2.0 for s in scales):
        return Registration(h_qr, "qr", len(found), px_per_mm)
    return Registration(h, method, len(found), px_per_mm)
