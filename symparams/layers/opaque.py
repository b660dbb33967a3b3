"""Layers an importer writes where no family fits: ``opaque`` and ``tensor``.

``opaque`` is an operation of a framework that symparams has no family for.  One
with no parameters is only a shape op the families have no name for (a transpose
inside attention, a channel shuffle): it counts 0.  One that holds parameters
counts the framework's own number (``params``), taken as it is: there is no
formula, so ``--symbolic`` leaves it a number, and the network warns about it
(an importer writes one only when asked to, with ``--allow-unknown``).

``tensor`` is a learned tensor used directly, not through a layer (a ViT class
token or position table, a layer scale, an ONNX initializer fed to an
element-wise op): its count is the product of its sizes, each a letter as in
any family, and its output is that shape.  It takes no input (``inputs: []``).
"""
from __future__ import annotations

from dataclasses import dataclass

from sympy import Integer, Mul

from ..errors import SymparamsError
from ..printable import echo, printable
from ..printing import unicode_plain, unicode_shape
from ..shapes import RANK_TEXT, RANKS, passed_on
from .base import Layer
from .checks import check_size, expr_field
from .fields import Field

TEXT_LIMIT = 200           # an op name such as "torch.nn.PReLU" or "ONNX Einsum"
COUNT_LIMIT = 10 ** 15     # far beyond any model; keeps a typo from printing 40 digits


@dataclass(frozen=True)
class OpName(Field):
    """The framework's name of the operation: one line of printable text."""

    def parse(self, raw, symbols=()):
        if not isinstance(raw, str) or not raw.strip():
            raise SymparamsError(f"expected the framework's name of the operation, such as "
                                 f"torch.nn.PReLU, found {echo(raw)}", field=self.name)
        if not raw.isprintable():
            raise SymparamsError(f"control characters are not allowed, found {echo(raw)}",
                                 field=self.name)
        if len(raw) > TEXT_LIMIT:
            raise SymparamsError(f"expected at most {TEXT_LIMIT} characters, found "
                                 f"{len(raw)}", field=self.name)
        return raw.strip()


@dataclass(frozen=True)
class Count(Field):
    """A whole number ≥ 0 counted by the framework (never a size: no letter, and
    ``--symbolic`` leaves it as it is)."""

    def parse(self, raw, symbols=()):
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= COUNT_LIMIT:
            raise SymparamsError(f"expected a whole number ≥ 0 (the framework's count), "
                                 f"found {echo(raw)}", field=self.name)
        return Integer(raw)

    def write(self, value):
        return int(value)


@dataclass(frozen=True)
class ShapeList(Field):
    """A shape in our layout (channels last, no batch axis): 1 to 4 sizes, each a whole
    number ≥ ``minimum`` or a size expression (``T``).  A field whose default is None
    may be left out."""

    def parse(self, raw, symbols=()):
        if raw is None and self.default is None:
            return None
        if not isinstance(raw, (list, tuple)) or len(raw) not in RANKS:
            raise SymparamsError(f"expected a shape {RANK_TEXT}, found {echo(raw)}",
                                 field=self.name)
        return tuple(check_size(v, f"{self.name}[{i}]", self.minimum)
                     for i, v in enumerate(raw))

    def write(self, value):
        return None if value is None else [expr_field(v) for v in value]

    def sizes(self, value):
        return [] if value is None else list(value)

    def replace(self, value, mapping):
        return None if value is None else tuple(v.xreplace(mapping) for v in value)

    def letter_values(self, value):
        return () if value is None else tuple(value)

    def with_letter(self, value, index, size):
        shape = list(value)
        shape[index] = size
        return tuple(shape)


class Opaque(Layer):
    """An operation symparams has no family for, counted by the framework's number.

    >>> layer = Opaque(op="torch.nn.PReLU", params=64)
    >>> layer.counted, layer.formula
    (64, 0)
    """
    kind = "opaque"
    title = "opaque operation"
    name_prefix = "OPAQUE"
    takes_many = True      # any number of inputs; the output is the first one's shape
    # The fields params, non_trainable and buffers are the framework's numbers; as
    # plain attributes they stand in for Layer.params and the methods of those names.
    params = Integer(0)
    schema = (OpName("op"), Count("params", default=0), Count("non_trainable", default=0),
              Count("buffers", default=0), ShapeList("output", default=None))

    def check(self):
        if self.non_trainable > self.params:
            raise SymparamsError(f"non_trainable ({self.non_trainable}) is part of params "
                                 f"({self.params}) and cannot exceed it", field="non_trainable")

    @property
    def counted(self):
        """The framework's parameter count (Layer.counted is None: a formula counts)."""
        return self.params

    # non_trainable and buffers are fields here; LayerInfo reads them as numbers.

    def output_shape(self, in_shape):
        return in_shape if self.output is None else tuple(self.output)

    def shape_working(self, in_shape):
        return passed_on(self.output_shape(in_shape))

    def step_reason(self):
        op = printable(self.op)
        if not self.params:
            return (f"{op} is an operation of the framework that symparams has no layer "
                    f"family for; it holds no parameters, so it counts 0 and only passes on "
                    f"a shape.")
        return (f"symparams has no formula for {op}: its {unicode_plain(self.params)} "
                f"parameters are counted from the framework and taken as a number, so "
                f"there is no formula (--symbolic leaves it a number).")

    def notes(self, in_shape):
        notes = []
        if self.params:
            notes.append("counted from the framework, no formula")
        if self.non_trainable:
            notes.append(f"{unicode_plain(self.non_trainable)} of its parameters are "
                         f"non-trainable (the framework's count)")
        if self.buffers:
            notes.append(f"{unicode_plain(self.buffers)} buffer values (the framework's "
                         f"count), not parameters")
        return notes

    def describe(self):
        text = printable(self.op)
        if self.params:
            text += f", {unicode_plain(self.params)} parameters from the framework"
        return text


_TENSOR_LETTERS = ("u", "v", "w", "z")
_ORDINALS = ("first", "second", "third", "fourth")


class Tensor(Layer):
    """A learned tensor used directly (a class token, a position table, a layer scale):
    as many parameters as it holds values, the product of its sizes.

    >>> Tensor(shape=[1, 768]).params
    768
    """
    kind = "tensor"
    title = "learned tensor"
    family = "tensor"
    name_prefix = "TENSOR"
    takes_no_input = True
    schema = (ShapeList("shape"),)
    reason = ("A learned tensor is used as it is, not through a layer: every one of its "
              "values is a parameter, so it has as many as the product of its sizes.")
    _by_rank: dict[int, type["Tensor"]] = {}

    @classmethod
    def _class_for(cls, values):
        shape = values.get("shape")
        if isinstance(shape, (list, tuple)) and len(shape) in cls._by_rank:
            return cls._by_rank[len(shape)]
        return cls   # its field's check gives the error

    def written_formula(self, L):
        return Mul(*(L[letter] for letter in self.letters))

    def output_shape(self, in_shape):
        return tuple(self.shape)

    def shape_working(self, in_shape):
        return passed_on(self.output_shape(in_shape))

    def notes(self, in_shape):
        return []   # no bias to speak of: every value is a parameter

    def describe(self):
        return f"shape {unicode_shape(self.shape)}"


def _tensor_of_rank(rank: int) -> type[Tensor]:
    letters = _TENSOR_LETTERS[:rank]
    return type(f"Tensor{rank}D", (Tensor,), {
        "letters": {letter: f"size of the tensor's {_ORDINALS[i]} axis"
                    for i, letter in enumerate(letters)},
        "schema": (ShapeList("shape", letters=letters),),
        "__module__": __name__,
        "__doc__": f"A learned tensor of {rank} ax{'es' if rank > 1 else 'is'}.",
    })


Tensor._by_rank = {rank: _tensor_of_rank(rank) for rank in RANKS}

__all__ = ["Opaque", "Tensor", "OpName", "Count", "ShapeList"]
