"""The resident's ballot page /b/<token>: no login, no JavaScript."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ballot", __name__)
