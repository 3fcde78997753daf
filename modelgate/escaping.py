"""Making untrusted text (anything from a manifest or a file name) safe for each medium."""

from __future__ import annotations

import re
import unicodedata

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# A runner parses "::cmd ..." and "##[cmd]" as workflow commands; a zero-width space after
# every ':' that precedes another ':' (and inside '##[') breaks each token, overlapping
# ones included (":::"), without changing what a reader sees.
_COMMAND = re.compile(r":(?=:)|#(?=#\[)")


def _visible(char: str) -> str:
    if char in _BIDI or unicodedata.category(char) in ("Cc", "Cs"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def terminal(text: str) -> str:
    """One line of plain text: control and bidi characters shown as escapes, and no
    workflow-command token left intact (CI logs are terminals too)."""
    shown = "".join(_visible(c) if not c.isprintable() or c in _BIDI else c for c in text)
    return _COMMAND.sub(lambda m: m.group(0) + "\u200b", shown)
