"""A page as a list of drawing items, in mm from the top-left corner.

The ballot layout draws onto a `Canvas` (text, rectangles, lines); a backend turns the
items into a PDF: `fastpath.py` writes them as raw operators, `public.py` replays them
through fpdf2's public API. Text widths come from `Face`, which measures with fpdf2's
public `get_string_width` once per character, so both backends see the same layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from fpdf import FPDF

PT = 25.4 / 72  # one point in mm
PAGE_W, PAGE_H = 210.0, 297.0


class Text(NamedTuple):
    """A single-line string with its baseline at y; gray 0 = black."""

    face: str  # key of a Face: "reg", "bold" or "mono"
    size: float
    x: float
    y: float
    text: str
    gray: float = 0.0


class Rect(NamedTuple):
    """A rectangle; fill is a gray level (0..1) or None, stroke a line width in pt or None."""

    x: float
    y: float
    w: float
    h: float
    fill: float | None = None
    stroke: float | None = 0.6
    gray: float = 0.0  # stroke gray


class Line(NamedTuple):
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.5  # pt
    gray: float = 0.0
    dash: tuple[float, float] | None = None  # (dash, gap) in pt


Item = Text | Rect | Line


class Face:
    """Widths of one font (family + style) at any size, measured once per character.

    `freeze()` drops the document, which makes the face cheap to send to a worker
    process; from then on only characters measured before are accepted.
    """

    def __init__(self, pdf: FPDF, key: str, family: str, style: str = "") -> None:
        self.pdf: FPDF | None = pdf
        self.key, self.family, self.style = key, family, style
        self._w: dict[str, float] = {}  # width in mm at 1 pt

    def learn(self, text: str) -> None:
        pdf = self.pdf
        assert pdf is not None, f"face {self.key} is frozen"
        new = {ch for ch in text if ch not in self._w}
        if not new:
            return
        from fpdf.errors import FPDFUnicodeEncodingException

        family, style, size = pdf.font_family, pdf.font_style, pdf.font_size_pt
        pdf.set_font(self.family, self.style, 100)
        for ch in new:
            try:
                self._w[ch] = pdf.get_string_width(ch) / 100
            except FPDFUnicodeEncodingException:  # a core font: printed as "?"
                self._w[ch] = pdf.get_string_width("?") / 100
        pdf.set_font(family, style, size)

    def freeze(self) -> None:
        self.pdf = None

    def width(self, text: str, size: float) -> float:
        """Width in mm at size pt."""
        w = self._w
        try:
            return sum(w[ch] for ch in text) * size
        except KeyError:
            self.learn(text)
            return sum(w[ch] for ch in text) * size


class Canvas:
    """Collects drawing items; the methods mirror the three kinds of items."""

    def __init__(self) -> None:
        self.items: list[Item] = []

    def text(self, face: Face, size: float, x: float, y: float, s: str, gray: float = 0) -> None:
        """Text with its baseline at y."""
        if s:
            self.items.append(Text(face.key, size, x, y, s, gray))

    def centred(self, face: Face, size: float, x: float, w: float, y: float, s: str, gray=0.0):
        """Text centred in the span x .. x + w."""
        self.text(face, size, x + (w - face.width(s, size)) / 2, y, s, gray)

    def rect(self, x, y, w, h, *, fill=None, stroke=0.6, gray=0.0) -> None:
        self.items.append(Rect(x, y, w, h, fill, stroke, gray))

    def line(self, x1, y1, x2, y2, *, width=0.5, gray=0.0, dash=None) -> None:
        self.items.append(Line(x1, y1, x2, y2, width, gray, dash))


@dataclass
class Slot:
    """Where one per-page string goes: single line, shrunk (then cut) to fit its width."""

    face: Face
    size: float
    x: float
    y: float  # baseline
    w: float
    align: str = "L"
    min_scale: float = 0.7
    gray: float = 0.0

    def place(self, text: str) -> list[Text]:
        if not text:
            return []
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
        return [Text(face.key, size, x, self.y, text, self.gray)]


@dataclass
class UrlSlot:
    """A printed link, broken into centred lines at any character (fixed-pitch face)."""

    face: Face
    size: float
    x: float
    y: float  # first baseline
    w: float
    line_h: float
    max_lines: int

    def place(self, url: str) -> list[Text]:
        size = self.size
        # shrink when the url would need more lines than reserved
        while size > self.size * 0.6:
            per_line = max(1, int(self.w / self.face.width("M", size)))
            if math.ceil(len(url) / per_line) <= self.max_lines:
                break
            size -= 0.25
        per_line = max(1, int(self.w / self.face.width("M", size)))
        out = []
        for i in range(0, min(len(url), per_line * self.max_lines), per_line):
            part = url[i : i + per_line]
            x = self.x + (self.w - self.face.width(part, size)) / 2
            y = self.y + (i // per_line) * self.line_h
            out.append(Text(self.face.key, size, x, y, part))
        return out
