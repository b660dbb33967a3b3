"""Helpers every renderer shares: number formatting, escaping, and (from
:mod:`symparams.outfiles`) atomic file writes."""
from __future__ import annotations

import re

from sympy import Rational

from ..outfiles import atomic_write, write_files  # noqa: F401  (imported from here)
# Counts get their separators in one place, below the renderers, since explore/ (diff,
# solve, sweep) formats counts for people too.
from ..numbers import thousands  # noqa: F401  (re-exported for the renderers)


def percent(share: Rational | None, decimals: int = 1) -> str:
    """An exact share as a rounded percentage, e.g. 48120/62958 → ``76.4 %``.

    Rounded half up with integer arithmetic, so no float ever touches a count.
    """
    if share is None:
        return ""
    scale = 10 ** decimals
    scaled = Rational(share) * 100 * scale
    rounded = int((scaled * 2 + 1) // 2)
    if rounded == 0 and scaled > 0:
        # A layer with parameters never shows as 0.0 % of the total.
        smallest = f"0.{'0' * (decimals - 1)}1" if decimals else "1"
        return f"< {smallest} %"
    whole, frac = divmod(rounded, scale)
    return f"{whole}.{frac:0{decimals}d} %" if decimals else f"{whole} %"


class Raw(str):
    """Markup a renderer produced (math, figures); templates must not escape it again."""


# Characters that start Markdown syntax anywhere in a line (emphasis, links,
# code, math, tables); '<' and '&' become entities so no HTML gets through.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~^$])")


def md_escape(value) -> str:
    """Escape text from a spec for Markdown: it shows literally and does nothing.

    >>> md_escape("50% & $x_1$ <b>")
    '50% &amp; \\\\$x\\\\_1\\\\$ &lt;b&gt;'
    """
    if isinstance(value, Raw):
        return value
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


_TEX_REPLACEMENTS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%",
    "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", '"': r"\textquotedbl{}",
    "×": r"$\times$", "−": "-", "⌊": r"$\lfloor$", "⌋": r"$\rfloor$", "⌈": r"$\lceil$",
    "⌉": r"$\rceil$", "·": r"$\cdot$",
}
_TEX_SPECIAL = re.compile("|".join(re.escape(k) for k in _TEX_REPLACEMENTS))
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def tex_escape(value) -> str:
    """Escape text from a spec for LaTeX: every special character prints literally.

    >>> tex_escape(r"\\input{x} 50% #_")
    '\\\\textbackslash{}input\\\\{x\\\\} 50\\\\% \\\\#\\\\_'
    """
    if isinstance(value, Raw):
        return value
    text = " ".join(str(value).split())
    text = _TEX_SPECIAL.sub(lambda m: _TEX_REPLACEMENTS[m.group()], text)
    # Unicode subscript digits (m₁) have no glyph in the default fonts.
    return re.sub(r"([₀-₉]+)", lambda m: r"\textsubscript{%s}" % m.group(1).translate(_SUBSCRIPTS),
                  text)
