"""Text from a spec as LaTeX that prints literally and does nothing else.

:func:`~symparams.render.common.tex_escape` escapes LaTeX's special
characters; :func:`escape` adds what the LaTeX report needs on top (no
ligatures, characters the default OT1 fonts lack spelt with accents or as
their code point), and :func:`breakable` lets long names break in narrow
table columns.  The Jinja environment of :mod:`symparams.render.latex` runs
every value through :func:`escape`; the figures use it for their labels.
"""
from __future__ import annotations

import re
import unicodedata

from .common import Raw, tex_escape

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LIGATURES = re.compile(r"(?<=-)(?=-)|(?<=')(?=')|(?<=`)(?=`)|(?<=[!?])(?=`)")

# Characters the OT1 Computer Modern fonts have (or the kernel composes).  Nothing
# here may need the TS1 fonts, which exist only as bitmaps without cm-super.
_UNICODE_TEXT = {
    "ß": r"\ss{}", "æ": r"\ae{}", "Æ": r"\AE{}", "œ": r"\oe{}", "Œ": r"\OE{}", "ø": r"\o{}",
    "Ø": r"\O{}", "å": r"\aa{}", "Å": r"\AA{}", "ł": r"\l{}", "Ł": r"\L{}", "ı": r"\i{}",
    "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}",
    "\u00a0": "~", "°": r"$^\circ$", "µ": r"$\mu$", "±": r"$\pm$", "→": r"$\rightarrow$",
    "←": r"$\leftarrow$", "≤": r"$\le$", "≥": r"$\ge$", "≠": r"$\ne$", "≈": r"$\approx$",
    "•": r"$\bullet$", "∞": r"$\infty$", "÷": r"$\div$", "†": r"$\dagger$",
    "‡": r"$\ddagger$",
}
# Combining accents → the OT1 accent commands.
_ACCENTS = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0308": '"', "\u030a": "r",
    "\u0327": "c", "\u030c": "v", "\u0306": "u", "\u0304": "=", "\u0307": ".", "\u030b": "H",
}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lamda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega",
}


def _unicode_char(char: str) -> str:
    """One non-ASCII character as LaTeX the default fonts can print."""
    if char in _UNICODE_TEXT:
        return _UNICODE_TEXT[char]
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if base.isascii() and base.isalpha() and marks and all(m in _ACCENTS for m in marks):
        text = r"\i" if base == "i" else base
        for mark in marks:
            accent = _ACCENTS[mark]
            text = f"\\{accent}{{{text}}}"
        return text
    name = unicodedata.name(char, "")
    words = name.split()
    if len(words) == 4 and words[0] == "GREEK" and words[2] == "LETTER" \
            and words[3].lower() in _GREEK:
        letter = words[3].lower().replace("lamda", "lambda")
        if words[1] == "CAPITAL":
            capital = letter.capitalize()
            if capital in {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon",
                           "Phi", "Psi", "Omega"}:
                return f"$\\{capital}$"
        elif words[1] == "SMALL":
            return f"$\\{letter}$"
    if unicodedata.category(char).startswith("Z"):
        return " "
    return r"\spunknown{%04X}" % ord(char)


def escape(value) -> str:
    """Text from a spec as LaTeX that prints literally and does nothing else.

    :func:`tex_escape` does the escaping; on top, ligatures such as ``--`` are
    broken up so they print as typed, and characters the default fonts lack
    are spelt with accents or shown as their code point.

    >>> escape(r"a--b \\input{x}")
    'a-{}-b \\\\textbackslash{}input\\\\{x\\\\}'
    >>> escape("Übung ☃")
    '\\\\"{U}bung \\\\spunknown{2603}'
    """
    if value is None:
        return ""
    if isinstance(value, Raw):
        return value
    text = unicodedata.normalize("NFC", tex_escape(value))
    text = _LIGATURES.sub("{}", text)
    if not text.isascii() or _CONTROL.search(text):
        text = "".join(c if c.isascii() and c.isprintable() else _unicode_char(c)
                       for c in text)
    return text


def breakable(value, chunk: int = 8) -> Raw:
    """Escaped text that may break inside long words (names in narrow columns).

    >>> breakable("input/layer_with_a_long_name")
    'input/\\\\hspace{0pt}layer\\\\_\\\\hspace{0pt}with\\\\_\\\\hspace{0pt}a\\\\_\\\\hspace{0pt}long\\\\_\\\\hspace{0pt}name'
    """
    if isinstance(value, Raw):
        return value
    words = []
    for word in str(value).split():
        # break after punctuation and inside long runs of letters or digits
        pieces = re.findall(r"[A-Za-z0-9]{1,%d}|[^A-Za-z0-9]+" % chunk, word)
        parts, current = [], ""
        for piece in pieces:
            current += piece
            if not piece[-1].isalnum() or len(piece) == chunk:
                parts.append(current)
                current = ""
        if current:
            parts.append(current)
        words.append(r"\hspace{0pt}".join(escape(p) for p in parts))
    return Raw(" ".join(words))
