"""Merge layers: add, multiply and concat join the outputs of several layers.

They have nothing to learn.  Their work is the shape: add and multiply need
inputs of one shape (compared with SymPy, so H - 4 and H - 4 match), concat
joins its inputs along one axis (channels-last: the channels by default) and
needs the other axes to match.  Which layers feed them is the network's
business (``inputs:``, see :mod:`symparams.graph`).
"""
from __future__ import annotations

from dataclasses import dataclass

from sympy import Add, Expr, Symbol, evaluate

from ..errors import SymparamsError
from ..printable import echo
from ..printing import unicode_shape
from ..shapes import AxisWorking, Shape, passed_on, put_in
from .base import Layer
from .fields import Field

_LABELS = {3: ("height", "width", "channels"), 1: ("values",)}
_LETTERS = {3: "HWd", 1: "p"}   # the letter of each axis in a concat's working


def same_size(a: Expr, b: Expr) -> bool:
    """False when SymPy shows two sizes differ (6 and 8, ``H - 2`` and ``H - 4``).

    Sizes whose difference still holds letters (``H - n₁ + 1`` and ``H - n₂ + 3``
    in a network whose sizes are all letters, as ``symbolic()``, solve and sweep
    make it) may match for the values put in later: they are not refused here.
    """
    if a == b:
        return True
    difference = (a - b).expand()
    return difference == 0 or not difference.is_number


@dataclass(frozen=True)
class AxisNumber(Field):
    """An axis of a channels-last shape: -1 (the channels), 0, 1 …"""

    def parse(self, raw, symbols=()):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise SymparamsError(f"expected an axis number such as -1 (channels) or 0, found "
                                 f"{echo(raw)}", field=self.name)
        return raw


class Merge(Layer):
    """Base of the merge layers: several inputs, no parameters."""
    merges = True

    def check_inputs(self, shapes: list[Shape], names: list[str]) -> None:
        """Refuse inputs whose shapes do not fit (the error shows both shapes)."""
        first = shapes[0]
        for shape, name in zip(shapes[1:], names[1:]):
            if len(shape) != len(first) or not all(map(same_size, shape, first)):
                raise SymparamsError(
                    f"{self.kind} needs inputs of the same shape: {names[0]} gives "
                    f"{unicode_shape(first)}, {name} gives {unicode_shape(shape)}",
                    field="inputs")

    def merged_shape(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def merge_working(self, shapes: list[Shape]) -> tuple[AxisWorking, ...]:
        return passed_on(self.merged_shape(shapes))


class AddMerge(Merge):
    """Element-wise sum of inputs of one shape (a residual connection)."""
    kind = "add"
    title = "element-wise addition"
    name_prefix = "ADD"
    reason = ("Adding inputs of the same shape value by value uses no weights; nothing is "
              "learned, and the output has the shape of each input.")


class MultiplyMerge(Merge):
    """Element-wise product of inputs of one shape (a gate)."""
    kind = "multiply"
    title = "element-wise multiplication"
    name_prefix = "MUL"
    reason = ("Multiplying inputs of the same shape value by value uses no weights; nothing "
              "is learned, and the output has the shape of each input.")


class Concat(Merge):
    """Inputs laid side by side along one axis (the channels by default)."""
    kind = "concat"
    aliases = ("concatenate",)
    title = "concatenation"
    name_prefix = "CONCAT"
    schema = (AxisNumber("axis", default=-1),)
    reason = ("Concatenation lays its inputs side by side along one axis; nothing is "
              "computed with a weight, so nothing is learned.")

    def describe(self):
        return "along the channels" if self.axis == -1 else f"along axis {self.axis}"

    def _axis(self, rank: int) -> int:
        if not -rank <= self.axis < rank:
            raise SymparamsError(f"axis {self.axis} is outside an input of {rank} "
                                 f"ax{'es' if rank > 1 else 'is'} (use 0 … {rank - 1} or -1)",
                                 field="axis")
        return self.axis % rank

    def check_inputs(self, shapes, names):
        first = shapes[0]
        axis = self._axis(len(first))
        for shape, name in zip(shapes[1:], names[1:]):
            if len(shape) != len(first) or not all(
                    same_size(a, b) for i, (a, b) in enumerate(zip(shape, first)) if i != axis):
                label = _LABELS[len(first)][axis]
                raise SymparamsError(
                    f"concat needs inputs that match except along the {label}: {names[0]} "
                    f"gives {unicode_shape(first)}, {name} gives {unicode_shape(shape)}",
                    field="inputs")

    def merged_shape(self, shapes):
        axis = self._axis(len(shapes[0]))
        joined = Add(*(s[axis] for s in shapes))
        return tuple(joined if i == axis else v for i, v in enumerate(shapes[0]))

    def merge_working(self, shapes):
        """``d₁ + d₂ = 64 + 64 = 128`` along the joined axis; the others handed on."""
        rank = len(shapes[0])
        axis = self._axis(rank)
        out = self.merged_shape(shapes)
        handed = passed_on(out) if rank in _LABELS else ()
        letter = _LETTERS[rank][axis]
        with evaluate(False):
            formula = Add(*(Symbol(f"{letter}_{i}") for i in range(1, len(shapes) + 1)))
            substituted = Add(*(put_in(s[axis]) for s in shapes))
        joined = AxisWorking(_LABELS[rank][axis], formula, substituted, out[axis])
        return tuple(joined if i == axis else w for i, w in enumerate(handed))


MERGES = (AddMerge, MultiplyMerge, Concat)
__all__ = ["Merge", "AddMerge", "MultiplyMerge", "Concat", "MERGES", "same_size"]
