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

# Counts as people read them (thousands separators).
from .numbers import SEPARATORS, ShownCount, thousands


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


class SlashRatio(Ratio):
    """``(W + 2P − …) / S`` written on one line in every format (no stacked fraction),
    as the document writes the output-size rule inside ⌊ ⌋."""


_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_INDEXED = re.compile(r"^([A-Za-z]+)_(\d+)$")


def unicode_name(name: str) -> str:
    """``k_12`` → ``k₁₂``; other names unchanged."""
    match = _INDEXED.match(name)
    if match:
        return match.group(1) + match.group(2).translate(_SUBSCRIPT_DIGITS)
    return name


def split_sign(term: Basic) -> tuple[bool, Basic]:
    """(True, 3·x) for a written term −3·x, so a sum prints "a − 3·x", not "a + −3·x".

    A written −1·D·x is "− D·x": the 1 left over from the sign is not shown.
    """
    if term.is_Number and term.is_negative:
        return True, -term
    if isinstance(term, ShownCount) and term.args[0].is_negative:
        return True, ShownCount(-term.args[0])
    if isinstance(term, Mul) and term.args and term.args[0].is_Number \
            and term.args[0].is_negative:
        rest = term.args[1:]
        if term.args[0] == -1 and rest:
            return True, rest[0] if len(rest) == 1 else Mul(*rest, evaluate=False)
        return True, Mul(-term.args[0], *rest, evaluate=False)
    return False, term


_NATURAL = re.compile(r"(\d+)")


def natural_key(name) -> tuple:
    """Sort key for letters and names with numbers in them: k_2 before k_10.

    Accepts a name or a Symbol.

    >>> sorted(["k_10", "k_2", "H"], key=natural_key)
    ['H', 'k_2', 'k_10']
    """
    text = getattr(name, "name", name)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in _NATURAL.split(str(text)) if part) or ((1, 0, ""),)


def over_denominator(arg: Basic) -> tuple[Basic, Basic] | None:
    """(numerator, denominator) of an evaluated floor's or ceiling's argument when it
    is a fraction, so that ⌊31/2 − n/2⌋ prints as the document writes it: ⌊(31 − n)/2⌋."""
    if not isinstance(arg, (Add, Mul)):
        return None
    numerator, denominator = arg.as_numer_denom()
    if denominator == 1:
        return None
    return numerator, denominator


# ---------------------------------------------------------------- plain printers

class PlainLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with ``\\times`` between numbers."""

    def __init__(self, settings=None):
        super().__init__({"mul_symbol": "times", **(settings or {})})

    group_counts = True   # False: plain digits, for latex(step) that parsers read back

    def _print_ShownCount(self, expr):
        if not self.group_counts:
            return self._print(expr.args[0])
        return thousands(expr.args[0], SEPARATORS["latex"])

    def _rounded_argument(self, arg) -> str:
        parts = over_denominator(arg)
        if parts is None:
            return self._print(arg)
        return r"\frac{%s}{%s}" % tuple(self._print(p) for p in parts)

    def _print_floor(self, expr, exp=None):
        tex = r"\left\lfloor{%s}\right\rfloor" % self._rounded_argument(expr.args[0])
        return r"%s^{%s}" % (tex, exp) if exp is not None else tex

    def _print_ceiling(self, expr, exp=None):
        tex = r"\left\lceil{%s}\right\rceil" % self._rounded_argument(expr.args[0])
        return r"%s^{%s}" % (tex, exp) if exp is not None else tex


class AsciiPrinter(StrPrinter):
    """SymPy's str printer, spelled in the whitelist language of spec files.

    Output can be parsed back by :func:`symparams.spec.parse_expression`.
    """

    def _rounded_argument(self, arg) -> str:
        """A floor's or ceiling's argument, a fraction over its common denominator."""
        parts = over_denominator(arg)
        if parts is None:
            return self._print(arg)
        numerator, denominator = (self._print(p) for p in parts)
        if isinstance(parts[0], Add):
            numerator = f"({numerator})"
        if not parts[1].is_Atom:
            denominator = f"({denominator})"
        return f"{numerator}/{denominator}"

    def _print_floor(self, expr):
        return "floor(%s)" % self._rounded_argument(expr.args[0])

    def _print_ceiling(self, expr):
        return "ceil(%s)" % self._rounded_argument(expr.args[0])

    def _print_Max(self, expr):
        return "max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr):
        return "min(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Pow(self, expr, rational=False):
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_ShownCount(self, expr):
        return self._print(expr.args[0])


class UnicodePrinter(AsciiPrinter):
    """For terminals: subscripted letters, ⌊floor⌋, ⌈ceil⌉ and · for products."""

    def _print_Symbol(self, expr):
        return unicode_name(expr.name)

    group_counts = True   # False: plain digits, as str(step) shows SymPy's values

    def _print_ShownCount(self, expr):
        if not self.group_counts:
            return self._print(expr.args[0])
        return thousands(expr.args[0], SEPARATORS["text"])

    def _print_floor(self, expr):
        return "⌊%s⌋" % self._rounded_argument(expr.args[0])

    def _print_ceiling(self, expr):
        return "⌈%s⌉" % self._rounded_argument(expr.args[0])

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

    def _rounded_argument(self, arg):
        # Written expressions print as built: no common denominator worked out.
        return self._print(arg)

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

    # SymPy looks up a Function subclass's printer by its own name only.
    def _print_SlashRatio(self, expr):
        return _WrittenMixin._print_Ratio(self, expr)

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

    def _print_SlashRatio(self, expr):
        return _WrittenMixin._print_Ratio(self, expr)

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

    def _print_ShownCount(self, expr):
        value = expr.args[0]
        if not value.is_Integer or not self.group_counts:
            return self._print(value)
        node = self.dom.createElement("mn")
        node.appendChild(self.dom.createTextNode(thousands(value, SEPARATORS["mathml"])))
        return node

    def _rounded(self, expr, left: str, right: str):
        parts = over_denominator(expr.args[0]) if self._plain_rounding() else None
        if parts is None:
            inner = self._print(expr.args[0])
        else:
            inner = self.dom.createElement("mfrac")
            for part in parts:
                inner.appendChild(self._print(part))
        row = self.dom.createElement("mrow")
        for node in (self._mo(left), inner, self._mo(right)):
            row.appendChild(node)
        return row

    def _plain_rounding(self) -> bool:
        return True

    def _print_floor(self, expr):
        return self._rounded(expr, "⌊", "⌋")

    def _print_ceiling(self, expr):
        return self._rounded(expr, "⌈", "⌉")

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

    def _plain_rounding(self) -> bool:
        return bool(self._plain_depth)

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

    def _print_SlashRatio(self, expr):
        nodes = []
        for i, arg in enumerate(expr.args):
            if i:
                nodes.append(self._mo("/"))
            printed = self._print(arg)
            nodes.append(self._paren_row(printed, arg) if isinstance(arg, (Add, Mul)) else printed)
        return self._row(nodes)

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


# ------------------------------------------------------------------ pretty printing

# Where a long line may break, from the best place to the last resort: before an
# operator outside any brackets, then inside them, then at any space.
_BREAK_LEVELS = ((("=",), True), (("+", "-", "−"), True), (("×",), True),
                 (("+", "-", "−", "×"), False), (None, False))
_OPENING, _CLOSING = "([{⌊⌈", ")]}⌋⌉"


def _breaks(text: str, level: tuple) -> list[str]:
    """``text`` cut at each space before one of the level's operators (None: at every
    space), only outside brackets when the level says so."""
    operators, outside = level
    pieces, start, depth = [], 0, 0
    for i, char in enumerate(text):
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth = max(depth - 1, 0)
        elif char == " " and i > start and (depth == 0 or not outside) and \
                (operators is None or text[i + 1:i + 2] in operators):
            pieces.append(text[start:i])
            start = i
    pieces.append(text[start:])
    return pieces


def _pieces(text: str, width: int, level: int = 0) -> list[str]:
    """Pieces no wider than ``width`` where possible, cut at the best level that does it."""
    if len(text) <= width or level == len(_BREAK_LEVELS):
        return [text]
    found = []
    for piece in _breaks(text, _BREAK_LEVELS[level]):
        found += _pieces(piece, width, level + 1) if len(piece) > width else [piece]
    return found


def wrap_terms(text: str, width: int, indent: str = "    ") -> list[str]:
    """Lines of at most ``width`` characters, broken before an ``=``, else before a
    ``+``/``-``, else before a ``×``, else at a space: never inside a number or a name.

    >>> wrap_terms("a = 120 × 400 + 1 × 120 = 48120", 16)
    ['a = 120 × 400', '    + 1 × 120', '    = 48120']
    """
    if width <= 0 or len(text) <= width:
        return [text]
    lines, current = [], ""
    for piece in _pieces(text, width - len(indent)):
        if current.strip() and len(current) + len(piece) > width:
            lines.append(current.rstrip())
            current = indent + piece.lstrip()
        else:
            current += piece
    lines.append(current.rstrip())
    return lines


def pretty_lines(text: str, printer=None):
    """A prettyForm of ``text`` broken between terms to fit SymPy's line width, so
    ``sympy.pprint`` never cuts a number in two ("= 4 ↪ 8120"); lines of a
    several-line text are broken each on its own, continued under their indent."""
    from sympy.printing.pretty.stringpict import prettyForm, stringPict
    settings = getattr(printer, "_settings", {}) or {}
    width = settings.get("num_columns") or stringPict("").terminal_width() or 80
    lines = text.split("\n")
    if settings.get("wrap_line") is not False:
        indent = [line[:len(line) - len(line.lstrip())] for line in lines]
        lines = [wrapped for line, lead in zip(lines, indent)
                 for wrapped in wrap_terms(line, width, indent=lead + "    ")]
    longest = max(len(line) for line in lines)
    # Ragged lines would be centred: pad them to one width, left-aligned.
    return prettyForm("\n".join(line.ljust(longest) for line in lines))
