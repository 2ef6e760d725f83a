"""Masking of ballot tokens and receipt codes in log lines (standard library only).

A logged ballot link is a working ballot; a logged receipt code shows how a household
voted. Both are masked in the development server's log (residents_vote.web) and in
gunicorn's access log (gunicorn.conf.py), also when written percent-encoded: the server
decodes `/%62/%41…` or `?%63ode=…` into the same ballot or receipt lookup, so a mask that
only knows the plain spelling would leave them readable in the log.
"""

from __future__ import annotations

import re


def _spelled(text: str) -> str:
    """A pattern for `text` with every character plain or percent-encoded."""
    return "".join(f"(?:{re.escape(ch)}|%{ord(ch):02x})" for ch in text)


_SLASH = r"(?:/|%2f)"
_TOKEN_CHAR = r"(?:[a-z0-9_.~-]|%[0-9a-f]{2})"
# /b/<token>, with any of its characters (and the slashes) percent-encoded, slashes doubled.
TOKEN_IN_PATH = re.compile(rf"({_SLASH}+{_spelled('b')}{_SLASH}+){_TOKEN_CHAR}+", re.IGNORECASE)
# code=<receipt> in a query string: key and "=" possibly encoded; the value up to "&".
RECEIPT_IN_QUERY = re.compile(
    rf"((?:^|[?&;]|%26|%3f){_spelled('code')}(?:=|%3d))[^&\s\"']+", re.IGNORECASE
)


def mask(text: str) -> str:
    # Most log atoms (user agent, addresses, times, headers) hold neither: a plain ASCII
    # text without "%" can match only through "/b/" or "code=" (any case), so the two
    # regular expressions run only on texts that may hold one (gunicorn masks ~40 atoms
    # per request).
    if text.isascii() and "%" not in text:
        lowered = text.lower()
        if "/b/" not in lowered and "code=" not in lowered:
            return text
    return RECEIPT_IN_QUERY.sub(r"\1…", TOKEN_IN_PATH.sub(r"\1…", text))
