"""The whitelist expression parser: sizes written as text, read without ``eval``.

Nothing from a file or the command line is ever handed to ``eval``, ``exec``,
``sympify`` or ``parse_expr``.  Sizes are parsed by :func:`parse_expression`,
which knows numbers, names, ``+ - * / ^``, parentheses and the functions
``floor``, ``ceil``, ``min`` and ``max`` and nothing else.  :func:`size_value`
reads one size as spec data gives it (a whole number or such text), and
:func:`check_magnitude` is the one maximum for every size.  :mod:`symparams.spec`
re-exports these names, where most modules import them from.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sympy import Expr, Integer, Max, Min, Number, Symbol, ceiling, floor

from .documents import MAX_NUMBER, digits_of, too_large
from .errors import SymparamsError
from .printable import echo

FUNCTIONS = {"floor": floor, "ceil": ceiling, "ceiling": ceiling,
              "min": Min, "max": Max, "Min": Min, "Max": Max}
_TOKEN = re.compile(r"""
      (?P<space>\s+)
    | (?P<number>\d+(?:_\d+)*)
    | (?P<name>[A-Za-z][A-Za-z0-9_]*)
    | (?P<op>\*\*|[-+*/^(),×·−])
""", re.VERBOSE)
_OP_ALIASES = {"×": "*", "·": "*", "−": "-", "**": "^"}


@lru_cache(maxsize=65536)
def size_symbol(name: str) -> Symbol:
    """The Symbol for a size named in a spec: a positive integer.

    All letters and free sizes share these assumptions, so the same name is
    always the same SymPy object.
    """
    return Symbol(name, positive=True, integer=True)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            found = text[pos]
            if found == ".":
                raise SymparamsError(f"only whole numbers and plain names are allowed, found '.' "
                                     f"at position {pos + 1} of {echo(text)}")
            raise SymparamsError(f"unexpected character {echo(found)} at position {pos + 1} "
                                 f"of {echo(text)} "
                                 f"(allowed: whole numbers, names, + - * / ^, parentheses, "
                                 f"floor/ceil/min/max)")
        kind = match.lastgroup
        if kind != "space":
            value = match.group()
            if kind == "op":
                value = _OP_ALIASES.get(value, value)
            tokens.append((kind, value, pos))
        pos = match.end()
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over: sum := product (('+'|'-') product)*;
    product := unary (('*'|'/') unary)*; unary := ('-'|'+') unary | power;
    power := atom ('^' unary)?; atom := number | name | name '(' args ')' | '(' sum ')'."""

    MAX_DEPTH = 50          # nested parentheses and calls

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def nested(self):
        self.depth += 1
        if self.depth > self.MAX_DEPTH:
            raise SymparamsError(f"expression nested more than {self.MAX_DEPTH} deep "
                                 f"in {echo(self.text)}")

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, expected: str):
        kind, value, pos = self.peek()
        found = "the end" if kind == "end" else repr(value)
        raise SymparamsError(f"expected {expected} at position {pos + 1} of {echo(self.text)}, "
                             f"found {found}")

    def expect(self, op: str):
        if self.peek()[:2] != ("op", op):
            self.fail(repr(op))
        self.take()

    def parse(self) -> Expr:
        if self.peek()[0] == "end":
            raise SymparamsError("expected an expression, found nothing")
        expr = self.sum()
        if self.peek()[0] != "end":
            self.fail("an operator or the end")
        return expr

    def sum(self):
        expr = self.product()
        while self.peek()[:2] in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            rhs = self.product()
            expr = expr + rhs if op == "+" else expr - rhs
        return expr

    def product(self):
        expr = self.unary()
        while self.peek()[:2] in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            rhs = self.unary()
            if op == "/" and rhs == 0:
                raise SymparamsError(f"division by zero in {echo(self.text)}")
            expr = expr * rhs if op == "*" else expr / rhs
        return expr

    def unary(self):
        if self.peek()[:2] in (("op", "-"), ("op", "+")):
            sign = self.take()[1]
            self.nested()
            operand = self.unary()
            self.depth -= 1
            return -operand if sign == "-" else operand
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[:2] == ("op", "^"):
            self.take()
            exponent = self.unary()
            if not (exponent.is_Integer and 0 <= exponent <= 64):
                raise SymparamsError(f"exponents must be whole numbers from 0 to 64, "
                                     f"found {exponent} in {echo(self.text)}")
            if base.is_Number and abs(base) > 1 and \
                    int(exponent) * digits_of(int(base)) > 101:
                raise SymparamsError(f"{echo(self.text)} gives a number too large to be a "
                                     f"size; a size is at most 10^100")
            if base.is_Pow and base.exp.is_Integer and int(base.exp) * int(exponent) > 4096:
                raise SymparamsError(f"power too large in {echo(self.text)}")
            return base ** exponent
        return base

    def atom(self):
        kind, value, pos = self.peek()
        if kind == "number":
            self.take()
            if len(value) > 120:
                raise too_large(len(value.replace("_", "")))
            return Integer(int(value.replace("_", "")))
        if kind == "name":
            self.take()
            if self.peek()[:2] == ("op", "("):
                if value not in FUNCTIONS:
                    raise SymparamsError(f"call to {echo(value)} is not allowed at position "
                                         f"{pos + 1} of {echo(self.text)}; only floor, ceil, "
                                         f"min and max")
                self.take()
                self.nested()
                args = [self.sum()]
                while self.peek()[:2] == ("op", ","):
                    self.take()
                    args.append(self.sum())
                self.expect(")")
                self.depth -= 1
                func = FUNCTIONS[value]
                if func in (floor, ceiling) and len(args) != 1:
                    raise SymparamsError(f"{value} takes one argument, found {len(args)} "
                                         f"in {echo(self.text)}")
                return func(*args)
            if value in FUNCTIONS:
                self.fail(f"'(' after {value}")
            return size_symbol(value)
        if (kind, value) == ("op", "("):
            self.take()
            self.nested()
            expr = self.sum()
            self.expect(")")
            self.depth -= 1
            return expr
        self.fail("a number, a name or '('")


def parse_expression(text: str) -> Expr:
    """Parse a size expression from a spec or the command line.

    >>> parse_expression("2*k + 1")
    2*k + 1
    >>> parse_expression("floor(H / 2) ^ 2")
    floor(H/2)**2
    >>> parse_expression("open('x')")
    Traceback (most recent call last):
    ...
    symparams.errors.SymparamsError: unexpected character "'" at position 6 of "open('x')" (allowed: whole numbers, names, + - * / ^, parentheses, floor/ceil/min/max)
    """
    if len(text) > 1000:
        raise SymparamsError(f"expression too long ({len(text)} characters, at most 1000)")
    return check_magnitude(_Parser(text).parse(), text)


def check_magnitude(value: Expr, text: str | None = None) -> Expr:
    """Refuse a size with a number above MAX_NUMBER in it (a result such as
    ``9^64*9^64*…`` or a coefficient): the one maximum for every size."""
    if value.is_Integer:
        numbers = [value]
    elif value.is_Atom:
        return value
    else:
        numbers = value.atoms(Number)
    for number in numbers:
        worst = max(abs(int(number.p)), int(number.q))
        if worst > MAX_NUMBER:
            what = f"{echo(text)} gives a" if text else "a"
            raise SymparamsError(f"{what} number too large to be a size "
                                 f"({digits_of(worst):,} digits); a size is at most 10^100")
    return value


def size_value(raw: Any) -> Expr:
    """Turn one size from a spec (int or expression text) into a SymPy expression.

    Floats and booleans are refused: counts are exact.
    """
    if isinstance(raw, bool):
        raise SymparamsError(f"expected a whole number or an expression, found {str(raw).lower()}")
    if isinstance(raw, int):
        return check_magnitude(Integer(raw))
    if isinstance(raw, Expr):
        return check_magnitude(raw)
    if isinstance(raw, float):
        shown = int(raw) if raw.is_integer() else raw
        raise SymparamsError(f"expected a whole number, found {echo(raw)} (write {shown} "
                             f"without a decimal point)" if raw.is_integer()
                             else f"expected a whole number, found {echo(raw)}")
    if isinstance(raw, str):
        return parse_expression(raw)
    raise SymparamsError(f"expected a whole number or an expression, found {describe_value(raw)}")


def describe_value(raw: Any) -> str:
    """A value from a spec as an error line shows it: "nothing", "a list [..]" …"""
    if raw is None:
        return "nothing"
    if isinstance(raw, list):
        return f"a list {echo(raw)}"
    if isinstance(raw, dict):
        return f"a mapping {echo(raw)}"
    return echo(raw)
