"""Declared fields: what a layer family's spec fields are, stated once.

A family lists its fields in ``schema``, e.g. a convolution::

    schema = (Pair("kernel", letters=("m", "n")), Size("filters", letter="k"),
              Pair("stride", default=1), Padding("padding", default=0),
              Pair("dilation", default=1), Flag("bias", default=True))

and the :class:`~symparams.layers.base.Layer` base class derives from that list
what each family used to write by hand: the constructor, ``from_fields``,
``to_fields``, ``given``, ``with_given``, ``sizes`` and ``xreplace``, and the
``fields``, ``required``, ``given_letters`` and ``keyword_sizes`` tables.

Each kind of field knows how to read a spec value (with the checks of
``checks.py``, so an error names the field), write it back, list the sizes it
holds, put values into those sizes, and, when it gives letters of the formula,
hand out and replace the size behind each letter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sympy import Expr, Integer, Rational

from ..errors import SymparamsError
from ..spec import CONVENTIONS
from .checks import (ACTIVATIONS, PADDINGS, check_flag, check_keyword, check_pair, check_size,
                     expr_field, keyword_or_size)

REQUIRED = object()  # the default of a field the spec must give


@dataclass(frozen=True)
class SameAs:
    """A default taken from another field of the same layer (pooling's stride is its
    window unless given)."""
    field: str


@dataclass(frozen=True)
class Field:
    """One spec field.  Subclasses say how its value is read and written."""
    name: str
    default: Any = REQUIRED
    letters: tuple[str, ...] = ()   # letters of the formula this field gives, in order
    minimum: int = 1                # smallest whole number a size may be
    always: bool = False            # written by to_fields even when it is the default

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def parse(self, raw: Any, symbols: tuple[str, ...] = ()) -> Any:
        raise NotImplementedError

    def write(self, value: Any) -> Any:
        return value

    def sizes(self, value: Any) -> list[Expr]:
        return []

    def replace(self, value: Any, mapping: dict) -> Any:
        return value

    def letter_values(self, value: Any) -> tuple[Expr, ...]:
        """The size behind each of ``letters``, in the same order."""
        return ()

    def with_letter(self, value: Any, index: int, size: Expr) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Size(Field):
    """One whole number ≥ ``minimum`` or a size expression; may give one letter."""
    letter: str | None = None

    def __post_init__(self):
        if self.letter and not self.letters:
            object.__setattr__(self, "letters", (self.letter,))

    def parse(self, raw, symbols=()):
        return check_size(raw, self.name, self.minimum)

    def write(self, value):
        return expr_field(value)

    def sizes(self, value):
        return [value]

    def replace(self, value, mapping):
        return value.xreplace(mapping)

    def letter_values(self, value):
        return (value,)

    def with_letter(self, value, index, size):
        return size


@dataclass(frozen=True)
class Pair(Field):
    """A size given once for both axes or as [along width, along height]; kept as a
    (width, height) pair.  ``letters`` name the two sizes (kernel: m, n)."""

    def parse(self, raw, symbols=()):
        return check_pair(raw, self.name, self.minimum)

    def write(self, value):
        return pair_field(value)

    def sizes(self, value):
        return list(value)

    def replace(self, value, mapping):
        return tuple(v.xreplace(mapping) for v in value)

    def letter_values(self, value):
        return tuple(value)

    def with_letter(self, value, index, size):
        pair = list(value)
        pair[index] = size
        return tuple(pair)


@dataclass(frozen=True)
class Padding(Field):
    """``same``, ``valid`` (0), a size or a [width, height] pair of sizes.  A word
    is read as a size only when it is clearly a symbol (see ``keyword_or_size``)."""
    minimum: int = 0
    keywords: tuple[str, ...] = PADDINGS

    def parse(self, raw, symbols=()):
        if symbols:
            # Declared names are checked here, where the spec's symbols are known;
            # check_padding then sees sizes, not words.
            items = raw if isinstance(raw, list) else [raw]
            checked = [keyword_or_size(item, self.name, self.keywords, symbols) for item in items]
            raw = checked if isinstance(raw, list) else checked[0]
        return check_padding(raw, self.name)

    def write(self, value):
        return padding_field(value)

    def sizes(self, value):
        return [] if value == "same" else list(value)

    def replace(self, value, mapping):
        return value if value == "same" else tuple(v.xreplace(mapping) for v in value)


@dataclass(frozen=True)
class Flag(Field):
    """true or false (bias)."""

    def parse(self, raw, symbols=()):
        return check_flag(raw, self.name)


@dataclass(frozen=True)
class Word(Field):
    """One of ``keywords`` (activation names by default), kept as written; a field
    whose default is None may be left out."""
    keywords: tuple[str, ...] = ACTIVATIONS

    def parse(self, raw, symbols=()):
        if raw is None and self.default is None:
            return None
        return check_keyword(raw, self.name, self.keywords)


@dataclass(frozen=True)
class Rate(Field):
    """A probability from 0 up to (not including) 1, kept exact (dropout's rate)."""

    def parse(self, raw, symbols=()):
        if isinstance(raw, bool) or not isinstance(raw, (int, float, Rational)) \
                or not 0 <= raw < 1:
            raise SymparamsError(f"expected a rate from 0 up to (not including) 1, found {raw!r}",
                                 field=self.name)
        # A probability, not a count: kept exact all the same.
        return Rational(str(raw))

    def write(self, value):
        return float(value)



def convention_field() -> Word:
    """``convention: pytorch | keras`` on a family whose count the two frameworks state
    differently (batch normalisation, recurrent biases).  Left out (None), the layer
    takes the network's convention; the network fills it in when it walks the layers."""
    return Word("convention", default=None, keywords=CONVENTIONS)


# ------------------------------------------------------- padding and pairs as text

def check_padding(raw, field: str = "padding"):
    """An integer (or [width, height] pair), ``valid`` (0) or ``same``; a name only
    when it is clearly a symbol (see ``keyword_or_size``)."""
    if isinstance(raw, str) and raw.strip().lower() in PADDINGS:
        return "same" if raw.strip().lower() == "same" else (Integer(0), Integer(0))
    if isinstance(raw, (list, tuple)):
        if any(isinstance(v, str) and v.strip().lower() in PADDINGS for v in raw):
            raise SymparamsError("same and valid stand for both axes: write padding: same, "
                                 "not inside a pair", field=field)
        check_pair(raw, field, minimum=0)  # the pair's own errors first
        pair = tuple(keyword_or_size(v, field, PADDINGS) for v in raw)
        return pair[0], pair[1]
    value = keyword_or_size(raw, field, PADDINGS)
    return value, value


def padding_field(padding):
    if padding == "same":
        return "same"
    return expr_field(padding[0]) if padding[0] == padding[1] else [expr_field(p) for p in padding]


def pair_field(pair):
    return expr_field(pair[0]) if pair[0] == pair[1] else [expr_field(p) for p in pair]


__all__ = ["Field", "Size", "Pair", "Padding", "Flag", "Word", "Rate", "SameAs", "REQUIRED",
           "CONVENTIONS", "convention_field",
           "check_padding", "padding_field", "pair_field"]
