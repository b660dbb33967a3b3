"""Reading students' answers: whole numbers, shapes, names and expressions as
people write them, each normalised so that grading compares them exactly.

The rules are listed in :mod:`symparams.homework.grading`'s description (and in
``symparams grade --help``).  Expressions are read by the whitelist parser
:func:`symparams.spec.parse_expression` after :func:`explicit_products` has
written out implicit products; nothing here evaluates student text as code.
"""
from __future__ import annotations

import random
import re
import unicodedata
from typing import Iterable

from sympy import Expr, Integer, expand, simplify

from ..errors import SymparamsError
from ..spec import parse_expression

# ----------------------------------------------------------- normalisation

# Separators a number may be grouped with; every kind of space is one kind.
_GROUP_SEPARATORS = {",": ",", "_": "_", "'": "'", "\u2019": "'"}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _is_space(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Zs"


# "k_1 = 20", "k₁ = 20", "filters = 20": a name (a letter, then letters, digits,
# subscripts or underscores), one "=", the number.
_VALUE_OF = re.compile(r"\s*[A-Za-z][A-Za-z0-9_\u2080-\u2089]*\s*=(?!=)(.*)", re.DOTALL)
_ZERO_DECIMALS = re.compile(r"(.*[0-9])\.0+", re.DOTALL)


def parse_integer(text: str) -> int | None:
    """A whole number as students write it, or None when it is not one.

    Also ``k_1 = 20`` (a value given to a letter) and ``20.0`` (zero decimals,
    when the digits are not grouped with commas: ``62,958.0`` may be a decimal
    comma, so it is not guessed at).

    >>> [parse_integer(t) for t in ("62958", "62,958", "62 958", "+62_958", "62.958")]
    [62958, 62958, 62958, 62958, None]
    >>> [parse_integer(t) for t in ("k₁ = 20", "20.0", "62,958.0")]
    [20, 20, None]
    """
    text = str(text).translate(_INVISIBLE).strip()
    value = _VALUE_OF.fullmatch(text)
    if value:
        text = value[1].strip()
    decimals = _ZERO_DECIMALS.fullmatch(text)
    if decimals and "," not in decimals[1]:
        text = decimals[1]
    if text.startswith("+"):
        text = text[1:]
    groups, seps, current = [], [], ""
    for char in text:
        if "0" <= char <= "9":
            current += char
            continue
        sep = " " if _is_space(char) else _GROUP_SEPARATORS.get(char)
        if sep is None or not current:
            return None
        groups.append(current)
        seps.append(sep)
        current = ""
    if not current:
        return None
    groups.append(current)
    if seps:
        if len(set(seps)) != 1 or not 1 <= len(groups[0]) <= 3 \
                or any(len(g) != 3 for g in groups[1:]):
            return None
    return int("".join(groups))


_SHAPE_SPLIT = re.compile(r"\s*[×✕⨯xX*,]\s*")


def parse_shape(text: str) -> tuple[int, ...] | None:
    """The sizes of a shape such as ``28 × 28 × 8``, ``[28, 28, 8]`` or ``(64,)``.

    >>> parse_shape("28x28x8"), parse_shape("(64,)"), parse_shape("28 × × 8")
    ((28, 28, 8), (64,), None)
    """
    text = " ".join(str(text).translate(_INVISIBLE).split())
    if len(text) >= 2 and (text[0], text[-1]) in (("(", ")"), ("[", "]")):
        text = text[1:-1].strip()
    if text.endswith(","):
        text = text[:-1].rstrip()
    parts = _SHAPE_SPLIT.split(text)
    if not all(re.fullmatch(r"[0-9]+", p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


def normalise_name(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).split()).casefold()


_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
MAX_EXPONENT_PRODUCT = 64
MAX_DEGREE = 16


def _ascii_letters(text: str) -> str:
    """``k₁²`` → ``k_1^2``: the letters as the sheets print them, made parseable."""
    text = re.sub("[₀-₉]+", lambda m: "_" + m.group().translate(_SUBSCRIPTS), text)
    return re.sub("[⁰¹²³⁴⁵⁶⁷⁸⁹]+", lambda m: "^" + m.group().translate(_SUPERSCRIPTS), text)


_TOKENS = re.compile(r"\*\*|[0-9][0-9_]*|[A-Za-z][A-Za-z0-9_]*|\S")


def _exponent_chain(literals: list[int]) -> int | None:
    """The value of ``a ^ b ^ c`` (right to left), or None when above the limit."""
    value = 1
    for literal in reversed(literals):
        if value == 0:
            value = 1                      # x ^ 0
        elif literal > MAX_EXPONENT_PRODUCT:
            return None
        else:
            value = literal ** value
        if value > MAX_EXPONENT_PRODUCT:
            return None
    return value


def _safe_exponents(text: str) -> bool:
    """True when no number in ``text`` can grow by more than a factor of 64 in
    length as the parser reads it.  The parser evaluates powers at once, so
    ``((9^64)^64)^64`` must not reach it: every ``^``/``**`` must be followed by
    plain numbers, and the exponents applied to any one term (through nested
    parentheses) may multiply to at most 64.  ``k_1^2 + k_2^2 + …`` is fine."""
    tokens = _TOKENS.findall(text)
    groups = [1]            # the largest growth inside each open parenthesis
    last: int | None = None  # the growth of the term just read, for a '^' after it
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "(":
            groups.append(1)
            last = None
        elif token == ")":
            if len(groups) == 1:
                return False
            last = groups.pop()
            groups[-1] = max(groups[-1], last)
        elif token in ("^", "**"):
            literals = []
            while token in ("^", "**"):
                if i + 1 >= len(tokens) or not tokens[i + 1][0].isdigit():
                    return False
                literals.append(int(tokens[i + 1].replace("_", "")))
                i += 2
                token = tokens[i] if i < len(tokens) else ""
            i -= 1
            exponent = _exponent_chain(literals)
            if last is None or exponent is None:
                return False
            last *= max(exponent, 1)
            if last > MAX_EXPONENT_PRODUCT:
                return False
            groups[-1] = max(groups[-1], last)
        elif token[0].isalnum():
            last = 1
        else:
            last = None
        i += 1
    return True


def _degree_bound(expr: Expr) -> int:
    """An upper bound of the polynomial degree (functions count their arguments')."""
    if expr.is_Symbol:
        return 1
    if expr.is_Atom:
        return 0
    if expr.is_Pow:
        base, exponent = expr.args
        if exponent.is_Integer:
            return _degree_bound(base) * abs(int(exponent))
        return MAX_DEGREE + 1
    degrees = [_degree_bound(arg) for arg in expr.args]
    return sum(degrees) if expr.is_Mul else max(degrees, default=0)


_FUNCTION_NAMES = ("ceiling", "floor", "ceil", "min", "max", "Min", "Max")
_STUDENT_TOKEN = re.compile(r"""
      (?P<space>\s+)
    | (?P<number>[0-9]+(?:_[0-9]{3})*)
    | (?P<op>\*\*|[-+*/^(),×·−])
""", re.VERBOSE)
_LETTER = re.compile(r"[A-Za-z](?:_?[0-9]+)?(?![0-9])")


def explicit_products(text: str, known: Iterable[str] = ()) -> str | None:
    """A student's expression with its implicit products written out, or None when
    it has a character the expression parser does not allow.

    Names are read as the sheets print letters: a known letter of the key
    (longest first), a function (floor, ceil, min, max) before ``(``, else one
    letter with an optional subscript number (``k_1``, ``k1``), so ``25k_1k_2``
    is ``25*k_1*k_2``.  A product is written out between a number, a name or
    ``)`` and a following name or ``(``; two numbers side by side stay an error.

    >>> explicit_products("25k_1k_2 + 76k_1", ["k_1", "k_2"])
    '25 * k_1 * k_2 + 76 * k_1'
    >>> explicit_products("(k_1 + 1)(k_2 + 1)")
    '( k_1 + 1 ) * ( k_2 + 1 )'
    """
    names = sorted(set(known), key=len, reverse=True)
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _STUDENT_TOKEN.match(text, pos)
        if match:
            if match.lastgroup != "space":
                tokens.append((match.lastgroup, match.group()))
            pos = match.end()
            continue
        rest = text[pos:]
        function = next((f for f in _FUNCTION_NAMES
                         if re.match(re.escape(f) + r"\s*\(", rest)), None)
        name = function or next((n for n in names if rest.startswith(n) and
                                 not rest[len(n):len(n) + 1].isdigit()), None)
        if name is None:
            letter = _LETTER.match(rest)
            if not letter:
                return None
            name = letter.group()
        tokens.append(("function" if function else "name", name))
        pos += len(name)
    out: list[str] = []
    for i, (kind, value) in enumerate(tokens):
        if i:
            before_kind, before = tokens[i - 1]
            ends_factor = before_kind in ("number", "name") or before == ")"
            starts_factor = kind in ("name", "function") or value == "("
            if ends_factor and starts_factor:
                out.append("*")
        out.append(value)
    return " ".join(out)


def parse_answer_expression(text: str, known: dict[str, Expr] | None = None) -> Expr | None:
    """A student's expression, or None when it does not parse (or is too big to check)."""
    text = explicit_products(_ascii_letters(str(text)), known or ())
    if text is None:
        return None
    if not _safe_exponents(text):
        return None
    try:
        expr = parse_expression(text)
    except (SymparamsError, RecursionError):    # RecursionError: absurdly deep nesting
        return None
    if known:
        renames = {}
        for symbol in expr.free_symbols:
            if symbol.name in known:
                continue
            match = re.fullmatch(r"([A-Za-z]+)_?([0-9]+)", symbol.name)
            if match and f"{match[1]}_{match[2]}" in known:
                renames[symbol] = known[f"{match[1]}_{match[2]}"]
        expr = expr.xreplace(renames)
    try:
        if _degree_bound(expr) > MAX_DEGREE:
            return None
    except RecursionError:
        return None
    return expr


def _points(symbols, count: int = 6) -> list[dict]:
    rng = random.Random(1729)
    ordered = sorted(symbols, key=lambda s: s.name)
    return [{s: Integer(rng.randint(2, 10 ** 6)) for s in ordered} for _ in range(count)]


def equivalent(answer: Expr, key: Expr) -> bool:
    """True when two expressions are equal for all values of their letters."""
    difference = answer - key
    if difference == 0:
        return True
    for point in _points(difference.free_symbols):
        value = difference.xreplace(point)
        if value.is_number and value.is_finite and value != 0:
            return False        # differs here: certainly not equivalent
    try:
        if expand(difference) == 0:
            return True
        return bool(simplify(difference) == 0)
    except (RecursionError, TypeError, ValueError):
        return False
