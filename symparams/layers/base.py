"""The Layer base class: what every family states about itself.

A Layer is an immutable description (its sizes are SymPy expressions).  It
knows its formula in the document's letters, which of those letters it is
given and which follow from its input, and how it maps an input shape to an
output shape.  Indexing the letters (``k_1``) and walking shapes through a
whole network is the network's job.
"""
from __future__ import annotations

import copy
import difflib
import re
from functools import lru_cache
from typing import Any, ClassVar

from sympy import Expr, Integer, Symbol, evaluate

from ..errors import SymparamsError
from ..printable import echo
from ..shapes import AxisWorking, Shape, passed_on
from ..spec import size_symbol, size_value


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
ACTIVATIONS = ("relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "celu", "gelu",
               "sigmoid", "hard_sigmoid", "log_sigmoid", "tanh", "hard_tanh", "softmax",
               "log_softmax", "softmin", "softplus", "softsign", "swish", "hard_swish", "silu",
               "mish", "tanhshrink", "exponential", "linear", "identity", "none")
_SQUASHED = {a.replace("_", ""): a for a in ACTIVATIONS}
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


class Layer:
    """Base class of every layer family.

    Subclasses set the class attributes below and implement ``written_formula``
    (if they have parameters) and ``output_shape``.
    """

    kind: ClassVar[str] = "layer"           # spec type name
    aliases: ClassVar[tuple[str, ...]] = ()  # other accepted spec type names
    title: ClassVar[str] = "layer"           # human name, e.g. "convolution"
    family: ClassVar[str | None] = None      # letters are numbered within a family
    name_prefix: ClassVar[str] = "LAYER"     # default names: CONV1, POOL2 …
    letters: ClassVar[dict[str, str]] = {}   # letter -> meaning, in formula order
    given_letters: ClassVar[dict[str, str]] = {}  # letter -> spec field it comes from
    fields: ClassVar[tuple[str, ...]] = ()   # accepted spec fields
    required: ClassVar[tuple[str, ...]] = ()
    # Fields that take a keyword or a size (padding: same / 1 / P): field -> keywords.
    keyword_sizes: ClassVar[dict[str, tuple[str, ...]]] = {}
    reason: ClassVar[str] = ""               # why it has (or has no) parameters
    needs_image: ClassVar[bool] = False      # input must be height × width × channels
    merges: ClassVar[bool] = False           # joins several inputs (add, concat …)

    name: str | None
    bias: bool = True

    # ----------------------------------------------------------------- building

    @classmethod
    def from_fields(cls, fields: dict[str, Any], name: str | None = None,
                    symbols: tuple[str, ...] = ()) -> "Layer":
        """Build from a spec entry's fields; errors name the offending field.

        ``symbols`` are the names the spec declares as sizes (its ``symbols:`` list).
        """
        unknown = [f for f in fields if f not in cls.fields]
        if unknown:
            field = unknown[0]
            close = difflib.get_close_matches(str(field), cls.fields, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            allowed = ", ".join(cls.fields) or "none"
            raise SymparamsError(f"unknown field for {cls.kind} (expected one of {allowed}){hint}",
                                 field=field)
        for field in cls.required:
            if field not in fields:
                raise SymparamsError(f"missing; {cls.kind} needs {', '.join(cls.required)}",
                                     field=field)
        fields = dict(fields)
        for field, keywords in cls.keyword_sizes.items():
            # Declared names are checked here, where the spec's symbols are known; the
            # layer's own check then sees sizes, not words.
            if symbols and field in fields:
                raw = fields[field]
                items = raw if isinstance(raw, list) else [raw]
                checked = [keyword_or_size(item, field, keywords, symbols) for item in items]
                fields[field] = checked if isinstance(raw, list) else checked[0]
        return cls(name=name, **fields)

    def to_fields(self) -> dict[str, Any]:
        """The spec entry for this layer (sizes as ints or expression text)."""
        raise NotImplementedError

    def _replace(self, **attrs) -> "Layer":
        new = copy.copy(self)
        for key, value in attrs.items():
            setattr(new, key, value)
        return new

    # ------------------------------------------------------------ sizes/letters

    def given(self) -> dict[str, Expr]:
        """Values of the letters that come from this layer's own fields."""
        return {}

    def with_given(self, letter: str, value: Expr) -> "Layer":
        """A copy with one given letter set to another size."""
        raise SymparamsError(f"{self.kind} has no size called {letter}")

    def derived(self, in_shape: Shape) -> dict[str, Expr]:
        """Values of the letters that follow from the input shape (d, p)."""
        return {}

    def sizes(self) -> list[Expr]:
        """Every size expression of the layer, for substitution and symbol lookup."""
        return list(self.given().values())

    def xreplace(self, mapping: dict) -> "Layer":
        """A copy with symbols replaced in every size."""
        raise NotImplementedError

    # ---------------------------------------------------------------- formulas

    @property
    def has_params(self) -> bool:
        return bool(self.letters)

    def written_formula(self, L: dict[str, Symbol]) -> Expr:
        """The parameter count in the document's letters, unevaluated, in its order.

        Called with evaluation held back; ``L`` maps each letter to its Symbol.
        """
        return Integer(0)

    @property
    def formula(self) -> Expr:
        """The parameter count in plain letters, e.g. ``k*(d*m*n + 1)``."""
        return generic_formula(type(self), self.bias)[1]

    @property
    def params(self) -> Expr:
        """The count with this layer's own sizes put in; ``d``/``p`` stay letters.

        >>> from symparams import Conv2D
        >>> Conv2D(kernel=5, filters=8).params
        200*d + 8
        """
        mapping = {size_symbol(l): v for l, v in self.given().items()}
        return self.formula.xreplace(mapping)

    # ------------------------------------------------------------------ shapes

    def check_input(self, in_shape: Shape) -> None:
        if self.needs_image and len(in_shape) != 3:
            raise SymparamsError(f"{self.kind} needs a height × width × channels input, "
                                 f"found a flat vector of {in_shape[0]} values", field="type")

    def output_shape(self, in_shape: Shape) -> Shape:
        return in_shape

    def divides_exactly(self, in_hw: tuple) -> bool:
        """True when no output size of this layer needs rounding down (see --exact)."""
        return True

    def shape_working(self, in_shape: Shape) -> tuple[AxisWorking, ...]:
        """How each output size follows from the input, one entry per output size.

        The default hands every size on unchanged; families that change the
        shape work it out (sliding windows, flattening, a number of neurons).
        """
        return passed_on(self.output_shape(in_shape))

    def input_working(self, in_shape: Shape) -> tuple[AxisWorking, ...]:
        """Sizes the layer works out from its input before its own rule (a dense
        layer flattens a height × width × channels input)."""
        return ()

    def step_reason(self) -> str:
        """Why the layer has its count, as its step says it (``reason`` by default)."""
        return self.reason

    def notes(self, in_shape: Shape) -> list[str]:
        """Remarks a worked step should make (flattening, no bias …)."""
        return [] if self.bias or not self.has_params else ["bias switched off"]

    def describe(self) -> str:
        """A short description of the configuration, e.g. ``5 × 5 filter, 8 filters``."""
        return ""

    # ---------------------------------------------------------------- printing

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_fields().items() if k != "type")
        return f"{type(self).__name__}({args})"

    def __str__(self) -> str:
        from ..printing import unicode_written
        text = f"{self.name or self.kind}: {self.title}"
        if self.has_params:
            text += f", params = {unicode_written(generic_formula(type(self), self.bias)[0])}"
        else:
            text += ", no learnable parameters"
        return text

    def _latex(self, printer=None) -> str:
        from ..printing import latex_written
        return latex_written(generic_formula(type(self), self.bias)[0])

    def _repr_latex_(self) -> str:
        return f"${self._latex()}$"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.to_fields() == other.to_fields() \
            and self.name == other.name

    def __hash__(self) -> int:
        return hash((type(self), self.name, repr(sorted(self.to_fields().items()))))


@lru_cache(maxsize=None)
def generic_formula(cls: type[Layer], bias: bool) -> tuple[Expr, Expr]:
    """(written, evaluated) formula of a family in unindexed letters; built once."""
    probe = cls.__new__(cls)
    probe.bias = bias
    letters = {l: size_symbol(l) for l in cls.letters}
    with evaluate(False):
        written = probe.written_formula(letters)
    return written, written.doit()


def expr_field(value: Expr) -> int | str:
    """A size as it would be written in a spec file."""
    from ..printing import ascii_plain
    return int(value) if value.is_Integer else ascii_plain(value)
