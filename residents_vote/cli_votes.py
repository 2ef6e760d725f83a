"""Commands for proposals, ballots, votes and results (CONTRACT.md)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the vote commands (filled in as the capabilities land)."""
