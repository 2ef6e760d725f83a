"""QR codes as vector graphics: runs of dark modules, one rectangle per run.

Vector rectangles stay sharp at any printer resolution and are much cheaper than
embedded images. All runs of a symbol form one path filled once (no seams between
rows). The quiet zone (4 modules) is part of the drawn area and left unpainted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

QUIET_ZONE = 4
_DARK_RUN = re.compile(rb"\x01+")


@dataclass(frozen=True)
class QRRuns:
    """A QR symbol as horizontal runs of dark modules: (row, column, length)."""

    modules: int  # symbol width in modules, without the quiet zone
    runs: tuple[tuple[int, int, int], ...]


def qr_runs(data: str, *, error: str = "m", mask: int | None = None) -> QRRuns:
    """Encode data and merge dark modules into runs (one rectangle each when drawn).

    mask=None lets segno score all eight masks (slow, ~3.5 ms); ballots pass a fixed
    mask, which every decoder accepts, to encode about five times faster.
    """
    import segno

    qr = segno.make(data, error=error, micro=False, mask=mask, boost_error=False)
    runs = []
    for r, row in enumerate(qr.matrix):
        for m in _DARK_RUN.finditer(bytes(row)):
            runs.append((r, m.start(), m.end() - m.start()))
    return QRRuns(len(qr.matrix), tuple(runs))


def module_mm(qr: QRRuns, size: float) -> float:
    """Size of one module when the symbol and its quiet zone fill size mm."""
    return size / (qr.modules + 2 * QUIET_ZONE)


def qr_operators(qr: QRRuns, x: float, y: float, size: float, page_h: float) -> str:
    """PDF content-stream operators for a QR filling size x size mm at (x, y) from the top left.

    A module-unit coordinate system is set with `cm`, so each run is a short integer
    `col row len 1 re`; all runs form one path filled once. Plain PDF syntax: used by
    the ballots' own writer (fastpath.py).
    """
    k = 72 / 25.4  # mm -> pt
    m = module_mm(qr, size)
    x0 = (x + m * QUIET_ZONE) * k
    y0 = (page_h - y - m * QUIET_ZONE) * k
    body = "\n".join(f"{c} {r} {n} 1 re" for r, c, n in qr.runs)
    return f"q 0 g {m * k:.4f} 0 0 {-m * k:.4f} {x0:.3f} {y0:.3f} cm\n{body}\nf Q\n"


def draw_qr_runs(pdf: FPDF, qr: QRRuns, x: float, y: float, size: float) -> None:
    """Draw encoded runs with fpdf2's public drawing API (one path, filled once). The path
    is handed over without fpdf2's defensive deep copy (`draw_path(copy=False)`: it is
    never touched again), which took most of a notice's time per QR code."""
    from fpdf.drawing import PaintedPath
    from fpdf.enums import PathPaintRule

    m = module_mm(qr, size)
    ox, oy = x + m * QUIET_ZONE, y + m * QUIET_ZONE
    path = PaintedPath()
    path.style.paint_rule = PathPaintRule.FILL_NONZERO
    path.style.fill_color = "#000000"
    path.style.stroke_color = None
    for r, c, n in qr.runs:
        path.rectangle(ox + c * m, oy + r * m, n * m, m)
    pdf.draw_path(path, copy=False)


def draw_qr(
    pdf: FPDF, data: str, x: float, y: float, size_mm: float, *, mask: int | None = None
) -> None:
    """Draw a vector QR code (error correction M) filling size_mm x size_mm at (x, y).

    The area includes the 4-module quiet zone, which is left unpainted (white paper).
    """
    draw_qr_runs(pdf, qr_runs(data, mask=mask), x, y, size_mm)
