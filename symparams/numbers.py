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
"""
from __future__ import annotations

from sympy import Expr, Integer

__all__ = ["Count", "as_count", "plain"]


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
