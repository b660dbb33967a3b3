"""Pooling: a fixed function of each window, nothing to learn."""
from __future__ import annotations

from sympy import Integer

from ..errors import SymparamsError
from ..printing import unicode_plain
from ..shapes import given_working
from .base import Layer, show_pair
from .conv import window_divides, window_output_shape, window_workings
from .fields import Padding, Pair, SameAs


class _Pool2D(Layer):
    family = "pool"
    name_prefix = "POOL"
    # As in Keras and PyTorch, the stride defaults to the window size.
    schema = (Pair("kernel"), Pair("stride", default=SameAs("kernel")),
              Padding("padding", default=0))
    needs_image = True
    reason = ("Pooling only takes the {how} of each window; it has no weights or biases, "
              "so there is nothing to learn and the count is 0.")

    def check(self):
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
    kind_by_rank = {2: "maxpool1d", 4: "maxpool3d"}
    reason = _Pool2D.reason.format(how="maximum")


class AvgPool2D(_Pool2D):
    """Average pooling; the stride defaults to the window size."""
    kind = "avgpool2d"
    aliases = ("avgpool", "avg_pool2d", "averagepooling2d")
    title = "average pooling"
    kind_by_rank = {2: "avgpool1d", 4: "avgpool3d"}
    reason = _Pool2D.reason.format(how="average")
