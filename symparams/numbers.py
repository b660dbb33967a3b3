"""Counts that are SymPy Integers and also behave like Python ints where Python expects one.

A count (a layer's ``params``, a network's ``total``) is a SymPy Integer, so it
takes part in SymPy arithmetic and printing like any other.  ``Count`` adds what
a plain Integer lacks: format specs (``f"{net.total:,}"`` → ``62,958``).  It is
built without SymPy's ``Integer`` constructor, which is cached and returns the
shared singletons ``S.Zero`` and ``S.One`` for 0 and 1, so that a layer without
parameters is a Count as well.  Arithmetic on Counts gives plain Integers.

>>> c = Count(62958)
>>> f"{c:,}", f"{c:>8}", int(c), c + 1, isinstance(c, Integer)
('62,958', '   62958', 62958, 62959, True)
>>> f"{Count(0):,}", Count(0) == 0, bool(Count(0))
('0', True, False)

Counts are also what a person reads, with thousands separators (``62,958``) in every
output: :func:`thousands` is the one helper that puts them in, and
:class:`ShownCount` marks a count inside a formula so that the printers group it too.
JSON, CSV and the ASCII faces keep plain digits.  Only SymPy below: every layer of the
package may import this module.
"""
from __future__ import annotations

from sympy import Add, Basic, Expr, Integer, UnevaluatedExpr, evaluate
from sympy.printing.precedence import PRECEDENCE

__all__ = ["Count", "as_count", "plain", "thousands", "ShownCount", "count_terms", "SEPARATORS"]


class Count(Integer):
    """A SymPy Integer that accepts Python's format specs."""

    __slots__ = ()

    def __new__(cls, value):
        obj = Expr.__new__(cls)
        obj.p = int(value)
        return obj

    def __format__(self, spec: str) -> str:
        return format(self.p, spec)

    def __bool__(self) -> bool:
        # Integer leaves truth to the S.Zero singleton; a Count(0) must be false too.
        return self.p != 0

    def plain(self) -> Integer:
        """The same number as SymPy's own Integer (``S.Zero`` and ``S.One`` for 0 and 1)."""
        return Integer(self.p)


# Arithmetic goes through SymPy's own Integer: SymPy drops a zero term or a unit
# factor only when it is the S.Zero / S.One singleton, so a Count(0) added to a
# symbol would otherwise stay in the sum as a visible '+ 0'.
def _through_plain(name: str):
    def method(self, *args):
        return getattr(Integer(self.p), name)(*args)
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
              "__rmod__", "__pow__", "__rpow__", "__neg__", "__abs__"):
    setattr(Count, _name, _through_plain(_name))


def plain(value: Expr) -> Expr:
    """``value`` for SymPy arithmetic: a Count as SymPy's own Integer, anything else as is."""
    return value.plain() if isinstance(value, Count) else value


def as_count(value: Expr) -> Expr:
    """A Count for an Integer; anything else (an expression) unchanged."""
    if isinstance(value, Integer) and not isinstance(value, Count):
        return Count(value)
    return value


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


class ShownCount(UnevaluatedExpr):
    """A count inside a formula shown to a person (the counts a total adds up, the
    constant of a count): the printers of :mod:`symparams.printing` group it in
    thousands in text, LaTeX and MathML, and print it plain in ASCII (which must parse
    back).  ``doit()`` unwraps it."""

    # A number: printed bare, never bracketed as "(13,842)" in a sum, which SymPy
    # would do for an unevaluated negative one; the sum's printer takes the sign out.
    precedence = PRECEDENCE["Atom"]

    def could_extract_minus_sign(self) -> bool:
        return self.args[0].could_extract_minus_sign()

    def __neg__(self):
        return ShownCount(-self.args[0])

    def __int__(self) -> int:
        return int(self.args[0])


def count_terms(expr: Basic) -> Basic:
    """A count with its whole-number terms marked as counts, so that ``476·k₁ + 59150``
    prints as ``476·k₁ + 59,150`` beside a total of 62,958; for display only."""
    if isinstance(expr, Add):
        with evaluate(False):
            return Add(*(ShownCount(a) if a.is_Integer else a for a in expr.args))
    return ShownCount(expr) if expr.is_Integer else expr
