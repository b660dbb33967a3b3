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
from functools import lru_cache
from typing import Any, ClassVar

from sympy import Expr, Integer, Symbol, evaluate

from ..errors import SymparamsError
from ..shapes import AXES, AxisWorking, Shape, passed_on
from ..spec import size_symbol
from ..printing import unicode_plain, unicode_shape
# The checks live in checks.py; they are imported from here too (cli, network, tests).
from .checks import (ACTIVATIONS, PADDINGS, check_flag, check_keyword, check_names,  # noqa: F401
                     check_pair, check_size, expr_field, is_letter_name, keyword_or_size,
                     show_pair, unknown_word)
from .fields import Field, Padding, SameAs


class Layer:
    """Base class of every layer family.

    A family declares its spec fields once in ``schema`` (see fields.py); the
    constructor, ``from_fields``, ``to_fields``, ``given``, ``with_given``,
    ``sizes`` and ``xreplace`` and the tables ``fields``, ``required``,
    ``given_letters`` and ``keyword_sizes`` all follow from it.  A family then
    writes only what is its own: its letters and ``written_formula`` (if it has
    parameters), its ``output_shape`` and how that is worked out, ``describe``.
    Each value is kept as an attribute named after its field (``layer.kernel``);
    each letter a field gives is a read-only attribute too (``layer.m``).
    """

    kind: ClassVar[str] = "layer"           # spec type name
    aliases: ClassVar[tuple[str, ...]] = ()  # other accepted spec type names
    title: ClassVar[str] = "layer"           # human name, e.g. "convolution"
    family: ClassVar[str | None] = None      # letters are numbered within a family
    name_prefix: ClassVar[str] = "LAYER"     # default names: CONV1, POOL2 …
    letters: ClassVar[dict[str, str]] = {}   # letter -> meaning, in formula order
    schema: ClassVar[tuple[Field, ...]] = ()  # the spec fields, declared once
    # Derived from schema by __init_subclass__:
    given_letters: ClassVar[dict[str, str]] = {}  # letter -> spec field it comes from
    fields: ClassVar[tuple[str, ...]] = ()   # accepted spec fields
    required: ClassVar[tuple[str, ...]] = ()
    # Fields that take a keyword or a size (padding: same / 1 / P): field -> keywords.
    keyword_sizes: ClassVar[dict[str, tuple[str, ...]]] = {}
    reason: ClassVar[str] = ""               # why it has (or has no) parameters
    reason_without_bias: ClassVar[str] = ""  # the reason with bias: false, if it differs
    needs_image: ClassVar[bool] = False      # input must be height × width × channels
    input_rank: ClassVar[int | None] = None  # the rank the input must have (3 with needs_image)
    # The same kind of layer for inputs of other ranks (conv2d: {2: "conv1d", 4: "conv3d"}),
    # which the error for an input of the wrong rank names.
    kind_by_rank: ClassVar[dict[int, str]] = {}
    merges: ClassVar[bool] = False           # joins several inputs (add, concat …)
    takes_many: ClassVar[bool] = False       # takes one input or several (opaque)
    takes_no_input: ClassVar[bool] = False   # takes nothing (a learned tensor)
    # The framework's own count for a layer with no formula (opaque); None: the formula counts.
    counted: ClassVar[Any] = None
    # A family with convention_field(): how PyTorch and Keras count it, for the
    # sentence every output gives about the network's convention.
    convention_note: ClassVar[str] = ""

    name: str | None
    bias: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "schema" not in cls.__dict__ and "letters" not in cls.__dict__:
            return  # inherits its parent's tables (MaxPool2D from _Pool2D)
        cls.fields = tuple(f.name for f in cls.schema)
        cls.required = tuple(f.name for f in cls.schema if f.required)
        # A field's letter counts only where the formula has it: conv2d's groups gives
        # g to the grouped convolution's formula, not to the plain one.
        cls.given_letters = {letter: f.name for f in cls.schema for letter in f.letters
                             if letter in cls.letters}
        cls.keyword_sizes = {f.name: f.keywords for f in cls.schema if isinstance(f, Padding)}
        for f in cls.schema:
            for index, letter in enumerate(f.letters):
                if letter in cls.letters and not hasattr(cls, letter):
                    setattr(cls, letter, _letter_property(f, index))

    @classmethod
    def _class_for(cls, values: dict[str, Any]) -> type["Layer"]:
        """The class a layer with these field values is (a family with a variant whose
        formula differs, such as a grouped convolution, picks it here)."""
        return cls

    def __new__(cls, *args, **values):
        return super().__new__(cls._class_for(values))

    # ----------------------------------------------------------------- building

    def __init__(self, *args, name: str | None = None, **values):
        if len(args) > len(self.schema):
            raise TypeError(f"{type(self).__name__}() takes at most {len(self.schema)} "
                            f"positional arguments")
        for f, arg in zip(self.schema, args):
            if f.name in values:
                raise TypeError(f"{type(self).__name__}() got two values for {f.name}")
            values[f.name] = arg
        unknown = [key for key in values if key not in self.fields]
        if unknown:
            raise TypeError(f"{type(self).__name__}() got an unexpected field {unknown[0]!r}")
        self._build(values, name)

    def _build(self, values: dict[str, Any], name: str | None,
               symbols: tuple[str, ...] = ()) -> None:
        self.name = name
        if "bias" not in self.fields:
            self.bias = False
        for f in self.schema:  # in order: a SameAs default reads an earlier field
            given = values.get(f.name)
            if given is None and (f.default is None or isinstance(f.default, SameAs)):
                value = self._default(f)  # null where the default is "none" or another field
            elif f.name in values:
                value = f.parse(given, symbols)
            elif f.required:
                raise SymparamsError(f"missing; {self.kind} needs {', '.join(self.required)}",
                                     field=f.name)
            else:
                value = self._default(f)
            setattr(self, f.name, value)
        self.check()

    def _default(self, f: Field) -> Any:
        if isinstance(f.default, SameAs):
            return getattr(self, f.default.field)
        return f.parse(f.default) if f.default is not None else None

    def check(self) -> None:
        """Checks across fields, run once the fields are read (none by default)."""

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
        target = cls._class_for(fields)
        layer = target.__new__(target)
        layer._build(dict(fields), name, symbols)
        return layer

    def to_fields(self) -> dict[str, Any]:
        """The spec entry for this layer (sizes as ints or expression text); a field
        at its default is left out unless it is declared ``always``."""
        fields: dict[str, Any] = {"type": self.kind}
        for f in self.schema:
            value = getattr(self, f.name)
            if f.always or f.required or value != self._default(f):
                fields[f.name] = f.write(value)
        return fields

    def _replace(self, **attrs) -> "Layer":
        new = copy.copy(self)
        for key, value in attrs.items():
            setattr(new, key, value)
        return new

    # ------------------------------------------------------------ sizes/letters

    def given(self) -> dict[str, Expr]:
        """Values of the letters that come from this layer's own fields."""
        return {letter: value for f in self.schema
                for letter, value in zip(f.letters, f.letter_values(getattr(self, f.name)))
                if letter in self.letters}

    def with_given(self, letter: str, value: Expr) -> "Layer":
        """A copy with one given letter set to another size."""
        for f in self.schema:
            if letter in f.letters and letter in self.letters:
                size = check_size(value, f.name, f.minimum)
                new = f.with_letter(getattr(self, f.name), f.letters.index(letter), size)
                return self._replace(**{f.name: new})
        raise SymparamsError(f"{self.kind} has no size called {letter}")

    def derived(self, in_shape: Shape) -> dict[str, Expr]:
        """Values of the letters that follow from the input shape (d, p)."""
        return {}

    def sizes(self) -> list[Expr]:
        """Every size expression of the layer, for substitution and symbol lookup."""
        return [size for f in self.schema for size in f.sizes(getattr(self, f.name))]

    def xreplace(self, mapping: dict) -> "Layer":
        """A copy with symbols replaced in every size."""
        return self._replace(**{f.name: f.replace(getattr(self, f.name), mapping)
                                for f in self.schema})

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
        rank = self.input_rank or (3 if self.needs_image else None)
        if rank is None or len(in_shape) == rank:
            return
        if len(in_shape) == 1:
            found = f"a flat vector of {unicode_plain(in_shape[0])} values"
        else:
            found = f"a {_axes_text(len(in_shape))} input {unicode_shape(in_shape)}"
        other = self.kind_by_rank.get(len(in_shape))
        hint = f": use {other} for a {_axes_text(len(in_shape))} input" if other else ""
        raise SymparamsError(f"{self.kind} needs a {_axes_text(rank)} input, found "
                             f"{found}{hint}", field="type")

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

    def non_trainable(self, in_shape: Shape) -> Expr:
        """Values the framework counts as parameters but does not train (Keras' moving
        mean and variance); 0 by default.  Frozen layers (``trainable: false``) are the
        network's business, not the family's."""
        return Integer(0)

    def buffers(self, in_shape: Shape) -> Expr:
        """Values the layer keeps that are not parameters at all (PyTorch's running
        statistics); 0 by default."""
        return Integer(0)

    def step_reason(self) -> str:
        """Why the layer has its count, as its step says it (``reason`` by default)."""
        return self.reason_without_bias if not self.bias and self.reason_without_bias \
            else self.reason

    def notes(self, in_shape: Shape) -> list[str]:
        """Remarks a worked step should make (flattening, no bias …)."""
        return [] if self.bias or not self.has_params else ["bias switched off"]

    def describe(self) -> str:
        """A short description of the configuration, e.g. ``5 × 5 filter, 8 filters``."""
        return ""

    # ---------------------------------------------------------------- printing

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_fields().items() if k != "type")
        return f"{family_class(type(self)).__name__}({args})"

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


def family_class(cls: type[Layer]) -> type[Layer]:
    """The family a class belongs to: the class that declares the spec ``kind``.  A
    formula variant (``BatchNormFixed``, ``GroupedConv2D``, an LSTM's
    ``LSTM_biases2_dirs1_stacked1``) is made by the family from its field values, so
    a repr names the family, as a user would write it: ``Conv2D(..., groups=2)``."""
    for klass in cls.__mro__:
        if "kind" in klass.__dict__:
            return klass
    return cls


@lru_cache(maxsize=None)
def generic_formula(cls: type[Layer], bias: bool) -> tuple[Expr, Expr]:
    """(written, evaluated) formula of a family in unindexed letters; built once."""
    probe = cls.__new__(cls)
    probe.bias = bias
    letters = {l: size_symbol(l) for l in cls.letters}
    with evaluate(False):
        written = probe.written_formula(letters)
    return written, written.doit()



def _axes_text(rank: int) -> str:
    """``height × width × channels``: the axes of an input of this rank."""
    return " × ".join(name for name, _ in AXES[rank])


def _letter_property(f: Field, index: int) -> property:
    """The size behind one letter a field gives (``conv.m`` is ``conv.kernel[0]``)."""
    def size(self) -> Expr:
        return f.letter_values(getattr(self, f.name))[index]
    size.__doc__ = f"the size {f.letters[index]}, from the field {f.name}"
    return property(size)
