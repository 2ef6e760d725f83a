"""Staff page listing a proposal's audit events."""

from __future__ import annotations

from .staff import bp

__all__ = ["bp"]
