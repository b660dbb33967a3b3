"""Convolution: ((m × n × d) + 1) × k."""
from __future__ import annotations

from sympy import Add, Integer, Mul

from ..errors import SymparamsError
from ..printing import Grouped, SlashRatio, unicode_plain
from ..shapes import (AxisWorking, Shape, conv_divides_exactly, conv_output_size,
                      given_working, window_working)
from .base import Layer, show_pair
from .fields import Flag, Padding, Pair, Size, check_padding, padding_field, pair_field  # noqa: F401


def window_output_shape(in_shape: Shape, kernel, stride, padding, dilation,
                        channels) -> Shape:
    """Slide a (width × height) window over (height, width, ·) and check it fits."""
    height, width = in_shape[0], in_shape[1]
    pad_w, pad_h = (None, None) if padding == "same" else padding
    out = []
    for axis, size, k, s, p, dil in (("height", height, kernel[1], stride[1], pad_h, dilation[1]),
                                     ("width", width, kernel[0], stride[0], pad_w, dilation[0])):
        result = conv_output_size(size, k, s, "same" if padding == "same" else p, dil)
        if result.is_number and result < 1 or result.is_positive is False:
            pad_text = "" if padding == "same" else f" with padding {unicode_plain(p)}"
            raise SymparamsError(
                f"the {show_pair(kernel, square=True)} window does not fit the input {axis} "
                f"{unicode_plain(size)}{pad_text}: output {axis} would be {unicode_plain(result)}",
                field="kernel")
        out.append(result)
    return (out[0], out[1], channels)


def window_workings(in_shape: Shape, out_shape: Shape, kernel, stride, padding,
                    dilation) -> tuple[AxisWorking, AxisWorking]:
    """How the output height and width of a (width × height) window follow from the
    input (``dilation`` None for pooling, which has none)."""
    pad_w, pad_h = ("same", "same") if padding == "same" else padding
    dil_w, dil_h = (None, None) if dilation is None else dilation
    return (window_working("height", ("H", "n"), in_shape[0], kernel[1], stride[1], pad_h,
                           dil_h, out_shape[0]),
            window_working("width", ("W", "m"), in_shape[1], kernel[0], stride[0], pad_w,
                           dil_w, out_shape[1]))


def window_divides(in_hw, kernel, stride, padding, dilation) -> bool:
    """Both axes of a (width × height) window over (height, width) tile exactly."""
    height, width = in_hw
    pad_w, pad_h = ("same", "same") if padding == "same" else padding
    return (conv_divides_exactly(height, kernel[1], stride[1], pad_h, dilation[1])
            and conv_divides_exactly(width, kernel[0], stride[0], pad_w, dilation[0]))


def filter_bank_formula(L, bias: bool):
    """((m × n × d) + 1) × k: k filters of m × n × d weights and a bias each."""
    window = Grouped(Mul(L["m"], L["n"], L["d"]))
    if bias:
        return Mul(Add(window, Integer(1)), L["k"])
    return Mul(window, L["k"])


def window_options(layer) -> list[str]:
    """The stride, and padding and dilation where they are not the defaults, as the
    step's description writes them."""
    parts = [f"stride {show_pair(layer.stride)}"]
    if layer.padding == "same":
        parts.append("padding same")
    elif layer.padding != (0, 0):
        parts.append(f"padding {show_pair(layer.padding)}")
    if layer.dilation != (1, 1):
        parts.append(f"dilation {show_pair(layer.dilation)}")
    return parts


def check_groups_divide(groups, size, what: str) -> None:
    """Each of the g groups of a convolution needs the same number of filters and of
    input channels: refuse a ``groups`` that does not divide ``size`` (when both are numbers)."""
    ratio = size / groups
    if ratio.is_number and not ratio.is_Integer:
        unit = "filters" if what == "filters" else "channels"
        raise SymparamsError(f"{unicode_plain(groups)} groups do not divide the "
                             f"{unicode_plain(size)} {what}: each group needs the same "
                             f"number of {unit}", field="groups")


class Conv2D(Layer):
    """A 2-D convolution with ``filters`` filters of ``kernel`` = m × n over d channels.

    >>> conv = Conv2D(kernel=5, filters=8)
    >>> conv.formula
    k*(d*m*n + 1)
    >>> from sympy import Integer
    >>> conv.output_shape((Integer(32), Integer(32), Integer(3)))
    (28, 28, 8)
    """

    kind = "conv2d"
    aliases = ("conv", "convolution", "conv2")
    title = "convolution"
    family = "conv"
    name_prefix = "CONV"
    letters = {"m": "filter width", "n": "filter height",
               "d": "channels of the input (filters of the layer before)",
               "k": "filters in this layer"}
    schema = (Pair("kernel", letters=("m", "n")), Size("filters", letter="k"),
              Pair("stride", default=1), Padding("padding", default=0),
              Pair("dilation", default=1), Size("groups", letter="g", default=1),
              Flag("bias", default=True))
    needs_image = True
    kind_by_rank = {2: "conv1d", 4: "conv3d"}
    reason = ("Each filter learns one weight for every value in its m × n window over all d "
              "input channels, plus one bias; there are k such filters.")
    reason_without_bias = ("Each filter learns one weight for every value in its m × n window "
                           "over all d input channels, and no bias (bias: false); there are k "
                           "such filters.")

    @classmethod
    def _class_for(cls, values):
        # groups other than 1 make a grouped convolution, whose formula has g.
        if cls is Conv2D and values.get("groups") is not None \
                and Size("groups").parse(values["groups"]) != 1:
            return GroupedConv2D
        return cls

    def check(self):
        check_groups_divide(self.groups, self.filters, "filters")

    def check_input(self, in_shape):
        super().check_input(in_shape)
        check_groups_divide(self.groups, in_shape[-1], "input channels")

    def derived(self, in_shape):
        return {"d": in_shape[2]}

    def written_formula(self, L):
        return filter_bank_formula(L, self.bias)

    def output_shape(self, in_shape):
        return window_output_shape(in_shape, (self.m, self.n), self.stride, self.padding,
                                   self.dilation, self.k)

    def divides_exactly(self, in_hw):
        return window_divides(in_hw, (self.m, self.n), self.stride, self.padding,
                              self.dilation)

    def shape_working(self, in_shape):
        out = self.output_shape(in_shape)
        return (*window_workings(in_shape, out, (self.m, self.n), self.stride, self.padding,
                                 self.dilation),
                given_working("channels", "k", self.k))

    def describe(self):
        parts = [f"{show_pair((self.m, self.n), square=True)} filter", f"{unicode_plain(self.k)} filters"]
        parts += window_options(self)
        if self.groups != 1:
            parts.append(f"{unicode_plain(self.groups)} groups")
        return ", ".join(parts)


class GroupedConv2D(Conv2D):
    """A convolution whose d input channels and k filters are split into g groups;
    each filter sees only the d / g channels of its group (``groups:`` in conv2d).

    >>> GroupedConv2D(kernel=3, filters=8, groups=2).formula
    k*(d*m*n/g + 1)
    """
    letters = {"m": "filter width", "n": "filter height",
               "d": "channels of the input (filters of the layer before)",
               "g": "groups the channels and filters are split into",
               "k": "filters in this layer"}
    reason = ("Each filter learns one weight for every value in its m × n window over the "
              "d / g input channels of its group, plus one bias; there are k such filters.")
    reason_without_bias = ("Each filter learns one weight for every value in its m × n window "
                           "over the d / g input channels of its group, and no bias (bias: "
                           "false); there are k such filters.")

    def written_formula(self, L):
        # d / g on one line, as in ((m × n × d / g) + 1) × k: each filter sees d / g channels.
        window = Grouped(Mul(L["m"], L["n"], SlashRatio(L["d"], L["g"])))
        if self.bias:
            return Mul(Add(window, Integer(1)), L["k"])
        return Mul(window, L["k"])
