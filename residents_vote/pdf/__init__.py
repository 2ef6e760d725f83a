"""Printed documents: paper ballots and A4 notices, rendered from plain data.

Pure rendering: no database, no Flask request (the ballot's words are translated in
the current locale). Modules, each one idea:

- fonts     finding Noto Sans CJK SC and making an FPDF that uses it
- text      line breaking for Chinese text
- qr        QR codes as vector runs
- notice    `Notice`, the builder of notices, results and filing documents
- canvas    drawing items (text, rectangles, lines) in mm, and per-page slots
- words     the ballot's fixed words, through the translations
- ballot    the ballot: its data, its layout in steps, `render_ballots`, `ballot_geometry`
- geometry  `BallotGeometry`: where the ballot put its marks, QR code and boxes (scan reading)
- fastpath  the ballots' fast writer (fpdf2 internals, pinned version)
- public    the same ballots through fpdf2's public API (reference and fallback)

Importing the package imports no fpdf2: names are loaded on first use, and fpdf2
itself only when a document is made.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ballot import BallotCommon, BallotPage, ballot_geometry, render_ballots
    from .fonts import FAMILY, FontNotFoundError, find_cjk_fonts, new_pdf
    from .geometry import BallotGeometry
    from .notice import Notice
    from .qr import draw_qr, qr_runs
    from .text import wrap_text

_WHERE = {
    "BallotCommon": "ballot",
    "BallotPage": "ballot",
    "render_ballots": "ballot",
    "ballot_geometry": "ballot",
    "BallotGeometry": "geometry",
    "FAMILY": "fonts",
    "FontNotFoundError": "fonts",
    "find_cjk_fonts": "fonts",
    "new_pdf": "fonts",
    "Notice": "notice",
    "draw_qr": "qr",
    "qr_runs": "qr",
    "wrap_text": "text",
}
__all__ = [
    "FAMILY",
    "BallotCommon",
    "BallotGeometry",
    "BallotPage",
    "FontNotFoundError",
    "Notice",
    "ballot_geometry",
    "draw_qr",
    "find_cjk_fonts",
    "new_pdf",
    "qr_runs",
    "render_ballots",
    "wrap_text",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
