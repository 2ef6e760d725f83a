"""`Notice`: a small A4 document builder for notices, results and filing documents.

Built on fpdf2's public API (cells, tables, the drawing API for QR codes); fpdf2 is
imported when the first document is made, not when this module is.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from .fonts import FAMILY, new_pdf
from .qr import draw_qr
from .text import wrap_text


@cache
def _notice_pdf_class() -> type:
    """FPDF with a "第 N 页 / 共 M 页" footer (made on first use: fpdf2 loads lazily)."""
    from fpdf import FPDF

    class NoticePDF(FPDF):
        footer_text = ""
        numbered = True

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FAMILY, "", 8.5)
            self.set_text_color(90)
            left = self.footer_text
            if left:
                self.cell(0, 5, left, align="L")
                self.set_x(self.l_margin)
            if self.numbered:
                self.cell(0, 5, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="R")
            self.set_text_color(0)

    return NoticePDF


class Notice:
    """Minimal A4 document builder for notices, results and filing documents.

    Calls append blocks top to bottom; page breaks are automatic. Text is wrapped
    with `wrap_text` so Chinese breaks between characters and punctuation stays put.
    """

    def __init__(
        self, title: str = "", *, footer: str = "", font_size: float = 10.5, numbered: bool = True
    ) -> None:
        pdf = _notice_pdf_class()(unit="mm", format="A4")
        pdf.footer_text = footer
        pdf.numbered = numbered  # False: no "page N of M" (cards handed out one by one)
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

    def _next_line(self) -> dict:
        from fpdf.enums import XPos, YPos

        return {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

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
            pdf.cell(0, self._line_h(size), line, align=align, **self._next_line())
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
            pdf.cell(0, self._line_h(size), line, **self._next_line())
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
            pdf.cell(0, lh, line, **self._next_line())
        return self

    def new_page(self) -> Notice:
        """Start the next block on a new page (one card per page)."""
        self.pdf.add_page()
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
        from fpdf.enums import TableCellFillMode, WrapMode
        from fpdf.fonts import FontFace

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

    def qr(
        self, data: str, caption: str = "", *, size: float = 40, mask: int | None = None
    ) -> Notice:
        """A centered vector QR code with an optional caption below it (`mask`: a fixed QR
        mask, faster to encode for many codes, see qr.qr_runs)."""
        pdf = self.pdf
        lh = self._line_h(9)
        if pdf.will_page_break(size + (lh * 2 if caption else 0)):
            pdf.add_page()
        x = (pdf.w - size) / 2
        draw_qr(pdf, data, x, pdf.get_y(), size, mask=mask)
        pdf.set_y(pdf.get_y() + size)
        if caption:
            pdf.set_font(FAMILY, "", 9)
            for line in self._lines(caption, self._width()):
                pdf.cell(0, lh, line, align="C", **self._next_line())
            pdf.set_font(FAMILY, "", self.font_size)
        pdf.ln(2)
        return self

    def output(self) -> bytes:
        """The finished PDF (call once: fpdf2 closes the fonts when writing)."""
        from .fastpath import skip_bbox_recalc

        skip_bbox_recalc(self.pdf)
        return bytes(self.pdf.output())
