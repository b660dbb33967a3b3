"""Depthwise and depthwise-separable convolutions (Keras' DepthwiseConv2D and
SeparableConv2D): each input channel gets filters of its own."""
from __future__ import annotations

from sympy import Add, Integer, Mul, Symbol, evaluate

from ..printing import Grouped, unicode_plain
from ..shapes import AxisWorking, given_working, put_in
from .base import Layer, show_pair
from .conv import window_divides, window_output_shape, window_workings
from .fields import Flag, Padding, Pair, Size

_WINDOW = (Pair("kernel", letters=("m", "n")),)
_SLIDING = (Pair("stride", default=1), Padding("padding", default=0), Pair("dilation", default=1))
_MULTIPLIER = Size("depth_multiplier", letter="q", default=1)


class _ChannelWise(Layer):
    """A window slid over the input like conv2d's (same output height and width)."""
    family = "conv"
    name_prefix = "CONV"
    needs_image = True

    def derived(self, in_shape):
        return {"d": in_shape[2]}

    def channels(self, in_shape):
        raise NotImplementedError

    def output_shape(self, in_shape):
        return window_output_shape(in_shape, self.kernel, self.stride, self.padding,
                                   self.dilation, self.channels(in_shape))

    def divides_exactly(self, in_hw):
        return window_divides(in_hw, self.kernel, self.stride, self.padding, self.dilation)

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        return (*window_workings(in_shape, out, self.kernel, self.stride, self.padding,
                                 self.dilation),
                self.channels_working(in_shape))

    def channels_working(self, in_shape) -> AxisWorking:
        raise NotImplementedError

    def describe(self):
        parts = [f"{show_pair(self.kernel, square=True)} window"]
        if self.depth_multiplier != 1:
            parts.append(f"depth multiplier {unicode_plain(self.depth_multiplier)}")
        if hasattr(self, "filters"):
            parts.append(f"{unicode_plain(self.filters)} filters")
        parts.append(f"stride {show_pair(self.stride)}")
        if self.padding == "same":
            parts.append("padding same")
        elif self.padding != (0, 0):
            parts.append(f"padding {show_pair(self.padding)}")
        if self.dilation != (1, 1):
            parts.append(f"dilation {show_pair(self.dilation)}")
        return ", ".join(parts)


class DepthwiseConv2D(_ChannelWise):
    """Each of the d input channels is convolved on its own by q filters.

    >>> DepthwiseConv2D(kernel=3).formula
    d*q*(m*n + 1)
    """
    kind = "depthwise_conv2d"
    aliases = ("depthwiseconv2d", "depthwise_conv", "dwconv2d")
    title = "depthwise convolution"
    letters = {"m": "filter width", "n": "filter height",
               "d": "channels of the input (filters of the layer before)",
               "q": "depth multiplier: filters per input channel"}
    schema = (*_WINDOW, _MULTIPLIER, *_SLIDING, Flag("bias", default=True))
    reason = ("Each of the d input channels has q filters of its own, each with one weight "
              "per value of its m × n window over that channel alone, plus one bias.")
    reason_without_bias = ("Each of the d input channels has q filters of its own, each with "
                           "one weight per value of its m × n window over that channel alone, "
                           "and no bias (bias: false).")

    def written_formula(self, L):
        window = Grouped(Mul(L["m"], L["n"]))
        per_channel = Add(window, Integer(1)) if self.bias else window
        return Mul(per_channel, L["d"], L["q"])

    def channels(self, in_shape):
        return in_shape[2] * self.depth_multiplier

    def channels_working(self, in_shape):
        with evaluate(False):
            formula = Mul(Symbol("d"), Symbol("q"))
            substituted = Mul(put_in(in_shape[2]), put_in(self.depth_multiplier))
        return AxisWorking("channels", formula, substituted, self.channels(in_shape))


class SeparableConv2D(_ChannelWise):
    """A depthwise convolution (no bias) followed by k 1 × 1 filters over its d × q
    channels (with bias), as Keras' SeparableConv2D counts it.

    >>> SeparableConv2D(kernel=3, filters=8).formula
    d*m*n*q + k*(d*q + 1)
    """
    kind = "separable_conv2d"
    aliases = ("separableconv2d", "sepconv2d", "separable_conv")
    title = "separable convolution"
    letters = {"m": "filter width", "n": "filter height",
               "d": "channels of the input (filters of the layer before)",
               "q": "depth multiplier: depthwise filters per input channel",
               "k": "filters in this layer (1 × 1, over all d × q channels)"}
    schema = (*_WINDOW, Size("filters", letter="k"), _MULTIPLIER, *_SLIDING,
              Flag("bias", default=True))
    reason = ("The depthwise step learns an m × n window for each of its q filters per input "
              "channel (d × q of them, no bias); then each of the k 1 × 1 filters has one "
              "weight per depthwise channel, plus one bias.")
    reason_without_bias = ("The depthwise step learns an m × n window for each of its q filters "
                           "per input channel (d × q of them); then each of the k 1 × 1 "
                           "filters has one weight per depthwise channel, and no bias "
                           "(bias: false).")

    def written_formula(self, L):
        depthwise = Grouped(Mul(L["m"], L["n"], L["d"], L["q"]))
        channels = Grouped(Mul(L["d"], L["q"]))
        pointwise = Add(channels, Integer(1)) if self.bias else channels
        return Add(depthwise, Mul(pointwise, L["k"]))

    def channels(self, in_shape):
        return self.filters

    def channels_working(self, in_shape):
        return given_working("channels", "k", self.filters)
