"""Reading returned paper ballots (services layer: no database, no Flask).

`load_pages` turns a PDF or a photo into page images, `read_page` reads one page
against the geometry the ballot was printed with (pdf.ballot_geometry),
`decide` combines the image-side reasons with the database facts.
"""

from __future__ import annotations

from .decision import CODES, Decision, decide
from .load import LoadedPage, UnreadableFile, count_pages, iter_pages, load_pages
from .reader import BoxMeasure, PageReading, QuestionReading, read_page

__all__ = [
    "CODES",
    "BoxMeasure",
    "Decision",
    "LoadedPage",
    "PageReading",
    "QuestionReading",
    "UnreadableFile",
    "count_pages",
    "decide",
    "iter_pages",
    "load_pages",
    "read_document",
    "read_page",
]


def read_document(data: bytes, geometry, *, crops: bool = True) -> list[PageReading]:
    """Every page of a PDF (or the one photo) read against `geometry`."""
    return [read_page(p.image, geometry, crops=crops) for p in load_pages(data)]
