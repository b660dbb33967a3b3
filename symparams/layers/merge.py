"""Merge layers: add, multiply and concat join the outputs of several layers.

They have nothing to learn.  Their work is the shape: add and multiply
broadcast their inputs as NumPy does (shapes lined up from the last axis; along
each axis the sizes match, compared with SymPy so H - 4 and H - 4 match, or one
of them is 1: ``[H, W, C] * [1, 1, C]``, ``[T, E] + [1, E]``), concat joins its
inputs along one axis (channels-last: the channels by default, ``axis: 0`` the
first; negative counts from the last) and needs the other axes to match.  Which layers feed them is the network's
business (``inputs:``, see :mod:`symparams.graph`).
"""
from __future__ import annotations

from dataclasses import dataclass

from sympy import Add, Expr, Integer, Symbol, evaluate

from ..errors import SymparamsError
from ..printable import echo
from ..printing import unicode_shape
from ..shapes import AXES, AxisWorking, Shape, passed_on, put_in
from .base import Layer
from .fields import Field

_LABELS = {rank: tuple("values" if rank == 1 else label for label, _ in axes)
           for rank, axes in AXES.items()}
# The letter of each axis in a concat's working: an image's channels are d, as the
# convolutions write them, a flat input's values p, as the dense layers do.
_LETTERS = {rank: "".join(letter for _, letter in axes) for rank, axes in AXES.items()}
_LETTERS.update({3: "HWd", 1: "p"})


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
        """Refuse inputs whose shapes do not broadcast (the error shows both shapes)."""
        broadcast(shapes, names, self.kind)

    def merged_shape(self, shapes: list[Shape]) -> Shape:
        return broadcast(shapes, [""] * len(shapes), self.kind)

    def merge_working(self, shapes: list[Shape]) -> tuple[AxisWorking, ...]:
        return passed_on(self.merged_shape(shapes))


def broadcast(shapes: list[Shape], names: list[str], kind: str) -> Shape:
    """The shape NumPy's broadcasting gives: the shapes lined up from their last axis,
    and along each axis one size, the sizes that are not 1 being the same (a size
    that still holds letters may match later, see :func:`same_size`)."""
    out = tuple(shapes[0])
    for shape, name in zip(shapes[1:], names[1:]):
        rank = max(len(out), len(shape))
        a = (1,) * (rank - len(out)) + tuple(out)
        b = (1,) * (rank - len(shape)) + tuple(shape)
        joined = []
        for x, y in zip(a, b):
            if x == 1:
                joined.append(y)
            elif y == 1 or same_size(x, y):
                joined.append(x)
            else:
                raise SymparamsError(
                    f"{kind} needs inputs of one shape or shapes that broadcast (each size "
                    f"the same or 1): {names[0]} gives {unicode_shape(shapes[0])}, {name} "
                    f"gives {unicode_shape(shape)}", field="inputs")
        out = tuple(Integer(v) if isinstance(v, int) else v for v in joined)
    return out


class AddMerge(Merge):
    """Element-wise sum of inputs of one shape (a residual connection)."""
    kind = "add"
    title = "element-wise addition"
    name_prefix = "ADD"
    reason = ("Adding inputs value by value uses no weights; nothing is learned. The output "
              "has the shape of the inputs (an input with size 1 along an axis is repeated "
              "along it, as NumPy broadcasts).")


class MultiplyMerge(Merge):
    """Element-wise product of inputs of one shape (a gate)."""
    kind = "multiply"
    title = "element-wise multiplication"
    name_prefix = "MUL"
    reason = ("Multiplying inputs value by value uses no weights; nothing is learned. The "
              "output has the shape of the inputs (an input with size 1 along an axis is "
              "repeated along it, as NumPy broadcasts).")


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
        return "along the last axis" if self.axis == -1 else f"along axis {self.axis}"

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
        handed = passed_on(out)
        letter = _LETTERS[rank][axis]
        with evaluate(False):
            formula = Add(*(Symbol(f"{letter}_{i}") for i in range(1, len(shapes) + 1)))
            substituted = Add(*(put_in(s[axis]) for s in shapes))
        joined = AxisWorking(_LABELS[rank][axis], formula, substituted, out[axis])
        return tuple(joined if i == axis else w for i, w in enumerate(handed))


MERGES = (AddMerge, MultiplyMerge, Concat)
__all__ = ["Merge", "AddMerge", "MultiplyMerge", "Concat", "MERGES", "same_size"]
