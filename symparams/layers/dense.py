"""Fully connected: c × p + 1 × c."""
from __future__ import annotations

from sympy import Add, Integer, Mul

from ..printing import unicode_plain, unicode_shape
from ..shapes import flat_size, flat_working, given_working
from .base import ACTIVATIONS, Layer, check_keyword
from .fields import Flag, Size, Word


def check_word(raw, field: str) -> str:
    """An activation function's name, one of ``ACTIVATIONS`` (a misspelling is an error)."""
    return check_keyword(raw, field, ACTIVATIONS)


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
              Word("activation", default=None))
    reason = ("Every one of the c neurons has a weight for each of the p values coming in, "
              "plus its own bias.")
    reason_without_bias = ("Every one of the c neurons has a weight for each of the p values "
                           "coming in, and no bias (bias: false).")

    def derived(self, in_shape):
        return {"p": flat_size(in_shape)}

    def written_formula(self, L):
        weights = Mul(L["c"], L["p"])
        if self.bias:
            return Add(weights, Mul(Integer(1), L["c"]))
        return weights

    def output_shape(self, in_shape):
        return (self.c,)

    def shape_working(self, in_shape):
        return (given_working("values", "c", self.c),)

    def input_working(self, in_shape):
        if len(in_shape) == 3:
            return (flat_working("values coming in (p)", in_shape),)
        return ()

    def notes(self, in_shape):
        notes = super().notes(in_shape)
        if len(in_shape) > 1:
            dims = unicode_shape(in_shape)
            notes.insert(0, f"the {dims} input is flattened to "
                            f"{unicode_plain(flat_size(in_shape))} values first")
        return notes

    def describe(self):
        text = f"{unicode_plain(self.c)} neurons"
        if self.activation:
            text += f", {self.activation} activation"
        return text
