"""Public pages of a proposal /r/<public_id>: notices, results, receipts, objections."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)
