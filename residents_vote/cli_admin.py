"""Operational commands: backup, privacy purge, filing."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the operational commands."""
