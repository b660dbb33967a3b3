"""Checks shared by the layer families' fields: sizes, pairs, flags and keywords.

Every check names the spec field it reads, so an error can point at it.
"""
from __future__ import annotations

import difflib
import re
from typing import Any

from sympy import Expr

from ..errors import SymparamsError
from ..printable import echo
from ..spec import size_value


def check_size(raw: Any, field: str, minimum: int = 1) -> Expr:
    """Parse one size and check it if it is a number: a whole number ≥ minimum."""
    try:
        value = size_value(raw)
    except SymparamsError as exc:
        raise exc.located(field=field) from None
    if value.is_number:
        if not value.is_Integer:
            raise SymparamsError(f"expected a whole number, found {value}", field=field)
        if value < minimum:
            what = "a positive whole number" if minimum == 1 else f"a whole number ≥ {minimum}"
            raise SymparamsError(f"expected {what}, found {value}", field=field)
    elif value.is_positive is False and minimum >= 1:
        raise SymparamsError(f"expected a positive size, found {value}", field=field)
    return value


def check_pair(raw: Any, field: str, minimum: int = 1) -> tuple[Expr, Expr]:
    """A size given once for both axes, or as [along width, along height]."""
    if isinstance(raw, (list, tuple)):
        if len(raw) != 2:
            raise SymparamsError(f"expected one size or a pair [width, height], found "
                                 f"{echo(list(raw))}", field=field)
        return check_size(raw[0], field, minimum), check_size(raw[1], field, minimum)
    value = check_size(raw, field, minimum)
    return value, value


def check_flag(raw: Any, field: str) -> bool:
    if not isinstance(raw, bool):
        raise SymparamsError(f"expected true or false, found {echo(raw)}", field=field)
    return raw


# ------------------------------------------------------------------ keyword fields
# Some fields take words: padding (same, valid — or a size), activation and
# function (relu, softmax …).  A word there must be one of the field's keywords.
# A name is read as a size instead only when it is clearly a symbol:
#   * one letter, optionally with a subscript: P, p2, P_1, k_in; or
#   * a name declared in the spec's top-level ``symbols:`` list.
# Anything else (padding: smae, padding: causal, activation: banana) is a
# misspelt or unsupported keyword: an error with a did-you-mean.  ``--set``
# values follow the same rule (cli.checked_values; the network's own sizes count too).

PADDINGS = ("same", "valid")
ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu",
               "sigmoid", "hard_sigmoid", "log_sigmoid", "tanh", "hard_tanh", "softmax",
               "log_softmax", "softmin", "softplus", "softsign", "swish", "hard_swish", "silu",
               "mish", "tanhshrink", "exponential", "linear", "identity", "none")
_SQUASHED = {a.replace("_", ""): a for a in ACTIVATIONS}
# Activations that learn parameters: as a function with a count of 0 they would be
# silent zeros, so they are refused (PReLU learns one slope, or one per channel).
LEARNED_ACTIVATIONS = {"prelu": "PReLU"}
_LETTER = re.compile(r"[A-Za-z](?:_?[0-9]+|_[A-Za-z0-9]+)?")


def is_letter_name(name: str) -> bool:
    """One letter with an optional subscript (P, p2, P_1, k_in): clearly a symbol."""
    return bool(_LETTER.fullmatch(name))


def unknown_word(word: str, field: str, keywords: tuple[str, ...],
                 sizes: bool) -> SymparamsError:
    """The error for a word that is neither a keyword of ``field`` nor clearly a symbol."""
    close = difflib.get_close_matches(word.lower(), keywords, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    if sizes:
        expected = (f"{', '.join(keywords)}, a whole number, or a size named by one letter "
                    f"such as P or P_1 or declared in symbols:")
    elif len(keywords) > 8:  # the activations: a few examples, the README lists them all
        expected = f"a known name such as {', '.join(keywords[:3])}, tanh, softmax or gelu"
    else:
        expected = ", ".join(keywords)
    return SymparamsError(f"unknown word {echo(word)} (expected {expected}){hint}", field=field)


def check_names(value: Expr, field: str, symbols=(), keywords: tuple[str, ...] = ()) -> Expr:
    """Refuse a name in ``value`` that is not clearly a symbol (see above)."""
    for sym in sorted(value.free_symbols, key=lambda s: s.name):
        if not (is_letter_name(sym.name) or sym.name in symbols):
            raise unknown_word(sym.name, field, keywords, sizes=True)
    return value


def keyword_or_size(raw: Any, field: str, keywords: tuple[str, ...], symbols=(),
                    minimum: int = 0) -> str | Expr:
    """A keyword of the field (returned lower-case) or a size whose names are symbols."""
    if isinstance(raw, str) and raw.strip().lower() in keywords:
        return raw.strip().lower()
    value = check_size(raw, field, minimum)
    # Only words are checked: an expression built in Python is a size on purpose.
    return check_names(value, field, symbols, keywords) if isinstance(raw, str) else value


def check_keyword(raw: Any, field: str, keywords: tuple[str, ...] = ACTIVATIONS) -> str:
    """A word that must be one of ``keywords`` (case, - and _ aside); kept as written."""
    if not isinstance(raw, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,40}", raw):
        raise SymparamsError(f"expected a word such as {keywords[0]}, found {echo(raw)}",
                             field=field)
    word = raw.lower().replace("-", "_")
    if keywords is ACTIVATIONS and word.replace("_", "") in LEARNED_ACTIVATIONS:
        raise SymparamsError(f"{LEARNED_ACTIVATIONS[word.replace('_', '')]} learns its slopes "
                             f"(parameters), so it is no fixed activation function: not "
                             f"supported yet", field=field)
    if word not in keywords and _SQUASHED.get(word.replace("_", "")) not in keywords:
        raise unknown_word(raw, field, keywords, sizes=False)
    return raw


def show_pair(pair: tuple[Expr, Expr], square: bool = False) -> str:
    """``5`` for an equal pair (``5 × 5`` with ``square``), ``3 × 5`` (width × height) otherwise."""
    from ..printing import unicode_plain
    a, b = pair
    if a == b and not square:
        return unicode_plain(a)
    return f"{unicode_plain(a)} × {unicode_plain(b)}"


def expr_field(value: Expr) -> int | str:
    """A size as it would be written in a spec file."""
    from ..printing import ascii_plain
    return int(value) if value.is_Integer else ascii_plain(value)
