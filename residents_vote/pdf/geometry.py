"""Where the printed ballot put what a scan reader looks for, in millimetres.

The ballot layout (ballot.py) records this while it lays the page out, so
a reader never guesses positions: corner marks, the QR code, every answer box and
the signature areas. Coordinates are millimetres from the page's top-left corner,
y downwards (the way the layout is written). Plain data, JSON-friendly
(`to_dict` / `from_dict`), so it can be stored beside a print job.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ANSWERS = ("agree", "oppose", "abstain")  # column order of the answer table: 同意 反对 弃权


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def x1(self) -> float:
        return self.x + self.w

    @property
    def y1(self) -> float:
        return self.y + self.h

    def grown(self, d: float) -> Rect:
        """The rect with d added on every side (d < 0 shrinks it)."""
        return Rect(self.x - d, self.y - d, self.w + 2 * d, self.h + 2 * d)

    def moved(self, dx: float, dy: float) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def corners(self) -> tuple[tuple[float, float], ...]:
        """Top-left, top-right, bottom-right, bottom-left."""
        return ((self.x, self.y), (self.x1, self.y), (self.x1, self.y1), (self.x, self.y1))


@dataclass(frozen=True)
class QuestionBoxes:
    """One row of the answer table: its cell band and the three printed boxes."""

    number: int  # 1-based, as printed in the 序号 column
    row: Rect  # the whole table row
    agree: Rect
    oppose: Rect
    abstain: Rect

    def boxes(self) -> tuple[tuple[str, Rect], ...]:
        return (("agree", self.agree), ("oppose", self.oppose), ("abstain", self.abstain))


@dataclass(frozen=True)
class BallotGeometry:
    page_w: float
    page_h: float
    marks: tuple[Rect, ...]  # solid corner marks: top-left, top-right, bottom-right, bottom-left
    qr: Rect  # the QR area, quiet zone included
    qr_symbol: Rect  # the dark symbol itself (finder patterns' outer corners)
    questions: tuple[QuestionBoxes, ...]
    box_stroke: float  # line width of an answer box's frame, mm
    signature: Rect  # the owner's writing area above the line after 业主签名：
    signature_line: Rect  # the printed line itself (height 0)
    proxy_signature: Rect  # the writing area above the line after 代理人签名：
    cut_y: float  # the dashed cut line; the stub below it stays with the owner

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> BallotGeometry:
        def rect(d: dict) -> Rect:
            return Rect(d["x"], d["y"], d["w"], d["h"])

        return cls(
            page_w=data["page_w"],
            page_h=data["page_h"],
            marks=tuple(rect(m) for m in data["marks"]),
            qr=rect(data["qr"]),
            qr_symbol=rect(data["qr_symbol"]),
            questions=tuple(
                QuestionBoxes(
                    number=q["number"],
                    row=rect(q["row"]),
                    agree=rect(q["agree"]),
                    oppose=rect(q["oppose"]),
                    abstain=rect(q["abstain"]),
                )
                for q in data["questions"]
            ),
            box_stroke=data["box_stroke"],
            signature=rect(data["signature"]),
            signature_line=rect(data["signature_line"]),
            proxy_signature=rect(data["proxy_signature"]),
            cut_y=data["cut_y"],
        )


MARK_MM = 6.0  # side of a corner mark
MARK_INSET = 5.0  # distance of a mark from the page's side edges and top edge
MARK_ABOVE_CUT = 5.0  # gap between a bottom mark and the cut line (the stub is cut off)


class GeometryRecorder:
    """Collects the geometry while the ballot layout is drawn (see ballot.BallotLayout).

    Box rects are the path of the printed square (the middle of its stroke). The layout
    draws the corner marks at `marks` as filled rectangles, so every writer prints them.
    """

    def __init__(self, page_w: float, page_h: float, cut_y: float) -> None:
        self.page_w = page_w
        self.page_h = page_h
        self.cut_y = cut_y
        m, i = MARK_MM, MARK_INSET
        bottom = cut_y - MARK_ABOVE_CUT - m
        self.marks = (
            Rect(i, i, m, m),
            Rect(page_w - i - m, i, m, m),
            Rect(page_w - i - m, bottom, m, m),
            Rect(i, bottom, m, m),
        )
        self._rows: dict[int, Rect] = {}
        self._boxes: dict[tuple[int, int], Rect] = {}
        self._stroke = 0.0
        self._qr: Rect | None = None
        self._symbol: Rect | None = None
        self._sig: tuple[Rect, Rect] | None = None
        self._proxy: Rect | None = None

    def qr(self, x: float, y: float, size: float, modules: int, quiet_zone: int = 4) -> None:
        quiet = size * quiet_zone / (modules + 2 * quiet_zone)
        self._qr = Rect(x, y, size, size)
        self._symbol = Rect(x + quiet, y + quiet, size - 2 * quiet, size - 2 * quiet)

    def row(self, number: int, x: float, y: float, w: float, h: float) -> None:
        self._rows[number] = Rect(x, y, w, h)

    def box(self, number: int, column: int, x: float, y: float, size: float, stroke: float) -> None:
        self._boxes[(number, column)] = Rect(x, y, size, size)
        self._stroke = stroke

    def signature(self, x0: float, x1: float, top: float, line_y: float) -> None:
        self._sig = (
            Rect(x0 + 0.5, top + 0.8, x1 - x0 - 1.0, line_y - top - 0.8),
            Rect(x0, line_y, x1 - x0, 0.0),
        )

    def proxy_signature(self, x0: float, x1: float, top: float, line_y: float) -> None:
        self._proxy = Rect(x0 + 0.5, top, x1 - x0 - 1.0, line_y - top)

    def result(self) -> BallotGeometry:
        assert self._qr and self._symbol and self._sig and self._proxy
        questions = tuple(
            QuestionBoxes(
                number=n,
                row=row,
                agree=self._boxes[(n, 0)],
                oppose=self._boxes[(n, 1)],
                abstain=self._boxes[(n, 2)],
            )
            for n, row in sorted(self._rows.items())
        )
        return BallotGeometry(
            page_w=self.page_w,
            page_h=self.page_h,
            marks=self.marks,
            qr=self._qr,
            qr_symbol=self._symbol,
            questions=questions,
            box_stroke=self._stroke,
            signature=self._sig[0],
            signature_line=self._sig[1],
            proxy_signature=self._proxy,
            cut_y=self.cut_y,
        )
