"""Pooling: a fixed function of each window, nothing to learn."""
from __future__ import annotations

from sympy import Integer

from ..errors import SymparamsError
from ..printing import unicode_plain
from ..shapes import given_working
from .base import PADDINGS, Layer, check_pair, show_pair
from .conv import (check_padding, pair_field, padding_field, window_divides,
                   window_output_shape, window_workings)


class _Pool2D(Layer):
    family = "pool"
    name_prefix = "POOL"
    fields = ("kernel", "stride", "padding")
    required = ("kernel",)
    keyword_sizes = {"padding": PADDINGS}
    needs_image = True
    reason = ("Pooling only takes the {how} of each window; it has no weights or biases, "
              "so there is nothing to learn and the count is 0.")

    def __init__(self, kernel, stride=None, padding=0, name=None):
        self.name = name
        self.kernel = check_pair(kernel, "kernel")
        # As in Keras and PyTorch, the stride defaults to the window size.
        self.stride = self.kernel if stride is None else check_pair(stride, "stride")
        self.padding = check_padding(padding)
        self.bias = False
        self.check_padding_fits()

    def check_padding_fits(self) -> None:
        """Padding of at most half the window along each axis (2P ≤ m), as PyTorch
        requires: a wider border would make windows of padding only."""
        if self.padding == "same":
            return
        for pad, size in zip(self.padding, self.kernel):
            if (2 * pad - size).is_positive:
                raise SymparamsError(
                    f"padding {unicode_plain(pad)} is more than half the "
                    f"{show_pair(self.kernel, square=True)} window: pooling padding may be at "
                    f"most half the window along each axis (2 × padding ≤ kernel)",
                    field="padding")

    def to_fields(self):
        fields = {"type": self.kind, "kernel": pair_field(self.kernel)}
        if self.stride != self.kernel:
            fields["stride"] = pair_field(self.stride)
        if self.padding != (0, 0):
            fields["padding"] = padding_field(self.padding)
        return fields

    def sizes(self):
        pad = [] if self.padding == "same" else list(self.padding)
        return [*self.kernel, *self.stride, *pad]

    def xreplace(self, mapping):
        new = self._replace(kernel=tuple(s.xreplace(mapping) for s in self.kernel),
                            stride=tuple(s.xreplace(mapping) for s in self.stride))
        if self.padding != "same":
            new.padding = tuple(p.xreplace(mapping) for p in self.padding)
        return new

    def output_shape(self, in_shape):
        self.check_padding_fits()  # again: sizes may have been set since (--set P=3)
        return window_output_shape(in_shape, self.kernel, self.stride, self.padding,
                                   (Integer(1), Integer(1)), in_shape[2])

    def divides_exactly(self, in_hw):
        return window_divides(in_hw, self.kernel, self.stride, self.padding,
                              (Integer(1), Integer(1)))

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        return (*window_workings(in_shape, out, self.kernel, self.stride, self.padding, None),
                given_working("channels", "C", in_shape[2]))

    def describe(self):
        text = f"{show_pair(self.kernel, square=True)} window, stride {show_pair(self.stride)}"
        if self.padding == "same":
            text += ", padding same"
        elif self.padding != (0, 0):
            text += f", padding {show_pair(self.padding)}"
        return text


class MaxPool2D(_Pool2D):
    """Max pooling; the stride defaults to the window size.

    >>> from sympy import Integer
    >>> MaxPool2D(kernel=2).output_shape((Integer(28), Integer(28), Integer(8)))
    (14, 14, 8)
    """
    kind = "maxpool2d"
    aliases = ("maxpool", "max_pool2d", "pool")
    title = "max pooling"
    reason = _Pool2D.reason.format(how="maximum")


class AvgPool2D(_Pool2D):
    """Average pooling; the stride defaults to the window size."""
    kind = "avgpool2d"
    aliases = ("avgpool", "avg_pool2d", "averagepooling2d")
    title = "average pooling"
    reason = _Pool2D.reason.format(how="average")
