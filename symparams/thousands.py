"""Counts as people read them: ``62,958``, the same in every output.

:func:`thousands` is the one helper that puts separators into a count, used by the
terminal, reports, sweeps, diffs, solve and homework sheets; :class:`Count` marks a
count inside an expression (the counts a total adds up, the constant of a count) so
that the printers of :mod:`symparams.printing` group it too.  JSON, CSV and the ASCII
faces keep plain digits.  Only SymPy below: every layer of the package may import it.
"""
from __future__ import annotations

from sympy import Add, Basic, UnevaluatedExpr, evaluate
from sympy.printing.precedence import PRECEDENCE

# Thousands separators of each format.  LaTeX needs the comma braced inside math, or it
# is set as punctuation with a space after it (62, 958).
SEPARATORS = {"text": ",", "latex": "{,}", "mathml": ",", "ascii": ""}


def thousands(value, sep: str = ",") -> str:
    """A count as a person reads it: 62958 → ``62,958`` (``sep`` between groups of three).

    The one place where counts get their separators: the terminal, the reports, sweeps,
    diffs, solve and homework sheets all call it.  Anything that is not a whole number
    (an expression) is returned as ``str``.  JSON and CSV keep plain integers.

    >>> thousands(62958), thousands(-1234567), thousands(850), thousands(62958, "{,}")
    ('62,958', '-1,234,567', '850', '62{,}958')
    """
    if getattr(value, "is_Integer", False) or (isinstance(value, int)
                                               and not isinstance(value, bool)):
        return f"{int(value):,}".replace(",", sep)
    return str(value)


class Count(UnevaluatedExpr):
    """A count shown to a person: grouped in thousands in text, LaTeX and MathML, plain in
    ASCII (which must parse back).  ``doit()`` unwraps it."""

    # A number: printed bare, never bracketed as "(13,842)" in a sum, which SymPy
    # would do for an unevaluated negative one; the sum's printer takes the sign out.
    precedence = PRECEDENCE["Atom"]

    def could_extract_minus_sign(self) -> bool:
        return self.args[0].could_extract_minus_sign()

    def __neg__(self):
        return Count(-self.args[0])

    def __int__(self) -> int:
        return int(self.args[0])


def count_terms(expr: Basic) -> Basic:
    """A count with its whole-number terms marked as counts, so that ``476·k₁ + 59150``
    prints as ``476·k₁ + 59,150`` beside a total of 62,958; for display only."""
    if isinstance(expr, Add):
        with evaluate(False):
            return Add(*(Count(a) if a.is_Integer else a for a in expr.args))
    return Count(expr) if expr.is_Integer else expr
