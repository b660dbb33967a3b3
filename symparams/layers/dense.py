"""Fully connected: c × p + 1 × c."""
from __future__ import annotations

from sympy import Add, Integer, Mul

from ..printing import unicode_plain, unicode_shape
from ..shapes import flat_size, flat_working, given_working
from .base import ACTIVATIONS, Layer, check_flag, check_keyword, check_size, expr_field


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
    given_letters = {"c": "units"}
    fields = ("units", "bias", "activation")
    required = ("units",)
    reason = ("Every one of the c neurons has a weight for each of the p values coming in, "
              "plus its own bias.")
    reason_without_bias = ("Every one of the c neurons has a weight for each of the p values "
                           "coming in, and no bias (bias: false).")

    def __init__(self, units, bias=True, activation=None, name=None):
        self.name = name
        self.c = check_size(units, "units")
        self.bias = check_flag(bias, "bias")
        self.activation = None if activation is None else check_word(activation, "activation")

    def to_fields(self):
        fields = {"type": self.kind, "units": expr_field(self.c)}
        if not self.bias:
            fields["bias"] = False
        if self.activation:
            fields["activation"] = self.activation
        return fields

    def given(self):
        return {"c": self.c}

    def with_given(self, letter, value):
        if letter != "c":
            return super().with_given(letter, value)
        return self._replace(c=check_size(value, "units"))

    def xreplace(self, mapping):
        return self._replace(c=self.c.xreplace(mapping))

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

    def step_reason(self):
        return self.reason if self.bias else self.reason_without_bias

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
