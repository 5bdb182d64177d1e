"""Text from outside (ids, cells, data files, paths) is plain text: which characters could hide
or change what a person reads, declared once for the data check that refuses them and for the
views that show them escaped."""

from __future__ import annotations

import re

# Invisible characters: bidi overrides and isolates reorder what a terminal shows, a zero-width
# space makes `P2\u200b` look like `P2`, line and paragraph separators break a line unseen.
INVISIBLE = (0xAD, 0x61C, 0x180E, *range(0x200B, 0x2010), *range(0x2028, 0x202F),
             *range(0x2060, 0x206A), 0xFEFF)  # fmt: skip
# C0 and C1 control characters: they could colour, move the cursor or erase a line of a
# clinical answer.
CONTROL = (*range(0x00, 0x20), *range(0x7F, 0xA0))

# In a data file none of them belongs, line feed and tab included (a line feed would end the SQL
# comment a release is printed in).
HIDDEN = re.compile("[" + "".join(re.escape(chr(c)) for c in (*CONTROL, *INVISIBLE)) + "]")

# Shown escaped (ESC as \x1b, U+200B as \u200b); tab, line feed and carriage return are kept,
# as a message's own layout.
_SHOWN = {c: f"\\x{c:02x}" for c in CONTROL if c not in (0x09, 0x0A, 0x0D)}
_SHOWN |= {c: f"\\u{c:04x}" for c in INVISIBLE}


def web_address(url: object) -> bool:
    """Whether an address may be a link: http(s) only, never javascript:, file: or data:."""
    return isinstance(url, str) and url.startswith(("https://", "http://"))


def visible(text: str) -> str:
    """Outside text made safe to print: control and invisible characters shown escaped."""
    return text.translate(_SHOWN)


_BREAKS = {0x0A: "\\n", 0x0D: "\\r"}


def one_line(text: str) -> str:
    """visible, and a line break from outside shown escaped too: an error is one line, also
    when the value it quotes held one (`got '1\\n2'`)."""
    return visible(text).translate(_BREAKS)


def utf8(text: str) -> str:
    """`text` if it can be written as UTF-8; else with each lone surrogate (which JSON allows
    in a string, as in {"id": "\\ud800"}, and UTF-8 does not) written as its escape, `\\ud800`."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
