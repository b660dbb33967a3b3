"""Printers that show a formula the way the textbook writes it.

SymPy's own printers sort the terms and factors of a product into canonical
order (``k(dmn + 1)``) and drop parentheses that are redundant for the value but
carry the teaching: the document writes ``((m × n × d) + 1) × k``.  The
*written* printers here print unevaluated ``Add``/``Mul`` nodes in the order
their arguments were given, print :class:`Grouped` sub-expressions in
parentheses, and hand values that were put into a formula (:class:`Inserted`)
to the ordinary printer of the same format.

Evaluated expressions (results, shapes, totals) go through the *plain*
printers, which differ from SymPy's only in cosmetic settings.
"""
from __future__ import annotations

import re

from sympy import Add, Basic, Function, Mul, UnevaluatedExpr
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

# Counts for people (thousands separators); re-exported for callers of this module.
from .thousands import SEPARATORS, Count, count_terms, thousands  # noqa: F401


class Grouped(UnevaluatedExpr):
    """A sub-expression the textbook puts in parentheses, e.g. ``(m × n × d)``.

    ``doit()`` unwraps it, so the value is unaffected.
    """


class Inserted(UnevaluatedExpr):
    """A value put in place of a letter; printed in the format's plain style."""


class Ratio(Function):
    """``a / b`` as written, e.g. ``(62958 − 59150) / 476``; ``doit()`` divides."""
    nargs = 2

    @classmethod
    def eval(cls, numerator, denominator):
        return None  # never evaluate on construction: the division is the step shown

    def doit(self, **hints):
        numerator, denominator = (a.doit(**hints) for a in self.args)
        return numerator / denominator


_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_INDEXED = re.compile(r"^([A-Za-z]+)_(\d+)$")


def unicode_name(name: str) -> str:
    """``k_12`` → ``k₁₂``; other names unchanged."""
    match = _INDEXED.match(name)
    if match:
        return match.group(1) + match.group(2).translate(_SUBSCRIPT_DIGITS)
    return name


def split_sign(term: Basic) -> tuple[bool, Basic]:
    """(True, 3·x) for a written term −3·x, so a sum prints "a − 3·x", not "a + −3·x"."""
    if term.is_Number and term.is_negative:
        return True, -term
    if isinstance(term, Count) and term.args[0].is_negative:
        return True, Count(-term.args[0])
    if isinstance(term, Mul) and term.args and term.args[0].is_Number \
            and term.args[0].is_negative:
        return True, Mul(-term.args[0], *term.args[1:], evaluate=False)
    return False, term


# ---------------------------------------------------------------- plain printers

class PlainLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with ``\\times`` between numbers."""

    def __init__(self, settings=None):
        super().__init__({"mul_symbol": "times", **(settings or {})})

    group_counts = True   # False: plain digits, for latex(step) that parsers read back

    def _print_Count(self, expr):
        if not self.group_counts:
            return self._print(expr.args[0])
        return thousands(expr.args[0], SEPARATORS["latex"])


class AsciiPrinter(StrPrinter):
    """SymPy's str printer, spelled in the whitelist language of spec files.

    Output can be parsed back by :func:`symparams.spec.parse_expression`.
    """

    def _print_ceiling(self, expr):
        return "ceil(%s)" % self._print(expr.args[0])

    def _print_Max(self, expr):
        return "max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr):
        return "min(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Pow(self, expr, rational=False):
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Count(self, expr):
        return self._print(expr.args[0])


class UnicodePrinter(AsciiPrinter):
    """For terminals: subscripted letters, ⌊floor⌋, ⌈ceil⌉ and · for products."""

    def _print_Symbol(self, expr):
        return unicode_name(expr.name)

    group_counts = True   # False: plain digits, as str(step) shows SymPy's values

    def _print_Count(self, expr):
        if not self.group_counts:
            return self._print(expr.args[0])
        return thousands(expr.args[0], SEPARATORS["text"])

    def _print_floor(self, expr):
        return "⌊%s⌋" % self._print(expr.args[0])

    def _print_ceiling(self, expr):
        return "⌈%s⌉" % self._print(expr.args[0])

    def _print_Mul(self, expr):
        # StrPrinter joins factors with '*', and nothing else in its output
        # for a product of this vocabulary contains '*' (powers print as '^').
        return super()._print_Mul(expr).replace("*", "·")


# -------------------------------------------------------------- written printers

class _WrittenMixin:
    """Print unevaluated Add/Mul in argument order, Grouped in parentheses."""

    plain_class: type
    times: str
    open_paren: str
    close_paren: str
    # Inserted values may hold fractions and floors, so LaTeX sizes those parentheses.
    open_tall: str = "("
    close_tall: str = ")"

    def _plain(self):
        printer = self.plain_class()
        printer.group_counts = getattr(self, "group_counts", True)
        return printer

    def _paren(self, text: str) -> str:
        return f"{self.open_paren}{text}{self.close_paren}"

    def _print_Add(self, expr, order=None):
        pieces = []
        for i, term in enumerate(expr.args):
            negative, term = split_sign(term)
            text = self._print(term)
            if isinstance(term, Add):
                text = self._paren(text)
            if i == 0:
                pieces.append(f"-{text}" if negative else text)
            else:
                pieces.append(f" - {text}" if negative else f" + {text}")
        return "".join(pieces)

    def _print_Mul(self, expr):
        factors = []
        for factor in expr.args:
            text = self._print(factor)
            if isinstance(factor, Add):
                text = self._paren(text)
            factors.append(text)
        return self.times.join(factors)

    def _print_Grouped(self, expr):
        return self._paren(self._print(expr.args[0]))

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_Ratio(self, expr):
        parts = []
        for arg in expr.args:
            text = self._print(arg)
            parts.append(self._paren(text) if isinstance(arg, (Add, Mul)) else text)
        return " / ".join(parts)

    def _print_Inserted(self, expr):
        value = expr.args[0]
        text = self._plain()._print(value)
        if isinstance(value, (Add, Mul)) or (value.is_Rational and not value.is_Integer):
            text = f"{self.open_tall}{text}{self.close_tall}"
        return text


class WrittenLatexPrinter(_WrittenMixin, PlainLatexPrinter):
    plain_class = PlainLatexPrinter

    def _print_Ratio(self, expr):
        return r"\frac{%s}{%s}" % (self._print(expr.args[0]), self._print(expr.args[1]))

    times = r" \times "
    open_paren, close_paren = "(", ")"
    open_tall, close_tall = r"\left(", r"\right)"


class WrittenAsciiPrinter(_WrittenMixin, AsciiPrinter):
    plain_class = AsciiPrinter
    times = "*"
    open_paren, close_paren = "(", ")"


class WrittenUnicodePrinter(_WrittenMixin, UnicodePrinter):
    plain_class = UnicodePrinter
    times = " × "
    open_paren, close_paren = "(", ")"


# ------------------------------------------------------------------ entry points

def _printer(cls, grouped: bool):
    printer = cls()
    printer.group_counts = grouped
    return printer


def latex_plain(expr: Basic, grouped: bool = True) -> str:
    return _printer(PlainLatexPrinter, grouped).doprint(expr)


def latex_written(expr: Basic, grouped: bool = True) -> str:
    """LaTeX in the textbook's order.

    >>> from sympy import symbols, Integer, Mul, Add, evaluate
    >>> m, n, d, k = symbols("m n d k")
    >>> with evaluate(False):
    ...     e = Mul(Add(Grouped(Mul(m, n, d)), Integer(1)), k)
    >>> latex_written(e)
    '((m \\\\times n \\\\times d) + 1) \\\\times k'
    """
    return _printer(WrittenLatexPrinter, grouped).doprint(expr)


def ascii_plain(expr: Basic) -> str:
    return AsciiPrinter().doprint(expr)


def ascii_written(expr: Basic) -> str:
    """ASCII in the textbook's order, parseable by the spec expression parser."""
    return WrittenAsciiPrinter().doprint(expr)


def unicode_plain(expr: Basic, grouped: bool = True) -> str:
    return _printer(UnicodePrinter, grouped).doprint(expr)


def unicode_written(expr: Basic, grouped: bool = True) -> str:
    """Terminal text in the textbook's order: ``((m₁ × n₁ × d₁) + 1) × k₁``."""
    return _printer(WrittenUnicodePrinter, grouped).doprint(expr)


# ------------------------------------------------------------------ MathML

from sympy.printing.mathml import MathMLPresentationPrinter  # noqa: E402

_MATHML_NS = "http://www.w3.org/1998/Math/MathML"


class PlainMathMLPrinter(MathMLPresentationPrinter):
    """SymPy's presentation MathML with × between numbers."""

    group_counts = True

    def __init__(self, settings=None):
        super().__init__({"mul_symbol": "times", **(settings or {})})
        self._plain_depth = 0

    def _mo(self, text: str):
        node = self.dom.createElement("mo")
        node.appendChild(self.dom.createTextNode(text))
        return node

    def _print_Count(self, expr):
        value = expr.args[0]
        if not value.is_Integer or not self.group_counts:
            return self._print(value)
        node = self.dom.createElement("mn")
        node.appendChild(self.dom.createTextNode(thousands(value, SEPARATORS["mathml"])))
        return node

    def math_element(self, nodes, display: str = "inline"):
        """Wrap printed nodes in a <math> element of this printer's document."""
        math = self.dom.createElement("math")
        math.setAttribute("xmlns", _MATHML_NS)
        math.setAttribute("display", display)
        row = self.dom.createElement("mrow")
        for node in nodes:
            row.appendChild(node)
        math.appendChild(row)
        return math


class WrittenMathMLPrinter(PlainMathMLPrinter):
    """Presentation MathML in the textbook's order (SymPy's reorders products)."""

    def _row(self, nodes):
        row = self.dom.createElement("mrow")
        for node in nodes:
            row.appendChild(node)
        return row

    def _paren_row(self, node, expr: Basic | None = None):
        """Parentheses around a printed node; around plain numbers and letters they
        are fixed-size, since stretchy ones leave gaps in some browsers' fonts."""
        left, right = self._l_paren(), self._r_paren()
        if expr is not None and not expr.atoms(Inserted):
            for paren in (left, right):
                paren.setAttribute("stretchy", "false")
        return self._row([left, node, right])

    def _print_Add(self, expr, order=None):
        if self._plain_depth:
            return super()._print_Add(expr, order)
        nodes = []
        for i, term in enumerate(expr.args):
            negative, term = split_sign(term)
            if negative:
                nodes.append(self._mo("−"))
            elif i:
                nodes.append(self._mo("+"))
            printed = self._print(term)
            nodes.append(self._paren_row(printed, term) if isinstance(term, Add) else printed)
        return self._row(nodes)

    def _print_Mul(self, expr):
        if self._plain_depth:
            return super()._print_Mul(expr)
        nodes = []
        for i, factor in enumerate(expr.args):
            if i:
                nodes.append(self._mo("×"))
            printed = self._print(factor)
            nodes.append(self._paren_row(printed, factor) if isinstance(factor, Add) else printed)
        return self._row(nodes)

    def _print_Grouped(self, expr):
        return self._paren_row(self._print(expr.args[0]), expr.args[0])

    def _print_Ratio(self, expr):
        frac = self.dom.createElement("mfrac")
        for arg in expr.args:
            frac.appendChild(self._print(arg))
        return frac

    def _print_Inserted(self, expr):
        value = expr.args[0]
        self._plain_depth += 1
        try:
            printed = self._print(value)
        finally:
            self._plain_depth -= 1
        if isinstance(value, (Add, Mul)) or (value.is_Rational and not value.is_Integer):
            return self._paren_row(printed)
        return printed


def _mathml(printer: PlainMathMLPrinter, expr: Basic) -> str:
    return printer.math_element([printer._print(expr)]).toxml()


def mathml_plain(expr: Basic) -> str:
    """A <math> element for an evaluated expression."""
    return _mathml(PlainMathMLPrinter(), expr)


def mathml_written(expr: Basic) -> str:
    """A <math> element in the textbook's order: ((m × n × d) + 1) × k."""
    return _mathml(WrittenMathMLPrinter(), expr)


def mathml_chain(written: list[Basic], result: Basic, display: str = "inline",
                 written_last: bool = False) -> str:
    """One <math> element ``written₁ = written₂ = … = result``."""
    printer = WrittenMathMLPrinter()
    nodes = []
    for expr in written:
        nodes += [printer._print(expr), printer._mo("=")]
    if not written_last:
        printer._plain_depth += 1
    nodes.append(printer._print(result))
    return printer.math_element(nodes, display).toxml()


def unicode_shape(shape) -> str:
    """``28 × 28 × 8``; a compound entry is bracketed: ``(H − 4) × (W − 4) × 8``."""
    return " × ".join(f"({unicode_plain(v)})" if isinstance(v, (Add, Mul)) else unicode_plain(v)
                      for v in shape)
