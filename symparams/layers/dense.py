"""Fully connected: c × p + 1 × c.

On a sequence ``[T, E]`` a dense layer acts on the last axis at each of the T
positions with the same weights (PyTorch's Linear, Keras' Dense on a 3-D tensor):
p = E and the output is ``[T, c]``.  An image or volume is flattened first, as the
source document does (put a ``flatten`` before it to flatten a sequence too).

``tie: EMBED`` says the layer's c × p weights are the embedding EMBED's V × E table
(GPT-2's output projection is its token embedding, transposed): they are counted
once, at the embedding, and the layer adds only its own bias.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sympy import Add, Integer, Mul

from ..errors import SymparamsError
from ..numbers import thousands
from ..printable import echo
from ..printing import unicode_plain, unicode_shape, unicode_written
from ..shapes import flat_size, flat_working, given_working
from .base import ACTIVATIONS, Layer, check_keyword
from .fields import Field, Flag, Size, Word


def check_word(raw, field: str) -> str:
    """An activation function's name, one of ``ACTIVATIONS`` (a misspelling is an error)."""
    return check_keyword(raw, field, ACTIVATIONS)


@dataclass(frozen=True)
class LayerName(Field):
    """The name of another layer of the network (``tie: EMBED``); None when left out."""
    default: object = None

    def parse(self, raw, symbols=()):
        if not isinstance(raw, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,80}", raw):
            raise SymparamsError(f"expected the name of an earlier layer, found {echo(raw)}",
                                 field=self.name)
        return raw


def on_sequence(in_shape) -> bool:
    """A dense layer acts per position on a [T, E] sequence (flattens anything larger)."""
    return len(in_shape) == 2


class Dense(Layer):
    """A fully connected layer of ``units`` neurons, each wired to every input value.

    >>> Dense(units=120).formula
    c*p + c
    >>> from sympy import Integer
    >>> Dense(units=120).output_shape((Integer(5), Integer(5), Integer(16)))
    (120,)
    """

    kind = "dense"
    aliases = ("fc", "linear", "fully_connected")
    title = "fully connected"
    family = "dense"
    name_prefix = "FC"
    letters = {"c": "neurons in this layer", "p": "neurons (values) in the layer before"}
    schema = (Size("units", letter="c"), Flag("bias", default=True),
              Word("activation", default=None), LayerName("tie"))
    tied = False
    reason = ("Every one of the c neurons has a weight for each of the p values coming in, "
              "plus its own bias.")
    reason_without_bias = ("Every one of the c neurons has a weight for each of the p values "
                           "coming in, and no bias (bias: false).")

    @classmethod
    def _class_for(cls, values):
        # tie: NAME makes a tied layer, whose own count is its bias alone.
        if cls is Dense and values.get("tie") is not None:
            return TiedDense if values.get("bias", True) is not False else TiedDenseNoBias
        return cls

    def derived(self, in_shape):
        return {"p": in_shape[-1] if on_sequence(in_shape) else flat_size(in_shape)}

    def written_formula(self, L):
        weights = Mul(L["c"], L["p"])
        if self.bias:
            return Add(weights, Mul(Integer(1), L["c"]))
        return weights

    def output_shape(self, in_shape):
        return (in_shape[0], self.c) if on_sequence(in_shape) else (self.c,)

    def shape_working(self, in_shape):
        if on_sequence(in_shape):
            return (given_working("length", "T", in_shape[0]),
                    given_working("features", "c", self.c))
        return (given_working("values", "c", self.c),)

    def input_working(self, in_shape):
        if len(in_shape) > 2:
            return (flat_working("values coming in (p)", in_shape),)
        return ()

    def notes(self, in_shape):
        notes = super().notes(in_shape)
        if on_sequence(in_shape):
            notes.insert(0, f"applied to each of the {unicode_plain(in_shape[0])} positions "
                            f"with the same weights (p = the last axis, "
                            f"{unicode_plain(in_shape[-1])})")
        elif len(in_shape) > 1:
            dims = unicode_shape(in_shape)
            notes.insert(0, f"the {dims} input is flattened to "
                            f"{unicode_plain(flat_size(in_shape))} values first")
        return notes

    def describe(self):
        text = f"{unicode_plain(self.units)} neurons"
        if self.activation:
            text += f", {self.activation} activation"
        if self.tie is not None:
            text += f", weights tied to {self.tie}"
        return text


class TiedDense(Dense):
    """A dense layer whose weights are an embedding's table (``tie:``): only its bias counts.

    >>> TiedDense(units=50, tie="WTE").formula
    c
    """
    tied = True
    reason = ("Its c × p weights are the embedding's table named by tie (counted there, once); "
              "each of the c neurons adds its own bias.")
    reason_without_bias = ("Its c × p weights are the embedding's table named by tie, counted "
                           "there, once; it has no bias (bias: false), so it adds nothing.")

    def written_formula(self, L):
        return Mul(Integer(1), L["c"]) if self.bias else Integer(0)

    def notes(self, in_shape):
        notes = [n for n in super().notes(in_shape) if n != "bias switched off"]
        p = in_shape[-1] if on_sequence(in_shape) else flat_size(in_shape)
        from sympy import evaluate
        with evaluate(False):
            numbers = Mul(self.units, p)
        shared = self.units * p
        notes.append(f"tied weights: its c × p = {unicode_written(numbers)} = "
                     f"{thousands(shared)} weights are {self.tie}'s table (tie: {self.tie}), "
                     f"counted once there, not again here")
        return notes

    def check_tie(self, in_shape, target: Layer) -> None:
        """The tied table must be an embedding of V = c rows of E = p values."""
        p = in_shape[-1] if on_sequence(in_shape) else flat_size(in_shape)
        if target.kind != "embedding":
            raise SymparamsError(f"{self.tie} is a {target.kind} layer; tie names an embedding "
                                 f"whose table this layer's weights are", field="tie")
        if (target.V - self.units).is_number and target.V != self.units or \
                (target.E - p).is_number and target.E != p:
            raise SymparamsError(
                f"{self.tie}'s table is {unicode_plain(target.V)} × {unicode_plain(target.E)} "
                f"(V × E), this layer's weights {unicode_plain(self.units)} × {unicode_plain(p)} "
                f"(c × p): units must be V and the input width E", field="tie")


class TiedDenseNoBias(TiedDense):
    """A tied dense layer without bias (GPT-2's lm_head): nothing of its own to count."""
    letters = {}
    schema = Dense.schema
    reason = TiedDense.reason_without_bias

    def written_formula(self, L):
        return Integer(0)
