"""Entry point for `flask --app app` and gunicorn (`app:create_app()`)."""

from residents_vote import create_app

__all__ = ["create_app"]
