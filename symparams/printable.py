"""Text that is safe to show on one line: unprintables escaped, long values shortened.

A name or key from a spec may hold a newline (which would forge a second line
of output), an ESC sequence (which would drive the terminal) or a lone
surrogate (which cannot be encoded, so writing it fails).  Every error message
and the terminal table pass what they echo through :func:`printable`;
messages shorten echoed values with :func:`echo`.

This module imports nothing from symparams, so any module may use it.
"""
from __future__ import annotations

import reprlib

MESSAGE_LIMIT = 300   # an error line is at most about this long
VALUE_LIMIT = 60      # an echoed value inside it


def _escape(char: str) -> str:
    code = ord(char)
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: object) -> str:
    """``text`` with every character that is not printable escaped as in Python.

    >>> printable("a\\nb\\x1b[31m\\udc80")
    'a\\\\nb\\\\x1b[31m\\\\udc80'
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def shorten(text: object, limit: int = VALUE_LIMIT) -> str:
    """Printable ``text`` of at most ``limit`` characters, its middle elided.

    >>> shorten("x" * 100, 11)
    'xxxxx…xxxxx'
    """
    text = printable(text)
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2 + (limit - 1) % 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head):]}"


class _BoundedRepr(reprlib.Repr):
    """repr with bounded work: nested levels, items and long numbers are cut."""

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxlist, self.maxtuple, self.maxdict = 3, 6, 6, 4
        self.maxstring, self.maxlong, self.maxother = VALUE_LIMIT, 40, VALUE_LIMIT

    def repr_int(self, x, level):
        # repr() of an int over 4,300 digits raises; a size that long is only its length.
        if x.bit_length() > 4000:
            return f"<a number of about {int(x.bit_length() * 0.30103)} digits>"
        return super().repr_int(x, level)


_repr = _BoundedRepr()


def echo(value: object, limit: int = VALUE_LIMIT) -> str:
    """A value from a spec or the command line as an error message shows it: its
    repr, bounded in work and length, with unprintables escaped.

    >>> echo("smae")
    "'smae'"
    >>> echo(list(range(100)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    try:
        text = _repr.repr(value)
    except Exception:  # a hostile object's repr; the type is enough to say what it was
        text = f"<{type(value).__name__}>"
    return shorten(text, limit)
