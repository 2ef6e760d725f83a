"""The page decision of CONTRACT.md "Paper ballot scans": `ok` or `review` with reasons.

The image side (reader.PageReading.reasons) knows whether the QR code could be read,
whether every answer is certain and whether the owner signed; the service that knows
the database adds three facts as plain booleans: the QR names a ballot of another
proposal (or no ballot at all), the ballot was revoked, the household already voted.
A page is `ok` only when there is no reason at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CODES = (
    "qr-unreadable",
    "other-proposal",
    "revoked",
    "already-voted",
    "blank",
    "multiple",
    "unclear",
    "unsigned",
)


@dataclass(frozen=True)
class Decision:
    status: str  # "ok" | "review"
    reasons: tuple[str, ...]  # CODES, in CODES order; empty when ok


def decide(
    image_reasons: Iterable[str],
    *,
    other_proposal: bool = False,
    revoked: bool = False,
    already_voted: bool = False,
) -> Decision:
    found = set(image_reasons)
    unknown = found - set(CODES)
    if unknown:
        raise ValueError(f"unknown reason codes: {sorted(unknown)}")
    if other_proposal:
        found.add("other-proposal")
    if revoked:
        found.add("revoked")
    if already_voted:
        found.add("already-voted")
    reasons = tuple(c for c in CODES if c in found)
    return Decision("review" if reasons else "ok", reasons)
