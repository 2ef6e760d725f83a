"""The demo's open vote (extended as proposals and ballots land)."""

from __future__ import annotations


def open_demo_vote(session, community) -> list[str]:  # noqa: ANN001
    return []
