"""residents_vote: consent votes for old residential community renovation.

Importing the package imports nothing else: the pure domain (`residents_vote.domain`) runs
without Flask or SQLAlchemy, and `create_app` loads the web application only when asked.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from .factory import create_app

        return create_app
    raise AttributeError(f"module 'residents_vote' has no attribute {name!r}")
