"""Scanned pages as grayscale images: PDF pages through pypdfium2, photos through Pillow.

A scanner's PDF holds one image per page; the page is rendered at that image's own
resolution (clamped to 150-600 dpi, and to RENDER_MAX_DPI for the work itself: the
reader needs ~6 pixels per millimetre, more only costs time). A PDF without images
(e.g. the printed ballot file itself) is rendered at DEFAULT_DPI. Photos are turned
upright by their EXIF orientation; very large ones are shrunk.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

MIN_DPI, MAX_DPI = 150, 600
RENDER_MAX_DPI = 300
DEFAULT_DPI = 200
MAX_SIDE = 4300  # longer photos are shrunk by an integer factor (12 MP: 4032 px)
EXIF_ORIENTATION = 0x0112


class UnreadableFile(ValueError):
    """Neither a PDF nor an image Pillow can open."""


@dataclass(frozen=True)
class LoadedPage:
    number: int  # 1-based page of the file (1 for a photo)
    image: np.ndarray  # uint8 grayscale, upright as stored
    dpi: float | None  # pixels per inch when known (PDF scans, images with dpi info)


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF")


def _scan_dpi(page) -> float | None:
    """Resolution of the largest image on the page, in pixels per inch of the page."""
    import pypdfium2.raw as pdfium_c

    width_pt = page.get_width()
    best = None
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        try:
            px_w, px_h = obj.get_px_size()
            left, bottom, right, top = obj.get_bounds()
        except Exception:  # noqa: BLE001 - a broken image object just gives no hint
            continue
        w_pt = max(right - left, top - bottom)
        if w_pt < width_pt * 0.5:
            continue  # a logo, not the scanned page
        dpi = max(px_w, px_h) / (w_pt / 72)
        if best is None or dpi > best:
            best = dpi
    return best


def pdf_pages(data: bytes) -> list[LoadedPage]:
    return list(iter_pdf_pages(data))


def _open_pdf(data: bytes):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableFile(f"not a readable PDF: {exc}") from exc


def iter_pdf_pages(data: bytes) -> Iterator[LoadedPage]:
    """The pages one at a time: a 100-page 300 dpi scan never sits in memory whole."""
    doc = _open_pdf(data)
    try:
        for i in range(len(doc)):
            page = doc[i]
            dpi = _scan_dpi(page)
            dpi = DEFAULT_DPI if dpi is None else min(max(dpi, MIN_DPI), MAX_DPI)
            work = min(dpi, RENDER_MAX_DPI)
            bitmap = page.render(scale=work / 72, grayscale=True)
            arr = bitmap.to_numpy()
            if arr.ndim == 3:  # some builds give BGR(x) even when asked for gray
                import cv2

                arr = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2GRAY)
            page.close()
            yield LoadedPage(i + 1, np.ascontiguousarray(arr), work)
    finally:
        doc.close()


def image_page(data: bytes) -> LoadedPage:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        if img.format == "JPEG":
            img.draft("L", img.size)  # decode the luminance only
        if img.getexif().get(EXIF_ORIENTATION, 1) != 1:
            img = ImageOps.exif_transpose(img)
        dpi = img.info.get("dpi")
        img = img.convert("L") if img.mode != "L" else img
        arr = np.asarray(img)
    except (UnidentifiedImageError, OSError) as exc:
        raise UnreadableFile(f"not a PDF or an image: {exc}") from exc
    factor = math.ceil(max(arr.shape) / MAX_SIDE)
    if factor > 1:  # an integer factor keeps INTER_AREA a fast block average
        import cv2

        arr = cv2.resize(arr, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    known = None
    if dpi and dpi[0] and float(dpi[0]) > 50:
        known = float(dpi[0]) / factor
    return LoadedPage(1, np.ascontiguousarray(arr), known)


def load_pages(data: bytes) -> list[LoadedPage]:
    """Every page of a PDF, or the one page of a JPEG/PNG photo."""
    if is_pdf(data):
        return pdf_pages(data)
    return [image_page(data)]


def count_pages(data: bytes) -> int:
    """How many pages a file holds, without rendering them; UnreadableFile as load_pages."""
    if is_pdf(data):
        doc = _open_pdf(data)
        try:
            return len(doc)
        finally:
            doc.close()
    from PIL import Image, UnidentifiedImageError

    try:
        Image.open(io.BytesIO(data)).verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise UnreadableFile(f"not a PDF or an image: {exc}") from exc
    return 1


def iter_pages(data: bytes) -> Iterator[LoadedPage]:
    """load_pages one page at a time."""
    if is_pdf(data):
        yield from iter_pdf_pages(data)
    else:
        yield image_page(data)
