"""Layers with nothing to learn: input, flatten, dropout, activation."""
from __future__ import annotations

from sympy import Rational

from ..printing import unicode_shape
from ..shapes import flat_size, flat_working, passed_on
from .base import Layer
from .fields import Rate, Word


class Input(Layer):
    """The input: it only states the shape of the data, so it has 0 parameters."""
    kind = "input"
    title = "input"
    name_prefix = "INPUT"
    reason = "The input layer only hands on the data and its shape; it has nothing to learn."

    def __init__(self, shape=(), name="INPUT"):
        self.name = name
        self.shape = tuple(shape)
        self.bias = False

    def to_fields(self):
        return {"type": self.kind}

    def xreplace(self, mapping):
        return self._replace(shape=tuple(v.xreplace(mapping) for v in self.shape))

    def sizes(self):
        return list(self.shape)

    def output_shape(self, in_shape):
        return self.shape

    def shape_working(self, in_shape):
        return passed_on(self.shape)

    def describe(self):
        return unicode_shape(self.shape)


class Flatten(Layer):
    """Reshape height × width × channels into one vector; nothing to learn."""
    kind = "flatten"
    title = "flatten"
    name_prefix = "FLATTEN"
    reason = "Flattening only rearranges the values into one long vector; nothing is learned."

    def output_shape(self, in_shape):
        return (flat_size(in_shape),)

    def shape_working(self, in_shape):
        if len(in_shape) > 1:  # H × W × C, L × C, D × H × W × C
            return (flat_working("values", in_shape),)
        return super().shape_working(in_shape)


class Dropout(Layer):
    """Randomly zero values during training; nothing to learn."""
    kind = "dropout"
    title = "dropout"
    name_prefix = "DROPOUT"
    schema = (Rate("rate", default=Rational(1, 2), always=True),)
    reason = "Dropout only switches values off at random while training; it has no weights."

    def describe(self):
        return f"rate {float(self.rate):g}"


class Activation(Layer):
    """Apply a fixed function such as ReLU to every value; nothing to learn."""
    kind = "activation"
    aliases = ("relu", )
    title = "activation"
    name_prefix = "ACT"
    schema = (Word("function", default="relu", always=True),)
    reason = "An activation applies a fixed function to every value; it has no weights."

    def describe(self):
        return self.function
