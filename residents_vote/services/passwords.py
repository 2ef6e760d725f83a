"""The password policy (CONTRACT.md `user create`): at least 10 characters, not the user
name, not among the 10,000 most common passwords.

The list ships as residents_vote/data/common-passwords.txt (the first 10,000 lines of
Django's common-passwords list, BSD licence; source and licence in its header).
"""

from __future__ import annotations

import functools
from pathlib import Path

from .errors import N_

MIN_LENGTH = 10
COMMON_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@functools.lru_cache(maxsize=1)
def common() -> frozenset[str]:
    """The common passwords, lower case; the comment block at the top is skipped."""
    entries: list[str] = []
    header = True
    for line in COMMON_FILE.read_text(encoding="utf-8").splitlines():
        if header and line.startswith("#"):
            continue
        header = False
        if line.strip():
            entries.append(line.strip())
    return frozenset(entries)


def problem(password: str, username: str) -> str | None:
    """The message id saying what is wrong with a new password, or None if it may be used."""
    if len(password) < MIN_LENGTH:
        return N_("Password must be at least 10 characters")
    folded = password.strip().lower()
    if folded == username.strip().lower():
        return N_("Password must not be the user name")
    if folded in common():
        return N_("Password is too common: choose one that is not among the 10,000 most "
                  "common passwords")
    return None
