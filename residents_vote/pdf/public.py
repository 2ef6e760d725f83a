"""The ballots through fpdf2's public API only: every page drawn anew.

About 15 times slower per page than fastpath.py (~28 ms against ~2 ms of CPU), and the
reference it is checked against (tests/unit/test_pdf_fastpath.py): the same layout,
drawn with `FPDF.text`, `rect`, `line` and the drawing API, must give the same page
text and a QR code that decodes.
render_ballots uses it when the installed fpdf2 is not the version fastpath.py pins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .ballot import QR_MASK, BallotCommon, BallotLayout, BallotPage, prepare
from .canvas import PT, Face, Item, Line, Rect, Text
from .qr import draw_qr_runs, qr_runs

if TYPE_CHECKING:
    from fpdf import FPDF


def _gray(level: float) -> int:
    return round(level * 255)


def _draw(pdf: FPDF, faces: dict[str, Face], items: Sequence[Item]) -> None:
    for item in items:
        if isinstance(item, Text):
            face = faces[item.face]
            pdf.set_font(face.family, face.style, item.size)
            pdf.set_text_color(_gray(item.gray))
            pdf.text(item.x, item.y, item.text)
        elif isinstance(item, Rect):
            style = ("F" if item.stroke is None else "DF") if item.fill is not None else "D"
            if item.fill is not None:
                pdf.set_fill_color(_gray(item.fill))
            if item.stroke is not None:
                pdf.set_draw_color(_gray(item.gray))
                pdf.set_line_width((item.stroke or 0.6) * PT)
            pdf.rect(item.x, item.y, item.w, item.h, style=style)
        else:
            assert isinstance(item, Line)
            pdf.set_draw_color(_gray(item.gray))
            pdf.set_line_width(item.width * PT)
            if item.dash:
                pdf.set_dash_pattern(dash=item.dash[0] * PT, gap=item.dash[1] * PT)
            pdf.line(item.x1, item.y1, item.x2, item.y2)
            if item.dash:
                pdf.set_dash_pattern()
    pdf.set_text_color(0)


def _page(pdf: FPDF, layout: BallotLayout, page: BallotPage) -> None:
    faces = {face.key: face for face in layout.faces}
    pdf.add_page()
    _draw(pdf, faces, layout.static)
    _draw(pdf, faces, layout.page_items(page))
    (qx, qy), size = layout.qr_xy, layout.qr_size
    draw_qr_runs(pdf, qr_runs(page.url, mask=QR_MASK), qx, qy, size)


def render(common: BallotCommon, pages: Sequence[BallotPage]) -> bytes:
    """The ballots as PDF bytes, one page at a time through fpdf2's public API."""
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    layout = prepare(pdf, common, pages)
    layout.learn(pages, Face.learn)
    for p in pages:
        _page(pdf, layout, p)
    return bytes(pdf.output())
