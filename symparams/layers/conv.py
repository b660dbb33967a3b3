"""Convolution: ((m × n × d) + 1) × k."""
from __future__ import annotations

from sympy import Add, Expr, Integer, Mul

from ..errors import SymparamsError
from ..printing import Grouped, unicode_plain
from ..shapes import (AxisWorking, Shape, conv_divides_exactly, conv_output_size,
                      given_working, window_working)
from .base import (PADDINGS, Layer, check_flag, check_pair, check_size, expr_field,
                   keyword_or_size, show_pair)


def check_padding(raw, field: str = "padding"):
    """An integer (or [width, height] pair), ``valid`` (0) or ``same``; a name only
    when it is clearly a symbol (see ``keyword_or_size``)."""
    if isinstance(raw, str) and raw.strip().lower() in PADDINGS:
        return "same" if raw.strip().lower() == "same" else (Integer(0), Integer(0))
    if isinstance(raw, (list, tuple)):
        if any(isinstance(v, str) and v.strip().lower() in PADDINGS for v in raw):
            raise SymparamsError("same and valid stand for both axes: write padding: same, "
                                 "not inside a pair", field=field)
        check_pair(raw, field, minimum=0)  # the pair's own errors first
        pair = tuple(keyword_or_size(v, field, PADDINGS) for v in raw)
        return pair[0], pair[1]
    value = keyword_or_size(raw, field, PADDINGS)
    return value, value


def padding_field(padding):
    if padding == "same":
        return "same"
    return expr_field(padding[0]) if padding[0] == padding[1] else [expr_field(p) for p in padding]


def pair_field(pair):
    return expr_field(pair[0]) if pair[0] == pair[1] else [expr_field(p) for p in pair]


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
    given_letters = {"m": "kernel", "n": "kernel", "k": "filters"}
    fields = ("kernel", "filters", "stride", "padding", "dilation", "bias")
    required = ("kernel", "filters")
    keyword_sizes = {"padding": PADDINGS}
    needs_image = True
    reason = ("Each filter learns one weight for every value in its m × n window over all d "
              "input channels, plus one bias; there are k such filters.")
    reason_without_bias = ("Each filter learns one weight for every value in its m × n window "
                           "over all d input channels, and no bias (bias: false); there are k "
                           "such filters.")

    def __init__(self, kernel, filters, stride=1, padding=0, dilation=1, bias=True, name=None):
        self.name = name
        self.m, self.n = check_pair(kernel, "kernel")
        self.k = check_size(filters, "filters")
        self.stride = check_pair(stride, "stride")
        self.padding = check_padding(padding)
        self.dilation = check_pair(dilation, "dilation")
        self.bias = check_flag(bias, "bias")

    def to_fields(self):
        fields = {"type": self.kind, "kernel": pair_field((self.m, self.n)),
                  "filters": expr_field(self.k)}
        if self.stride != (1, 1):
            fields["stride"] = pair_field(self.stride)
        if self.padding != (0, 0):
            fields["padding"] = padding_field(self.padding)
        if self.dilation != (1, 1):
            fields["dilation"] = pair_field(self.dilation)
        if not self.bias:
            fields["bias"] = False
        return fields

    def given(self):
        return {"m": self.m, "n": self.n, "k": self.k}

    def with_given(self, letter, value):
        field = self.given_letters[letter] if letter in self.given_letters else None
        if field is None:
            return super().with_given(letter, value)
        value = check_size(value, field)
        return self._replace(**{letter: value})

    def sizes(self):
        pad = [] if self.padding == "same" else list(self.padding)
        return [self.m, self.n, self.k, *self.stride, *pad, *self.dilation]

    def xreplace(self, mapping):
        new = self._replace(m=self.m.xreplace(mapping), n=self.n.xreplace(mapping),
                            k=self.k.xreplace(mapping),
                            stride=tuple(s.xreplace(mapping) for s in self.stride),
                            dilation=tuple(s.xreplace(mapping) for s in self.dilation))
        if self.padding != "same":
            new.padding = tuple(p.xreplace(mapping) for p in self.padding)
        return new

    def derived(self, in_shape):
        return {"d": in_shape[2]}

    def written_formula(self, L):
        window = Grouped(Mul(L["m"], L["n"], L["d"]))
        if self.bias:
            return Mul(Add(window, Integer(1)), L["k"])
        return Mul(window, L["k"])

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

    def step_reason(self):
        return self.reason if self.bias else self.reason_without_bias

    def describe(self):
        parts = [f"{show_pair((self.m, self.n), square=True)} filter", f"{unicode_plain(self.k)} filters"]
        parts.append(f"stride {show_pair(self.stride)}")
        if self.padding == "same":
            parts.append("padding same")
        elif self.padding != (0, 0):
            parts.append(f"padding {show_pair(self.padding)}")
        if self.dilation != (1, 1):
            parts.append(f"dilation {show_pair(self.dilation)}")
        return ", ".join(parts)
