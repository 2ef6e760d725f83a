"""Errors a service raises to refuse a request; each carries the HTTP status it maps to.

Messages are English templates with named parameters. The CLI prints them as they are;
the web layer translates the template (it is a catalog msgid, marked with `N_`) and then
fills in the parameters.
"""

from __future__ import annotations


def N_(template: str) -> str:  # noqa: N802 - the conventional marker name for extraction
    """Mark a message template for the translation catalog without translating it here."""
    return template


class ServiceError(Exception):
    status = 400

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class Gone(ServiceError):
    status = 410


class Invalid(ServiceError):
    status = 422


class Problems(Invalid):
    """Several problems at once (e.g. every bad row of a register file)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("%(count)s problems found", count=len(problems))
        self.problems = problems


class TooManyAttempts(ServiceError):
    """Refused for now: too many failures at this target (CONTRACT.md rate limits)."""

    status = 429
