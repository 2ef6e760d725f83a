"""Receipt codes: easy to read aloud, hard to guess.

32 symbols without look-alikes (no 0/O, 1/I), 12 symbols = 60 random bits, shown in
groups of four. Matching ignores case, spaces and dashes.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 12


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch not in " -\t\u3000")


def display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def looks_valid(code: str) -> bool:
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)
