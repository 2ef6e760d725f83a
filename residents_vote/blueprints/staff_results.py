"""Staff pages for turnout follow-up and publication evidence (non-voters, postings)."""

from __future__ import annotations

from .staff import bp

__all__ = ["bp"]
