"""Line breaking for Chinese (and mixed) text, given any width function."""

from __future__ import annotations

import re
from collections.abc import Callable

# Characters that must not start a line (closing punctuation) or end one (opening).
_NO_START = set("²³，。、；：？！）》」』】〕〉”’…—·%,.;:!?)]}")
_NO_END = set("（《「『【〔〈“‘([{")
_TOKEN = re.compile(r"[\x21-\x7e]+|\s|.", re.S)


def wrap_text(text: str, width: Callable[[str], float], max_width: float) -> list[str]:
    """Break text into lines no wider than max_width.

    Chinese breaks between any two characters, runs of ASCII (words, numbers, URLs)
    only at spaces unless they are longer than a line, and closing punctuation never
    starts a line (the previous character moves down with it).
    """
    lines: list[str] = []
    for para in text.split("\n"):
        cur: list[str] = []
        cur_w = 0.0
        first = len(lines)  # leading spaces of a paragraph are kept (indent), of a line not
        for tok in _TOKEN.findall(para):
            if tok.isspace() and not cur and len(lines) > first:
                continue
            w = width(tok)
            if cur_w + w <= max_width + 1e-6:
                cur.append(tok)
                cur_w += w
                continue
            if tok.isspace():
                lines.append("".join(cur).rstrip())
                cur, cur_w = [], 0.0
                continue
            if len(tok) > 1 and w > max_width:  # over-long ASCII run: split it by characters
                for ch in tok:
                    cw = width(ch)
                    if cur and cur_w + cw > max_width + 1e-6:
                        lines.append("".join(cur).rstrip())
                        cur, cur_w = [], 0.0
                    cur.append(ch)
                    cur_w += cw
                continue
            carry: list[str] = []
            head = tok
            while head in _NO_START and len(cur) > 1 and not cur[-1].isspace():
                head = cur.pop()  # pull the previous character down with the punctuation
                carry.insert(0, head)
            while len(cur) > 1 and cur[-1] in _NO_END:
                carry.insert(0, cur.pop())
            if cur:
                lines.append("".join(cur).rstrip())
            cur = [*carry, tok]
            cur_w = sum(width(t) for t in cur)
        lines.append("".join(cur).rstrip())
    return lines
