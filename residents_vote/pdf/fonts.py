"""Finding the Chinese font and making an FPDF document that uses it.

PDFs embed Noto Sans CJK SC as a subset, so they print correctly on machines without
Chinese fonts. `RV_CJK_FONT` (and optionally `RV_CJK_FONT_BOLD`) point to other files.
fpdf2 is imported only when a document is made (`new_pdf`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_ENV = "RV_CJK_FONT"
FONT_BOLD_ENV = "RV_CJK_FONT_BOLD"
FAMILY = "cjk"
MONO = "courier"  # fpdf2's core font, used for printed links

_FONT_DIRS = (
    "/usr/share/fonts/opentype/noto",  # Debian / Ubuntu fonts-noto-cjk
    "/usr/share/fonts/noto-cjk",  # Arch, Alpine
    "/usr/share/fonts/google-noto-cjk",  # Fedora
    "/usr/share/fonts/opentype/noto-cjk",
    "/usr/share/fonts/truetype/noto",
    "/usr/local/share/fonts",
    "/usr/share/fonts",
)
_REGULAR_NAMES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf")
_BOLD_NAMES = ("NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf", "NotoSansSC-Bold.otf")


class FontNotFoundError(RuntimeError):
    """No Chinese font could be found; PDFs would show empty boxes instead of text."""


@dataclass(frozen=True)
class FontFile:
    """A font file plus the face to use inside a collection (.ttc)."""

    path: Path
    index: int = 0


@cache
def _sc_face_index(path: Path) -> int:
    """Index of the Simplified Chinese face in a collection (face 0 of Noto CJK is JP)."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as coll:
        for i, face in enumerate(coll.fonts):
            name = face["name"].getBestFamilyName() or ""
            if name.endswith(" SC"):
                return i
    return 0


def _find(names: Sequence[str]) -> Path | None:
    for folder in _FONT_DIRS:
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                return path
    return None


@cache
def find_cjk_fonts() -> tuple[FontFile, FontFile | None]:
    """Locate regular (and, if present, bold) CJK fonts; `RV_CJK_FONT` overrides the search."""
    override = os.environ.get(FONT_ENV)
    if override:
        regular = Path(override)
        if not regular.is_file():
            raise FontNotFoundError(
                f"{FONT_ENV}={override} is not a font file; point it to e.g. "
                "NotoSansCJK-Regular.ttc (Debian: apt-get install fonts-noto-cjk)"
            )
        bold_env = os.environ.get(FONT_BOLD_ENV)
        bold: Path | None = Path(bold_env) if bold_env else None
        if bold is None and "Regular" in regular.name:
            bold = regular.with_name(regular.name.replace("Regular", "Bold"))
        if bold is not None and not bold.is_file():
            bold = None
    else:
        found = _find(_REGULAR_NAMES)
        if found is None:
            raise FontNotFoundError(
                "No Chinese font found (looked for NotoSansCJK-Regular.ttc in "
                f"{', '.join(_FONT_DIRS)}). Install fonts-noto-cjk "
                f"(apt-get install fonts-noto-cjk) or set {FONT_ENV} to a CJK font file."
            )
        regular, bold = found, _find(_BOLD_NAMES)
    reg = FontFile(regular, _sc_face_index(regular))
    return reg, (FontFile(bold, _sc_face_index(bold)) if bold else None)


def new_pdf(pdf: FPDF | None = None) -> FPDF:
    """An A4/mm FPDF with the CJK family registered as "cjk" ("" and "B" styles)."""
    if pdf is None:
        from fpdf import FPDF

        pdf = FPDF(unit="mm", format="A4")
    regular, bold = find_cjk_fonts()
    pdf.add_font(FAMILY, "", str(regular.path), collection_font_number=regular.index)
    b = bold or regular  # without a bold file, "bold" text falls back to the regular face
    pdf.add_font(FAMILY, "B", str(b.path), collection_font_number=b.index)
    pdf.set_font(FAMILY, "", 10.5)
    return pdf
