"""The ballots' fast writer: raw PDF operators assembled around fpdf2's font objects.

Why it exists: a vote prints one ballot per household, thousands of pages at once.
Laid out page by page through fpdf2's public API the ballots take about 70 s for
5,000 pages (bench/ballots.py, naive baseline); this writer takes about 2.5 s. The
static part of the page is written once, as a Form XObject every page draws; a page's
own stream holds only its household's strings and QR code; large jobs encode their
pages in a fork-based process pool while this process writes the font subsets.

Every use of fpdf2 internals in the package lives here, written against fpdf2
FPDF2_VERSION:
- `pdf.fonts[key].i` (resource name /F<i>) and `.subset.pick(codepoint)` (the glyph
  code of a character in the embedded subset); `.ttfont` (skip_bbox_recalc);
- `FPDF.single_resources_object`;
- the shape of fpdf2's output: a classic xref table and uncompressed object
  dictionaries, so its font objects can be copied verbatim (`_Carrier`).
tests/unit/test_pdf_fastpath.py checks the pin and compares this writer with the
public-API one (public.py: same text, QR decodes). With any other fpdf2 version,
`supported()` is false and render_ballots falls back to public.py: slower, never wrong.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import re
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .ballot import QR_MASK, BallotCommon, BallotLayout, BallotPage, prepare
from .canvas import PAGE_H, Face, Item, Line, Rect, Text
from .qr import qr_operators, qr_runs

if TYPE_CHECKING:
    from fpdf import FPDF

FPDF2_VERSION = "2.8.9"
K = 72 / 25.4  # mm -> pt
TEMPLATE = "/Tpl"  # name of the Form XObject that holds the static part of a ballot
SMALL_JOB = 200  # below this many pages one process is faster than forking


def supported() -> bool:
    """Whether the installed fpdf2 is the version this module was written against."""
    import fpdf

    return fpdf.__version__ == FPDF2_VERSION


def skip_bbox_recalc(pdf: FPDF) -> None:
    """Speed up output: fpdf2 saves each subset font through fontTools, which by default
    recomputes every glyph's bounding box (~0.3 s per CJK face); the stored boxes of the
    full font remain valid bounds for the subset. Harmless if the attribute is gone."""
    for font in pdf.fonts.values():
        tt = getattr(font, "ttfont", None)
        if tt is not None:
            tt.recalcBBoxes = False


# --------------------------------------------------------------------------- operators


class _Glyphs:
    """How one face's text is written: its resource name and cached glyph codes.

    Glyph codes come from the document's subset map, so every character must be
    picked before the fonts are written out; `freeze()` drops the font object (cheap to
    send to a worker) and from then on only characters seen before are accepted.
    """

    def __init__(self, pdf: FPDF, face: Face) -> None:
        font = pdf.fonts[face.family.lower() + face.style]
        self.font: object | None = font
        self.name = f"/F{font.i}"
        self.core = getattr(font, "type", "") == "core"
        self._hex: dict[str, str] = {}

    def learn(self, text: str) -> None:
        font = self.font
        assert font is not None, "glyphs are frozen"
        for ch in text:
            if ch in self._hex:
                continue
            if self.core:
                self._hex[ch] = ch if ord(ch) < 256 else "?"
            else:
                gid = font.subset.pick(ord(ch))  # type: ignore[attr-defined]
                self._hex[ch] = "" if gid is None else f"{gid:04X}"

    def freeze(self) -> None:
        self.font = None

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


def _f(v: float) -> str:
    return f"{v:.2f}"


class _Writer:
    """Turns drawing items (mm from the top left) into content-stream operators (pt)."""

    def __init__(self, glyphs: dict[str, _Glyphs]) -> None:
        self.glyphs = glyphs

    def ops(self, items: Sequence[Item]) -> str:
        return "".join(self._op(item) for item in items)

    def _op(self, item: Item) -> str:
        if isinstance(item, Text):
            g = self.glyphs[item.face]
            color = f"{item.gray:.2f} g " if item.gray else ""
            return (
                f"BT {color}{g.name} {item.size:.2f} Tf {_f(item.x * K)} "
                f"{_f((PAGE_H - item.y) * K)} Td {g.encode(item.text)} Tj ET"
                f"{' 0 g' if item.gray else ''}\n"
            )
        if isinstance(item, Rect):
            x, y, w, h, fill, stroke, gray = item
            op = f"{_f(x * K)} {_f((PAGE_H - y - h) * K)} {_f(w * K)} {_f(h * K)} re"
            if fill is not None and stroke is not None:
                return f"q {fill:.2f} g {gray:.2f} G {stroke:.2f} w {op} B Q\n"
            if fill is not None:
                return f"q {fill:.2f} g {op} f Q\n"
            return f"q {gray:.2f} G {stroke or 0.6:.2f} w {op} S Q\n"
        assert isinstance(item, Line)
        x1, y1, x2, y2, width, gray, dash = item
        d = f"[{dash[0]:g} {dash[1]:g}] 0 d " if dash else ""
        return (
            f"q {gray:.2f} G {width:.2f} w {d}{_f(x1 * K)} {_f((PAGE_H - y1) * K)} m "
            f"{_f(x2 * K)} {_f((PAGE_H - y2) * K)} l S Q\n"
        )


def _page_streams(
    layout: BallotLayout, writer: _Writer, pages: Sequence[BallotPage]
) -> list[bytes]:
    """Compressed content streams for these pages (runs in the worker processes)."""
    head = f"q {TEMPLATE} Do Q\n"
    (qx, qy), size = layout.qr_xy, layout.qr_size
    out = []
    for p in pages:
        qr = qr_operators(qr_runs(p.url, mask=QR_MASK), qx, qy, size, PAGE_H)
        out.append(zlib.compress((head + writer.ops(layout.page_items(p)) + qr).encode("latin-1")))
    return out


# --------------------------------------------------------------------------- the file


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


# --------------------------------------------------------------------------- rendering


def _setup(
    common: BallotCommon, pages: Sequence[BallotPage]
) -> tuple[FPDF, BallotLayout, _Writer, bytes]:
    """A fresh FPDF (fonts loaded), the frozen layout, its writer and the static template."""
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.single_resources_object = True  # one /Resources object, reused by every page
    pdf.allow_images_transparency = False
    pdf.alias_nb_pages(None)  # type: ignore[arg-type]
    layout = prepare(pdf, common, pages)
    glyphs = {face.key: _Glyphs(pdf, face) for face in layout.faces}

    def learn(face: Face, text: str) -> None:
        face.learn(text)
        glyphs[face.key].learn(text)

    layout.learn(pages, learn)
    writer = _Writer(glyphs)
    template = zlib.compress(writer.ops(layout.static).encode("latin-1"))
    for face in layout.faces:
        face.freeze()
        glyphs[face.key].freeze()
    return pdf, layout, writer, template


def _font_carrier(pdf: FPDF) -> _Carrier:
    """Let fpdf2 write the (subset) fonts into a one-page document we take apart."""
    skip_bbox_recalc(pdf)
    pdf.add_page()
    return _Carrier(bytes(pdf.output()))


def _cpus() -> int:
    """CPUs this process may run on (a container may allow fewer than the host has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def render(
    common: BallotCommon, pages: Sequence[BallotPage], *, workers: int | None = None
) -> bytes:
    """The ballots as PDF bytes, written by this module.

    workers=None uses every CPU for large jobs (>= SMALL_JOB pages) and one process for
    small ones; the worker pool is forked before the fonts are loaded so the workers
    stay small, and encodes QR codes and page streams while this process writes the
    font subsets.
    """
    if workers is None:
        workers = _cpus() if len(pages) >= SMALL_JOB else 1
    workers = max(1, min(workers, len(pages) // 50 or 1))
    if "fork" not in multiprocessing.get_all_start_methods():
        workers = 1
    if workers == 1:
        pdf, layout, writer, template = _setup(common, pages)
        streams = _page_streams(layout, writer, pages)
        media_box = f"[0 0 {pdf.w_pt:.2f} {pdf.h_pt:.2f}]"
        return _assemble(_font_carrier(pdf), template, streams, media_box)

    step = math.ceil(len(pages) / workers)
    chunks = [pages[i : i + step] for i in range(0, len(pages), step)]
    with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
        pdf, layout, writer, template = _setup(common, pages)
        pending = [pool.apply_async(_page_streams, (layout, writer, chunk)) for chunk in chunks]
        media_box = f"[0 0 {pdf.w_pt:.2f} {pdf.h_pt:.2f}]"
        carrier = _font_carrier(pdf)  # font subsetting overlaps with the workers
        streams = [s for job in pending for s in job.get()]
    return _assemble(carrier, template, streams, media_box)
