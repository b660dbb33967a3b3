"""How the count grows with a size: polynomial degree and leading term.

The total is written with the chosen sizes as symbols (an input size such as
``H`` of a numeric input is freed as in :mod:`symparams.explore.solve`); every
other size keeps its value, or stays a symbol and then appears in the
coefficients.  Floors and ceilings only shift a size by less than 1, so for
large sizes the count behaves like the same expression with ⌊x⌋ and ⌈x⌉
replaced by x: that *asymptotic form* is a polynomial (or a ratio of
polynomials) whose highest-degree part is the leading term.

>>> from symparams import load
>>> g = load("lenet").growth("H")
>>> g.degree, g.leading_term
(1, 2400*H)
>>> print(g)
lenet: the total grows like 2400·H (degree 1 in H)
  exact:      9600·⌊⌊H/2⌋/2⌋ - 13842
  asymptotic: 2400·H - 13842  (⌊x⌋ and ⌈x⌉ replaced by x)
  by layer:   FC3 2400·H (degree 1); not growing: CONV1, CONV2, FC4, SOFTMAX
>>> load("lenet").growth("H", "W").leading_term     # the FC layer after the flatten
120*H*W
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sympy import (Add, Expr, Integer, Max, Min, Poly, Symbol, ceiling, expand, factor, floor,
                   fraction)
from sympy import together

from sympy.polys.polyerrors import PolynomialError

from ..errors import SymparamsError
from ..printing import ascii_plain, latex_plain, unicode_plain
from .solve import resolve

if TYPE_CHECKING:  # imports stay one way: network.py imports this module lazily
    from ..network import Network


def asymptotic(expr: Expr) -> Expr:
    """The expression with every floor and ceiling dropped: ⌊x⌋, ⌈x⌉ → x.

    >>> from symparams.spec import size_symbol
    >>> H = size_symbol("H")
    >>> asymptotic(floor(floor(H / 2) / 2) * 16 - 3)
    4*H - 3
    """
    dropped = expr.replace(lambda e: isinstance(e, (floor, ceiling)), lambda e: e.args[0])
    return expand(dropped)


def _degree_and_leading(expr: Expr, symbols: tuple[Symbol, ...]) -> tuple[Any, Expr]:
    """Total degree in ``symbols`` and the part of that degree (a ratio: difference of
    the degrees of numerator and denominator, ratio of their leading parts)."""
    if not expr.free_symbols & set(symbols):
        return 0, expr
    if expr.has(Min, Max):
        raise SymparamsError("cannot tell the growth of a count that uses min or max of "
                             "the sizes")
    numerator, denominator = fraction(together(expr))
    try:
        top, bottom = Poly(expand(numerator), *symbols), Poly(expand(denominator), *symbols)
    except PolynomialError:  # not a polynomial in the sizes (such as 2^H)
        raise SymparamsError(f"the count is not a polynomial or ratio of polynomials in "
                             f"{', '.join(s.name for s in symbols)}: "
                             f"{unicode_plain(expr)}") from None

    def leading(poly: Poly) -> tuple[int, Expr]:
        degree = poly.total_degree()
        # Coefficients may hold other sizes still symbolic: factored, they read better.
        part = Add(*(factor(coeff) * _monomial(symbols, monom) for monom, coeff in poly.terms()
                     if sum(monom) == degree))
        return degree, part

    d_top, lead_top = leading(top)
    d_bottom, lead_bottom = leading(bottom)
    return d_top - d_bottom, lead_top / lead_bottom


def _monomial(symbols, powers) -> Expr:
    result = Integer(1)
    for s, p in zip(symbols, powers):
        result *= s ** p
    return result


@dataclass(frozen=True)
class LayerGrowth:
    name: str
    degree: Any
    leading_term: Expr


@dataclass(frozen=True)
class Growth:
    """How a network's total grows with some of its sizes.

    ``degree`` is the total degree in those sizes, ``leading_term`` the part of
    that degree (coefficients may hold other sizes still symbolic), ``exact`` the
    total itself and ``asymptotic`` the total with floors and ceilings dropped.
    ``layers`` says the same for every layer whose count depends on the sizes.
    """
    network: str
    symbols: tuple[Symbol, ...]
    targets: tuple[str, ...]
    exact: Expr
    asymptotic: Expr
    degree: Any
    leading_term: Expr
    layers: tuple[LayerGrowth, ...]
    constant_layers: tuple[str, ...]

    @property
    def names(self) -> str:
        return ", ".join(unicode_plain(s) for s in self.symbols)

    def summary(self) -> str:
        if self.degree == 0:
            return f"{self.network}: the total does not grow with {self.names}"
        return (f"{self.network}: the total grows like {unicode_plain(self.leading_term)} "
                f"(degree {self.degree} in {self.names})")

    def __str__(self) -> str:
        lines = [self.summary(), f"  exact:      {unicode_plain(self.exact)}"]
        if self.asymptotic != self.exact:
            lines.append(f"  asymptotic: {unicode_plain(self.asymptotic)}  "
                         f"(⌊x⌋ and ⌈x⌉ replaced by x)")
        parts = [f"{g.name} {unicode_plain(g.leading_term)} (degree {g.degree})"
                 for g in self.layers]
        if self.constant_layers:
            parts.append(f"not growing: {', '.join(self.constant_layers)}")
        if parts:
            lines.append("  by layer:   " + "; ".join(parts))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Growth of {self.network} in {', '.join(s.name for s in self.symbols)}: "
                f"degree {self.degree}, leading term {ascii_plain(self.leading_term)}>")

    def _repr_latex_(self) -> str:
        return (f"$\\text{{total}} \\sim {latex_plain(self.leading_term)}"
                f"\\quad(\\text{{degree }} {self.degree})$")

    def to_dict(self) -> dict[str, Any]:
        return {"network": self.network, "symbols": [s.name for s in self.symbols],
                "degree": int(self.degree),
                "leading_term": ascii_plain(self.leading_term),
                "exact": ascii_plain(self.exact), "asymptotic": ascii_plain(self.asymptotic),
                "layers": [{"name": g.name, "degree": int(g.degree),
                            "leading_term": ascii_plain(g.leading_term)} for g in self.layers]}


def growth(net: "Network", *targets: str) -> Growth:
    """How the total of ``net`` grows with the sizes ``targets`` (see the module)."""
    if not targets:
        raise SymparamsError("expected at least one size such as H, INPUT.height or k_1")
    current = net
    symbols: list[Symbol] = []
    for target in targets:
        unknown = resolve(current, target)
        if unknown.symbol in symbols:
            raise SymparamsError(f"{target} is the same size as an earlier one", field=target)
        symbols.append(unknown.symbol)
        current = unknown.network
    symbols_t = tuple(symbols)
    exact = current.total
    asym = asymptotic(exact)
    degree, lead = _degree_and_leading(asym, symbols_t)
    layers, constant = [], []
    for info in current.layers[1:]:
        if not info.layer.has_params:
            continue
        if info.params.free_symbols & set(symbols_t):
            d, l = _degree_and_leading(asymptotic(info.params), symbols_t)
            layers.append(LayerGrowth(info.name, d, l))
        else:
            constant.append(info.name)
    return Growth(current.name, symbols_t, tuple(targets), exact, asym, degree, lead,
                  tuple(layers), tuple(constant))
