"""Layers with nothing to learn: input, flatten, dropout, activation."""
from __future__ import annotations

from sympy import Rational

from ..errors import SymparamsError
from ..printing import unicode_shape
from ..shapes import flat_size, flat_working, passed_on
from .dense import check_word
from .base import Layer


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

    def __init__(self, name=None):
        self.name = name
        self.bias = False

    def to_fields(self):
        return {"type": self.kind}

    def xreplace(self, mapping):
        return self

    def output_shape(self, in_shape):
        return (flat_size(in_shape),)

    def shape_working(self, in_shape):
        if len(in_shape) == 3:
            return (flat_working("values", in_shape),)
        return super().shape_working(in_shape)


class Dropout(Layer):
    """Randomly zero values during training; nothing to learn."""
    kind = "dropout"
    title = "dropout"
    name_prefix = "DROPOUT"
    fields = ("rate",)
    reason = "Dropout only switches values off at random while training; it has no weights."

    def __init__(self, rate=Rational(1, 2), name=None):
        self.name = name
        self.bias = False
        if isinstance(rate, bool) or not isinstance(rate, (int, float, Rational)) \
                or not 0 <= rate < 1:
            raise SymparamsError(f"expected a rate from 0 up to (not including) 1, found {rate!r}",
                                 field="rate")
        # A probability, not a count: kept exact all the same.
        self.rate = Rational(str(rate))

    def to_fields(self):
        return {"type": self.kind, "rate": float(self.rate)}

    def xreplace(self, mapping):
        return self

    def describe(self):
        return f"rate {float(self.rate):g}"


class Activation(Layer):
    """Apply a fixed function such as ReLU to every value; nothing to learn."""
    kind = "activation"
    aliases = ("relu", )
    title = "activation"
    name_prefix = "ACT"
    fields = ("function",)
    reason = "An activation applies a fixed function to every value; it has no weights."

    def __init__(self, function="relu", name=None):
        self.name = name
        self.bias = False
        self.function = check_word(function, "function")

    def to_fields(self):
        return {"type": self.kind, "function": self.function}

    def xreplace(self, mapping):
        return self

    def describe(self):
        return self.function
